package remux

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"
)

// TestCMAFStructure checks the CMAF constraints that players and
// packagers rely on (ISO/IEC 23000-19 §7): the init segment has the cmfc
// brand, exactly one track, mvex/trex and no samples; every segment starts
// with styp, holds one moof with one traf (tfhd with default-base-is-moof,
// tfdt, trun whose data offset lands in the mdat) and starts with a sync
// sample; tfdt is continuous from segment to segment.
func TestCMAFStructure(t *testing.T) {
	for _, name := range []string{"h264_b.mp4", "hevc_b_hev1.mp4", "ts_single.ts", "ts_ac3.ts", "aac.m4a", "h264_frag.mp4", "ladder_270.mp4"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "cmaf")
			if err := Remux(context.Background(), filepath.Join(fixtures, name), out, To(CMAF), WithFragmentDuration(time.Second)); err != nil {
				t.Fatal(err)
			}
			tracks, _ := filepath.Glob(filepath.Join(out, "track*"))
			if len(tracks) == 0 {
				t.Fatal("no tracks")
			}
			for _, tr := range tracks {
				checkCMAFTrack(t, tr)
			}
		})
	}
}

func checkCMAFTrack(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "init.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4ff.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if f.Init == nil || f.Init.Ftyp == nil || f.Init.Moov == nil {
		t.Fatalf("init: not an init segment (ftyp+moov)")
	}
	if !slices.Contains(f.Init.Ftyp.CompatibleBrands(), "cmfc") {
		t.Errorf("init: compatible brands %v lack cmfc", f.Init.Ftyp.CompatibleBrands())
	}
	for _, c := range f.Children {
		if typ := c.Type(); typ == "mdat" || typ == "moof" {
			t.Errorf("init segment holds a %s box", typ)
		}
	}
	moov := f.Init.Moov
	if len(moov.Traks) != 1 {
		t.Fatalf("init: %d tracks, CMAF wants 1", len(moov.Traks))
	}
	if moov.Mvex == nil || len(moov.Mvex.Trexs) != 1 {
		t.Fatalf("init: no mvex/trex")
	}
	stbl := moov.Trak.Mdia.Minf.Stbl
	if stbl.Stsz.SampleNumber != 0 || len(stbl.Stts.SampleCount) != 0 || len(stbl.Stco.ChunkOffset) != 0 {
		t.Errorf("init: sample tables not empty")
	}
	trackID := moov.Trak.Tkhd.TrackID
	var nextTfdt uint64
	for k := 1; ; k++ {
		name := fmt.Sprintf("seg_%d.m4s", k)
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			if k == 1 {
				t.Fatal("no segments")
			}
			break
		}
		sf, err := mp4ff.DecodeFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(sf.Children) == 0 || sf.Children[0].Type() != "styp" {
			t.Fatalf("%s: does not start with styp", name)
		}
		if len(sf.Segments) != 1 || len(sf.Segments[0].Fragments) != 1 {
			t.Fatalf("%s: want one fragment", name)
		}
		frag := sf.Segments[0].Fragments[0]
		moof := frag.Moof
		if len(moof.Trafs) != 1 {
			t.Fatalf("%s: %d trafs", name, len(moof.Trafs))
		}
		traf := moof.Traf
		if traf.Tfhd.TrackID != trackID {
			t.Errorf("%s: traf for track %d, init has %d", name, traf.Tfhd.TrackID, trackID)
		}
		if traf.Tfhd.Flags&0x020000 == 0 {
			t.Errorf("%s: tfhd without default-base-is-moof", name)
		}
		if traf.Tfdt == nil {
			t.Fatalf("%s: no tfdt", name)
		}
		if k > 1 && traf.Tfdt.BaseMediaDecodeTime() != nextTfdt {
			t.Errorf("%s: tfdt %d, previous segment ends at %d", name, traf.Tfdt.BaseMediaDecodeTime(), nextTfdt)
		}
		trun := traf.Trun
		if len(trun.Samples) == 0 {
			t.Fatalf("%s: empty trun", name)
		}
		if trun.Samples[0].Flags&0x00010000 != 0 {
			t.Errorf("%s: first sample is not a sync sample", name)
		}
		var total uint64
		var dur uint64
		for _, s := range trun.Samples {
			total += uint64(s.Size)
			dur += uint64(s.Dur)
		}
		mdatStart := frag.Mdat.PayloadAbsoluteOffset() - moof.StartPos
		if uint64(trun.DataOffset) != mdatStart || total != frag.Mdat.DataLength() {
			t.Errorf("%s: trun data offset %d / %d bytes, mdat payload at %d / %d bytes", name, trun.DataOffset, total, mdatStart, frag.Mdat.DataLength())
		}
		nextTfdt = traf.Tfdt.BaseMediaDecodeTime() + dur
	}
}
