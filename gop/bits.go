package gop

import (
	"fmt"

	"github.com/streamkit-go/streamkit/media"
)

// errBits is returned when a header runs past the end of its NAL unit.
var errBits = fmt.Errorf("header runs past the end of the unit: %w", media.ErrTruncated)

// errGolomb is returned for an Exp-Golomb code longer than 32 bits, which
// no valid H.264/HEVC header contains.
var errGolomb = fmt.Errorf("exp-Golomb code too long: %w", media.ErrCorrupt)

// rbspReader reads bits from the payload of a NAL unit (the bytes after the
// NAL unit header), dropping emulation-prevention bytes (00 00 03) on the
// fly so that headers can be parsed without copying the unit.
//
// It never panics: reading past the end sets err and returns zeros.
type rbspReader struct {
	buf   []byte
	pos   int    // next byte of buf
	zeros int    // consecutive 0x00 bytes just consumed
	cur   uint64 // bit cache, MSB first
	n     int    // valid bits in cur
	err   error
	raw   bool // no emulation prevention (AV1, MPEG-2)
}

func newRBSP(b []byte) rbspReader { return rbspReader{buf: b} }

func newRaw(b []byte) rbspReader { return rbspReader{buf: b, raw: true} }

// fill tops the cache up to at least 57 bits when input remains.
func (r *rbspReader) fill() {
	for r.n <= 56 && r.pos < len(r.buf) {
		b := r.buf[r.pos]
		r.pos++
		if !r.raw {
			if r.zeros >= 2 && b == 3 {
				r.zeros = 0
				continue
			}
			if b == 0 {
				r.zeros++
			} else {
				r.zeros = 0
			}
		}
		r.cur |= uint64(b) << (56 - r.n)
		r.n += 8
	}
}

// u reads an n-bit unsigned value, 0 <= n <= 32.
func (r *rbspReader) u(n int) uint32 {
	if n == 0 {
		return 0
	}
	if r.n < n {
		r.fill()
		if r.n < n {
			if r.err == nil {
				r.err = errBits
			}
			r.n = 0
			r.cur = 0
			return 0
		}
	}
	v := uint32(r.cur >> (64 - n))
	r.cur <<= n
	r.n -= n
	return v
}

func (r *rbspReader) flag() bool { return r.u(1) == 1 }

// ue reads an unsigned Exp-Golomb code (ue(v)).
func (r *rbspReader) ue() uint32 {
	lz := 0
	for r.u(1) == 0 {
		if r.err != nil {
			return 0
		}
		lz++
		if lz > 31 {
			if r.err == nil {
				r.err = errGolomb
			}
			return 0
		}
	}
	if lz == 0 {
		return 0
	}
	return (1<<lz - 1) + r.u(lz)
}

// se reads a signed Exp-Golomb code (se(v)).
func (r *rbspReader) se() int32 {
	k := r.ue()
	if k&1 == 1 {
		return int32((k + 1) / 2)
	}
	return -int32(k / 2)
}

// unescape appends the RBSP of an escaped NAL payload to dst (removing
// emulation-prevention bytes) and returns it.
func unescape(dst, src []byte) []byte {
	zeros := 0
	for _, b := range src {
		if zeros >= 2 && b == 3 {
			zeros = 0
			continue
		}
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
		dst = append(dst, b)
	}
	return dst
}
