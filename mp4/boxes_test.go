package mp4

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

func find(bs []*Box, path ...string) *Box {
	for _, b := range bs {
		if b.Type == path[0] {
			if len(path) == 1 {
				return b
			}
			if c := find(b.Children, path[1:]...); c != nil {
				return c
			}
		}
	}
	return nil
}

func field(b *Box, name string) any {
	for _, f := range b.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return nil
}

// checkNesting verifies that children tile their parent exactly.
func checkNesting(t *testing.T, bs []*Box, start, end int64, where string) {
	t.Helper()
	if len(bs) == 0 {
		return
	}
	pos := bs[0].Offset
	if pos < start {
		t.Errorf("%s: first child at %d before %d", where, pos, start)
	}
	for _, b := range bs {
		if b.Offset != pos {
			t.Errorf("%s/%s at %d, expected %d", where, b.Type, b.Offset, pos)
		}
		pos = b.Offset + b.Size
		checkNesting(t, b.Children, b.Offset+int64(b.HeaderSize), pos, where+"/"+b.Type)
	}
	if pos != end {
		t.Errorf("%s: children end at %d, parent at %d", where, pos, end)
	}
}

func TestReadBoxes(t *testing.T) {
	for _, f := range mp4Fixtures(t) {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			bs, err := ReadBoxes(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			checkNesting(t, bs, 0, int64(len(b)), "")
			r := openFile(t, f)
			if got := field(find(bs, "ftyp"), "major_brand"); got != r.MajorBrand {
				t.Errorf("ftyp major_brand %v, Reader %q", got, r.MajorBrand)
			}
			if m := find(bs, "moov"); m == nil || m.Offset != r.MoovOffset() {
				t.Errorf("moov box %+v, MoovOffset %d", m, r.MoovOffset())
			}
			// mdhd timescales in trak order match the tracks.
			i := 0
			for _, tr := range find(bs, "moov").Children {
				if tr.Type != "trak" {
					continue
				}
				md := find(tr.Children, "mdia", "mdhd")
				if md == nil || field(md, "timescale") != r.Tracks()[i].Timescale {
					t.Errorf("trak %d: mdhd %+v, track timescale %d", i, md, r.Tracks()[i].Timescale)
				}
				i++
			}
			nMoof := 0
			for _, x := range bs {
				if x.Type == "moof" {
					nMoof++
					if find(x.Children, "traf", "tfdt") == nil {
						t.Errorf("moof at %d without traf/tfdt", x.Offset)
					}
				}
			}
			if nMoof != len(r.Fragments()) {
				t.Errorf("%d moof boxes, Reader %d fragments", nMoof, len(r.Fragments()))
			}
		})
	}
}

func TestReadBoxesTruncated(t *testing.T) {
	b, err := os.ReadFile(fixtures + "/h264_faststart.mp4")
	if err != nil {
		t.Skip(err)
	}
	bs, err := ReadBoxes(bytes.NewReader(b[:200]), 200)
	var pe *media.PosError
	if !errors.As(err, &pe) || !errors.Is(err, media.ErrTruncated) {
		t.Fatalf("err %v, want a truncation PosError", err)
	}
	if len(bs) == 0 || bs[0].Type != "ftyp" {
		t.Errorf("partial tree %v", bs)
	}
}

func TestDecodeAVCC(t *testing.T) {
	sps := []byte{0x67, 0x64, 0x00, 0x1f}
	pps := []byte{0x68, 0xee}
	good := append([]byte{1, 0x64, 0, 0x1f, 0xfd, 0xe1, 0, 4}, sps...)
	good = append(append(good, 1, 0, 2), pps...)
	cases := []struct {
		name    string
		in      []byte
		nSPS    int
		nPPS    int
		wantErr bool
	}{
		{"2-byte NAL lengths", good, 1, 1, false},
		{"no PPS count", good[:12], 1, 0, false},
		{"SPS cut off", good[:10], 0, 0, true},
		{"PPS length cut off", good[:14], 1, 0, true},
		{"too short", good[:5], 0, 0, true},
	}
	for _, c := range cases {
		rec, err := decodeAVCC(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err %v", c.name, err)
			continue
		}
		if err == nil && (len(rec.SPSnalus) != c.nSPS || len(rec.PPSnalus) != c.nPPS) {
			t.Errorf("%s: %d SPS %d PPS", c.name, len(rec.SPSnalus), len(rec.PPSnalus))
		}
	}
}

// TestSegmentIndexes checks the sidx boxes of fragmented files: every
// reference of a single-level index points at a moof.
func TestSegmentIndexes(t *testing.T) {
	const f = "../../shared/media/fetched/androidx/mp4/sample_fragmented_seekable_multiple_sidx.mp4"
	if _, err := os.Stat(f); err != nil {
		t.Skip(err)
	}
	r := openFile(t, f)
	sx := r.SegmentIndexes()
	if len(sx) < 2 {
		t.Fatalf("%d sidx boxes, want several", len(sx))
	}
	moofs := map[int64]bool{}
	for _, o := range r.Fragments() {
		moofs[o] = true
	}
	for _, s := range sx {
		if s.Timescale == 0 || len(s.References) == 0 {
			t.Errorf("sidx at %d: %+v", s.Offset, s)
		}
		pos := s.FirstOffset
		for _, ref := range s.References {
			if ref.ReferenceType == 0 && !moofs[pos] {
				t.Errorf("sidx at %d: reference at %d is not a moof", s.Offset, pos)
			}
			pos += int64(ref.Size)
		}
	}
	if bs, err := r.Boxes(); err != nil || len(bs) == 0 {
		t.Errorf("Boxes: %v", err)
	}
}
