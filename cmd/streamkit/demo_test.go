package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDemo runs README's first command in-process and checks that every
// section of the tour printed its result.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("demo packages a ladder and runs ABR sweeps")
	}
	var buf bytes.Buffer
	if err := runDemo(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"avc1.", "GOP", "master.m3u8", "manifest.mpd", "segments of 2.0 s", "bola", "dynamicdash", "#EXT-X-PART:DURATION=0.200", "answered: 200 OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

// TestAbrRunPackagedManifest: `streamkit abr run` takes a packaged HLS
// multivariant playlist or DASH MPD as its manifest.
func TestAbrRunPackagedManifest(t *testing.T) {
	p, err := packageSample(context.Background(), t.TempDir()+"/ladder", packageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trace := "../../testdata/abr/sabre/3Glogs/report.2010-09-13_1046CEST.json"
	for _, m := range []string{p.Multivariant, p.MPD} {
		// Flags are package globals: reset the ones earlier tests may have set.
		out, err := abrRunCLI(t, "abr", "run", "--trace", trace, "--manifest", m, "--algo", "dashjs", "--log=", "--svg=")
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if !strings.Contains(out, "3 levels") || !strings.Contains(out, "rebuffering") {
			t.Errorf("%s: unexpected output:\n%s", m, out)
		}
	}
}
