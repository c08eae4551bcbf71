package segment

import (
	"bufio"
	"fmt"
	"os"

	"github.com/streamkit-go/streamkit/internal/readahead"
)

// spool keeps the payloads that an input hands out only while it is being
// read (MPEG-TS: the reader reassembles each access unit from its
// packets and reuses the buffer) in a temporary file, so that packaging
// a TS input holds a write buffer and one read window in memory instead
// of every payload of the file (a 400 MB TS input used to need 560 MB).
// The spool is written once, front to back, while the sample tables are
// read; the segments then read it back the way they read an MP4 file,
// through a read-ahead window (the payloads of one track's segment lie in
// one stretch of it, interleaved with the other tracks').
//
// The file is created in the output's temporary directory (same
// filesystem as the output, never a RAM-backed /tmp), under a dot name,
// and removed when Cut returns.
type spool struct {
	f  *os.File
	w  *bufio.Writer
	n  int64
	ra *readahead.Reader
}

// spoolRef locates one payload in the spool.
type spoolRef struct {
	off int64
	n   uint32
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, ".spool-*")
	if err != nil {
		return nil, fmt.Errorf("segment: spool for MPEG-TS payloads: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// add appends a payload and returns where it lies.
func (s *spool) add(b []byte) (spoolRef, error) {
	ref := spoolRef{off: s.n, n: uint32(len(b))}
	if _, err := s.w.Write(b); err != nil {
		return ref, fmt.Errorf("segment: spool: %w", err)
	}
	s.n += int64(len(b))
	return ref, nil
}

// finish flushes what was added; reads may follow.
func (s *spool) finish() error {
	if s.ra != nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("segment: spool: %w", err)
	}
	s.w = nil
	s.ra = readahead.New(s.f, s.n, 0)
	return nil
}

// read returns the payload at ref, in buf when it has room.
func (s *spool) read(ref spoolRef, buf []byte) ([]byte, error) {
	if cap(buf) < int(ref.n) {
		buf = make([]byte, ref.n)
	}
	buf = buf[:ref.n]
	if _, err := s.ra.ReadAt(buf, ref.off); err != nil {
		return nil, fmt.Errorf("segment: spool: %w", err)
	}
	return buf, nil
}

// remove closes and deletes the spool file.
func (s *spool) remove() {
	if s == nil {
		return
	}
	s.f.Close()
	os.Remove(s.f.Name())
}

// spoolOnce creates the one spool of a Cut when the first payload needs
// it (MP4 inputs never do).
type spoolOnce struct {
	dir string
	s   *spool
}

func (o *spoolOnce) get() (*spool, error) {
	if o.s == nil {
		s, err := newSpool(o.dir)
		if err != nil {
			return nil, err
		}
		o.s = s
	}
	return o.s, nil
}
