package remux

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// synthDemuxer is a pivot-model input built from fuzz bytes: one H.264
// track (avcC from a fixture, payloads opaque) whose samples have
// arbitrary sizes, DTS steps, composition offsets (negative included),
// sync flags and start time.
type synthDemuxer struct {
	t       *media.Track
	samples []media.Sample
	data    [][]byte
}

func (s *synthDemuxer) Format() string         { return "synthetic" }
func (s *synthDemuxer) Tracks() []*media.Track { return []*media.Track{s.t} }
func (s *synthDemuxer) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		for _, x := range s.samples {
			if !yield(x, nil) {
				return
			}
		}
	}
}
func (s *synthDemuxer) ReadSample(x *media.Sample, buf []byte) ([]byte, error) {
	return append(buf[:0], s.data[x.Index]...), nil
}

func synth(t *media.Track, b []byte) *synthDemuxer {
	d := &synthDemuxer{t: t}
	if len(b) < 4 {
		return d
	}
	dts := int64(binary.BigEndian.Uint16(b))
	b = b[2:]
	var off int64
	for i := 0; len(b) >= 6 && i < 300; i++ {
		step := int64(b[0])<<4 | int64(b[1]>>4)
		cto := int64(int8(b[2])) * 40
		sync := b[3]&1 == 1 || i == 0
		n := int(b[4]) % 64
		b = b[5:]
		p := make([]byte, 1+n)
		copy(p, b)
		p[0] = byte(i)
		d.samples = append(d.samples, media.Sample{TrackID: 1, Index: int64(i), DTS: dts, PTS: dts + cto,
			Duration: uint32(step), Size: uint32(len(p)), Offset: off, Sync: sync})
		d.data = append(d.data, p)
		off += int64(len(p))
		dts += step
	}
	return d
}

// FuzzRoundTrip writes synthetic pivot-model tracks as progressive and as
// fragmented MP4 and reads them back: every sample must come back with
// the same payload, sync flag and decode step, and with the presentation
// time ffprobe would show (PTS plus the edit-list shift) equal to the
// input's PTS — or the writer must refuse with ErrWrite.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0, 0, 0, 20, 0, 1, 5, 0, 20, 0, 1, 7, 0, 20, 0xfe, 0, 9, 0, 20, 2, 0, 3})
	f.Add([]byte{1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0, 0x20, 0x03, 0, 0x10}, 60))
	tr := fixtureTrack(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d := synth(tr, b)
		if len(d.samples) == 0 {
			return
		}
		for _, frag := range []bool{false, true} {
			var out bytes.Buffer
			var err error
			if frag {
				err = mp4.WriteFragmented(context.Background(), &out, d)
			} else {
				err = mp4.WriteProgressive(context.Background(), &out, d)
			}
			if err != nil {
				if !errors.Is(err, mp4.ErrWrite) {
					t.Fatalf("frag=%v: error %v does not wrap ErrWrite", frag, err)
				}
				continue
			}
			r, err := mp4.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatalf("frag=%v: output does not read: %v", frag, err)
			}
			ot := r.Tracks()[0]
			shift := mp4.EditShift(ot)
			i := 0
			var prev media.Sample
			var buf []byte
			for s, err := range r.Samples() {
				if err != nil {
					t.Fatal(err)
				}
				if i >= len(d.samples) {
					t.Fatalf("frag=%v: more samples than written", frag)
				}
				in := d.samples[i]
				if buf, err = r.ReadSample(&s, buf); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf, d.data[i]) || s.Sync != in.Sync {
					t.Fatalf("frag=%v sample %d: payload or sync differs", frag, i)
				}
				if i > 0 && s.DTS-prev.DTS != in.DTS-d.samples[i-1].DTS {
					t.Fatalf("frag=%v sample %d: DTS step %d, want %d", frag, i, s.DTS-prev.DTS, in.DTS-d.samples[i-1].DTS)
				}
				if s.PTS-s.DTS != in.PTS-in.DTS {
					t.Fatalf("frag=%v sample %d: composition offset %d, want %d", frag, i, s.PTS-s.DTS, in.PTS-in.DTS)
				}
				if got := s.PTS + shift; got != in.PTS {
					t.Fatalf("frag=%v sample %d: shown PTS %d, want %d (edits %+v)", frag, i, got, in.PTS, ot.Edits)
				}
				prev = s
				i++
			}
			if i != len(d.samples) {
				t.Fatalf("frag=%v: %d samples read, %d written", frag, i, len(d.samples))
			}
		}
	})
}

func fixtureTrack(tb testing.TB) *media.Track {
	d, closeFn := open(tb, fixtures+"/h264_nob.mp4")
	defer closeFn()
	c := *d.Tracks()[0]
	c.ID, c.Edits, c.Timescale, c.MovieTimescale = 1, nil, 1000, 1000
	return &c
}
