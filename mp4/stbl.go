package mp4

import (
	"github.com/streamkit-go/streamkit/media"
)

// sampleTable keeps the raw entry arrays of a track's stbl boxes, slices
// of the moov buffer, and computes each sample from them on the fly.
//
// mp4ff decodes these boxes into one Go slice per table (and a []Sample
// per track on top); for a two-hour movie that is megabytes of garbage per
// open. Reading the big-endian entries in place keeps iteration at zero
// allocations per sample, and entry counts are checked against the box
// size before anything is trusted, so a hostile count cannot make us
// allocate.
type sampleTable struct {
	count uint32 // samples actually addressable (min of stsz and stsc×stco)

	fixedSize uint32 // stsz sample_size when non-zero
	sizes     []byte // stsz/stz2 entries
	sizeBits  int    // 32 (stsz) or 4, 8, 16 (stz2)
	sizeN     uint32

	stsc  []byte // 12-byte entries
	stscN int

	chunks  []byte // stco (4-byte) or co64 (8-byte) entries
	chunk64 bool
	nChunks uint32

	stts  []byte // 8-byte entries
	sttsN int
	ctts  []byte // 8-byte entries
	cttsN int

	stss    []byte // 4-byte entries
	stssN   int
	hasStss bool
}

func (st *sampleTable) sizeAt(i uint32) uint32 {
	if st.fixedSize != 0 {
		return st.fixedSize
	}
	switch st.sizeBits {
	case 32:
		return be32(st.sizes[4*i:])
	case 16:
		return uint32(be16(st.sizes[2*i:]))
	case 8:
		return uint32(st.sizes[i])
	default: // 4
		b := st.sizes[i/2]
		if i%2 == 0 {
			return uint32(b >> 4)
		}
		return uint32(b & 15)
	}
}

func (st *sampleTable) chunkOffset(c uint32) int64 {
	if st.chunk64 {
		return int64(be64(st.chunks[8*c:]))
	}
	return int64(be32(st.chunks[4*c:]))
}

// parseTableBox validates one sample-table box and stores its entries.
// where is the box path, for errors.
func (st *sampleTable) parseTableBox(h header, b []byte, where string) error {
	_, _, body, err := fullBox(b, h, where)
	if err != nil {
		return err
	}
	entries := func(hdrLen, entrySize int) ([]byte, uint32, error) {
		if len(body) < hdrLen {
			return nil, 0, posErr(h.off, where, media.ErrTruncated, "%d-byte body", len(b))
		}
		n := be32(body[hdrLen-4:])
		need := uint64(n) * uint64(entrySize)
		if need > uint64(len(body)-hdrLen) {
			return nil, 0, posErr(h.off, where, media.ErrTruncated, "entry_count %d needs %d bytes, box has %d", n, need, len(body)-hdrLen)
		}
		return body[hdrLen : hdrLen+int(need)], n, nil
	}
	switch h.typ {
	case tStsz:
		if len(body) < 8 {
			return posErr(h.off, where, media.ErrTruncated, "%d-byte body", len(b))
		}
		st.fixedSize = be32(body)
		st.sizeN = be32(body[4:])
		st.sizeBits = 32
		if st.fixedSize == 0 {
			e, n, err := entries(8, 4)
			if err != nil {
				return err
			}
			st.sizes, st.sizeN = e, n
		}
	case tStz2:
		if len(body) < 8 {
			return posErr(h.off, where, media.ErrTruncated, "%d-byte body", len(b))
		}
		st.sizeBits = int(body[3])
		n := be32(body[4:])
		var need uint64
		switch st.sizeBits {
		case 4:
			need = (uint64(n) + 1) / 2
		case 8, 16:
			need = uint64(n) * uint64(st.sizeBits/8)
		default:
			return posErr(h.off, where, media.ErrCorrupt, "field_size %d (want 4, 8 or 16)", st.sizeBits)
		}
		if need > uint64(len(body)-8) {
			return posErr(h.off, where, media.ErrTruncated, "sample_count %d needs %d bytes, box has %d", n, need, len(body)-8)
		}
		st.sizes, st.sizeN = body[8:8+need], n
	case tStsc:
		e, n, err := entries(4, 12)
		if err != nil {
			return err
		}
		prev := uint32(0)
		for i := uint32(0); i < n; i++ {
			fc := be32(e[12*i:])
			if fc == 0 || fc < prev {
				return posErr(h.off, where, media.ErrCorrupt, "entry %d: first_chunk %d after %d", i, fc, prev)
			}
			prev = fc
		}
		st.stsc, st.stscN = e, int(n)
	case tStco:
		e, n, err := entries(4, 4)
		if err != nil {
			return err
		}
		st.chunks, st.nChunks, st.chunk64 = e, n, false
	case tCo64:
		e, n, err := entries(4, 8)
		if err != nil {
			return err
		}
		st.chunks, st.nChunks, st.chunk64 = e, n, true
	case tStts:
		e, n, err := entries(4, 8)
		if err != nil {
			return err
		}
		st.stts, st.sttsN = e, int(n)
	case tCtts:
		e, n, err := entries(4, 8)
		if err != nil {
			return err
		}
		st.ctts, st.cttsN = e, int(n)
	case tStss:
		e, n, err := entries(4, 4)
		if err != nil {
			return err
		}
		st.stss, st.stssN, st.hasStss = e, int(n), true
	}
	return nil
}

