// Package httpreader reads a remote file over HTTP(S) as an io.ReaderAt,
// with Range requests, so that the container readers (which read headers
// and seek) can probe a URL without downloading it.
//
// Reads are bounded: each request asks for at most one block (256 KiB by
// default), blocks are kept in a small cache (32 by default, so 8 MiB),
// and every request has a timeout. A server that ignores Range (200 OK
// for a ranged request) is refused with [ErrNoRange] unless the whole file
// fits in one block. Only http and https URLs are accepted.
//
// The block cache is the design point: an MPEG-TS reader asks for 188
// bytes at a time and an MP4 reader for a box header then its body; one
// request per ReadAt would be thousands of round trips.
package httpreader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors returned by Open and ReadAt.
var (
	// ErrNoRange means the server does not answer Range requests.
	ErrNoRange = errors.New("httpreader: server does not support range requests")
	// ErrScheme means the URL is not http or https.
	ErrScheme = errors.New("httpreader: not an http or https URL")
	// ErrStatus means the server answered with an unexpected status.
	ErrStatus = errors.New("httpreader: unexpected HTTP status")
)

// Option configures a Reader.
type Option func(*Reader)

// WithClient sets the HTTP client (default: one with a 30 s timeout per
// request).
func WithClient(c *http.Client) Option { return func(r *Reader) { r.client = c } }

// WithBlockSize sets the size of one Range request (default 256 KiB).
func WithBlockSize(n int) Option {
	return func(r *Reader) {
		if n > 0 {
			r.block = int64(n)
		}
	}
}

// WithCacheBlocks sets how many blocks are kept (default 32).
func WithCacheBlocks(n int) Option {
	return func(r *Reader) {
		if n > 0 {
			r.maxBlocks = n
		}
	}
}

// Reader is an io.ReaderAt over a remote file. It is safe for concurrent
// use.
type Reader struct {
	ctx       context.Context
	url       string
	client    *http.Client
	block     int64
	maxBlocks int
	size      int64

	mu       sync.Mutex
	cache    map[int64][]byte
	order    []int64 // least recently used first
	requests int
}

// Open fetches the first block of the file at rawURL with a Range
// request, learns the file's size from the answer's Content-Range and
// returns a Reader for it. ctx bounds every later request too.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Reader, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q", ErrScheme, rawURL)
	}
	r := &Reader{ctx: ctx, url: rawURL, client: &http.Client{Timeout: 30 * time.Second},
		block: 256 << 10, maxBlocks: 32, cache: map[int64][]byte{}}
	for _, o := range opts {
		o(r)
	}
	first, total, err := r.get(0, r.block)
	if err != nil {
		return nil, err
	}
	r.size = total
	if first, err = r.complete(0, first); err != nil {
		return nil, err
	}
	r.put(0, first)
	return r, nil
}

// Size returns the size of the remote file.
func (r *Reader) Size() int64 { return r.size }

// Requests returns how many HTTP requests the Reader has made.
func (r *Reader) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// ReadAt reads len(p) bytes at off, from cached blocks or with Range
// requests of one block each.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("httpreader: negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		start := pos - pos%r.block
		b, err := r.blockAt(start)
		if err != nil {
			return n, err
		}
		if pos-start >= int64(len(b)) {
			return n, io.ErrUnexpectedEOF
		}
		n += copy(p[n:], b[pos-start:])
	}
	return n, nil
}

func (r *Reader) blockAt(start int64) ([]byte, error) {
	r.mu.Lock()
	if b, ok := r.cache[start]; ok {
		r.touch(start)
		r.mu.Unlock()
		return b, nil
	}
	r.mu.Unlock()
	b, _, err := r.get(start, min(r.block, r.size-start))
	if err != nil {
		return nil, err
	}
	if b, err = r.complete(start, b); err != nil {
		return nil, err
	}
	r.put(start, b)
	return b, nil
}

// complete fills the block at start, of which b holds the first bytes.
// A server may cap the bytes of one range response: the rest is asked
// for rather than a short block cached as whole. A response without a
// byte is the end (the file shrank, or the server is broken).
func (r *Reader) complete(start int64, b []byte) ([]byte, error) {
	want := min(r.block, r.size-start)
	for int64(len(b)) < want {
		more, _, err := r.get(start+int64(len(b)), want-int64(len(b)))
		if err != nil {
			return nil, err
		}
		if len(more) == 0 {
			return nil, fmt.Errorf("httpreader: %s: %w at byte %d of %d", r.url, io.ErrUnexpectedEOF, start+int64(len(b)), r.size)
		}
		b = append(b, more...)
	}
	return b, nil
}

func (r *Reader) touch(start int64) {
	for i, s := range r.order {
		if s == start {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	r.order = append(r.order, start)
}

func (r *Reader) put(start int64, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.cache[start]; !ok && len(r.order) >= r.maxBlocks {
		delete(r.cache, r.order[0])
		r.order = r.order[1:]
	}
	r.cache[start] = b
	r.touch(start)
}

// get fetches n bytes at off and returns them with the file's total size.
func (r *Reader) get(off, n int64) ([]byte, int64, error) {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("httpreader: %w", err)
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+max(n, 1)-1))
	r.mu.Lock()
	r.requests++
	r.mu.Unlock()
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("httpreader: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, err := ParseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return nil, 0, err
		}
		if start != off {
			return nil, 0, fmt.Errorf("httpreader: asked for byte %d, server sent from %d", off, start)
		}
		// Never more than asked for, whatever the server sends.
		b, err := io.ReadAll(io.LimitReader(resp.Body, n))
		if err != nil {
			return nil, 0, fmt.Errorf("httpreader: %w", err)
		}
		return b, total, nil
	case http.StatusOK:
		// The whole file: acceptable only when it fits in one block.
		if off != 0 || resp.ContentLength < 0 || resp.ContentLength > r.block {
			return nil, 0, fmt.Errorf("%w (%s answered 200 OK)", ErrNoRange, r.url)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, r.block))
		if err != nil {
			return nil, 0, fmt.Errorf("httpreader: %w", err)
		}
		return b, int64(len(b)), nil
	case http.StatusRequestedRangeNotSatisfiable:
		// An empty file has no byte 0.
		if _, total, err := ParseContentRange(resp.Header.Get("Content-Range")); err == nil && total == 0 && off == 0 {
			return nil, 0, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: %s: %s", ErrStatus, r.url, resp.Status)
}

// ParseContentRange parses a Content-Range header ("bytes 0-99/1234" or
// "bytes */1234") into the first byte and the complete length.
func ParseContentRange(v string) (start, total int64, err error) {
	bad := fmt.Errorf("httpreader: bad Content-Range %q", v)
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, bad
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, bad
	}
	total, err = strconv.ParseInt(tot, 10, 64)
	if err != nil || total < 0 {
		return 0, 0, bad
	}
	if rng == "*" {
		return 0, total, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, bad
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start || end >= total {
		return 0, 0, bad
	}
	return start, total, nil
}
