package gop

import (
	"errors"
	"slices"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// seedAUs adds the first access units of the vectors of codec to f.
func seedAUs(f *testing.F, codec media.Codec, n int) {
	for _, v := range loadVectors(f) {
		if v.codec != codec {
			continue
		}
		for i := 0; i < n && i < len(v.ref.AUs); i++ {
			f.Add(v.au(i))
		}
	}
}

func FuzzSplitNALUnits(f *testing.F) {
	seedAUs(f, media.CodecH264, 3)
	f.Add([]byte{0, 0, 0, 1, 0x65, 0x88, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 2, 0x65})
	f.Fuzz(func(t *testing.T, au []byte) {
		for _, ls := range []int{0, 1, 2, 4} {
			total := 0
			err := SplitNALUnits(au, ls, func(nal []byte, off int) error {
				if len(nal) == 0 || off < 0 || off+len(nal) > len(au) {
					t.Fatalf("len %d: bad unit at %d (%d bytes) of %d", ls, off, len(nal), len(au))
				}
				total += len(nal)
				return nil
			})
			if total > len(au) {
				t.Fatalf("units longer than the access unit")
			}
			if err != nil && !errors.Is(err, media.ErrTruncated) && !errors.Is(err, media.ErrCorrupt) {
				t.Fatalf("error without a sentinel: %v", err)
			}
		}
	})
}

// h264WithParams returns a parser primed with the parameter sets of the
// first access unit of an H.264 vector.
func h264WithParams(tb testing.TB, name string) *h264Parser {
	p := &h264Parser{}
	for _, v := range loadVectors(tb) {
		if v.name != name {
			continue
		}
		var f Frame
		if err := p.frame(v.au(0), 0, &f); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

func FuzzH264SliceHeader(f *testing.F) {
	for _, v := range loadVectors(f) {
		if v.codec != media.CodecH264 {
			continue
		}
		for i := 0; i < 4; i++ {
			_ = SplitNALUnits(v.au(i), 0, func(nal []byte, _ int) error {
				if t := nal[0] & 0x1f; t == 1 || t == 5 {
					if len(nal) > 64 {
						nal = nal[:64]
					}
					f.Add(nal)
				}
				return nil
			})
		}
	}
	p := h264WithParams(f, "h264_mbaff_b")
	f.Fuzz(func(t *testing.T, nal []byte) {
		h, err := p.sliceHeader(nal)
		if err == nil && h.SliceType > 9 {
			t.Fatalf("slice_type %d accepted", h.SliceType)
		}
		var fr Frame
		_ = p.frame(nal, 0, &fr)
	})
}

func FuzzSEI(f *testing.F) {
	f.Add([]byte{0x06, 0x06, 0x01, 0x84, 0x80}, false)       // recovery point, cnt 0
	f.Add([]byte{0x06, 0x05, 0x02, 0xaa, 0xbb, 0x80}, false) // user data, short
	f.Add([]byte{0x4e, 0x01, 0x06, 0x01, 0xc4, 0x80}, true)  // HEVC recovery point
	f.Add([]byte{0x06, 0xff, 0xff, 0x05, 0xff, 0x01, 0x00}, false)
	f.Fuzz(func(t *testing.T, nal []byte, hevc bool) {
		var scratch []byte
		_, err := ParseSEI(nal, hevc, scratch, func(typ int, payload []byte) error {
			if typ < 0 || len(payload) > len(nal) {
				t.Fatalf("payload type %d of %d bytes from %d", typ, len(payload), len(nal))
			}
			if typ == seiRecoveryPoint {
				_, _ = ParseRecoveryPoint(payload, hevc)
			}
			return nil
		})
		if err != nil && !errors.Is(err, media.ErrTruncated) && !errors.Is(err, media.ErrCorrupt) {
			t.Fatalf("error without a sentinel: %v", err)
		}
	})
}

var fuzzCodecs = []media.Codec{media.CodecH264, media.CodecHEVC, media.CodecAV1, media.CodecMPEG2Video, media.CodecMPEG4Video}

// FuzzAnalyze feeds arbitrary access units to an Analyzer of each codec,
// primed with the first access unit of a vector of that codec (so that
// parameter sets are known and slice headers get parsed in full).
func FuzzAnalyze(f *testing.F) {
	first := map[media.Codec][]byte{}
	for _, v := range loadVectors(f) {
		ci := slices.Index(fuzzCodecs, v.codec)
		if _, ok := first[v.codec]; !ok {
			first[v.codec] = v.au(0)
		}
		for i := 0; i < 5 && i < len(v.ref.AUs); i++ {
			f.Add(uint8(ci), v.au(i))
		}
	}
	f.Fuzz(func(t *testing.T, codec uint8, au []byte) {
		c := fuzzCodecs[int(codec)%len(fuzzCodecs)]
		a, err := NewAnalyzer(&media.Track{ID: 1, Codec: c})
		if err != nil {
			t.Fatal(err)
		}
		s := media.Sample{Index: 0}
		if p := first[c]; p != nil {
			if _, err := a.Analyze(&s, p); err != nil {
				t.Fatal(err)
			}
		}
		s.Index = 1
		_, err = a.Analyze(&s, au)
		var fe *FrameError
		if err != nil && (!errors.As(err, &fe) || fe.Index != 1) {
			t.Fatalf("error does not name sample 1: %v", err)
		}
	})
}
