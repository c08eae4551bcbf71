package gop

import (
	"bytes"
	"fmt"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// NALError locates a bad NAL unit inside an access unit.
type NALError struct {
	Offset int // byte offset of the unit (or its length prefix) in the access unit
	Err    error
}

func (e *NALError) Error() string { return fmt.Sprintf("NAL unit at byte %d: %v", e.Offset, e.Err) }

func (e *NALError) Unwrap() error { return e.Err }

// SplitNALUnits calls fn for every NAL unit of an H.264 or HEVC access
// unit, in order, with the unit's bytes (header included, start code or
// length prefix excluded) and its byte offset in au.
//
// lengthSize is the size of the big-endian length prefix in front of each
// unit (1, 2 or 4, as in avcC/hvcC); 0 means Annex B byte-stream format
// with 00 00 01 / 00 00 00 01 start codes. A length prefix pointing past
// the end of au is an error wrapping media.ErrTruncated; fn's error stops
// the walk and is returned. SplitNALUnits does not allocate.
//
//	length-prefixed (lengthSize 4):  | len (4) | NAL unit ... | len (4) | NAL unit ... |
//	Annex B:                         | 00 00 00 01 | NAL unit ... | 00 00 01 | NAL unit ... |
func SplitNALUnits(au []byte, lengthSize int, fn func(nal []byte, offset int) error) error {
	if lengthSize == 0 {
		return splitAnnexB(au, fn)
	}
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		return fmt.Errorf("NAL length size %d: %w", lengthSize, media.ErrUnsupported)
	}
	pos := 0
	for pos < len(au) {
		if len(au)-pos < lengthSize {
			return &NALError{Offset: pos, Err: fmt.Errorf("%d-byte length prefix cut short (%d bytes left): %w", lengthSize, len(au)-pos, media.ErrTruncated)}
		}
		var n uint64
		for i := 0; i < lengthSize; i++ {
			n = n<<8 | uint64(au[pos+i])
		}
		start := pos + lengthSize
		if n > uint64(len(au)-start) {
			return &NALError{Offset: pos, Err: fmt.Errorf("length %d exceeds the %d bytes left: %w", n, len(au)-start, media.ErrTruncated)}
		}
		end := start + int(n)
		if n > 0 {
			if err := fn(au[start:end], start); err != nil {
				return err
			}
		}
		pos = end
	}
	return nil
}

func splitAnnexB(au []byte, fn func([]byte, int) error) error {
	found := false
	for off, nal := range bitstream.AnnexB(au) {
		found = true
		if err := fn(nal, off); err != nil {
			return err
		}
	}
	if !found && bitstream.NextStartCode(au, 0) < 0 && len(bytes.Trim(au, "\x00")) > 0 {
		return &NALError{Offset: 0, Err: fmt.Errorf("no Annex B start code in %d bytes: %w", len(au), media.ErrCorrupt)}
	}
	return nil
}
