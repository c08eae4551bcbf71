package media

import (
	"fmt"
	"io"
	"sync"
)

// Format is a registered container format.
type Format struct {
	// Name is the short name ("mp4", "mpegts").
	Name string
	// Match reports whether head, the first bytes of the input (up to
	// SniffLen, fewer for short inputs), looks like this format.
	Match func(head []byte) bool
	// Open reads the headers of an input of the given size and returns a
	// Demuxer. It must not read sample payloads.
	Open func(r io.ReaderAt, size int64) (Demuxer, error)
	// OpenStrict, when set, opens a reader that fails on the damage Open
	// reads past with a Warning (see OpenStrict).
	OpenStrict func(r io.ReaderAt, size int64) (Demuxer, error)
}

// SniffLen is how many leading bytes Match functions are given.
const SniffLen = 1024

var (
	formatsMu sync.RWMutex
	formats   []Format
)

// RegisterFormat registers a container format for [Open]. Packages mp4
// and ts call it from init, so importing them (even as _) is enough:
//
//	import _ "github.com/streamkit-go/streamkit/mp4"
func RegisterFormat(f Format) {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	for i := range formats {
		if formats[i].Name == f.Name {
			formats[i] = f
			return
		}
	}
	formats = append(formats, f)
}

// Formats returns the names of the registered formats.
func Formats() []string {
	formatsMu.RLock()
	defer formatsMu.RUnlock()
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Name
	}
	return names
}

// Sniff returns the registered format whose Match accepts the first bytes
// of r, or ErrFormat.
func Sniff(r io.ReaderAt, size int64) (Format, error) {
	n := int64(SniffLen)
	if size < n {
		n = size
	}
	if n < 0 {
		n = 0
	}
	head := make([]byte, n)
	m, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return Format{}, fmt.Errorf("media: reading header: %w", err)
	}
	head = head[:m]
	formatsMu.RLock()
	defer formatsMu.RUnlock()
	for _, f := range formats {
		if f.Match(head) {
			return f, nil
		}
	}
	return Format{}, ErrFormat
}

// Open sniffs the format of r and opens it with the matching registered
// reader. It reads headers only.
func Open(r io.ReaderAt, size int64) (Demuxer, error) {
	f, err := Sniff(r, size)
	if err != nil {
		return nil, err
	}
	return f.Open(r, size)
}

// OpenStrict is Open for callers that want damaged input refused rather
// than read as far as it goes: the format's strict reader fails with the
// *PosError a Warning would have been. A format without OpenStrict is
// opened with Open and refused when it reports warnings at once.
func OpenStrict(r io.ReaderAt, size int64) (Demuxer, error) {
	f, err := Sniff(r, size)
	if err != nil {
		return nil, err
	}
	if f.OpenStrict != nil {
		return f.OpenStrict(r, size)
	}
	d, err := f.Open(r, size)
	if err != nil {
		return nil, err
	}
	if ws := WarningsOf(d); len(ws) > 0 {
		return nil, ws[0].PosError()
	}
	return d, nil
}
