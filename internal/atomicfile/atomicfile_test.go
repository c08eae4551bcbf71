package atomicfile_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/internal/atomicfile"
)

// leftovers lists the temporaries in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), atomicfile.Marker) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.ts")
	if err := atomicfile.WriteFile(out, []byte("first")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := atomicfile.Write(out, func(f *os.File) error {
		f.WriteString("half")
		if l := leftovers(t, dir); len(l) != 1 || !strings.HasPrefix(l[0], ".out.ts"+atomicfile.Marker+fmt.Sprint(os.Getpid())+"-") {
			t.Errorf("temporary while writing: %v", l)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want fill's error", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "first" {
		t.Errorf("failed write changed the output to %q", b)
	}
	if err := atomicfile.WriteFile(out, []byte("second")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	st, _ := os.Stat(out)
	if string(b) != "second" || st.Mode().Perm() != atomicfile.FileMode {
		t.Errorf("output %q mode %v", b, st.Mode())
	}
	if l := leftovers(t, dir); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "pres")
	fill := func(body string) func(string) error {
		return func(d string) error { return os.WriteFile(filepath.Join(d, "master.m3u8"), []byte(body), 0o644) }
	}
	if err := atomicfile.WriteDir(out, fill("one")); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteDir(out, fill("two")); !errors.Is(err, atomicfile.ErrExists) {
		t.Fatalf("WriteDir over an existing output = %v, want ErrExists", err)
	}
	if err := atomicfile.WriteDir(out, func(string) error { return errors.New("boom") }, atomicfile.Replace()); err == nil {
		t.Fatal("fill's error lost")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "master.m3u8")); string(b) != "one" {
		t.Errorf("failed replace changed the output: %q", b)
	}
	if err := atomicfile.WriteDir(out, fill("three"), atomicfile.Replace()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "master.m3u8")); string(b) != "three" {
		t.Errorf("replaced output: %q", b)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != atomicfile.DirMode {
		t.Errorf("mode %v", st.Mode())
	}
	if l := leftovers(t, dir); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestCleanupStopsCommit(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.mp4")
	err := atomicfile.Write(out, func(f *os.File) error {
		f.WriteString("data")
		atomicfile.Cleanup() // the signal arrives while the output is written
		return nil
	})
	if err == nil {
		t.Fatal("Write committed after Cleanup")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output exists after an interrupted write: %v", err)
	}
	err = atomicfile.WriteDir(filepath.Join(dir, "cmaf"), func(d string) error {
		atomicfile.Cleanup()
		return nil
	})
	if err == nil {
		t.Fatal("WriteDir committed after Cleanup")
	}
	if l := leftovers(t, dir); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestRemoveStale(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process liveness is not checked on Windows; stale temporaries are kept")
	}
	// A process that has ended: its id is free (the kernel reuses ids
	// only after wrapping around pid_max).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot start a process to get a dead pid: %v", err)
	}
	dead := cmd.Process.Pid
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	names := map[string]bool{ // name: should be removed
		fmt.Sprintf(".out%s%d-1", atomicfile.Marker, dead):         true,
		fmt.Sprintf(".out%s%d-2.old", atomicfile.Marker, dead):     true,
		fmt.Sprintf(".out%s%d-3", atomicfile.Marker, os.Getpid()):  false, // this process
		fmt.Sprintf(".out%s%d-4", atomicfile.Marker, os.Getppid()): false, // a running one
		fmt.Sprintf(".other%s%d-5", atomicfile.Marker, dead):       false, // another output's
		fmt.Sprintf(".out%sx-6", atomicfile.Marker):                false,
		".out.tmp-7": false,
	}
	for n := range names {
		if err := os.MkdirAll(filepath.Join(dir, n, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := atomicfile.RemoveStale(out)
	if err != nil {
		t.Fatal(err)
	}
	for n, gone := range names {
		_, err := os.Stat(filepath.Join(dir, n))
		if gone != os.IsNotExist(err) {
			t.Errorf("%s: removed %v, want %v", n, os.IsNotExist(err), gone)
		}
		if gone != slices.Contains(removed, filepath.Join(dir, n)) {
			t.Errorf("%s: reported %v", n, removed)
		}
	}
}

// An output appears whole or not at all.
func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "movie.ts")
	err := atomicfile.Write(out, func(f *os.File) error {
		_, err := f.WriteString("...")
		return err // an error here leaves no movie.ts and no temporary
	})
	b, _ := os.ReadFile(out)
	fmt.Println(err, string(b))
	// Output: <nil> ...
}

// A directory output (a packaged presentation) appears whole; replacing
// an existing one needs Replace.
func ExampleWriteDir() {
	parent, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(parent)
	out := filepath.Join(parent, "out")
	write := func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "master.m3u8"), []byte("#EXTM3U\n"), 0o644)
	}
	fmt.Println(atomicfile.WriteDir(out, write))
	fmt.Println(errors.Is(atomicfile.WriteDir(out, write), atomicfile.ErrExists))
	fmt.Println(atomicfile.WriteDir(out, write, atomicfile.Replace()))
	// Output:
	// <nil>
	// true
	// <nil>
}
