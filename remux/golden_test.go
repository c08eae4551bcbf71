package remux

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.sha256 from the current output")

// goldenFile holds the SHA-256 of every remux output of every fixture.
// The I/O strategy of the readers and writers (read-ahead windows, output
// buffers, copy_file_range runs) must never change a byte of the output:
// this test catches any change. A deliberate change of the output (a new
// box, another PES packing) is recorded with
//
//	go test ./remux -run TestGoldenOutputs -update
//
// and the diff of the golden file reviewed with it.
const goldenFile = "testdata/golden.sha256"

// TestGoldenOutputs remuxes every fixture into every form (MP4, fMP4, TS,
// CMAF and, for MP4 input, faststart) and compares the hashes of the
// outputs with those recorded; an input a form refuses records the
// refusal, so that a form newly failing shows up too.
func TestGoldenOutputs(t *testing.T) {
	ents, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	type job struct {
		name string
		opts []Option
		out  string
	}
	got := map[string]string{}
	for _, e := range ents {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || (ext != ".mp4" && ext != ".m4a" && ext != ".ts") {
			continue
		}
		jobs := []job{
			{"mp4", []Option{To(MP4)}, "o.mp4"},
			{"fmp4", []Option{To(FMP4)}, "o.m4s"},
			{"ts", []Option{To(TS)}, "o.ts"},
			{"cmaf", []Option{To(CMAF)}, "o"},
		}
		if ext != ".ts" {
			jobs = append(jobs, job{"faststart", []Option{To(MP4), WithFaststart()}, "f.mp4"})
		}
		for _, j := range jobs {
			dir := t.TempDir()
			out := filepath.Join(dir, j.out)
			key := name + " " + j.name
			if err := Remux(context.Background(), filepath.Join(fixtures, name), out, j.opts...); err != nil {
				got[key] = "error"
				continue
			}
			h, err := hashTree(out)
			if err != nil {
				t.Fatal(err)
			}
			got[key] = h
		}
	}
	if *updateGolden {
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("# SHA-256 of remux outputs of testdata/media (go test ./remux -run TestGoldenOutputs -update)\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %s\n", k, got[k])
		}
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatalf("%v (record it with -update)", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		want[line[:i]] = line[i+1:]
	}
	if len(want) == 0 {
		t.Fatal("empty golden file")
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: fixture gone (recorded %s)", k, w)
		case g != w:
			t.Errorf("%s: output changed: sha256 %s, recorded %s", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: not recorded (run with -update)", k)
		}
	}
}

// hashTree hashes a file, or a directory as the sorted list of its files'
// relative paths and contents.
func hashTree(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
