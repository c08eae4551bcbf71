package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func runBoxesCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCLI(t, append([]string{"boxes"}, args...)...)
}

func TestBoxesCLI(t *testing.T) {
	const f = "../../testdata/media/h264_frag.mp4"
	if _, err := os.Stat(f); err != nil {
		t.Skip(err)
	}
	out, err := runBoxesCLI(t, "--json=false", f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ftyp  @0 ", "moov  @", "  mvex  @", "moof  @", "    tfdt  @", "base_media_decode_time=", "major_brand=iso5"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runBoxesCLI(t, "--json", f)
	if err != nil {
		t.Fatal(err)
	}
	var tree []struct {
		Type   string
		Offset int64
		Size   int64
	}
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	st, _ := os.Stat(f)
	var end int64
	for _, b := range tree {
		if b.Offset != end {
			t.Errorf("%s at %d, previous box ended at %d", b.Type, b.Offset, end)
		}
		end = b.Offset + b.Size
	}
	if end != st.Size() {
		t.Errorf("top-level boxes cover %d bytes of %d", end, st.Size())
	}

	// Not MP4 at all: one clear line.
	ts := t.TempDir() + "/x.ts"
	os.WriteFile(ts, bytes.Repeat([]byte{0x47, 0x40, 0, 0x10}, 47), 0o644)
	if _, err := runBoxesCLI(t, "--json=false", ts); err == nil || !strings.Contains(err.Error(), "not an MP4 file") {
		t.Errorf("TS input: %v", err)
	}

	// A truncated file prints what it can and fails with one line.
	b, _ := os.ReadFile(f)
	cut := t.TempDir() + "/cut.mp4"
	os.WriteFile(cut, b[:1000], 0o644)
	out, err = runBoxesCLI(t, "--json=false", cut)
	if err == nil || !strings.Contains(err.Error(), "moov") || !strings.Contains(out, "ftyp") {
		t.Errorf("truncated file: err %v, output %q", err, out)
	}
}
