package mp4

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/streamkit-go/streamkit/media"
)

// ErrFragmented is returned by Faststart for fragmented files, whose moov
// already precedes the media.
var ErrFragmented = fmt.Errorf("mp4: fragmented file (moof boxes): %w", media.ErrUnsupported)

// MaxFaststartMoov is the largest moov Faststart loads into memory.
const MaxFaststartMoov = 256 << 20

// Faststart copies the progressive MP4 file src (of the given size) to dst
// with the moov box moved in front of the first mdat, as ffmpeg's
// "-movflags +faststart" and qt-faststart do, so that playback can start
// before the whole file has downloaded. Every other box is copied byte for
// byte; the chunk offsets in stco/co64 are patched (an stco whose offsets
// no longer fit in 32 bits becomes co64). Only moov is held in memory; the
// media data is streamed with io.Copy. A file that is already faststart is
// copied unchanged. It reports whether moov was moved.
func Faststart(dst io.Writer, src io.ReaderAt, size int64) (moved bool, err error) {
	type top struct {
		typ       string
		off, size int64
	}
	var boxes []top
	var hb [16]byte
	moovI, firstMdat := -1, -1
	for off := int64(0); off < size; {
		n := min(size-off, 16)
		if _, err := src.ReadAt(hb[:n], off); err != nil && err != io.EOF {
			return false, &media.PosError{Format: "mp4", Offset: off, What: "top-level box", Err: err}
		}
		h, err := parseHeader(hb[:n], off, size-off, "")
		if err != nil {
			return false, err
		}
		t := top{typ: h.typ.String(), off: off, size: h.size}
		switch t.typ {
		case "moov":
			if moovI >= 0 {
				return false, posErr(off, "moov", media.ErrCorrupt, "second moov box")
			}
			moovI = len(boxes)
		case "mdat":
			if firstMdat < 0 {
				firstMdat = len(boxes)
			}
		case "moof":
			return false, ErrFragmented
		}
		boxes = append(boxes, t)
		off += h.size
	}
	if moovI < 0 {
		return false, &media.PosError{Format: "mp4", Offset: 0, What: "file", Err: ErrNoMoov}
	}
	if firstMdat < 0 || moovI < firstMdat {
		_, err := io.Copy(dst, io.NewSectionReader(src, 0, size))
		return false, err
	}
	mv := boxes[moovI]
	if mv.size > MaxFaststartMoov {
		return false, posErr(mv.off, "moov", ErrBoxTooLarge, "%d bytes", mv.size)
	}
	moov := make([]byte, mv.size)
	if _, err := src.ReadAt(moov, mv.off); err != nil && err != io.EOF {
		return false, &media.PosError{Format: "mp4", Offset: mv.off, What: "moov", Err: err}
	}
	// New order: boxes before the first mdat (except moov), moov, the rest.
	order := make([]int, 0, len(boxes))
	for i := range firstMdat {
		if i != moovI {
			order = append(order, i)
		}
	}
	order = append(order, moovI)
	for i := firstMdat; i < len(boxes); i++ {
		if i != moovI {
			order = append(order, i)
		}
	}
	// Patch until the moov size is stable (stco -> co64 grows it once).
	newMoov := moov
	for range 3 {
		newPos := make([]int64, len(boxes))
		pos := int64(0)
		for _, i := range order {
			newPos[i] = pos
			if i == moovI {
				pos += int64(len(newMoov))
			} else {
				pos += boxes[i].size
			}
		}
		remap := func(off int64) (int64, error) {
			for i, b := range boxes {
				if i != moovI && off >= b.off && off < b.off+b.size {
					return off - b.off + newPos[i], nil
				}
			}
			if off == size { // an empty chunk at the very end
				return pos, nil
			}
			return 0, posErr(mv.off, "moov", media.ErrCorrupt, "chunk offset %d outside every box", off)
		}
		if len(newMoov) == len(moov) {
			// Common case: every offset still fits its table; patch the
			// moov we read in place instead of copying it per level.
			fits, err := walkChunkOffsets(moov, mv.off, remap, false)
			if err != nil {
				return false, err
			}
			if fits {
				if _, err := walkChunkOffsets(moov, mv.off, remap, true); err != nil {
					return false, err
				}
				newMoov = moov
				break
			}
		}
		patched, err := patchChunkOffsets(moov, mv.off, remap)
		if err != nil {
			return false, err
		}
		if len(patched) == len(newMoov) {
			newMoov = patched
			break
		}
		newMoov = patched
	}
	var buf []byte
	for _, i := range order {
		if i == moovI {
			if _, err := dst.Write(newMoov); err != nil {
				return false, err
			}
			continue
		}
		b := boxes[i]
		if err := copyRange(dst, src, b.off, b.size, &buf); err != nil {
			return false, err
		}
	}
	return true, nil
}

