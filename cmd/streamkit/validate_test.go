package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// corruptNAL writes a copy of an MP4 fixture whose video sample 5 has a
// NAL length prefix pointing far past the end of the sample.
func corruptNAL(t *testing.T, fixture, out string) {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := media.Open(f, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	video := -1
	for _, tr := range d.Tracks() {
		if tr.Kind == media.KindVideo && tr.Config.NALLengthSize == 4 {
			video = tr.ID
		}
	}
	if video < 0 {
		t.Fatalf("%s has no video with 4-byte NAL lengths", fixture)
	}
	done := false
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		if s.TrackID == video && s.Index == 5 {
			copy(b[s.Offset:], []byte{0x00, 0xff, 0xff, 0xff})
			done = true
		}
	}
	if !done {
		t.Fatal("no sample 5")
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPackageValidatesLikeRemux: a sample whose NAL length overruns it is
// refused by package as it is by remux, and neither leaves an output.
func TestPackageValidatesLikeRemux(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.mp4")
	corruptNAL(t, "../../testdata/media/ladder_360.mp4", bad)
	remuxErr := runRemux(t, bad, filepath.Join(dir, "out.ts"))
	if remuxErr == nil {
		t.Fatal("remux accepted a NAL length overrunning its sample")
	}
	_, pkgErr := runCLI(t, "package", "-o", filepath.Join(dir, "pkg"), bad)
	if pkgErr == nil {
		t.Fatal("package accepted a sample remux refuses")
	}
	for _, err := range []error{remuxErr, pkgErr} {
		if !strings.Contains(err.Error(), "sample 5") {
			t.Errorf("error does not name the sample: %v", err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("outputs left behind: %v", ents)
	}
	// The intact fixture packages.
	if _, err := runCLI(t, "package", "-o", filepath.Join(dir, "good"), "../../testdata/media/ladder_360.mp4"); err != nil {
		t.Fatalf("intact fixture: %v", err)
	}
}
