package mp4

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// eac3Fake is an E-AC-3 track as the MPEG-TS reader gives it: payloads
// in Data, no dec3 (built from the first syncframe).
type eac3Fake struct {
	t      *media.Track
	frames [][]byte
}

func (f *eac3Fake) Format() string         { return "mpegts" }
func (f *eac3Fake) Tracks() []*media.Track { return []*media.Track{f.t} }
func (f *eac3Fake) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		var dts int64
		for i, b := range f.frames {
			n := bitstream.AC3Blocks(b)
			if n == 0 {
				n = 1
			}
			dur := int64(n) * 256 * 90000 / 48000
			s := media.Sample{TrackID: 1, Index: int64(i), DTS: dts, PTS: dts, Duration: uint32(dur),
				Size: uint32(len(b)), Offset: -1, Sync: true, Data: b, Pos: int64(i) * 188}
			dts += dur
			if !yield(s, nil) {
				return
			}
		}
	}
}
func (f *eac3Fake) ReadSample(s *media.Sample, buf []byte) ([]byte, error) { return s.Data, nil }

// eac3Syncframe is a 64-byte E-AC-3 independent syncframe of the given
// number of blocks (1, 2, 3 or 6): 48 kHz, stereo, bsid 16; fill marks
// its body.
func eac3Syncframe(blocks int, fill byte) []byte {
	b := bytes.Repeat([]byte{fill}, 64)
	nb := map[int]byte{1: 0, 2: 1, 3: 2, 6: 3}[blocks]
	copy(b, []byte{0x0B, 0x77, 0x00, 0x1F, nb<<4 | 0x04, 0x80})
	return b
}

func eac3FakeTrack() *media.Track {
	return &media.Track{ID: 1, Kind: media.KindAudio, Codec: media.CodecEAC3, Timescale: 90000,
		SampleRate: 48000, Channels: 2, ChannelLayout: "stereo"}
}

// TestEAC3Samples: AC-3/E-AC-3 samples are written as movenc.c writes
// them (eac3Grouper), in the progressive and the fragmented writer: a
// leading payload without a syncframe (a PES that starts inside a frame)
// is dropped, one-block frames are merged six to a sample with the first
// one's timestamps and the sum of the durations, an incomplete last
// group is left out, and an input that fills no sample is ErrNoSamples;
// the dropped payload's PTS still counts for the time origin.
func TestEAC3Samples(t *testing.T) {
	frames := [][]byte{bytes.Repeat([]byte{0x55}, 37)} // the tail of a frame
	for i := range 13 {
		frames = append(frames, eac3Syncframe(1, byte(i)))
	}
	writers := map[string]func(*bytes.Buffer, media.Demuxer) error{
		"progressive": func(w *bytes.Buffer, d media.Demuxer) error { return WriteProgressive(context.Background(), w, d) },
		"fragmented":  func(w *bytes.Buffer, d media.Demuxer) error { return WriteFragmented(context.Background(), w, d) },
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := write(&out, &eac3Fake{t: eac3FakeTrack(), frames: frames}); err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			var got []media.Sample
			var data [][]byte
			for s, err := range r.Samples() {
				if err != nil {
					t.Fatal(err)
				}
				b, err := r.ReadSample(&s, nil)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, s)
				data = append(data, append([]byte(nil), b...))
			}
			if len(got) != 2 {
				t.Fatalf("%d samples, want 2 (12 of 13 one-block frames, six a sample)", len(got))
			}
			ts := int64(r.Tracks()[0].Timescale)
			for i, s := range got {
				want := bytes.Join(frames[1+6*i:7+6*i], nil)
				if !bytes.Equal(data[i], want) {
					t.Errorf("sample %d: %d bytes, not frames %d-%d", i, len(data[i]), 6*i, 6*i+5)
				}
				if d := int64(s.Duration) * 48000 / ts; d != 1536 {
					t.Errorf("sample %d lasts %d samples at 48 kHz, want 1536", i, d)
				}
				if s.DTS-got[0].DTS != int64(i)*1536*ts/48000 {
					t.Errorf("sample %d at %d, want %d", i, s.DTS-got[0].DTS, int64(i)*1536*ts/48000)
				}
			}
			// The dropped leading payload (PTS 0, the first frame at 480
			// ticks of 90 kHz) still sets the time origin, as the input's
			// start time does for ffmpeg -c copy: the first sample stays
			// at 1/187.5 s. (WriteFragmented does not do this yet.)
			if name == "progressive" {
				tr := r.Tracks()[0]
				if at := float64(got[0].PTS+EditShift(tr)) / float64(ts); at < 479.5/90000 || at > 480.5/90000 {
					t.Errorf("first sample presented at %.6f s, want %.6f", at, 480.0/90000)
				}
			}
			// Too few blocks for one sample.
			out.Reset()
			err = write(&out, &eac3Fake{t: eac3FakeTrack(), frames: frames[:6]})
			if !errors.Is(err, ErrNoSamples) || !errors.Is(err, ErrWrite) {
				t.Errorf("5 one-block frames: %v, want ErrNoSamples", err)
			}
			// Six-block frames pass one to one; a frame that would
			// overflow a group is an error, as in movenc.c.
			out.Reset()
			six := [][]byte{eac3Syncframe(6, 1), eac3Syncframe(6, 2), eac3Syncframe(6, 3)}
			if err := write(&out, &eac3Fake{t: eac3FakeTrack(), frames: six}); err != nil {
				t.Errorf("six-block frames: %v", err)
			}
			out.Reset()
			bad := [][]byte{eac3Syncframe(3, 1), eac3Syncframe(2, 2), eac3Syncframe(2, 3)}
			if err := write(&out, &eac3Fake{t: eac3FakeTrack(), frames: bad}); !errors.Is(err, media.ErrCorrupt) {
				t.Errorf("3+2+2 blocks: %v, want ErrCorrupt", err)
			}
		})
	}
}
