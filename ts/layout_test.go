package ts_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// restride rewrites 188-byte packets as 192-byte M2TS packets (a 4-byte
// arrival timestamp in front) or 204-byte packets (16 parity bytes
// behind).
func restride(b []byte, stride int) []byte {
	var out []byte
	for i := 0; i+ts.PacketSize <= len(b); i += ts.PacketSize {
		switch stride {
		case 192:
			out = append(out, 0x40, byte(i>>16), byte(i>>8), byte(i))
			out = append(out, b[i:i+ts.PacketSize]...)
		case 204:
			out = append(out, b[i:i+ts.PacketSize]...)
			out = append(out, bytes.Repeat([]byte{0x5A}, 16)...)
		}
	}
	return out
}

func samplesOf(t *testing.T, b []byte) ([]media.Sample, *ts.Reader) {
	t.Helper()
	r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []media.Sample
	for s, err := range r.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		s.Data = bytes.Clone(s.Data)
		out = append(out, s)
	}
	return out, r
}

func TestPacketSizes(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ts_multi.ts"))
	if err != nil {
		t.Fatal(err)
	}
	want, r188 := samplesOf(t, b)
	if r188.PacketSize() != 188 {
		t.Fatalf("packet size %d", r188.PacketSize())
	}
	for _, stride := range []int{192, 204} {
		got, r := samplesOf(t, restride(b, stride))
		if r.PacketSize() != stride {
			t.Fatalf("stride %d detected as %d", stride, r.PacketSize())
		}
		if len(got) != len(want) {
			t.Fatalf("stride %d: %d samples, want %d", stride, len(got), len(want))
		}
		for i := range want {
			w, g := want[i], got[i]
			if g.TrackID != w.TrackID || g.DTS != w.DTS || g.PTS != w.PTS || g.Sync != w.Sync || !bytes.Equal(g.Data, w.Data) {
				t.Fatalf("stride %d sample %d differs", stride, i)
			}
			if g.Pos != w.Pos/188*int64(stride) {
				t.Fatalf("stride %d sample %d: pos %d, want packet start %d", stride, i, g.Pos, w.Pos/188*int64(stride))
			}
		}
		for i, tr := range r.Tracks() {
			if w := r188.Tracks()[i]; tr.Duration != w.Duration || tr.StartPTS != w.StartPTS || tr.Codec != w.Codec {
				t.Errorf("stride %d track %d: %+v, want %+v", stride, i, tr, w)
			}
		}
	}
}

func TestProgramsAndPCR(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ts_multi.ts"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	progs := r.Programs()
	if len(progs) != 2 {
		t.Fatalf("%d programs", len(progs))
	}
	for _, p := range progs {
		if p.FirstPCR < 0 || p.LastPCR <= p.FirstPCR {
			t.Errorf("program %d: PCR %d .. %d", p.Number, p.FirstPCR, p.LastPCR)
		}
		// The PCR runs ahead of the decoding times by the mux delay (well
		// under a second) and spans the file (2 s of media).
		first := r.Tracks()[p.Tracks[0]]
		if d := first.StartDTS - p.FirstPCR/300; d < 0 || d > ts.Timescale {
			t.Errorf("program %d: first DTS %d vs first PCR %d", p.Number, first.StartDTS, p.FirstPCR/300)
		}
		if span := (p.LastPCR - p.FirstPCR) / 300; span < ts.Timescale || span > 3*ts.Timescale {
			t.Errorf("program %d: PCR span %d ticks", p.Number, span)
		}
		for _, ti := range p.Tracks {
			if r.Tracks()[ti].Program != p.Number {
				t.Errorf("track %d in program %d says %d", ti, p.Number, r.Tracks()[ti].Program)
			}
		}
	}
}

func TestSamplesContextCancel(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ts_single.ts"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range r.SamplesContext(ctx) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("got %v after %d samples, want context.Canceled", last, n)
	}
	if n > 200 {
		t.Errorf("%d samples after cancel", n)
	}
}

// TestMaxPESSize feeds one endless PES on a video PID: the reader must
// stop with ErrCorrupt at MaxPESSize instead of buffering the input.
func TestMaxPESSize(t *testing.T) {
	b := psi()
	hdr := append(pesHeader(0xE0, 0, 90000), 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x65, 0x88)
	b = append(b, packet(0x100, true, 0, hdr)...)
	body := bytes.Repeat([]byte{0xAB}, 184)
	for i := 1; len(b) < ts.MaxPESSize+1<<20; i++ {
		b = append(b, packet(0x100, false, uint8(i), body)...)
	}
	r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range r.Samples() {
		last = err
	}
	var pe *media.PosError
	if !errors.Is(last, media.ErrCorrupt) || !errors.As(last, &pe) || pe.What == "" {
		t.Fatalf("got %v, want a PosError wrapping ErrCorrupt", last)
	}
}

