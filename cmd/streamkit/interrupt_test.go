package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/remux"
)

// buildStreamkit builds this command into a temporary directory (with
// VCS stamping, as go install from a checkout does) and returns the
// binary's path.
func buildStreamkit(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the streamkit binary; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "streamkit")
	cmd := exec.Command(gobin, "build", "-buildvcs=auto", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// loopDemuxer plays a source's samples n times in a row, timestamps
// continuing, to make a long input from a short fixture.
type loopDemuxer struct {
	media.Demuxer
	n int
}

func (l loopDemuxer) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		span := map[int]int64{} // per track: decode-time length of one pass
		count := map[int]int64{}
		for s, err := range l.Demuxer.Samples() {
			if err != nil {
				yield(s, err)
				return
			}
			span[s.TrackID] = max(span[s.TrackID], s.DTS+int64(s.Duration))
			count[s.TrackID]++
		}
		for k := range l.n {
			for s, err := range l.Demuxer.Samples() {
				if err != nil {
					yield(s, err)
					return
				}
				s.DTS += int64(k) * span[s.TrackID]
				s.PTS += int64(k) * span[s.TrackID]
				s.Index += int64(k) * count[s.TrackID]
				if !yield(s, nil) {
					return
				}
			}
		}
	}
}

// bigInput writes ladder_360.mp4 played loops times as one MP4.
func bigInput(t *testing.T, dir string, loops int) string {
	t.Helper()
	src, err := os.Open("../../testdata/media/ladder_360.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, _ := src.Stat()
	d, err := media.Open(src, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "big.mp4")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := remux.Write(context.Background(), f, loopDemuxer{d, loops}, remux.MP4); err != nil {
		t.Fatal(err)
	}
	return name
}

// digest is a hash of a file or of a directory tree (names and
// contents), to tell a complete output from a partial one.
func digest(t *testing.T, p string) string {
	t.Helper()
	h := sha256.New()
	var names []string
	err := filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			names = append(names, q)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(p, n)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// temporaries lists what atomicfile temporaries dir holds.
func temporaries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), atomicfile.Marker) || strings.Contains(e.Name(), ".tmp") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestInterruptLeavesNoTemporary sends SIGINT (and SIGTERM) to remux and
// package at 10 random moments of their run and checks that no temporary is left and
// OUT is absent or complete; and that a temporary left by a killed run
// is removed by the next one.
func TestInterruptLeavesNoTemporary(t *testing.T) {
	bin := buildStreamkit(t)
	dir := t.TempDir()
	in := bigInput(t, dir, 150)
	seed := time.Now().UnixNano()
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 7))

	for _, tc := range []struct {
		name string
		args func(out string) []string
		out  string
	}{
		{"remux", func(out string) []string { return []string{"remux", in, out} }, "out.ts"},
		{"remux-cmaf", func(out string) []string { return []string{"remux", "--to", "cmaf", in, out} }, "cmaf"},
		{"package", func(out string) []string { return []string{"package", "-o", out, in} }, "pkg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := filepath.Join(dir, tc.name)
			if err := os.Mkdir(work, 0o755); err != nil {
				t.Fatal(err)
			}
			// A reference run, timed, with a temporary of a dead process
			// (and one of a live process) beside OUT.
			ref := filepath.Join(work, "ref-"+tc.out)
			dead := exec.Command("true")
			if err := dead.Run(); err != nil {
				t.Fatal(err)
			}
			stale := filepath.Join(work, fmt.Sprintf(".ref-%s%s%d-1", tc.out, atomicfile.Marker, dead.Process.Pid))
			alive := filepath.Join(work, fmt.Sprintf(".ref-%s%s%d-2", tc.out, atomicfile.Marker, os.Getppid()))
			for _, p := range []string{stale, alive} {
				if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			if out, err := exec.Command(bin, tc.args(ref)...).CombinedOutput(); err != nil {
				t.Fatalf("reference run: %v\n%s", err, out)
			}
			took := time.Since(start)
			if _, err := os.Stat(stale); !os.IsNotExist(err) {
				t.Errorf("temporary of a dead process not removed by the next run: %v", err)
			}
			if _, err := os.Stat(alive); err != nil {
				t.Errorf("temporary of a running process removed: %v", err)
			}
			os.Remove(alive)
			want := digest(t, ref)
			t.Logf("reference run %v", took)

			interrupted := 0
			for i := range 10 {
				out := filepath.Join(work, fmt.Sprintf("%d-%s", i, tc.out))
				cmd := exec.Command(bin, tc.args(out)...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				delay := time.Duration(rng.Int64N(int64(took) + 1))
				time.Sleep(delay)
				sig := syscall.SIGINT // Ctrl-C; every other run SIGTERM, as a service manager sends
				if i%2 == 1 {
					sig = syscall.SIGTERM
				}
				cmd.Process.Signal(sig)
				waited := make(chan error, 1)
				go func() { waited <- cmd.Wait() }()
				var err error
				select {
				case err = <-waited:
				case <-time.After(60 * time.Second):
					cmd.Process.Kill()
					<-waited
					t.Fatalf("run %d: still running 60 s after SIGINT", i)
				}
				var ee *exec.ExitError
				switch {
				case err == nil:
					if d := digest(t, out); d != want {
						t.Errorf("run %d (SIGINT after %v): exit 0 but OUT differs from the reference", i, delay)
					}
				case errors.As(err, &ee) && ee.ExitCode() == 130:
					interrupted++
					if _, serr := os.Stat(out); !os.IsNotExist(serr) {
						if d := digest(t, out); d != want {
							t.Errorf("run %d (SIGINT after %v): interrupted and OUT is partial", i, delay)
						}
					}
					if !strings.Contains(stderr.String(), "interrupted") || strings.Count(stderr.String(), "\n") > 1 {
						t.Errorf("run %d: stderr %q, want one line saying interrupted", i, stderr.String())
					}
				case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
					// The signal came before the runtime had installed the
					// handler (the first milliseconds): nothing was written.
					if _, serr := os.Stat(out); !os.IsNotExist(serr) {
						t.Errorf("run %d (SIGINT after %v): killed before its handler, yet OUT exists", i, delay)
					}
				default:
					t.Errorf("run %d (SIGINT after %v): %v\n%s", i, delay, err, stderr.String())
				}
				if tmp := temporaries(t, work); len(tmp) > 0 {
					t.Errorf("run %d (SIGINT after %v): left %v", i, delay, tmp)
				}
			}
			t.Logf("%d of 10 runs interrupted before they finished", interrupted)
		})
	}
}

func TestRemuxRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.ts")
	if err := os.WriteFile(out, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runRemux(t, "../../testdata/media/h264_b.mp4", out)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("remux over an existing OUT: %v, want a refusal naming --force", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep" {
		t.Fatalf("OUT changed by a refused remux: %q", b)
	}
	if err := runRemux(t, "--force", "../../testdata/media/h264_b.mp4", out); err != nil {
		t.Fatal(err)
	}
	if f := sniff(t, out); f != "mpegts" {
		t.Errorf("--force output is %q", f)
	}
}
