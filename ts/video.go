package ts

import (
	"bytes"

	"github.com/streamkit-go/streamkit/internal/bitstream"
)

// frameVideo cuts Annex B (H.264, HEVC) or MPEG-1/2 video into access
// units. An access unit ends where the next one starts: at an access
// unit delimiter, a parameter set or SEI after a picture, or the first
// slice of a new picture (H.264 7.4.1.2.3, H.265 7.4.2.4.4, and sequence,
// GOP and picture start codes for MPEG-2). The zero bytes in front of a
// start code belong to the unit that follows.
func (s *esStream) frameVideo(eof bool) {
	kind := s.info.framer
	need := 9 // start code + NAL header + up to 5 bytes of first_mb_in_slice
	if kind == framerHEVC {
		need = 6
	} else if kind == framerMPEG2Video {
		need = 8 // start code + sequence header sizes/frame rate, or picture type
	}
	i := s.scan
	if i < s.consumed {
		i = s.consumed
	}
	for !s.d.stop {
		j := bitstream.NextStartCode(s.es, i)
		if j < 0 {
			if n := len(s.es) - 2; n > i {
				i = n
			}
			break
		}
		if j+need > len(s.es) && !eof {
			i = j
			break
		}
		// Where units are cut follows libavcodec's parsers, so that sizes
		// match ffprobe's packets: H.264 gives the zero_byte of a 4-byte
		// start code to the unit it starts; HEVC and MPEG-2 cut right at
		// the 00 00 01.
		b := j
		if kind == framerH264 && b > s.consumed && b > s.nalStart && s.es[b-1] == 0 {
			b--
		}
		nal := j + 3
		if s.nalStart >= 0 {
			s.endNAL(s.nalStart, b)
		}
		var newAU, vcl, key bool
		var typ int
		switch kind {
		case framerH264:
			typ, newAU, vcl, key = h264NAL(s.es[nal:], &s.lastMB)
		case framerHEVC:
			typ, newAU, vcl, key = hevcNAL(s.es[nal:])
		default:
			typ, newAU, vcl, key = s.mpeg2Code(s.es[nal:])
		}
		if newAU && s.sawVCL {
			s.cutAU(b)
		}
		if s.auStart < 0 {
			// The first access unit also takes any bytes in front of it.
			s.auStart = s.consumed
		}
		if vcl {
			s.sawVCL = true
		}
		if key {
			s.key = true
		}
		s.nalStart, s.nalType = nal, typ
		i = nal
	}
	s.scan = i
	if eof && !s.d.stop {
		if s.nalStart >= 0 {
			s.endNAL(s.nalStart, len(s.es))
		}
		if s.auStart >= 0 && s.sawVCL {
			s.cutAU(len(s.es))
		}
		s.auStart, s.nalStart, s.sawVCL, s.key = -1, -1, false, false
		s.consumed = len(s.es)
		s.scan = len(s.es)
	}
}

func (s *esStream) cutAU(end int) {
	start := s.auStart
	key := s.key
	s.auStart, s.sawVCL, s.key = end, false, false
	s.consumed = end
	if s.d.mode == modeProbe && !s.conf {
		s.tryConfig()
	}
	s.emitFrame(start, end, key, 0)
}

// h264NAL classifies an H.264 NAL unit from its first bytes, following
// libavcodec's parser (h264_find_frame_end) so that access units match
// ffprobe's packets: SEI, SPS, PPS and AUD start a new access unit after a
// picture; a slice does when its first_mb_in_slice is not after the
// previous slice's (lastMB), which is how the first slice of the next
// picture, or of the second field of a pair, shows. lastMB is updated.
func h264NAL(b []byte, lastMB *int64) (typ int, newAU, vcl, key bool) {
	if len(b) == 0 {
		return -1, false, false, false
	}
	typ = int(b[0] & 0x1f)
	switch typ {
	case 1, 2, 5:
		vcl = true
		key = typ == 5
		mb := readUE(b[1:])
		newAU = mb <= *lastMB
		*lastMB = mb
	case 6, 7, 8, 9:
		newAU = true
	}
	return
}

// readUE reads an unsigned Exp-Golomb value from the start of b (raw
// bytes, as libavcodec's parser reads first_mb_in_slice); values that do
// not fit the bytes at hand read as the largest possible.
func readUE(b []byte) int64 {
	zeros := 0
	bit := 0
	get := func() int {
		if bit >= 8*len(b) {
			return -1
		}
		v := int(b[bit/8]>>(7-bit%8)) & 1
		bit++
		return v
	}
	for {
		v := get()
		if v < 0 || zeros > 31 {
			return 1<<32 - 1
		}
		if v == 1 {
			break
		}
		zeros++
	}
	var x int64
	for i := 0; i < zeros; i++ {
		v := get()
		if v < 0 {
			return 1<<32 - 1
		}
		x = x<<1 | int64(v)
	}
	return 1<<zeros - 1 + x
}

