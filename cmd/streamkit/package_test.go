package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/manifest"
	"github.com/streamkit-go/streamkit/segment"
)

func TestPackageSample(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	res, err := packageSample(context.Background(), out, packageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{res.Multivariant, res.MPD} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("manifest missing: %v", err)
		}
	}
	if len(res.Presentation.Video) != 3 || len(res.Presentation.Audio) != 1 {
		t.Errorf("%d video, %d audio renditions", len(res.Presentation.Video), len(res.Presentation.Audio))
	}
	// No temporary directory is left beside OUT.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".out.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
	// OUT exists: refused without Force, replaced with it.
	if _, err := packageSample(context.Background(), out, packageOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("existing OUT: err = %v", err)
	}
	os.WriteFile(filepath.Join(out, "stale.txt"), []byte("x"), 0o644)
	if _, err := packageSample(context.Background(), out, packageOptions{Force: true, Segment: 2 * time.Second, ByteRange: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "stale.txt")); err == nil {
		t.Errorf("--force kept the old directory's files")
	}
	// The ABR simulator reads the packaged manifests.
	for _, p := range []string{res.Multivariant, res.MPD} {
		m, err := manifest.Load(p)
		if err != nil || m.NumSegments() != 4 || len(m.Bitrates()) != 3 {
			t.Fatalf("%s as ABR manifest: %v", p, err)
		}
	}
	// Sabre's -m and the Sabre sweep take them as well; a broken one is an
	// error naming the playlist and the file it could not read.
	trace := filepath.Join(t.TempDir(), "t.csv")
	os.WriteFile(trace, []byte("time_s,kbps\n0,3000\n4,200\n8,2000\n"), 0o644)
	for _, p := range []string{res.Multivariant, res.MPD} {
		text, err := runCLI(t, "abr", "sabre", "-m", p, "-n", trace, "-a", "bola")
		if err != nil || !strings.Contains(text, "total played utility:") {
			t.Errorf("abr sabre -m %s: %v\n%s", p, err, text)
		}
		csv := filepath.Join(t.TempDir(), "sweep.csv")
		if _, err := runCLI(t, "abr", "sweep", "--model", "sabre", "--traces", trace, "--args", "-m "+p+" -a bola", "--out", csv, "--quiet"); err != nil {
			t.Errorf("abr sweep -m %s: %v", p, err)
		} else if b, _ := os.ReadFile(csv); !strings.Contains(string(b), "t.csv,") {
			t.Errorf("abr sweep -m %s wrote\n%s", p, b)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.m3u8")
	os.WriteFile(bad, []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nmissing/v.m3u8\n"), 0o644)
	if _, err := runCLI(t, "abr", "sabre", "-m", bad, "-n", trace); err == nil || !strings.Contains(err.Error(), "bad.m3u8: ") || !strings.Contains(err.Error(), "missing/v.m3u8") || strings.Contains(err.Error(), "JSON") {
		t.Errorf("broken playlist: err = %v", err)
	}
}

func TestPackageFilesErrors(t *testing.T) {
	dir := t.TempDir()
	media := "../../testdata/media/"
	out := filepath.Join(dir, "mis")
	_, err := packageFiles(context.Background(), out,
		[]string{media + "ladder_270.mp4", media + "ladder_360.mp4", media + "ladder_misaligned.mp4"}, packageOptions{Segment: 2 * time.Second})
	if !errors.Is(err, segment.ErrMisaligned) {
		t.Fatalf("misaligned ladder: err = %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed run left %s", out)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
		t.Errorf("a failed run left %v", left)
	}
	if _, err := packageFiles(context.Background(), out, []string{media + "ladder_270.mp4"}, packageOptions{TS: true, DASH: true}); err == nil {
		t.Errorf("--ts --dash accepted")
	}
	if _, err := packageFiles(context.Background(), out, []string{media + "nope.mp4"}, packageOptions{}); err == nil {
		t.Errorf("missing input accepted")
	}
	res, err := packageFiles(context.Background(), out, []string{media + "ts_single.ts"}, packageOptions{TS: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.MPD != "" || res.Multivariant == "" {
		t.Errorf("--ts wrote HLS %q and DASH %q", res.Multivariant, res.MPD)
	}
}

func TestPackageCLI(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cli")
	text, err := runCLI(t, "package", "-o", out, "--segment", "2s", "--naming", "time")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"video_480p", "audio_und", "master.m3u8", "manifest.mpd", "streamkit serve"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// 2 s at 12800 Hz on the presentation timeline: the B-frame
	// composition delay (two frames, 1024 ticks) is hidden by the edit
	// list and not counted again in the $Time$ names (package dash).
	if _, err := os.Stat(filepath.Join(out, "video_240p", "seg_25600.m4s")); err != nil {
		t.Errorf("--naming time: %v", err)
	}
	if _, err := runCLI(t, "package", "-o", out+"2", "--naming", "weird"); err == nil {
		t.Errorf("--naming weird accepted")
	}
}
