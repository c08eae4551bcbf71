package media

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Damaged input
//
// Readers read what is there, as ffprobe and ffmpeg do: a file cut in the
// middle of its last packet or box, or with corrupt bytes in the middle,
// still gives every sample that can be found. What was skipped or cut is
// reported as a [Warning] (the file position, what was being read, and an
// error wrapping [ErrTruncated] or [ErrCorrupt]) instead of failing the
// read. A reader that does this implements [Warner]; [OpenStrict] opens
// an input so that damage is the error it was before (the CLI's --strict).
//
// The warnings are kept in a [WarningLog], the one place every reader puts
// them: it is safe for concurrent use, drops repeats (a second Samples
// pass finds the same damage) and keeps at most MaxWarnings, counting the
// rest, so a hostile file with a million damaged packets cannot grow it.

// Warning is damage a reader tolerated: where it is and what was lost.
// Its fields are those of [PosError]; Err wraps [ErrTruncated] (the input
// ends inside a packet or box) or [ErrCorrupt] (bytes were skipped to the
// next sync point).
type Warning struct {
	Format string // "mp4", "mpegts"
	Offset int64  // byte offset in the input
	What   string // box path or "packet 150 (PID 0x100)", as in PosError
	Err    error
}

// WarningAt builds a Warning the way readers build a PosError:
// format, offset, what, then the sentinel and an explanation.
func WarningAt(format string, off int64, what string, sentinel error, msg string, args ...any) Warning {
	err := sentinel
	if msg != "" {
		err = fmt.Errorf("%w: "+msg, append([]any{sentinel}, args...)...)
	}
	return Warning{Format: format, Offset: off, What: what, Err: err}
}

// Error formats the warning as the PosError it would be in strict mode.
func (w Warning) Error() string { return w.PosError().Error() }

// String is Error.
func (w Warning) String() string { return w.Error() }

// Unwrap returns Err, so errors.Is(w, ErrTruncated) works.
func (w Warning) Unwrap() error { return w.Err }

// PosError returns the warning as the positioned error strict reading
// fails with.
func (w Warning) PosError() *PosError {
	return &PosError{Format: w.Format, Offset: w.Offset, What: w.What, Err: w.Err}
}

// Truncated reports whether the warning is about input that ends early.
func (w Warning) Truncated() bool { return errors.Is(w.Err, ErrTruncated) }

// MarshalJSON writes the warning as the CLI's JSON outputs list it under
// "streamkit_warnings" (a key ffprobe does not use): the byte offset,
// what was being read, the message, and whether the input ended early.
//
//	{"offset": 28200, "what": "packet 150", "message": "media: truncated input: …", "truncated": true}
func (w Warning) MarshalJSON() ([]byte, error) {
	msg := ""
	if w.Err != nil {
		msg = w.Err.Error()
	}
	return json.Marshal(struct {
		Offset    int64  `json:"offset"`
		What      string `json:"what"`
		Message   string `json:"message"`
		Truncated bool   `json:"truncated"`
	}{w.Offset, w.What, msg, w.Truncated()})
}

// Warner is implemented by readers that tolerate damage. Warnings returns
// what was tolerated so far: while opening, then while iterating samples.
type Warner interface {
	Warnings() []Warning
}

// WarningsOf returns d's warnings, nil when d does not report any.
func WarningsOf(d any) []Warning {
	if w, ok := d.(Warner); ok {
		return w.Warnings()
	}
	return nil
}

// MaxWarnings is how many distinct warnings a WarningLog keeps.
const MaxWarnings = 100

// WarningLog collects a reader's warnings. The zero value is ready to use
// and safe for concurrent use.
type WarningLog struct {
	mu      sync.Mutex
	list    []Warning
	seen    map[warnKey]bool
	dropped int64
}

type warnKey struct {
	off  int64
	what string
	msg  string
}

// Add records w unless the same warning (offset, what and message) is
// already there. Past MaxWarnings it only counts.
func (l *WarningLog) Add(w Warning) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) >= MaxWarnings {
		l.dropped++
		return
	}
	msg := ""
	if w.Err != nil {
		msg = w.Err.Error()
	}
	k := warnKey{w.Offset, w.What, msg}
	if l.seen[k] {
		return
	}
	if l.seen == nil {
		l.seen = map[warnKey]bool{}
	}
	l.seen[k] = true
	l.list = append(l.list, w)
}

// Len returns how many warnings the log holds (not counting dropped ones).
func (l *WarningLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.list)
}

// Warnings returns a copy of the warnings in the order they were added.
// When more than MaxWarnings were added, a last warning says how many
// were left out.
func (l *WarningLog) Warnings() []Warning {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) == 0 {
		return nil
	}
	out := append([]Warning(nil), l.list...)
	if l.dropped > 0 {
		last := l.list[len(l.list)-1]
		out = append(out, Warning{Format: last.Format, Offset: last.Offset, What: "warnings",
			Err: fmt.Errorf("%w: %d more warnings not listed", ErrCorrupt, l.dropped)})
	}
	return out
}
