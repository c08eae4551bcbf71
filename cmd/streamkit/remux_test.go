package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// runRemux runs "streamkit remux ARGS" in-process with the flags reset.
func runRemux(t *testing.T, args ...string) error {
	t.Helper()
	_, err := runCLI(t, append([]string{"remux"}, args...)...)
	return err
}

func TestRemuxCLI(t *testing.T) {
	const media = "../../testdata/media"
	dir := t.TempDir()
	ts := filepath.Join(dir, "out.ts")
	if err := runRemux(t, filepath.Join(media, "h264_b.mp4"), ts); err != nil {
		t.Fatal(err)
	}
	if f := sniff(t, ts); f != "mpegts" {
		t.Errorf("out.ts is %q", f)
	}
	fast := filepath.Join(dir, "fast.mp4")
	if err := runRemux(t, "--faststart", filepath.Join(media, "h264_moovend.mp4"), fast); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(fast)
	r, err := mp4.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || !r.MoovFirst() {
		t.Errorf("--faststart output: err %v, moov first %v", err, err == nil && r.MoovFirst())
	}
	frag := filepath.Join(dir, "frag.mp4")
	if err := runRemux(t, "--to", "fmp4", "--frag-duration", "1s", filepath.Join(media, "h264_b.mp4"), frag); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(frag)
	if r, err := mp4.NewReader(bytes.NewReader(b), int64(len(b))); err != nil || len(r.Fragments()) != 2 {
		t.Errorf("--to fmp4 --frag-duration 1s: err %v", err)
	}
	// Errors: one line, nothing written.
	for _, args := range [][]string{
		{filepath.Join(media, "missing.mp4"), filepath.Join(dir, "x.ts")},
		{"--to", "avi", filepath.Join(media, "h264_b.mp4"), filepath.Join(dir, "x.ts")},
		{filepath.Join(media, "av1.mp4"), filepath.Join(dir, "x.ts")},
		{filepath.Join(media, "h264_b.mp4.packets.json"), filepath.Join(dir, "x.mp4")},
	} {
		err := runRemux(t, args...)
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		if strings.Contains(oneLine(err), "\n") || oneLine(err) != err.Error() {
			t.Errorf("%v: error is not one line: %q", args, err)
		}
		if _, serr := os.Stat(filepath.Join(dir, "x.ts")); serr == nil {
			t.Errorf("%v: output left behind", args)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v", names)
	}
}

func sniff(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	fm, err := media.Sniff(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return fm.Name
}
