package live

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMirror: --out writes what the origin serves, atomically (no
// temporary file left), removes what leaves the window, and its
// playlists promise nothing a static web server cannot do.
func TestMirror(t *testing.T) {
	dir := t.TempDir()
	s := newTestStream(t, WithMirror(dir), WithWindow(8*time.Second))
	s.to(21 * time.Second)
	s.p.End()
	pl, err := os.ReadFile(filepath.Join(dir, "v0", "media.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(pl)
	if strings.Contains(text, "CAN-BLOCK-RELOAD") || strings.Contains(text, "CAN-SKIP-UNTIL") || !strings.Contains(text, "PART-HOLD-BACK=") {
		t.Errorf("mirrored playlist server control:\n%s", text)
	}
	got := parsePlaylist(t, text)
	if !got.ended || got.seq < 5 {
		t.Errorf("mirrored playlist: ended %v, first MSN %d", got.ended, got.seq)
	}
	for _, seg := range got.segs {
		b, err := os.ReadFile(filepath.Join(dir, "v0", seg.uri))
		if err != nil {
			t.Fatal(err)
		}
		var cat []byte
		for i := 0; ; i++ {
			p, err := os.ReadFile(filepath.Join(dir, "v0", fmt.Sprintf("part_%d_%d.m4s", seg.msn, i)))
			if err != nil {
				break
			}
			cat = append(cat, p...)
		}
		if !bytes.Equal(b, cat) {
			t.Errorf("%s: %d bytes, its parts %d", seg.uri, len(b), len(cat))
		}
	}
	for msn := int64(0); msn < got.seq; msn++ {
		if _, err := os.Stat(filepath.Join(dir, "v0", segName(msn))); err == nil {
			t.Errorf("segment %d left the window but its file stays", msn)
		}
		if _, err := os.Stat(filepath.Join(dir, "v0", partName(msn, 0))); err == nil {
			t.Errorf("part %d.0 left the window but its file stays", msn)
		}
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
	for _, f := range []string{"master.m3u8", "manifest.mpd", "a0/init_0.mp4"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
