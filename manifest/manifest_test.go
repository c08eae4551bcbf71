package manifest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/manifest"
)

// TestLoadEveryFormat: one call reads each format the simulator plays,
// and a packaged output directory means its manifest.
func TestLoadEveryFormat(t *testing.T) {
	dir := t.TempDir()
	p, err := packageSample(dir, 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	master, err := hls.Write(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	mpd, err := dash.Write(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	dashOnly := t.TempDir()
	if err := os.Rename(mpd, filepath.Join(dashOnly, dash.ManifestName)); err != nil {
		t.Fatal(err)
	}
	// the MPD addresses segments relative to itself: move them along
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			if err := os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(dashOnly, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		path      string
		segs, lvl int
	}{
		{master, 2, 3},
		{dir, 2, 3},      // the package directory: its master.m3u8
		{dashOnly, 2, 3}, // a directory with only manifest.mpd
		{filepath.Join(dashOnly, dash.ManifestName), 2, 3},
		{"../testdata/abr/sabre/bbb.json", 199, 10},
		{"../testdata/abr/pensieve/video_sizes", 48, 6},
	} {
		m, err := manifest.Load(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if m.NumSegments() != c.segs || len(m.Bitrates()) != c.lvl {
			t.Errorf("%s: %d segments, %d levels; want %d, %d", c.path, m.NumSegments(), len(m.Bitrates()), c.segs, c.lvl)
		}
	}
	// importing manifest registered the packaged formats with abr too
	if m, err := abr.LoadManifest(master); err != nil || m.NumSegments() != 2 {
		t.Errorf("abr.LoadManifest(%s) after importing manifest: %v", master, err)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "master.m3u8")
	if err := os.WriteFile(bad, []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nmissing/index.m3u8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := manifest.Load(bad)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("broken playlist: %v", err)
	}
	if _, err := manifest.Load(filepath.Join(dir, "none.mpd")); err == nil || errors.Is(err, abr.ErrFormat) {
		t.Errorf("missing MPD: %v", err)
	}
}
