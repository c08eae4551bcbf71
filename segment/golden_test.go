package segment_test

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

	"github.com/streamkit-go/streamkit/segment"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.sha256 from the current output")

// goldenFile holds the SHA-256 of what Cut writes for a few fixture sets.
// How payloads reach the writers (the MPEG-TS spool, read-ahead windows,
// output buffers) must not change a byte of the segments; a deliberate
// change of the output is recorded with
//
//	go test ./segment -run TestGoldenSegments -update
//
// and the diff of the golden file reviewed with it.
const goldenFile = "testdata/golden.sha256"

// TestGoldenSegments packages MP4 and MPEG-TS fixtures into CMAF
// segments, byte-range CMAF and MPEG-TS segments and compares the hash of
// every file written (the spool must not be among them).
func TestGoldenSegments(t *testing.T) {
	sets := map[string][]string{
		"ladder":    {"ladder_270.mp4", "ladder_360.mp4", "aac.m4a"},
		"ts_single": {"ts_single.ts"},
		"ts_multi":  {"ts_multi.ts"},
		"ts_ac3":    {"ts_ac3.ts"},
		"h264_b":    {"h264_b.mp4"},
	}
	forms := map[string][]segment.Option{
		"cmaf":      nil,
		"byterange": {segment.WithByteRange()},
		"ts":        {segment.WithTS()},
	}
	got := map[string]string{}
	for set, names := range sets {
		for form, opts := range forms {
			dir := t.TempDir()
			key := set + " " + form
			opts = append([]segment.Option{segment.WithTargetDuration(1e9)}, opts...)
			if _, err := segment.Cut(context.Background(), dir, fileInputs(t, names...), opts...); err != nil {
				got[key] = "error"
				continue
			}
			got[key] = hashDir(t, dir)
		}
	}
	if *updateGolden {
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("# SHA-256 of segment.Cut outputs (go test ./segment -run TestGoldenSegments -update)\n")
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
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%s: output changed: sha256 %s, recorded %s", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: not recorded (run with -update)", k)
		}
	}
}

// hashDir hashes the sorted list of a directory's files (relative path,
// size, contents).
func hashDir(t *testing.T, root string) string {
	t.Helper()
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
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
