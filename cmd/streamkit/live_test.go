package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLiveCLI runs `streamkit live` for a short while (real time: the one
// real-time run of the command): it prints exactly the two entry points,
// mirrors the stream to --out and ends it cleanly.
func TestLiveCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 3 s of live stream in real time")
	}
	dir := t.TempDir()
	out, err := runCLI(t, "live", "--listen", "127.0.0.1:0", "--duration", "3s", "--out", dir, "--player-js", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var urls []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "hls: ") || strings.HasPrefix(line, "dash: ") {
			urls = append(urls, line)
		}
	}
	re := regexp.MustCompile(`^(hls: http://127\.0\.0\.1:\d+/live/master\.m3u8|dash: http://127\.0\.0\.1:\d+/live/manifest\.mpd)$`)
	if len(urls) != 2 || !re.MatchString(urls[0]) || !re.MatchString(urls[1]) || !strings.HasPrefix(urls[0], "hls:") {
		t.Fatalf("entry points %q\n%s", urls, out)
	}
	pl, err := os.ReadFile(filepath.Join(dir, "v0", "media.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pl), "#EXT-X-ENDLIST") || !strings.Contains(string(pl), "seg_0.m4s") {
		t.Errorf("mirrored playlist after --duration:\n%s", pl)
	}
	for _, f := range []string{"master.m3u8", "manifest.mpd", "v0/init_0.mp4", "a0/seg_0.m4s", "v2/part_0_0.m4s"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}
}

// TestLiveCLIErrors: bad flag combinations are one-line errors.
func TestLiveCLIErrors(t *testing.T) {
	for _, args := range [][]string{
		{"live", "--part", "3s", "--segment", "2s"},
		{"live", "--window", "1s"},
		{"live", "--cert", "x.pem"},
		{"live", "no-such-file.mp4"},
	} {
		_, err := runCLI(t, args...)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
