package bitstream

// AC3SampleRates maps fscod (ETSI TS 102 366 4.4.1.3) to Hz; 3 is
// reserved in AC-3 and means "see fscod2" in E-AC-3.
var AC3SampleRates = [4]int{48000, 44100, 32000, 0}

// EAC3ReducedRates maps E-AC-3 fscod2 (used when fscod is 3) to Hz.
var EAC3ReducedRates = [4]int{24000, 22050, 16000, 0}

// AC3Kbps are the nominal AC-3 bit rates in kbit/s, indexed by
// frmsizecod>>1 (syncinfo) or bit_rate_code (dac3).
var AC3Kbps = [19]int{32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640}

// AC3Bitrate returns the nominal bit rate in kbit/s of an AC-3 index
// (frmsizecod>>1 or bit_rate_code), 0 when out of range.
func AC3Bitrate(index int) int {
	if index >= 0 && index < len(AC3Kbps) {
		return AC3Kbps[index]
	}
	return 0
}

// EAC3Frame is what the start of an E-AC-3 syncframe says about its size
// and timing (ETSI TS 102 366 E.1.2):
//
//	syncword(16) strmtyp(2) substreamid(3) frmsiz(11) fscod(2)
//	[fscod2(2) if fscod == 3, else numblkscod(2)]
type EAC3Frame struct {
	Bytes      int // (frmsiz+1)·2
	SampleRate int
	Blocks     int // audio blocks of 256 samples: 1, 2, 3 or 6
}

// Bitrate is the bit rate the frame implies: its size over its duration.
func (f EAC3Frame) Bitrate() int64 {
	if f.Blocks == 0 {
		return 0
	}
	return int64(f.Bytes) * 8 * int64(f.SampleRate) / int64(f.Blocks*256)
}

// ParseEAC3Frame reads the size and timing fields of the E-AC-3 syncframe
// at the start of b.
func ParseEAC3Frame(b []byte) (EAC3Frame, bool) {
	if len(b) < 5 || b[0] != 0x0b || b[1] != 0x77 {
		return EAC3Frame{}, false
	}
	f := EAC3Frame{Bytes: (int(b[2]&7)<<8 | int(b[3]) + 1) * 2}
	fscod := b[4] >> 6
	x := b[4] >> 4 & 3
	if fscod == 3 {
		f.SampleRate, f.Blocks = EAC3ReducedRates[x], 6
	} else {
		f.SampleRate, f.Blocks = AC3SampleRates[fscod], [4]int{1, 2, 3, 6}[x]
	}
	if f.SampleRate == 0 {
		return EAC3Frame{}, false
	}
	return f, true
}

// AC3Blocks returns the number of 256-sample audio blocks of the AC-3 or
// E-AC-3 syncframe at the start of b, 0 when b does not start with a
// valid syncframe header (as avpriv_ac3_parse_header,
// libavcodec/ac3_parser.c, would refuse it). The MP4 writers and the
// packager drop a track's leading payloads for which it is 0, as
// libavformat's movenc does.
func AC3Blocks(b []byte) int {
	if len(b) < 6 || b[0] != 0x0b || b[1] != 0x77 {
		return 0
	}
	bsid := b[5] >> 3
	if bsid > 16 {
		return 0
	}
	if bsid <= 10 {
		// AC-3: fscod(2) frmsizecod(6) after crc1; always 6 blocks.
		if b[4]>>6 == 3 || b[4]&0x3f >= 38 {
			return 0
		}
		return 6
	}
	f, ok := ParseEAC3Frame(b)
	if !ok {
		return 0
	}
	return f.Blocks
}
