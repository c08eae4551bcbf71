package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/streamkit-go/streamkit/media"
)

// A moov that the end of the file cuts (a recording stopped before its
// moov was written out, a moov-at-end file copied in part) is read the way
// libavformat's mov demuxer (FFmpeg 5/6) reads it, so that probe lists the
// streams ffprobe lists and refuses the files ffprobe refuses:
//
//   - mov_read_default clamps every box to the bytes its parent has left
//     (a.size = FFMIN(a.size, atom.size - total_size)) and stops at a
//     child header that does not fit: so the boxes before the cut are read
//     whole, and the box the cut falls in is read with what is there, its
//     missing bytes reading as zeros (avio at EOF).
//   - A trak the cut falls in becomes a stream as soon as its header is
//     read (avformat_new_stream comes first in mov_read_trak), of type
//     data until hdlr's handler_type is there.
//   - Each box parser then decides: stsd and stts fail at EOF ("reached
//     eof, corrupted ... atom") and dref on a missing or short entry, and
//     the file is refused; stss, ctts, stco and co64 fail too unless the
//     entry count they read is 0 (they return early); stsc fails when
//     entry_count*12+4 exceeds the bytes left; stsz keeps a constant
//     sample_size with its count and loses a cut size table. Other boxes
//     (tkhd, mdhd, elst, sgpd, ...) end without effect.
//   - mov_read_trak's sanity checks on what was read: chunks without
//     stts, stsc or sample sizes, or sample sizes without chunks, keep
//     the stream without samples ("missing mandatory atoms, broken
//     header"); stsc entries naming chunks the (missing) stco does not
//     have refuse the file ("contradictionary STSC and STCO").
//
// Checked with ffprobe 5.1 on every box boundary and inside every box of
// the moov of h264_faststart.mp4, and on the damaged-input conformance
// test's cuts of every fixture and shared file (remux/damage_test.go).

// cutMoov is what repairCutMoov found.
type cutMoov struct {
	inTrak bool   // the cut falls inside a trak (after its header)
	trak   int    // that trak's index among the moov's traks
	where  string // path of the innermost box the cut falls in
	off    int64  // its offset
	note   string // what libavformat does with it
}

// cutContainers are the boxes whose children libavformat reads with
// mov_read_default, down to the sample tables.
var cutContainers = map[fourCC]bool{
	tMoov: true, tTrak: true, tMdia: true, tMinf: true, tStbl: true, tEdts: true, fcc("dinf"): true,
}

// repairCutMoov returns the moov box b, cut by the end of the file, as a
// well-formed box holding what libavformat reads of it: the complete
// boxes, and of the box the cut falls in what its parser keeps (see
// above). Offsets of kept boxes are unchanged. An error means libavformat
// refuses the file.
func repairCutMoov(b []byte, h header) ([]byte, *cutMoov, error) {
	c := &cutMoov{trak: -1, where: "moov", off: h.off}
	out, err := c.container(b, h, "moov", 0)
	return out, c, err
}

// maxCutDepth bounds the nesting followed into the box the cut falls in
// (moov/trak/mdia/minf/stbl is 5 deep): a hostile file nesting
// containers cannot make the recursion deep.
const maxCutDepth = 8

func (c *cutMoov) container(b []byte, h header, where string, depth int) ([]byte, error) {
	out := make([]byte, 0, len(b))
	out = append(out, b[:h.hlen]...)
	body := b[h.hlen:]
	nTrak := 0
	for pos := 0; pos+8 <= len(body); {
		rest := body[pos:]
		ch, err := parseHeader(rest, h.bodyOff()+int64(pos), int64(len(rest)), where)
		if err == nil {
			out = append(out, rest[:ch.size]...)
			pos += int(ch.size)
			if ch.typ == tTrak {
				nTrak++
			}
			continue
		}
		if !errors.Is(err, media.ErrTruncated) || ch.size == 0 {
			// A 64-bit size cut off: mov_read_default stops there.
			break
		}
		w := join(where, ch.typ.String())
		if ch.typ == tTrak {
			w = fmt.Sprintf("%s/trak[%d]", where, nTrak)
			c.inTrak, c.trak = true, nTrak
		}
		c.where, c.off = w, ch.off
		var sub []byte
		if cutContainers[ch.typ] && depth < maxCutDepth {
			sub, err = c.container(rest, ch, w, depth+1)
		} else {
			sub, err = c.leaf(rest[ch.hlen:], ch, w)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
		break
	}
	setSize(out, h.hlen)
	return out, nil
}

// setSize writes len(b) into the box header at the start of b.
func setSize(b []byte, hlen int64) {
	if hlen == 16 {
		binary.BigEndian.PutUint64(b[8:], uint64(len(b)))
		return
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)))
}

