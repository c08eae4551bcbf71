package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareDemoEmbedded(t *testing.T) {
	man, traces, from, err := demoInputs(t.TempDir()) // no shared data there
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 2 || !strings.Contains(from, "embedded") {
		t.Fatalf("embedded inputs: %d traces, %q", len(traces), from)
	}
	var b bytes.Buffer
	if err := compareTable(&b, man, traces, from); err != nil {
		t.Fatal(err)
	}
	for _, a := range demoAlgorithms {
		if !strings.Contains(b.String(), "\n"+a+" ") {
			t.Errorf("no row for %s:\n%s", a, b.String())
		}
	}
}

func TestCompareDemoShared(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := filepath.Join("..", "..", sharedABRDir) // from cmd/streamkit
	if _, err := os.Stat(filepath.Join(dir, "sabre", "4Glogs")); err != nil {
		t.Skipf("needs the full Sabre trace sets in %s, absent in this clone: %v", sharedABRDir, err)
	}
	man, traces, from, err := demoInputs(dir)
	if err != nil || !strings.Contains(from, "from "+dir) {
		t.Fatalf("shared inputs: %q, %v", from, err)
	}
	if len(traces) != 126 {
		t.Fatalf("%d shared traces, want 40 4G + 86 3G", len(traces))
	}
	var b bytes.Buffer
	if err := compareTable(&b, man, traces[:10], from); err != nil {
		t.Fatal(err)
	}
}
