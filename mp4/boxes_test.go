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
