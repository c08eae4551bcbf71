package bitstream

// AAC raw_data_block elements (ISO/IEC 14496-3 4.4.2.1 and 4.5.2.8):
// a FIL element (id_syn_ele 6) carries an extension_payload whose
// extension_type 13 (EXT_SBR_DATA) or 14 (EXT_SBR_DATA_CRC) holds the
// SBR data of implicitly signalled HE-AAC; the block ends with ID_END (7)
// and byte alignment.
const (
	aacIDFIL        = 6
	aacIDEND        = 7
	aacExtSBR       = 13
	aacExtSBRCRC    = 14
	aacMaxFILChain  = 4   // FIL elements walked back from ID_END
	aacMaxFILLength = 269 // 14 + 255: the longest FIL payload, in bytes
)

// AACFrameHasSBR reports whether a raw AAC access unit (an MP4 sample,
// or an ADTS frame's payload after its header) carries SBR data in a FIL
// element: the implicit HE-AAC signalling that libavcodec's AAC decoder
// finds in the first frame it decodes (decode_extension_payload), and
// from which ffprobe then reports HE-AAC, twice the core sampling rate
// and, for a mono core, parametric stereo (HE-AACv2, 2 channels).
//
// Why from the end: finding a FIL element from the front means decoding
// every channel element before it (section data, scale factors and the
// Huffman-coded spectral data). Encoders put the SBR extension right
// after the channel elements, at most followed by fill payloads, so the
// block ends "FIL(SBR) [FIL(fill)…] ID_END padding". The FIL element's
// count field fixes where its payload starts, so a FIL that ends at
// ID_END can be recognised from the back: the element id, the count that
// reaches exactly that far, and the extension type together are 14 bits
// that must agree. One frame can still match by chance (for every
// padding and length tried, about one in ten frames of plain AAC-LC
// does), so callers decide on several frames: AACStreamHasSBR.
//
// It never panics and reads only within frame.
func AACFrameHasSBR(frame []byte) bool {
	n := len(frame) * 8
	if n < 3+7+8 {
		return false
	}
	bits := func(pos, w int) int {
		v := 0
		for i := pos; i < pos+w; i++ {
			v <<= 1
			if frame[i>>3]&(0x80>>(i&7)) != 0 {
				v |= 1
			}
		}
		return v
	}
	// filBefore reports whether a chain of FIL elements ending at bit
	// end holds an SBR payload.
	// budget bounds the walk on hostile frames, where many lengths can
	// look like FIL headers at every level of the chain.
	budget := 4 * aacMaxFILLength * 8
	var filBefore func(end, depth int) bool
	filBefore = func(end, depth int) bool {
		if depth >= aacMaxFILChain {
			return false
		}
		// An empty FIL (count 0) can follow the SBR one: it has no
		// extension type, only a predecessor.
		for cnt := 0; cnt <= aacMaxFILLength; cnt++ {
			ps := end - 8*cnt
			if budget--; ps < 7 || budget < 0 {
				return false
			}
			var hdr int
			switch {
			case cnt < 15 && bits(ps-7, 7) == aacIDFIL<<4|cnt:
				hdr = ps - 7
			case cnt >= 14 && ps >= 15 && bits(ps-15, 15) == (aacIDFIL<<4|15)<<8|(cnt-14):
				hdr = ps - 15
			default:
				continue
			}
			if cnt > 0 {
				switch bits(ps, 4) {
				case aacExtSBR, aacExtSBRCRC:
					return true
				}
			}
			if filBefore(hdr, depth+1) {
				return true
			}
		}
		return false
	}
	for pad := 0; pad < 8; pad++ {
		end := n - pad - 3
		if bits(end, 3) == aacIDEND && filBefore(end, 0) {
			return true
		}
	}
	return false
}

// AACStreamHasSBR decides implicit SBR over the first frames of a
// stream: every one of them (at least one, at most the first 8) must
// carry SBR data, as every frame of an HE-AAC stream does. Requiring
// them all keeps a chance match of AACFrameHasSBR on plain AAC-LC out.
func AACStreamHasSBR(frames [][]byte) bool {
	if len(frames) == 0 {
		return false
	}
	for i, f := range frames {
		if i == 8 {
			break
		}
		if !AACFrameHasSBR(f) {
			return false
		}
	}
	return true
}