// copyRange copies n bytes of src from off to dst. Between two files it
// lets the kernel copy (copy_file_range via os.File.ReadFrom); otherwise
// it copies through a 1 MiB buffer.
func copyRange(dst io.Writer, src io.ReaderAt, off, n int64, buf *[]byte) error {
	if sf, ok := src.(*os.File); ok {
		if _, ok := dst.(*os.File); ok {
			if _, err := sf.Seek(off, io.SeekStart); err == nil {
				m, err := io.Copy(dst, io.LimitReader(sf, n))
				if err == nil && m != n {
					err = posErr(off+m, "mdat", media.ErrTruncated, "file ended %d bytes early", n-m)
				}
				return err
			}
		}
	}
	if want := int(min(n, 1<<20)); len(*buf) < want {
		*buf = make([]byte, want)
	}
	m, err := io.CopyBuffer(dst, io.NewSectionReader(src, off, n), *buf)
	if err == nil && m != n {
		err = posErr(off+m, "mdat", media.ErrTruncated, "file ended %d bytes early", n-m)
	}
	return err
}

// walkChunkOffsets visits every stco/co64 of moov and remaps its entries:
// with write false it only reports whether all new values fit their
// table (stco: 32 bits); with write true it stores them in place.
func walkChunkOffsets(moov []byte, off int64, remap func(int64) (int64, error), write bool) (bool, error) {
	fits := true
	var walk func(b []byte, off int64, where string) error
	walk = func(b []byte, off int64, where string) error {
		return children(b, off, where, func(h header, body, _ []byte) error {
			name := join(where, h.typ.String())
			switch h.typ {
			case tMoov, tTrak, tMdia, tMinf, tStbl:
				return walk(body, h.bodyOff(), name)
			case tStco, tCo64:
				if len(body) < 8 {
					return posErr(h.off, name, media.ErrTruncated, "no entry_count")
				}
				n := int64(be32(body[4:]))
				esz := int64(4)
				if h.typ == tCo64 {
					esz = 8
				}
				if n*esz > int64(len(body))-8 {
					return posErr(h.off, name, media.ErrTruncated, "%d entries do not fit in %d bytes", n, len(body))
				}
				for i := int64(0); i < n; i++ {
					e := body[8+esz*i:]
					var v int64
					if esz == 4 {
						v = int64(be32(e))
					} else {
						v = int64(be64(e))
					}
					nv, err := remap(v)
					if err != nil {
						return err
					}
					if esz == 4 && nv > math.MaxUint32 {
						fits = false
					}
					if write {
						if esz == 4 {
							binary.BigEndian.PutUint32(e, uint32(nv))
						} else {
							binary.BigEndian.PutUint64(e, uint64(nv))
						}
					}
				}
			}
			return nil
		})
	}
	h, err := parseHeader(moov, off, int64(len(moov)), "")
	if err != nil {
		return false, err
	}
	if err := walk(moov[h.hlen:h.size], h.bodyOff(), "moov"); err != nil {
		return false, err
	}
	return fits, nil
}

// patchChunkOffsets rewrites every stco/co64 in moov through remap,
// converting stco to co64 when a new offset needs 64 bits. It returns a
// new moov with the container sizes adjusted.
func patchChunkOffsets(moov []byte, off int64, remap func(int64) (int64, error)) ([]byte, error) {
	var rewrite func(b []byte, off int64, where string) ([]byte, error)
	rewrite = func(b []byte, off int64, where string) ([]byte, error) {
		h, err := parseHeader(b, off, int64(len(b)), where)
		if err != nil {
			return nil, err
		}
		name := join(where, h.typ.String())
		body := b[h.hlen:h.size]
		switch h.typ {
		case tMoov, tTrak, tMdia, tMinf, tStbl, tEdts, fcc("udta"):
			out := make([]byte, 8, len(b)+64)
			copy(out[4:8], b[4:8])
			err := children(body, h.bodyOff(), name, func(ch header, _, full []byte) error {
				nb, err := rewrite(full, ch.off, name)
				if err != nil {
					return err
				}
				out = append(out, nb...)
				return nil
			})
			if err != nil {
				return nil, err
			}
			if len(out) > math.MaxUint32 {
				return nil, posErr(off, name, media.ErrUnsupported, "box too large")
			}
			binary.BigEndian.PutUint32(out, uint32(len(out)))
			return out, nil
		case tStco, tCo64:
			if len(body) < 8 {
				return nil, posErr(off, name, media.ErrTruncated, "no entry_count")
			}
			n := int64(be32(body[4:]))
			esz := int64(4)
			if h.typ == tCo64 {
				esz = 8
			}
			if n*esz > int64(len(body))-8 {
				return nil, posErr(off, name, media.ErrTruncated, "%d entries do not fit in %d bytes", n, len(body))
			}
			vals := make([]int64, n)
			big := false
			for i := range vals {
				var v int64
				if esz == 4 {
					v = int64(be32(body[8+4*i:]))
				} else {
					v = int64(be64(body[8+8*i:]))
				}
				nv, err := remap(v)
				if err != nil {
					return nil, err
				}
				vals[i] = nv
				if nv > math.MaxUint32 {
					big = true
				}
			}
			var w box
			if big || h.typ == tCo64 {
				i := w.openFull("co64", 0, 0)
				w.u32(uint32(n))
				for _, v := range vals {
					w.u64(uint64(v))
				}
				w.close(i)
			} else {
				i := w.openFull("stco", 0, 0)
				w.u32(uint32(n))
				for _, v := range vals {
					w.u32(uint32(v))
				}
				w.close(i)
			}
			return w.b, nil
		}
		return b[:h.size], nil
	}
	return rewrite(moov, off, "")
}