// leaf handles the box the cut falls in; body holds its bytes present.
// It returns the box to keep (nil: none) or the error libavformat fails
// with.
func (c *cutMoov) leaf(body []byte, h header, where string) ([]byte, error) {
	// u32 reads a field of the body as avio does at EOF: missing bytes
	// are zeros.
	u32 := func(i int) uint32 {
		var v [4]byte
		if i < len(body) {
			copy(v[:], body[i:])
		}
		return binary.BigEndian.Uint32(v[:])
	}
	box := func(n int) []byte { // a box of n body bytes, zero-padded
		b := make([]byte, 8+n)
		copy(b[8:], body[:min(n, len(body))])
		copy(b[4:8], h.typ.String())
		binary.BigEndian.PutUint32(b, uint32(len(b)))
		return b
	}
	refuse := func(why string) error {
		return posErr(h.off, where, media.ErrTruncated,
			"the file ends %d bytes into this %d-byte box, inside its %s; ffmpeg refuses such a file too", len(body), h.size-h.hlen, why)
	}
	switch h.typ {
	case tHdlr:
		// handler_type (body[8:12]) makes the stream video, audio, ...
		c.note = "handler kept"
		return box(min(len(body), 24)), nil
	case tStsd:
		return nil, refuse("sample descriptions")
	case tStts, tStz2:
		return nil, refuse("entries")
	case fcc("dref"):
		if u32(4) == 0 || u32(8) < 12 {
			return nil, refuse("data reference")
		}
	case tStss, tCtts, tStco, tCo64:
		if u32(4) != 0 {
			return nil, refuse("entries")
		}
		c.note = "read as empty"
	case tStsc:
		n := u32(4)
		if uint64(n)*12+4 > uint64(len(body)) {
			return nil, refuse("entries")
		}
		if n > 0 {
			c.note = "entries kept"
			return box(8 + 12*int(n)), nil
		}
		c.note = "read as empty"
	case tStsz:
		if u32(4) != 0 {
			c.note = "constant sample size kept"
			return box(12), nil
		}
		c.note = "size table lost"
	}
	return nil, nil
}

// checkCutTrak applies mov_read_trak's sanity checks to track i, the one
// the cut fell in: see the comment at the top of this file.
func (m *Reader) checkCutTrak(i int, c *cutMoov) error {
	t, st := m.tracks[i], &m.tk[i].st
	if t.Kind == media.KindUnknown {
		t.Kind = media.KindData // libavformat's type for a stream without hdlr
	}
	if t.Codec == media.CodecUnknown && t.CodecString == "" {
		// No sample description: libavformat takes the size from stsd
		// only, not from tkhd.
		t.Width, t.Height = 0, 0
	}
	samples := st.sizeN
	chunks := st.nChunks
	switch {
	case (chunks > 0 && (st.sttsN == 0 || st.stscN == 0 || (st.fixedSize == 0 && samples == 0))) || (chunks == 0 && samples > 0):
		*st = sampleTable{}
		m.warn(posErr(c.off, c.where, media.ErrTruncated, "the moov ends here: track %d is kept without samples, as ffmpeg keeps it (missing sample tables)", t.ID))
	case st.stscN > 0 && be32(st.stsc[12*(st.stscN-1):]) > chunks:
		return posErr(c.off, c.where, media.ErrTruncated, "the moov ends here: track %d's stsc names chunks its chunk table does not have; ffmpeg refuses such a file too", t.ID)
	default:
		m.warn(posErr(c.off, c.where, media.ErrTruncated, "the moov ends here: track %d is kept with what its sample tables hold (%d samples)", t.ID, st.count))
	}
	return nil
}

// cutInTrun reports whether libavformat refuses a file whose moof h the
// end of the file cuts, and the offset of the box it fails in. It reads
// every moof while opening a seekable file whose fragment index is not
// complete: mov_read_trun fails at EOF ("reached eof, corrupted TRUN
// atom") unless the sample_count it reads is 0, and mov_read_tfhd on a
// track_ID of 0 (its missing bytes read as zeros). A moof cut elsewhere
// (tfdt, a box after the trun) is read without error, its samples missing
// with the mdat. Checked with ffprobe 5.1 inside every box of the second
// moof of h264_frag.mp4 (TestCutMoofLikeFFprobe).
func (m *Reader) cutInTrun(h header) (int64, bool) {
	b := make([]byte, m.size-h.off)
	if _, err := m.r.ReadAt(b, h.off); err != nil && err != io.EOF {
		return 0, false
	}
	if int64(len(b)) < h.hlen {
		return 0, false
	}
	var find func(body []byte, off int64, depth int) (int64, bool)
	find = func(body []byte, off int64, depth int) (int64, bool) {
		for pos := 0; pos+8 <= len(body); {
			rest := body[pos:]
			ch, err := parseHeader(rest, off+int64(pos), int64(len(rest)), "moof")
			if err == nil {
				pos += int(ch.size)
				continue
			}
			if !errors.Is(err, media.ErrTruncated) || ch.size == 0 {
				return 0, false
			}
			// A field read as avio reads it at EOF: missing bytes are
			// zeros.
			u32 := func(i int) uint32 {
				var v [4]byte
				if b := rest[ch.hlen:]; i < len(b) {
					copy(v[:], b[i:])
				}
				return binary.BigEndian.Uint32(v[:])
			}
			switch {
			case ch.typ == fcc("trun"):
				// sample_count 0: mov_read_trun returns before reading.
				return ch.off, u32(4) != 0
			case ch.typ == fcc("tfhd"):
				// track_ID 0: "could not find corresponding track id".
				return ch.off, u32(4) == 0
			case ch.typ == fcc("traf") && depth == 0:
				return find(rest[ch.hlen:], ch.bodyOff(), 1)
			}
			return 0, false
		}
		return 0, false
	}
	return find(b[h.hlen:], h.bodyOff(), 0)
}
