//go:build unix

package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Browser is a headless Chromium started by a test (StartChromium).
type Browser struct {
	cmd     *exec.Cmd
	tmp     string
	log     *os.File
	exited  chan struct{}
	waitErr error
	once    sync.Once
}

// StartChromium starts Chromium (bin, from Chromium) with the headless
// flags, extra (more flags, then the page's URL) and its own new profile.
// The browser is stopped by Stop or, at the latest, when the test ends.
//
// Chromium leaves files in TMPDIR when killed, so it gets its own, with a
// short path (its singleton socket path must fit in 108 bytes), removed
// on Stop. Its output goes to a file, not a pipe: with a pipe, Wait would
// also wait for the helper processes that inherited it. It runs in a
// process group of its own, and Stop kills the whole group: Chromium
// starts helper processes.
func StartChromium(t testing.TB, bin string, extra ...string) *Browser {
	t.Helper()
	tmp, err := os.MkdirTemp("", "skchr")
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{tmp: tmp, exited: make(chan struct{})}
	args := ChromiumArgs("--user-data-dir=" + filepath.Join(tmp, "profile"))
	b.cmd = exec.Command(bin, append(args, extra...)...)
	b.cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if b.log, err = os.Create(filepath.Join(tmp, "chromium.log")); err != nil {
		os.RemoveAll(tmp)
		t.Fatal(err)
	}
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	b.cmd.WaitDelay = 5 * time.Second
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		b.log.Close()
		os.RemoveAll(tmp)
		t.Fatal(err)
	}
	go func() { b.waitErr = b.cmd.Wait(); close(b.exited) }()
	t.Cleanup(b.Stop)
	return b
}

// Exited is closed when the browser process has exited.
func (b *Browser) Exited() <-chan struct{} { return b.exited }

// Err is how the browser exited; valid once Exited is closed.
func (b *Browser) Err() error { return b.waitErr }

// Log returns the last n bytes of the browser's output.
func (b *Browser) Log(n int) string {
	out, _ := os.ReadFile(b.log.Name())
	s := strings.TrimSpace(string(out))
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Stop kills the browser's process group, waits for it and removes its
// files. It may be called more than once.
func (b *Browser) Stop() {
	b.once.Do(func() {
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.exited
		b.log.Close()
		os.RemoveAll(b.tmp)
	})
}
