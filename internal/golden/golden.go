// Package golden compares what a test wrote with SHA-256 hashes recorded
// in a file, for the tests that guard byte-identical output (remux and
// package outputs must not change when only the I/O strategy does).
//
// The file has one line a case, "NAME HASH", and # comments; a test run
// with -update (the caller's flag) rewrites it, and the diff of the file is
// then reviewed with the change that caused it.
package golden

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// HashTree hashes a file, or a directory as the sorted list of its files'
// relative paths, sizes and contents.
func HashTree(root string) (string, error) {
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

// Check compares got (case name → hash) with the file; with update it
// rewrites the file instead, header being its first comment line. Every
// recorded case must be in got with the same hash, and every case of got
// recorded.
func Check(t testing.TB, file, header string, got map[string]string, update bool) {
	t.Helper()
	if update {
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		fmt.Fprintf(&b, "# %s\n", header)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %s\n", k, got[k])
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("%v (record it with -update)", err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if line == "" || strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		want[line[:i]] = line[i+1:]
	}
	if len(want) == 0 {
		t.Fatalf("%s records nothing", file)
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: case gone (recorded %s)", k, w)
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