// finish computes the number of addressable samples: stsz's count, cut
// down to what stsc and the chunk table can place (ffmpeg does the same
// rather than rejecting the file).
func (st *sampleTable) finish() {
	covered := uint64(0)
	for i := 0; i < st.stscN; i++ {
		first := uint64(be32(st.stsc[12*i:]))
		spc := uint64(be32(st.stsc[12*i+4:]))
		next := uint64(st.nChunks) + 1
		if i+1 < st.stscN {
			next = min(uint64(be32(st.stsc[12*(i+1):])), next)
		}
		if next > first {
			covered += (next - first) * spc
		}
		if covered >= uint64(st.sizeN) {
			break
		}
	}
	st.count = uint32(min(covered, uint64(st.sizeN)))
}

// tableCursor walks a sampleTable in decode order. It holds the sample
// it will yield next in cur.
type tableCursor struct {
	st    *sampleTable
	track int // index into Reader.tracks
	id    int

	i       uint32 // index of cur
	chunk   int64  // current chunk, 0-based; -1 before the first
	left    uint32 // samples left in the current chunk after cur
	stscI   int
	off     int64 // offset of the sample after cur
	sttsI   int
	sttsN   uint32 // samples consumed from stts entry sttsI
	dts     int64  // dts of the sample after cur
	cttsI   int
	cttsN   uint32
	stssI   int
	done    bool
	cur     media.Sample
	lastDur uint32
}

func (c *tableCursor) reset(st *sampleTable, track, id int) {
	*c = tableCursor{st: st, track: track, id: id, chunk: -1}
	c.i = ^uint32(0)
	c.advance()
}

// advance moves cur to the next sample, setting done at the end.
func (c *tableCursor) advance() {
	st := c.st
	c.i++
	if c.i >= st.count {
		c.done = true
		return
	}
	for c.left == 0 {
		c.chunk++
		if c.chunk >= int64(st.nChunks) {
			c.done = true // unreachable: count accounts for the chunks
			return
		}
		for c.stscI+1 < st.stscN && int64(be32(st.stsc[12*(c.stscI+1):]))-1 <= c.chunk {
			c.stscI++
		}
		c.left = be32(st.stsc[12*c.stscI+4:])
		c.off = st.chunkOffset(uint32(c.chunk))
	}
	c.left--
	size := st.sizeAt(c.i)
	s := &c.cur
	s.TrackID = c.id
	s.Index = int64(c.i)
	s.Offset = c.off
	s.Pos = c.off
	s.Size = size
	c.off += int64(size)

	// stts: durations. Past the table's end the last delta repeats.
	for c.sttsI < st.sttsN && c.sttsN >= be32(st.stts[8*c.sttsI:]) {
		c.sttsI++
		c.sttsN = 0
	}
	dur := c.lastDur
	if c.sttsI < st.sttsN {
		dur = be32(st.stts[8*c.sttsI+4:])
		c.sttsN++
	}
	c.lastDur = dur
	s.DTS = c.dts
	s.Duration = dur
	c.dts += int64(dur)

	// ctts: composition offsets, read as signed as ffmpeg does for both
	// versions (version 0 offsets above 2^31 do not occur in practice).
	s.PTS = s.DTS
	for c.cttsI < st.cttsN && c.cttsN >= be32(st.ctts[8*c.cttsI:]) {
		c.cttsI++
		c.cttsN = 0
	}
	if c.cttsI < st.cttsN {
		s.PTS = s.DTS + int64(int32(be32(st.ctts[8*c.cttsI+4:])))
		c.cttsN++
	}

	// stss: absent means every sample is a sync sample.
	if !st.hasStss {
		s.Sync = true
	} else {
		n := c.i + 1
		for c.stssI < st.stssN && be32(st.stss[4*c.stssI:]) < n {
			c.stssI++
		}
		s.Sync = c.stssI < st.stssN && be32(st.stss[4*c.stssI:]) == n
	}
}
