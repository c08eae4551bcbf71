package bitstream

import (
	"errors"
	"fmt"
)

// ADTSSampleRates maps sampling_frequency_index (ISO/IEC 14496-3
// 1.6.3.4) to Hz; indices 13–15 are reserved (0).
var ADTSSampleRates = [16]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// ADTS is a parsed ADTS header (ISO/IEC 14496-3 1.A.2.2):
//
//	syncword(12) ID(1) layer(2) protection_absent(1) profile(2)
//	sampling_frequency_index(4) private(1) channel_configuration(3)
//	original(1) home(1) copyright_id(1) copyright_start(1)
//	aac_frame_length(13) buffer_fullness(11) raw_data_blocks(2)
type ADTS struct {
	HeaderLen   int  // 7, or 9 with the CRC
	FrameLen    int  // aac_frame_length: header and payload
	Profile     byte // audioObjectType - 1
	FreqIndex   byte
	ChannelConf byte
	Blocks      int // raw data blocks (1–4), 1024 samples each
}

// SampleRate is the rate of the header's sampling_frequency_index.
func (h ADTS) SampleRate() int { return ADTSSampleRates[h.FreqIndex&15] }

// AudioSpecificConfig returns the 2-byte AudioSpecificConfig the header
// implies: audioObjectType = profile+1, sampling index, channels.
func (h ADTS) AudioSpecificConfig() []byte {
	aot := h.Profile + 1
	return []byte{aot<<3 | h.FreqIndex>>1, (h.FreqIndex&1)<<7 | h.ChannelConf<<3}
}

// ParseADTS parses the ADTS header at the start of b. It reports false
// when b does not start with a valid header (syncword, a known sampling
// index, a frame length covering the header).
func ParseADTS(b []byte) (ADTS, bool) {
	if len(b) < 7 || b[0] != 0xff || b[1]&0xf6 != 0xf0 {
		return ADTS{}, false
	}
	h := ADTS{
		HeaderLen:   7,
		FrameLen:    int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5])>>5,
		Profile:     b[2] >> 6,
		FreqIndex:   b[2] >> 2 & 0x0f,
		ChannelConf: (b[2]&1)<<2 | b[3]>>6,
		Blocks:      int(b[6]&3) + 1,
	}
	if b[1]&1 == 0 {
		h.HeaderLen = 9
	}
	if h.FreqIndex > 12 || h.FrameLen < h.HeaderLen {
		return ADTS{}, false
	}
	return h, true
}

// ADTSHeaderLen returns the header length (7 or 9) of an ADTS frame that
// spans exactly b, or 0 when b is not one such frame (a raw AAC access
// unit, as MP4 stores them).
func ADTSHeaderLen(b []byte) int {
	h, ok := ParseADTS(b)
	if !ok || h.FrameLen != len(b) {
		return 0
	}
	return h.HeaderLen
}

// ErrADTS is returned by ADTSTemplate for an AudioSpecificConfig that
// ADTS cannot express.
var ErrADTS = errors.New("bitstream: AudioSpecificConfig cannot be expressed in ADTS")

// ADTSTemplate builds the constant part of the 7-byte ADTS header
// (MPEG-4, no CRC) for an AudioSpecificConfig; frame_length (13 bits
// over bytes 3–5) is filled per frame with PutADTSLen.
func ADTSTemplate(asc []byte) ([7]byte, error) {
	var h [7]byte
	if len(asc) < 2 {
		return h, fmt.Errorf("%w: %d bytes", ErrADTS, len(asc))
	}
	aot := asc[0] >> 3
	sfi := (asc[0]&7)<<1 | asc[1]>>7
	ch := asc[1] >> 3 & 0xf
	if aot == 31 || sfi == 15 {
		return h, fmt.Errorf("%w: escape values", ErrADTS)
	}
	if aot == 5 || aot == 29 {
		// Explicit SBR/PS: ADTS signals the core (LC) stream; the
		// decoder finds SBR implicitly.
		aot = 2
	}
	if aot < 1 || aot > 4 {
		return h, fmt.Errorf("%w: object type %d has no ADTS profile", ErrADTS, aot)
	}
	if ch == 0 {
		return h, fmt.Errorf("%w: channel configuration 0 (PCE)", ErrADTS)
	}
	// ADTS has 3 bits for the channel configuration and, like ParseADTS,
	// takes sampling-frequency indexes 0–12 only.
	if ch > 7 || sfi > 12 {
		return h, fmt.Errorf("%w: channel configuration %d, sampling frequency index %d", ErrADTS, ch, sfi)
	}
	h[0] = 0xff
	h[1] = 0xf1 // MPEG-4, layer 0, no CRC
	h[2] = (aot-1)<<6 | sfi<<2 | ch>>2
	h[3] = (ch & 3) << 6
	h[6] = 0xfc
	return h, nil
}

// PutADTSLen writes frame_length n (header included) and an all-ones
// buffer fullness (VBR) into a header made by ADTSTemplate.
func PutADTSLen(h []byte, n int) {
	h[3] = h[3]&0xfc | byte(n>>11)&3
	h[4] = byte(n >> 3)
	h[5] = byte(n&7)<<5 | 0x1f
}
