package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeShapeErrors: a bad --shape scenario is a one-line error naming
// the field, before anything listens.
func TestServeShapeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"phases":[{"duration_s":10,"kbps":-5}]}`), 0o644)
	_, err := runCLI(t, "serve", dir, "--addr", "127.0.0.1:0", "--shape", bad)
	if err == nil || !strings.Contains(err.Error(), "phases[0].kbps") || strings.Contains(oneLine(err), "\n") {
		t.Errorf("err = %v", err)
	}
	_, err = runCLI(t, "serve", dir, "--addr", "127.0.0.1:0", "--shape", filepath.Join(dir, "none.json"))
	if err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("err = %v", err)
	}
}