// hevcNAL classifies an HEVC NAL unit from its first bytes, as libavcodec's
// parser (hevc_find_frame_end) does: parameter sets, AUD, EOS/EOB, prefix
// SEI and reserved types 41-44 and 48-55 start a new access unit after a
// picture, and so does a slice with first_slice_segment_in_pic_flag.
func hevcNAL(b []byte) (typ int, newAU, vcl, key bool) {
	if len(b) < 2 {
		return -1, false, false, false
	}
	typ = int(b[0] >> 1 & 0x3f)
	switch {
	case typ <= 9 || (typ >= 16 && typ <= 21):
		vcl = true
		key = typ >= 16
		newAU = len(b) > 2 && b[2]&0x80 != 0
	case typ >= 32 && typ <= 37, typ == 39, typ >= 41 && typ <= 44, typ >= 48 && typ <= 55:
		newAU = true
	}
	return
}

// mpeg2Code classifies an MPEG-1/2 video start code. Pictures are the
// "VCL"; a sequence header, GOP header or picture header after a
// picture starts a new access unit. I pictures are key frames.
func (s *esStream) mpeg2Code(b []byte) (typ int, newAU, vcl, key bool) {
	if len(b) == 0 {
		return -1, false, false, false
	}
	typ = int(b[0])
	switch typ {
	case 0xB3, 0xB8:
		newAU = true
	case 0x00:
		newAU = true
		vcl = true
		if len(b) > 2 {
			key = b[2]>>3&7 == 1
		}
	}
	return
}

// endNAL is called when the NAL unit es[start:end] is complete: it
// captures parameter sets while probing and notes recovery point SEIs,
// which make an H.264 access unit a key frame as in libavcodec.
func (s *esStream) endNAL(start, end int) {
	if end <= start {
		return
	}
	nal := s.es[start:end]
	switch s.info.framer {
	case framerH264:
		switch s.nalType {
		case 6:
			if h264RecoveryPoint(nal) {
				s.key = true
			}
		case 7:
			s.capture(&s.sps, nal)
		case 8:
			s.capture(&s.pps, nal)
		}
	case framerHEVC:
		switch s.nalType {
		case 32:
			s.capture(&s.vps, nal)
		case 33:
			s.capture(&s.sps, nal)
		case 34:
			s.capture(&s.pps, nal)
		}
	case framerMPEG2Video:
		// The sequence header and its extensions, for SetMPEG2Video
		// when the first access unit is cut (tryConfig).
		switch {
		case s.nalType == 0xB3:
			s.capture(&s.sps, nal)
		case s.nalType == 0xB5 && len(nal) > 1 && (nal[1]>>4 == 1 || nal[1]>>4 == 2) && len(s.sps) > 0:
			s.capture(&s.pps, nal)
		}
	}
}

// capture keeps a copy of a parameter set while probing (distinct ones
// only, at most 8).
func (s *esStream) capture(list *[][]byte, nal []byte) {
	if s.d.mode != modeProbe || s.conf || len(*list) >= 8 {
		return
	}
	for _, p := range *list {
		if bytes.Equal(p, nal) {
			return
		}
	}
	*list = append(*list, bytes.Clone(nal))
}

// h264RecoveryPoint reports whether an SEI NAL unit (with its header
// byte) holds a recovery point message (payloadType 6). Emulation
// prevention bytes cannot occur in the type and size bytes that matter
// here except in pathological streams, where the answer is just "no".
func h264RecoveryPoint(nal []byte) bool {
	b := nal[1:]
	for len(b) >= 2 {
		typ := 0
		for len(b) > 0 && b[0] == 0xFF {
			typ += 255
			b = b[1:]
		}
		if len(b) == 0 {
			return false
		}
		typ += int(b[0])
		b = b[1:]
		size := 0
		for len(b) > 0 && b[0] == 0xFF {
			size += 255
			b = b[1:]
		}
		if len(b) == 0 {
			return false
		}
		size += int(b[0])
		b = b[1:]
		if typ == 6 {
			return true
		}
		if size > len(b) {
			return false
		}
		b = b[size:]
		if len(b) > 0 && b[0] == 0x80 { // rbsp_trailing_bits
			return false
		}
	}
	return false
}

// tryConfig fills the track from the captured parameter sets as soon as
// there are some, so that frame durations are known while probing.
func (s *esStream) tryConfig() {
	t := s.info.track
	switch s.info.framer {
	case framerH264:
		if len(s.sps) > 0 && len(s.pps) > 0 {
			tag := t.CodecTag
			t.CodecTag = "avc1"
			if err := t.SetAVC(s.sps, s.pps); err == nil {
				s.conf = true
			}
			t.CodecTag = tag
		}
	case framerMPEG2Video:
		if len(s.sps) > 0 && t.SetMPEG2Video(s.sps[0], s.pps) == nil {
			s.conf = true
		}
	case framerHEVC:
		if len(s.sps) > 0 && len(s.pps) > 0 {
			tag := t.CodecTag
			t.CodecTag = "hvc1"
			if err := t.SetHEVC(s.vps, s.sps, s.pps); err == nil {
				s.conf = true
			}
			t.CodecTag = tag
		}
	}
}

// configured reports whether the probe has what it needs from this stream.
func (s *esStream) configured() bool { return s.conf }

// finishConfig is called at the end of the probe.
func (s *esStream) finishConfig() {
	if !s.conf {
		s.tryConfig()
	}
	if s.conf && len(s.aacFrames) > 0 {
		s.info.track.SetAACFrames(s.aacFrames)
	}
	s.aacFrames = nil
}
