package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
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

// TestProbeCLIShowPackets: --show-packets --json prints ffprobe's
// -show_packets JSON (the committed reference), --show-entries and
// --select-streams select like ffprobe, and a bad specifier is a one-line
// error.
func TestProbeCLIShowPackets(t *testing.T) {
	const file = "../../testdata/media/ts_ac3.ts"
	out, err := runProbeCLI(t, "probe", "--json", "--show-packets", file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(file + ".show_packets.json")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("--show-packets --json differs from ffprobe's reference (%d vs %d bytes)", len(out), len(want))
	}
	out, err = runProbeCLI(t, "probe", "--show-entries", "stream=index,codec_name:format=nb_streams", "--select-streams", "a:1", file)
	if err != nil {
		t.Fatal(err)
	}
	if want := "[STREAM]\nindex=2\ncodec_name=eac3\n[/STREAM]\n[FORMAT]\nnb_streams=3\n[/FORMAT]\n"; out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := runProbeCLI(t, "probe", "--select-streams", "q:1", file); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad specifier: err = %v, want one line", err)
	}
}
