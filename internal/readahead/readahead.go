// Package readahead turns the many small positioned reads of a remuxer or
// packager — one ReadAt per sample, in file order — into a few large
// ones.
//
// An MP4 file's samples lie in chunks, and the chunks of all tracks
// follow one another in the mdat: reading the samples in file order
// reads the mdat front to back, a few kilobytes at a time. A 375 MB
// 1080p file has about 139,000 samples of 2.7 kB on average; one pread
// each costs more in system calls than the copy itself. A Reader keeps
// one window of the file (1 MiB by default) and serves every read that
// falls inside it with a memory copy; a read just past it (the next
// chunk, possibly after skipping another track's chunk) refills the
// window from that offset with one ReadAt. Reads that do not move
// forward (random access, a second pass from the start) go straight to
// the underlying ReaderAt, so a reader that jumps around pays nothing
// extra and never reads a window it will not use.
//
// The window is the one buffer: memory is bounded by its size, whatever
// the file's.
package readahead

import (
	"io"
	"sync"
)

// DefaultWindow is the window size used when New is given 0: large
// enough that system calls cost less than the copy (about 370 reads for
// a 375 MB file), small enough to stay in the CPU's cache.
const DefaultWindow = 1 << 20

// MaxGap is how far past the end of the previous read a read may start
// and still count as moving forward: the chunks of the other tracks a
// one-track pass skips over are far smaller than this.
const MaxGap = 256 << 10

// Reader is an io.ReaderAt over another one, with a read-ahead window.
// It is safe for concurrent use (reads are serialised); the file must not
// change under it while it is in use, as for any cache.
type Reader struct {
	mu     sync.Mutex
	r      io.ReaderAt
	size   int64
	window int
	buf    []byte // allocated on the first refill
	off    int64  // file offset of buf[0]
	n      int    // valid bytes in buf
	next   int64  // end of the previous read
	fills  int64
	direct int64
}

// New returns a Reader over r, whose size is size, with a window of the
// given size (DefaultWindow when window <= 0).
func New(r io.ReaderAt, size int64, window int) *Reader {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Reader{r: r, size: size, window: window, next: -1}
}

// ReadAt reads len(p) bytes at off, from the window when it holds them.
// Like io.ReaderAt, it returns an error whenever it reads fewer than
// len(p) bytes; errors are the underlying reader's.
func (ra *Reader) ReadAt(p []byte, off int64) (int, error) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	end := off + int64(len(p))
	if off >= ra.off && end <= ra.off+int64(ra.n) && off >= 0 {
		copy(p, ra.buf[off-ra.off:])
		ra.next = end
		return len(p), nil
	}
	forward := ra.next >= 0 && off >= ra.next && off-ra.next <= MaxGap
	ra.next = end
	if !forward || len(p) > ra.window/2 || off < 0 || off >= ra.size {
		ra.direct++
		return ra.r.ReadAt(p, off)
	}
	if ra.buf == nil {
		ra.buf = make([]byte, ra.window)
	}
	want := min(int64(ra.window), ra.size-off)
	m, err := ra.r.ReadAt(ra.buf[:want], off)
	if m < len(p) || (err != nil && err != io.EOF) {
		// A short read (the file shrank, an I/O error): let the
		// underlying reader report it for exactly the bytes asked for.
		ra.n = 0
		ra.direct++
		return ra.r.ReadAt(p, off)
	}
	ra.fills++
	ra.off, ra.n = off, m
	copy(p, ra.buf[:len(p)])
	return len(p), nil
}

// Stats returns how many times the window was refilled and how many reads
// went straight to the underlying reader.
func (ra *Reader) Stats() (fills, direct int64) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return ra.fills, ra.direct
}
