package ts_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

type gotSample struct {
	track    int
	dts, pts int64
	size     uint32
	sync     bool
	sum      byte
}

func sampleOf(trackID int, s media.Sample) gotSample {
	var sum byte
	for _, b := range s.Data {
		sum += b
	}
	return gotSample{trackID, s.DTS, s.PTS, s.Size, s.Sync, sum}
}

// fileSamples reads path with the file Reader.
func fileSamples(t *testing.T, b []byte) []gotSample {
	t.Helper()
	rd, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []gotSample
	for s, err := range rd.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sampleOf(s.TrackID, s))
	}
	return out
}

// streamSamples feeds b to a Stream in chunks of n bytes, skipping the
// chunks drop selects.
func streamSamples(t *testing.T, b []byte, n int, drop func(i int) bool) ([]gotSample, ts.StreamStats) {
	t.Helper()
	var out []gotSample
	st := ts.NewStream(func(tr *media.Track, s media.Sample) error {
		out = append(out, sampleOf(tr.ID, s))
		return nil
	})
	for i := 0; len(b) > 0; i++ {
		c := b[:min(n, len(b))]
		b = b[len(c):]
		if drop != nil && drop(i) {
			continue
		}
		if _, err := st.Write(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return out, st.Stats()
}

// The streaming mode delivers exactly the file reader's samples,
// whatever the chunking: 7×188-byte datagrams, odd sizes.
func TestStreamEqualsReader(t *testing.T) {
	for _, name := range []string{"ts_single.ts", "ts_multi.ts", "ts_hevc.ts", "ts_ac3.ts"} {
		b, err := os.ReadFile("../testdata/media/" + name)
		if err != nil {
			t.Fatal(err)
		}
		want := fileSamples(t, b)
		for _, n := range []int{7 * ts.PacketSize, 1000, 65536} {
			got, st := streamSamples(t, b, n, nil)
			if len(got) != len(want) {
				t.Fatalf("%s chunks of %d: %d samples, file reader %d", name, n, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s chunks of %d: sample %d = %+v, file reader %+v", name, n, i, got[i], want[i])
				}
			}
			if st.CCErrors != 0 || st.StreamErrors != 0 {
				t.Errorf("%s: clean input counted damage %+v", name, st)
			}
		}
	}
}

// Lost datagrams are counted as continuity errors and never end the
// stream: the samples after the loss keep coming.
func TestStreamLoss(t *testing.T) {
	b, err := os.ReadFile("../testdata/media/ts_multi.ts")
	if err != nil {
		t.Fatal(err)
	}
	want := fileSamples(t, b)
	got, st := streamSamples(t, b, 7*ts.PacketSize, func(i int) bool { return i > 20 && i%10 == 3 })
	if st.CCErrors == 0 {
		t.Errorf("dropped datagrams counted no continuity error: %+v", st)
	}
	if len(got) < len(want)*7/10 {
		t.Errorf("%d samples after 10%% loss, %d without", len(got), len(want))
	}
	if got[len(got)-1].dts < want[len(want)-1].dts-90000 {
		t.Errorf("stream stopped early: last DTS %d, want near %d", got[len(got)-1].dts, want[len(want)-1].dts)
	}
	// Garbage between packets is skipped by resynchronising.
	junk := append(append(append([]byte(nil), b[:188*400]...), bytes.Repeat([]byte{0x47, 1, 2}, 333)...), b[188*400:]...)
	got, st = streamSamples(t, junk, 1316, nil)
	if st.Resyncs == 0 || len(got) < len(want)*9/10 {
		t.Errorf("junk: %d samples of %d, stats %+v", len(got), len(want), st)
	}
}

// Timestamps crossing the 33-bit wrap stay monotonic.
func TestStreamWrap33(t *testing.T) {
	b, err := os.ReadFile("../testdata/media/ts_single.ts")
	if err != nil {
		t.Fatal(err)
	}
	want := fileSamples(t, b)
	// Move every PTS/DTS so that the stream crosses 2^33 midway.
	shift := int64(1)<<33 - want[len(want)/2].dts
	w := shiftTimestamps(t, b, shift)
	got, _ := streamSamples(t, w, 1316, nil)
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	var d0 int64
	for i := range got {
		d := got[i].dts - want[i].dts
		if i == 0 {
			d0 = d
		}
		if d != d0 {
			t.Fatalf("sample %d: DTS %d, file %d: shift %d, first %d (wrap not unwrapped)", i, got[i].dts, want[i].dts, d, d0)
		}
	}
}

// shiftTimestamps adds shift (mod 2^33) to every PES PTS/DTS and PCR.
func shiftTimestamps(t *testing.T, b []byte, shift int64) []byte {
	t.Helper()
	out := bytes.Clone(b)
	for p := 0; p+188 <= len(out); p += 188 {
		pkt := out[p : p+188]
		if pkt[0] != 0x47 {
			t.Fatal("unaligned fixture")
		}
		afc := pkt[3] >> 4 & 3
		off := 4
		if afc&2 != 0 {
			off += 1 + int(pkt[4])
		}
		if pkt[1]&0x40 == 0 || afc&1 == 0 || off+14 > 188 {
			continue
		}
		pes := pkt[off:]
		if pes[0] != 0 || pes[1] != 0 || pes[2] != 1 || pes[3] < 0xC0 {
			continue
		}
		flags := pes[7] >> 6
		put := func(at []byte) {
			v := int64(at[0]>>1&7)<<30 | int64(at[1])<<22 | int64(at[2]>>1)<<15 | int64(at[3])<<7 | int64(at[4]>>1)
			v = (v + shift) & (1<<33 - 1)
			at[0] = at[0]&0xF1 | byte(v>>29)&0x0E
			at[1] = byte(v >> 22)
			at[2] = byte(v>>14) | 1
			at[3] = byte(v >> 7)
			at[4] = byte(v<<1) | 1
		}
		if flags&2 != 0 {
			put(pes[9:])
		}
		if flags == 3 {
			put(pes[14:])
		}
	}
	return out
}

func TestStreamProbeLimit(t *testing.T) {
	st := ts.NewStream(func(*media.Track, media.Sample) error { return nil }, ts.WithStreamProbeSize(100<<10))
	junk := bytes.Repeat([]byte{1, 2, 3, 4}, 64<<10)
	_, err := st.Write(junk)
	if !errors.Is(err, ts.ErrStreamProbe) {
		t.Fatalf("random bytes: %v, want ErrStreamProbe", err)
	}
}

// FuzzStream feeds hostile bytes to the streaming demuxer in datagrams:
// it must never panic, and its only errors are the probe's.
func FuzzStream(f *testing.F) {
	for _, name := range []string{"ts_single.ts", "ts_hevc.ts"} {
		if b, err := os.ReadFile("../testdata/media/" + name); err == nil {
			f.Add(b[:min(len(b), 40*188)], uint16(1316))
		}
	}
	f.Add([]byte{0x47, 0x40, 0, 0x10, 0}, uint16(7))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint16) {
		n := int(chunk)%4096 + 1
		st := ts.NewStream(func(*media.Track, media.Sample) error { return nil }, ts.WithStreamProbeSize(256<<10))
		for len(b) > 0 {
			c := b[:min(n, len(b))]
			b = b[len(c):]
			if _, err := st.Write(c); err != nil {
				if !errors.Is(err, ts.ErrStreamProbe) {
					t.Fatalf("error %v is not ErrStreamProbe", err)
				}
				return
			}
		}
		if err := st.Close(); err != nil && !errors.Is(err, ts.ErrStreamProbe) {
			t.Fatalf("Close: %v", err)
		}
	})
}

func BenchmarkStream(b *testing.B) {
	data, err := os.ReadFile("../testdata/media/ts_multi.ts")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		st := ts.NewStream(func(*media.Track, media.Sample) error { return nil })
		for p := 0; p < len(data); p += 1316 {
			st.Write(data[p:min(p+1316, len(data))])
		}
		st.Close()
	}
}

// Random bytes are refused after 128 KiB, not after the whole probe size.
func TestStreamGarbageFailsFast(t *testing.T) {
	st := ts.NewStream(func(*media.Track, media.Sample) error { return nil })
	junk := bytes.Repeat([]byte{0x12, 0x34, 0x56, 0x78, 0x9a}, 40<<10)
	_, err := st.Write(junk)
	if !errors.Is(err, ts.ErrStreamProbe) {
		t.Fatalf("200 KB of junk: %v, want ErrStreamProbe", err)
	}
}
