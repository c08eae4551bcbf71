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
	for _, want := range []string{"avc1.", "GOP", "master.m3u8", "manifest.mpd", "segments of 2.0 s", "bola", "dynamicdash"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}
