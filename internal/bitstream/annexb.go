package bitstream

import (
	"bytes"
	"iter"
)

// NextStartCode returns the index of the next 00 00 01 start code at or
// after i, or -1.
func NextStartCode(b []byte, i int) int {
	if i < 0 {
		i = 0
	}
	for i+2 < len(b) {
		j := bytes.IndexByte(b[i+2:], 1)
		if j < 0 {
			return -1
		}
		k := i + 2 + j // b[k] == 1
		if b[k-1] == 0 && b[k-2] == 0 {
			return k - 2
		}
		i = k - 1
	}
	return -1
}

// AnnexB iterates over the NAL units of an Annex B byte stream (ITU-T
// H.264 / H.265 Annex B): each unit is yielded with its offset in b,
// without its start code and without trailing zero bytes (they are the
// zero_byte of a 4-byte start code or trailing_zero_8bits, not part of
// the unit). Bytes before the first start code are skipped; a stream
// without a start code yields nothing. Empty units are not yielded.
func AnnexB(b []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		i := NextStartCode(b, 0)
		for i >= 0 {
			start := i + 3
			next := NextStartCode(b, start)
			end := len(b)
			if next >= 0 {
				end = next
			}
			e := end
			for e > start && b[e-1] == 0 {
				e--
			}
			if e > start && !yield(start, b[start:e]) {
				return
			}
			i = next
		}
	}
}

// NALLen reads a big-endian NAL unit length prefix of size bytes (1, 2 or
// 4, as avcC/hvcC's lengthSizeMinusOne+1 says) at the start of b. It
// returns -1 when b is shorter than the prefix.
func NALLen(b []byte, size int) int {
	if size <= 0 || len(b) < size {
		return -1
	}
	n := 0
	for k := range size {
		n = n<<8 | int(b[k])
	}
	return n
}

// NALRole tells what an H.264 (hevc false) or HEVC NAL unit is for
// packaging: an access unit delimiter (H.264 type 9, HEVC 35) or a
// parameter set (H.264 SPS/PPS 7, 8; HEVC VPS/SPS/PPS 32–34). In MP4 both
// live out of band (no AUD; parameter sets in avcC/hvcC), in MPEG-TS both
// are in band.
func NALRole(hevc bool, nal []byte) (aud, paramSet bool) {
	if len(nal) == 0 {
		return false, false
	}
	if hevc {
		typ := nal[0] >> 1 & 0x3f
		return typ == 35, typ >= 32 && typ <= 34
	}
	typ := nal[0] & 0x1f
	return typ == 9, typ == 7 || typ == 8
}
