package mp4

import (
	"fmt"
	"io"
	"sort"
)

// Segment is one file of a segmented presentation: a CMAF/DASH/HLS init
// segment or media segment.
type Segment struct {
	R    io.ReaderAt
	Size int64
}

// NewSegmentReader reads media segments (styp? sidx? moof mdat ...)
// with the init segment (ftyp moov) that describes them, as a player
// does: the segments are read as if appended to init, in the order
// given. Sample offsets are positions in that concatenation; Locate maps
// them back to a segment.
//
// An init segment followed by its media segments in one file needs no
// special treatment: NewReader reads it.
//
// opts are NewReader's: WithStrict(true) refuses damage in any of the
// segments (a cut last fragment, samples past the end) instead of reading
// what is there with a warning. The segments are a slice, not a variadic,
// so that options can follow them.
func NewSegmentReader(init Segment, segments []Segment, opts ...Option) (*Reader, error) {
	parts := append([]Segment{init}, segments...)
	c := &concatReader{parts: parts, starts: make([]int64, len(parts))}
	var off int64
	for i, p := range parts {
		if p.Size < 0 {
			return nil, fmt.Errorf("mp4: segment %d: negative size %d", i, p.Size)
		}
		c.starts[i] = off
		off += p.Size
	}
	c.size = off
	r, err := NewReader(c, c.size, opts...)
	if err != nil {
		return nil, err
	}
	r.concat = c
	return r, nil
}

// Locate maps a byte offset of a Reader made by NewSegmentReader to the
// segment holding it (0 is the init segment, 1 the first media segment)
// and the offset within it. For other Readers it returns 0 and off.
func (m *Reader) Locate(off int64) (segment int, local int64) {
	if m.concat == nil {
		return 0, off
	}
	i := m.concat.find(off)
	return i, off - m.concat.starts[i]
}

// concatReader is an io.ReaderAt over several ReaderAts laid end to end.
type concatReader struct {
	parts  []Segment
	starts []int64
	size   int64
}

func (c *concatReader) find(off int64) int {
	i := sort.Search(len(c.starts), func(i int) bool { return c.starts[i] > off }) - 1
	return max(i, 0)
}

func (c *concatReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("mp4: negative offset %d", off)
	}
	n := 0
	for len(p) > 0 {
		if off >= c.size {
			return n, io.EOF
		}
		i := c.find(off)
		local := off - c.starts[i]
		want := min(int64(len(p)), c.parts[i].Size-local)
		if want <= 0 {
			// Empty segment: move on.
			off = c.starts[i] + c.parts[i].Size
			if i+1 < len(c.starts) {
				off = c.starts[i+1]
			}
			continue
		}
		k, err := c.parts[i].R.ReadAt(p[:want], local)
		n += k
		if err != nil && !(err == io.EOF && int64(k) == want) {
			return n, err
		}
		p, off = p[k:], off+int64(k)
	}
	return n, nil
}
