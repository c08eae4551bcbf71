package mp4

import (
	"encoding/binary"
	"fmt"

	"github.com/streamkit-go/streamkit/media"
)

// fourCC is a box or sample-entry type packed into a uint32, so that the
// per-box code on hot paths compares integers instead of allocating
// strings.
type fourCC uint32

func fcc(s string) fourCC {
	return fourCC(uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3]))
}

// String returns the four characters, escaping non-printable bytes.
func (f fourCC) String() string {
	b := [4]byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%q", string(b[:]))
		}
	}
	return string(b[:])
}

var (
	tFtyp = fcc("ftyp")
	tStyp = fcc("styp")
	tMoov = fcc("moov")
	tMoof = fcc("moof")
	tMdat = fcc("mdat")
	tSidx = fcc("sidx")
	tMvhd = fcc("mvhd")
	tTrak = fcc("trak")
	tTkhd = fcc("tkhd")
	tEdts = fcc("edts")
	tElst = fcc("elst")
	tMdia = fcc("mdia")
	tMdhd = fcc("mdhd")
	tHdlr = fcc("hdlr")
	tMinf = fcc("minf")
	tStbl = fcc("stbl")
	tStsd = fcc("stsd")
	tStts = fcc("stts")
	tCtts = fcc("ctts")
	tStsc = fcc("stsc")
	tStsz = fcc("stsz")
	tStz2 = fcc("stz2")
	tStco = fcc("stco")
	tCo64 = fcc("co64")
	tStss = fcc("stss")
	tMvex = fcc("mvex")
	tTrex = fcc("trex")
	tTraf = fcc("traf")
	tTfhd = fcc("tfhd")
	tTfdt = fcc("tfdt")
	tTrun = fcc("trun")
)

// header is a parsed box header.
type header struct {
	typ  fourCC
	off  int64 // absolute offset of the first header byte
	hlen int64 // 8, or 16 with a 64-bit largesize
	size int64 // whole box including header
}

func (h header) end() int64     { return h.off + h.size }
func (h header) bodyOff() int64 { return h.off + h.hlen }

// parseHeader decodes the box header at the start of b. off is the
// absolute position of b[0] and avail how many bytes the enclosing box (or
// the file) has left from there, which bounds the box size; b must hold at
// least min(16, avail) bytes. A size of 0 means "to the end of the
// enclosing space" (ISO/IEC 14496-12 §4.2).
//
//	 0               4               8                       16
//	+---------------+---------------+-----------------------+
//	| size (32)     | type (4cc)    | largesize (64) if size==1
//	+---------------+---------------+-----------------------+
func parseHeader(b []byte, off, avail int64, where string) (header, error) {
	if avail < 8 || len(b) < 8 {
		return header{}, posErr(off, where, media.ErrTruncated, "%d bytes left, a box header needs 8", avail)
	}
	h := header{off: off, hlen: 8, typ: fourCC(binary.BigEndian.Uint32(b[4:8]))}
	size := int64(binary.BigEndian.Uint32(b[0:4]))
	switch size {
	case 0:
		size = avail
	case 1:
		if avail < 16 || len(b) < 16 {
			return header{}, posErr(off, join(where, h.typ.String()), media.ErrTruncated, "64-bit box size cut off")
		}
		u := binary.BigEndian.Uint64(b[8:16])
		if u > 1<<62 {
			return header{}, posErr(off, join(where, h.typ.String()), media.ErrCorrupt, "box size %d", u)
		}
		size = int64(u)
		h.hlen = 16
	}
	if size < h.hlen {
		return header{}, posErr(off, join(where, h.typ.String()), media.ErrCorrupt, "box size %d smaller than its header", size)
	}
	h.size = size
	if size > avail {
		return h, posErr(off, join(where, h.typ.String()), media.ErrTruncated, "box size %d but only %d bytes left", size, avail)
	}
	return h, nil
}

// children iterates over the boxes packed in body (which starts at the
// absolute offset off), calling fn with each header, its body bytes and
// the whole box (header included).
// It stops at the first malformed header and returns its error.
func children(body []byte, off int64, where string, fn func(h header, b, full []byte) error) error {
	pos := int64(0)
	for pos < int64(len(body)) {
		rest := body[pos:]
		h, err := parseHeader(rest, off+pos, int64(len(rest)), where)
		if err != nil {
			return err
		}
		if err := fn(h, rest[h.hlen:h.size], rest[:h.size]); err != nil {
			return err
		}
		pos += h.size
	}
	return nil
}

// posErr builds the *media.PosError every parse failure is reported as.
func posErr(off int64, what string, sentinel error, format string, args ...any) error {
	return &media.PosError{Format: "mp4", Offset: off, What: what, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}

// fullBox splits the version and flags off a full box body.
func fullBox(b []byte, h header, where string) (version byte, flags uint32, rest []byte, err error) {
	if len(b) < 4 {
		return 0, 0, nil, posErr(h.off, where, media.ErrTruncated, "full box of %d bytes has no version/flags", len(b))
	}
	v := binary.BigEndian.Uint32(b)
	return byte(v >> 24), v & 0xffffff, b[4:], nil
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// join appends a box name to a box path.
func join(where, name string) string {
	if where == "" {
		return name
	}
	return where + "/" + name
}
