package bitstream

// MPEGAudioHeader is an MPEG audio frame header; Layer 0 means none.
type MPEGAudioHeader struct {
	Layer   int  // 1..3, 0 invalid
	MPEG2   bool // MPEG-2 or 2.5 (lower sampling frequencies)
	Rate    int
	Bitrate int // kbit/s
	Mono    bool
	Size    int // frame length in bytes
	Samples int // samples per channel
}

var mpaBitrates = [2][3][16]int{
	{ // MPEG-1: layer I, II, III
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
	{ // MPEG-2/2.5 (LSF)
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
}

// ParseMPEGAudio decodes an MPEG-1/2/2.5 audio frame header
// (ISO/IEC 11172-3 2.4.1.3, 13818-3). Written here (one home for ts and
// probe) rather than
// taken from mediacommon's mpeg1audio, which computes Layer I and
// MPEG-2 Layer III frame lengths with the MPEG-1 Layer II formula.
func ParseMPEGAudio(b []byte) MPEGAudioHeader {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return MPEGAudioHeader{}
	}
	ver := b[1] >> 3 & 3 // 0: 2.5, 2: 2, 3: 1
	lay := 4 - int(b[1]>>1&3)
	bri := int(b[2] >> 4)
	sri := int(b[2] >> 2 & 3)
	if ver == 1 || lay == 4 || bri == 0 || bri == 15 || sri == 3 {
		return MPEGAudioHeader{}
	}
	h := MPEGAudioHeader{Layer: lay, MPEG2: ver != 3}
	rate := [3]int{44100, 48000, 32000}[sri]
	switch ver {
	case 2:
		rate /= 2
	case 0:
		rate /= 4
	}
	h.Rate = rate
	lsf := 0
	if h.MPEG2 {
		lsf = 1
	}
	h.Bitrate = mpaBitrates[lsf][lay-1][bri]
	pad := int(b[2] >> 1 & 1)
	h.Mono = b[3]>>6 == 3
	switch lay {
	case 1:
		h.Size = (12*h.Bitrate*1000/rate + pad) * 4
		h.Samples = 384
	case 2:
		h.Size = 144*h.Bitrate*1000/rate + pad
		h.Samples = 1152
	case 3:
		if h.MPEG2 {
			h.Size = 72*h.Bitrate*1000/rate + pad
			h.Samples = 576
		} else {
			h.Size = 144*h.Bitrate*1000/rate + pad
			h.Samples = 1152
		}
	}
	return h
}
