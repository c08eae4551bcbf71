package mp4

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// This file converts payloads from MPEG-TS conventions to MP4 ones:
// Annex B to length-prefixed NAL units, ADTS headers stripped, and the
// AC-3/E-AC-3 record read from the first syncframe.

// converter turns an input payload into the MP4 sample bytes.
type converter interface {
	convert(dst, src []byte) ([]byte, error)
}

// annexBConv converts an Annex B access unit to 4-byte length-prefixed NAL
// units, dropping access unit delimiters and the parameter sets that are
// identical to those of the sample entry (an MPEG-TS writer repeats them
// before every key frame; in MP4 they live in avcC/hvcC).
type annexBConv struct {
	codec media.Codec
	ps    [][]byte
}

func (c *annexBConv) convert(dst, src []byte) ([]byte, error) {
	dst = dst[:0]
	n := 0
	for _, nal := range bitstream.AnnexB(src) {
		if c.drop(nal) {
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(nal)))
		dst = append(dst, nal...)
		n++
	}
	if n == 0 && len(src) > 0 {
		return nil, fmt.Errorf("%w: access unit of %d bytes holds no NAL unit (not Annex B?)", media.ErrCorrupt, len(src))
	}
	return dst, nil
}

func (c *annexBConv) drop(nal []byte) bool {
	aud, ps := bitstream.NALRole(c.codec == media.CodecHEVC, nal)
	if aud {
		return true
	}
	if ps {
		for _, p := range c.ps {
			if bytes.Equal(p, nal) {
				return true
			}
		}
	}
	return false
}

// adtsConv strips the ADTS header (7 bytes, 9 with CRC) that MPEG-TS puts
// in front of every AAC frame. Payloads without an ADTS header pass
// through.
type adtsConv struct{}

func (adtsConv) convert(dst, src []byte) ([]byte, error) {
	if n := bitstream.ADTSHeaderLen(src); n > 0 {
		return append(dst[:0], src[n:]...), nil
	}
	return append(dst[:0], src...), nil
}

// ac3Conv passes AC-3/E-AC-3 syncframes through; on the first one it
// builds the dac3/dec3 record and the sample entry (MPEG-TS has neither).
type ac3Conv struct {
	ot          *outTrack
	tag, cfgBox string
}

func (c *ac3Conv) convert(dst, src []byte) ([]byte, error) {
	if c.ot.entry == nil {
		rec, err := ac3Record(src, c.tag == "ec-3")
		if err != nil {
			return nil, err
		}
		var cb, w box
		cb.raw(c.cfgBox, rec)
		audioEntry(&w, c.tag, c.ot.t, cb.b)
		c.ot.entry = w.b
	}
	return append(dst[:0], src...), nil
}

// ac3Record builds a dac3 or dec3 body (ETSI TS 102 366 annex F) from the
// first syncframe of a stream.
func ac3Record(f []byte, eac3 bool) ([]byte, error) {
	if len(f) < 8 || f[0] != 0x0b || f[1] != 0x77 {
		return nil, fmt.Errorf("%w: AC-3 frame without syncword", media.ErrCorrupt)
	}
	br := bitReader{b: f[2:]}
	if !eac3 {
		// syncinfo: crc1(16) fscod(2) frmsizecod(6); bsi: bsid(5) bsmod(3) acmod(3) ...
		br.skip(16)
		fscod := br.read(2)
		frmsizecod := br.read(6)
		bsid := br.read(5)
		bsmod := br.read(3)
		acmod := br.read(3)
		if acmod&1 != 0 && acmod != 1 {
			br.skip(2) // cmixlev
		}
		if acmod&4 != 0 {
			br.skip(2) // surmixlev
		}
		if acmod == 2 {
			br.skip(2) // dsurmod
		}
		lfe := br.read(1)
		if br.err {
			return nil, fmt.Errorf("%w: AC-3 frame header truncated", media.ErrTruncated)
		}
		v := fscod<<22 | bsid<<17 | bsmod<<14 | acmod<<11 | lfe<<10 | (frmsizecod>>1)<<5
		return []byte{byte(v >> 16), byte(v >> 8), byte(v)}, nil
	}
	// E-AC-3 bsi: strmtyp(2) substreamid(3) frmsiz(11) fscod(2)
	// [fscod2(2)|numblkscod(2)] acmod(3) lfeon(1) bsid(5) ...
	br.skip(2 + 3)
	frmsiz := br.read(11)
	fscod := br.read(2)
	numblks := uint32(6)
	if fscod == 3 {
		br.skip(2)
	} else {
		numblks = [4]uint32{1, 2, 3, 6}[br.read(2)]
	}
	acmod := br.read(3)
	lfe := br.read(1)
	bsid := br.read(5)
	if br.err {
		return nil, fmt.Errorf("%w: E-AC-3 frame header truncated", media.ErrTruncated)
	}
	rate := [4]uint32{48000, 44100, 32000, 24000}[fscod]
	// data_rate in kbit/s: frame bytes * 8 * frames per second.
	frameBytes := (frmsiz + 1) * 2
	dataRate := frameBytes * 8 * rate / (numblks * 256) / 1000
	var w box
	v := dataRate << 3 // data_rate(13), num_ind_sub(3) = 0: one independent substream
	w.u16(uint16(v))
	fs := fscod
	if fs == 3 {
		fs = 0
	}
	// fscod(2) bsid(5) reserved(1) asvc(1) bsmod(3) acmod(3) lfeon(1) reserved(3) num_dep_sub(4) reserved(1)
	x := fs<<22 | bsid<<17 | acmod<<9 | lfe<<8
	w.u8(byte(x >> 16))
	w.u8(byte(x >> 8))
	w.u8(byte(x))
	return w.b, nil
}

type bitReader struct {
	b   []byte
	pos int
	err bool
}

func (r *bitReader) read(n int) uint32 {
	var v uint32
	for range n {
		if r.pos>>3 >= len(r.b) {
			r.err = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) skip(n int) { r.pos += n }
