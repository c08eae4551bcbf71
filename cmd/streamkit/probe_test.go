package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/probe"
)

// runCLI runs the root command with args and returns what it printed.
func runProbeCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCLI(t, args...)
}

func TestProbeCLIJSONMatchesPackage(t *testing.T) {
	const file = "../../testdata/media/h264_b.mp4"
	out, err := runProbeCLI(t, "probe", "--json", "--init=", file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := probe.File(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	// bytes_read is the same for the same file; compare whole documents.
	var g, w any
	if err := json.Unmarshal([]byte(out), &g); err != nil {
		t.Fatalf("CLI output is not JSON: %v\n%s", err, out)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("CLI JSON differs from probe.File JSON:\n%s\n%s", gb, wb)
	}
}

func TestProbeCLIText(t *testing.T) {
	out, err := runProbeCLI(t, "probe", "--json=false", "--init=", "../../testdata/media/ts_multi.ts")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ts_multi.ts: MPEG-TS", "4 streams in 2 programs", "#2 video (program 2) h264", "256x144"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestProbeCLIInit(t *testing.T) {
	out, err := runProbeCLI(t, "probe", "--json=false", "--init", "../../testdata/media/cmaf/init.mp4", "../../testdata/media/cmaf/seg_2.m4s")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "start 1.000 s") {
		t.Errorf("segment 2 should start at 1 s:\n%s", out)
	}
	// Without the init segment: one clear error that says what to do.
	_, err = runProbeCLI(t, "probe", "--json=false", "--init=", "../../testdata/media/cmaf/seg_2.m4s")
	if err == nil || !strings.Contains(err.Error(), "--init") || strings.Contains(err.Error(), "\n") {
		t.Errorf("want a one-line error mentioning --init, got %v", err)
	}
}

func TestProbeCLIErrors(t *testing.T) {
	for _, args := range [][]string{
		{"probe", "--json=false", "--init=", "no-such-file.mp4"},
		{"probe", "--json=false", "--init=", "../../testdata/README.md"},
		{"probe", "--json=false", "--init", "../../testdata/README.md", "../../testdata/media/cmaf/seg_1.m4s"},
		{"probe"},
	} {
		if _, err := runProbeCLI(t, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
}
