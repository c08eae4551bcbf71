// Package atomicfile is streamkit's one way of writing an output: build
// it under a temporary name beside the final one, then rename it into
// place, so that a reader (a player, a CDN, the next command) sees the old
// output or the new one and never half of one. Files and whole
// directories (a packaged presentation, a CMAF track set) are written this
// way by remux, package, the HLS and DASH writers and every CLI command
// that writes.
//
// Temporaries are named so that they can be recognised and cleaned up:
//
//	.OUT.streamkit-tmp-PID-RANDOM
//
// (dot first, so servers and listings hide them). [Cleanup] removes the
// temporaries this process has open, for a signal handler; each write
// first removes, with [RemoveStale], the temporaries for the same output
// left by processes that no longer run (killed, or the machine lost
// power), never those of a process still running.
//
// There is no fsync: like cp and ffmpeg, an output is as durable as the
// page cache makes it. Atomicity (never a partial file under the final
// name) does not depend on it, and flushing gigabytes would double the
// wall time of a remux on a slow disk.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Marker is in the name of every temporary: .OUT + Marker + PID-RANDOM.
const Marker = ".streamkit-tmp-"

// ErrExists is returned by [WriteDir] when the output directory exists and
// [Replace] was not given.
var ErrExists = errors.New("atomicfile: output exists")

// Modes of finished outputs (temporaries are created private).
const (
	FileMode os.FileMode = 0o644
	DirMode  os.FileMode = 0o755
)

// live holds the temporaries of this process. Renames into place happen
// under its lock, so that Cleanup never races a commit: an output is
// either committed whole or its temporary removed.
var live = struct {
	sync.Mutex
	paths map[string]struct{}
}{paths: map[string]struct{}{}}

func track(p string) {
	live.Lock()
	live.paths[p] = struct{}{}
	live.Unlock()
}

func untrack(p string) {
	live.Lock()
	delete(live.paths, p)
	live.Unlock()
}

// Cleanup removes every temporary this process has open now. A command's
// signal handler calls it before exiting when the writers did not unwind
// in time; writes in progress then fail instead of committing.
func Cleanup() {
	live.Lock()
	defer live.Unlock()
	for p := range live.paths {
		os.RemoveAll(p)
		delete(live.paths, p)
	}
}

// tempPattern is the os.CreateTemp/MkdirTemp pattern for a temporary of
// name.
func tempPattern(name string) string {
	return "." + filepath.Base(name) + Marker + strconv.Itoa(os.Getpid()) + "-*"
}

// Write creates name by calling fill with a new temporary file beside it
// and renaming the file to name when fill returns nil; on any error the
// temporary is removed and an existing name is left as it was. An
// existing file at name is replaced, as os.WriteFile replaces it.
func Write(name string, fill func(f *os.File) error) (err error) {
	RemoveStale(name)
	f, err := os.CreateTemp(filepath.Dir(name), tempPattern(name))
	if err != nil {
		return err
	}
	tmp := f.Name()
	track(tmp)
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			untrack(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, FileMode); err != nil {
		return err
	}
	return commit(tmp, name, "")
}

// WriteFile writes data to name through a temporary file.
func WriteFile(name string, data []byte) error {
	return Write(name, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// DirOption configures WriteDir.
type DirOption func(*dirConfig)

type dirConfig struct{ replace bool }

// Replace lets WriteDir replace an existing output directory. The old one
// is moved aside (under a temporary name) before the new one is renamed
// into place and deleted after, so the name is never missing for longer
// than between two renames. The caller decides whether what is there may
// go (package's --force, remux's check that it is an earlier output).
func Replace() DirOption { return func(c *dirConfig) { c.replace = true } }

// WriteDir creates the directory name by calling fill with a new
// temporary directory beside it and renaming that directory to name when
// fill returns nil; on any error the temporary directory is removed. An
// existing name is an error wrapping ErrExists unless Replace is given.
func WriteDir(name string, fill func(dir string) error, opts ...DirOption) (err error) {
	var cfg dirConfig
	for _, o := range opts {
		o(&cfg)
	}
	name = filepath.Clean(name)
	if _, err := os.Lstat(name); err == nil && !cfg.replace {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	parent := filepath.Dir(name)
	if err := os.MkdirAll(parent, DirMode); err != nil {
		return err
	}
	RemoveStale(name)
	tmp, err := os.MkdirTemp(parent, tempPattern(name))
	if err != nil {
		return err
	}
	track(tmp)
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
			untrack(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, DirMode); err != nil {
		return err
	}
	var old string
	if _, err := os.Lstat(name); err == nil && cfg.replace {
		old = tmp + ".old"
	}
	return commit(tmp, name, old)
}

// commit renames tmp to name under the registry's lock. With old != "",
// the existing name is first moved to old, and old is deleted after.
func commit(tmp, name, old string) error {
	live.Lock()
	if _, ok := live.paths[tmp]; !ok {
		live.Unlock()
		return fmt.Errorf("atomicfile: %s: interrupted", name)
	}
	if old != "" {
		if err := os.Rename(name, old); err != nil {
			live.Unlock()
			return err
		}
		live.paths[old] = struct{}{}
	}
	if err := os.Rename(tmp, name); err != nil {
		if old != "" {
			os.Rename(old, name)
			delete(live.paths, old)
		}
		live.Unlock()
		return err
	}
	delete(live.paths, tmp)
	live.Unlock()
	if old != "" {
		os.RemoveAll(old)
		untrack(old)
	}
	return nil
}

// RemoveStale removes the temporaries for name (files or directories)
// left by processes that are no longer running, and returns their paths.
// Temporaries of running processes, this one included, are kept.
func RemoveStale(name string) ([]string, error) {
	dir := filepath.Dir(name)
	prefix := "." + filepath.Base(name) + Marker
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || alive(pid) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(p); err == nil {
			removed = append(removed, p)
		}
	}
	return removed, nil
}