// countingReader counts the bytes read through ReadAt.
type countingReader struct {
	r    *bytes.Reader
	read int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

// TestOpenReadsHeadersOnly opens a 13 MB stream: NewReader must read the
// start (PSI, first PES of each track) and the tail, not the file.
func TestOpenReadsHeadersOnly(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ts_single.ts"))
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat(b, 200)
	cr := &countingReader{r: bytes.NewReader(big)}
	const tail = 256 << 10
	r, err := ts.NewReader(cr, int64(len(big)), ts.WithTailSize(tail))
	if err != nil {
		t.Fatal(err)
	}
	if limit := int64(len(b)) + 2*tail; cr.read > limit {
		t.Errorf("NewReader read %d of %d bytes, want at most %d", cr.read, len(big), limit)
	}
	for _, tr := range r.Tracks() {
		if tr.Duration <= 0 || tr.StartPTS <= 0 {
			t.Errorf("track %d: start %d duration %d", tr.ID, tr.StartPTS, tr.Duration)
		}
	}
}

// TestLeadingJunk: a capture that starts mid-packet or after a header is
// read from its first packet.
func TestLeadingJunk(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ts_single.ts"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := samplesOf(t, b)
	junk := bytes.Repeat([]byte{0x00, 0x47, 0x11, 0x22}, 250) // 1000 bytes, 0x47 off the grid
	got, _ := samplesOf(t, append(junk, b...))
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Pos != want[i].Pos+int64(len(junk)) || got[i].PTS != want[i].PTS || got[i].Size != want[i].Size {
			t.Fatalf("sample %d: %+v, want %+v shifted by %d", i, got[i], want[i], len(junk))
		}
	}
}

// TestPrivateStreamDescriptors builds a PMT whose private streams are
// named by descriptors (DVB subtitles, teletext, DTS) and checks the
// tracks and the one-sample-per-PES subtitle samples.
func TestPrivateStreamDescriptors(t *testing.T) {
	pat := section(0x00, 1, []byte{0x00, 0x01, 0xE1, 0x00})
	pmt := section(0x02, 1, []byte{0xE2, 0x00, 0xF0, 0x00,
		0x06, 0xE2, 0x00, 0xF0, 0x0A, 0x59, 0x08, 'd', 'e', 'u', 0x10, 0x00, 0x01, 0x00, 0x01, // DVB subtitling
		0x06, 0xE2, 0x01, 0xF0, 0x07, 0x56, 0x05, 'e', 'n', 'g', 0x09, 0x00, // teletext
		0x06, 0xE2, 0x02, 0xF0, 0x03, 0x7B, 0x01, 0x00, // DTS
	})
	b := append(packet(0, true, 0, pat), packet(0x100, true, 0, pmt)...)
	payload := []byte{0x20, 0x00, 0x0F, 0x10, 0x00, 0x01, 0x00, 0x00, 0xFF}
	for i := 0; i < 3; i++ {
		pes := append(pesHeader(0xBD, 8+len(payload), 900000+int64(i)*90000), payload...)
		b = append(b, packet(0x200, true, uint8(i), pes)...)
	}
	r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind  media.Kind
		codec media.Codec
		lang  string
	}{{media.KindSubtitle, "dvb_subtitle", "deu"}, {media.KindSubtitle, "dvb_teletext", "eng"}, {media.KindAudio, "dts", ""}}
	tracks := r.Tracks()
	if len(tracks) != len(want) {
		t.Fatalf("%d tracks", len(tracks))
	}
	for i, w := range want {
		if tracks[i].Kind != w.kind || tracks[i].Codec != w.codec || tracks[i].Language != w.lang {
			t.Errorf("track %d: %s %s %q, want %s %s %q", i, tracks[i].Kind, tracks[i].Codec, tracks[i].Language, w.kind, w.codec, w.lang)
		}
	}
	n := 0
	for s, err := range r.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		if s.TrackID != 0x200 || s.PTS != 900000+int64(n)*90000 || !bytes.Equal(s.Data, payload) {
			t.Errorf("sample %d: PID 0x%x pts %d data %x", n, s.TrackID, s.PTS, s.Data)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d subtitle samples, want 3", n)
	}
}
