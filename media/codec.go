package media

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/av1"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/hevc"
	mch264 "github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/streamkit-go/streamkit/internal/bitstream"
)

// This file turns decoder configurations into Track fields. Both container
// readers (MP4 sample entries, MPEG-TS in-band parameter sets) and the
// writers use it, so that a track looks the same whatever it was read from.
//
// Bitstream parsing is mp4ff's (SPS, PPS, VPS, AudioSpecificConfig, av1C).
// What mp4ff lacks — ffprobe's profile names, pix_fmt and channel-layout
// strings, and the AC-3/E-AC-3/Opus configuration records as raw bytes
// rather than boxes — is written here.

// guard converts a panic inside a third-party parser into an error: input
// is hostile, and a parser bug must not take the caller down.
func guard(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %s: parser panic: %v", ErrCorrupt, what, r)
	}
}

// SetAVC fills the track from H.264 parameter sets (NAL units without
// start codes or length prefixes). CodecTag selects the RFC 6381 prefix
// (avc1 or avc3); it defaults to avc1.
func (t *Track) SetAVC(sps, pps [][]byte) (err error) {
	defer guard("h264 sps", &err)
	if len(sps) == 0 {
		return fmt.Errorf("%w: h264: no SPS", ErrCorrupt)
	}
	// mp4ff's SPS parser trusts its length fields: a hostile
	// num_ref_frames_in_pic_order_cnt_cycle made it loop for minutes, and a
	// hostile cpb_cnt_minus1 in the VUI's HRD parameters makes it append
	// entries until memory runs out. mediacommon's parser bounds both, so it
	// vets the SPS first and supplies the VUI fields past the aspect ratio
	// (timing, video range); mp4ff is asked to stop after the aspect ratio.
	var vet mch264.SPS
	if err := vet.Unmarshal(sps[0]); err != nil {
		return fmt.Errorf("%w: h264 sps: %v", ErrCorrupt, err)
	}
	s, err := avc.ParseSPSNALUnit(sps[0], false)
	if err != nil {
		return fmt.Errorf("%w: h264 sps: %v", ErrCorrupt, err)
	}
	t.Kind, t.Codec = KindVideo, CodecH264
	if t.CodecTag == "" {
		t.CodecTag = "avc1"
	}
	t.Config.SPS, t.Config.PPS = sps, pps
	t.CodecString = avc.CodecString(t.CodecTag, s)
	t.Profile = h264ProfileName(s.Profile, s.ProfileCompatibility)
	t.LevelIDC = int(s.Level)
	t.Width, t.Height = int(s.Width), int(s.Height)
	t.Interlaced = !s.FrameMbsOnlyFlag
	t.BitDepth = int(s.BitDepthLumaMinus8) + 8
	if v := s.VUI; v != nil && v.SampleAspectRatioWidth > 0 && v.SampleAspectRatioHeight > 0 {
		t.SampleAspect = Rational{int64(v.SampleAspectRatioWidth), int64(v.SampleAspectRatioHeight)}.Reduce()
	}
	full := false
	if v := vet.VUI; v != nil {
		if ti := v.TimingInfo; ti != nil && ti.NumUnitsInTick > 0 && t.FrameRate.IsZero() {
			// H.264 VUI time_scale counts fields: frame rate is time_scale / (2 * num_units_in_tick).
			t.FrameRate = Rational{int64(ti.TimeScale), 2 * int64(ti.NumUnitsInTick)}.Reduce()
		}
		full = v.VideoSignalTypePresentFlag && v.VideoFullRangeFlag
		// libavcodec's h264 decoder exports the colour description only
		// when video_signal_type_present_flag is set.
		// (An MP4 colr box read before keeps its description otherwise.)
		if v.VideoSignalTypePresentFlag {
			t.Color.Range = 1
			if full {
				t.Color.Range = 2
			}
			if v.ColourDescriptionPresentFlag {
				t.Color.Described = true
				t.Color.Primaries, t.Color.Transfer, t.Color.Matrix = int(v.ColourPrimaries), int(v.TransferCharacteristics), int(v.MatrixCoefficients)
			}
		}
		// has_b_frames: the decoder's reorder depth is
		// max_num_reorder_frames when the SPS carries it; without it
		// libavcodec starts at 0 (and raises it only while decoding).
		t.Reorder = 0
		if br := v.BitstreamRestriction; br != nil {
			t.Reorder = int(min(br.MaxNumReorderFrames, 16))
		}
	}
	// The h264 decoder reports the cropped size as coded size.
	t.CodedWidth, t.CodedHeight = t.Width, t.Height
	// A frame-only SPS is progressive; otherwise each frame's headers
	// decide (libavcodec's parser), whatever a container box said.
	t.FieldOrder = ""
	if s.FrameMbsOnlyFlag {
		t.FieldOrder = "progressive"
	}
	t.PixelFormat = pixFmt(int(s.ChromaFormatIDC), t.BitDepth, full)
	return nil
}

// h264ProfileName returns ffprobe's name for profile_idc and the
// constraint flags byte (constraint_set0_flag is the most significant bit).
func h264ProfileName(idc, constraints uint32) string {
	set1 := constraints&0x40 != 0
	set3 := constraints&0x10 != 0
	switch idc {
	case 66:
		if set1 {
			return "Constrained Baseline"
		}
		return "Baseline"
	case 77:
		return "Main"
	case 88:
		return "Extended"
	case 100:
		return "High"
	case 110:
		if set3 {
			return "High 10 Intra"
		}
		return "High 10"
	case 122:
		if set3 {
			return "High 4:2:2 Intra"
		}
		return "High 4:2:2"
	case 244:
		if set3 {
			return "High 4:4:4 Intra"
		}
		return "High 4:4:4 Predictive"
	case 44:
		return "CAVLC 4:4:4"
	}
	return fmt.Sprintf("%d", idc)
}

// pixFmt returns ffprobe's pix_fmt for a chroma_format_idc and bit depth.
func pixFmt(chroma, depth int, fullRange bool) string {
	base := map[int]string{0: "gray", 1: "yuv420p", 2: "yuv422p", 3: "yuv444p"}[chroma]
	if base == "" {
		return ""
	}
	if depth > 8 {
		if chroma == 0 {
			return fmt.Sprintf("gray%dle", depth)
		}
		return fmt.Sprintf("%s%dle", base, depth)
	}
	if fullRange && chroma != 0 {
		return "yuvj" + base[3:]
	}
	return base
}

// SetHEVC fills the track from HEVC parameter sets. CodecTag selects the
// RFC 6381 prefix (hvc1 or hev1); it defaults to hvc1.
func (t *Track) SetHEVC(vps, sps, pps [][]byte) (err error) {
	defer guard("hevc sps", &err)
	if len(sps) == 0 {
		return fmt.Errorf("%w: hevc: no SPS", ErrCorrupt)
	}
	s, err := hevc.ParseSPSNALUnit(sps[0])
	if err != nil {
		return fmt.Errorf("%w: hevc sps: %v", ErrCorrupt, err)
	}
	t.Kind, t.Codec = KindVideo, CodecHEVC
	if t.CodecTag == "" {
		t.CodecTag = "hvc1"
	}
	t.Config.VPS, t.Config.SPS, t.Config.PPS = vps, sps, pps
	t.CodecString = hevc.CodecString(t.CodecTag, s)
	ptl := s.ProfileTierLevel
	t.Profile = hevcProfileName(ptl.GeneralProfileIDC, ptl.GeneralProfileCompatibilityFlags)
	t.LevelIDC = int(ptl.GeneralLevelIDC)
	w, h := s.ImageSize()
	t.Width, t.Height = int(w), int(h)
	t.BitDepth = int(s.BitDepthLumaMinus8) + 8
	full := false
	if v := s.VUI; v != nil {
		if v.SampleAspectRatioWidth > 0 && v.SampleAspectRatioHeight > 0 {
			t.SampleAspect = Rational{int64(v.SampleAspectRatioWidth), int64(v.SampleAspectRatioHeight)}.Reduce()
		}
		if v.TimingInfoPresentFlag && v.NumUnitsInTick > 0 && t.FrameRate.IsZero() {
			t.FrameRate = Rational{int64(v.TimeScale), int64(v.NumUnitsInTick)}.Reduce()
		}
		t.Interlaced = v.FieldSeqFlag
		full = v.VideoSignalTypePresentFlag && v.VideoFullRangeFlag
		// libavcodec's hevc decoder replaces whatever the container said.
		t.Color.Described = false
		if v.ColourDescriptionFlag {
			t.Color.Described = true
			t.Color.Primaries, t.Color.Transfer, t.Color.Matrix = int(v.ColourPrimaries), int(v.TransferCharacteristics), int(v.MatrixCoefficients)
		}
	}
	// libavcodec's hevc decoder always sets a range: full only when the
	// VUI says so.
	t.Color.Range = 1
	if full {
		t.Color.Range = 2
	}
	t.CodedWidth, t.CodedHeight = int(s.PicWidthInLumaSamples), int(s.PicHeightInLumaSamples)
	t.Reorder = 0
	if n := len(s.SubLayeringOrderingInfos); n > 0 {
		t.Reorder = int(s.SubLayeringOrderingInfos[n-1].MaxNumReorderPics)
	}
	t.PixelFormat = pixFmt(int(s.ChromaFormatIDC), t.BitDepth, full)
	return nil
}

// hevcProfileName returns ffprobe's name for general_profile_idc, falling
// back on the compatibility flags as libavcodec does.
func hevcProfileName(idc byte, compat uint32) string {
	names := map[byte]string{1: "Main", 2: "Main 10", 3: "Main Still Picture", 4: "Rext", 9: "SCC"}
	if n, ok := names[idc]; ok {
		return n
	}
	// general_profile_compatibility_flag[j] is bit 31-j.
	for j := byte(1); j <= 4; j++ {
		if compat&(1<<(31-j)) != 0 {
			return names[j]
		}
	}
	return fmt.Sprintf("%d", idc)
}

// SetAV1 fills the track from the body of an av1C box
// (AV1CodecConfigurationRecord).
func (t *Track) SetAV1(av1C []byte) (err error) {
	defer guard("av1C", &err)
	rec, err := av1.DecodeAV1CodecConfRec(av1C)
	if err != nil {
		return fmt.Errorf("%w: av1C: %v", ErrCorrupt, err)
	}
	t.Kind, t.Codec = KindVideo, CodecAV1
	if t.CodecTag == "" {
		t.CodecTag = "av01"
	}
	t.Config.Record = av1C
	depth := 8
	if rec.HighBitdepth == 1 {
		depth = 10
		if rec.TwelveBit == 1 {
			depth = 12
		}
	}
	t.BitDepth = depth
	tier := "M"
	if rec.SeqTier0 == 1 {
		tier = "H"
	}
	t.CodecString = fmt.Sprintf("av01.%d.%02d%s.%02d", rec.SeqProfile, rec.SeqLevelIdx0, tier, depth)
	t.Profile = map[byte]string{0: "Main", 1: "High", 2: "Professional"}[rec.SeqProfile]
	t.LevelIDC = int(rec.SeqLevelIdx0)
	chroma := 1
	switch {
	case rec.MonoChrome == 1:
		chroma = 0
	case rec.ChromaSubsamplingX == 0 && rec.ChromaSubsamplingY == 0:
		chroma = 3
	case rec.ChromaSubsamplingX == 1 && rec.ChromaSubsamplingY == 0:
		chroma = 2
	}
	t.PixelFormat = pixFmt(chroma, depth, false)
	if len(rec.ConfigOBUs) > 0 {
		if sh, err := rec.SequenceHeader(); err == nil && sh != nil {
			t.Width, t.Height = int(sh.MaxFrameWidthMinus1)+1, int(sh.MaxFrameHeightMinus1)+1
			t.CodedWidth, t.CodedHeight = t.Width, t.Height
			// libavcodec's av1 decoder always sets the range; the
			// description only when color_description_present_flag.
			t.Color = Color{Range: 1, Primaries: int(sh.ColorPrimaries), Transfer: int(sh.TransferCharacteristics), Matrix: int(sh.MatrixCoefficients)}
			if sh.ColorRange {
				t.Color.Range = 2
			}
			t.Color.Described = sh.ColorPrimaries != 2 || sh.TransferCharacteristics != 2 || sh.MatrixCoefficients != 2
			t.FieldOrder = "progressive"
		}
	}
	return nil
}

// SetAAC fills the track from an MPEG-4 AudioSpecificConfig.
func (t *Track) SetAAC(asc []byte) (err error) {
	defer guard("AudioSpecificConfig", &err)
	cfg, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(asc))
	if err != nil {
		return fmt.Errorf("%w: AudioSpecificConfig: %v", ErrCorrupt, err)
	}
	t.Kind, t.Codec = KindAudio, CodecAAC
	if t.CodecTag == "" {
		t.CodecTag = "mp4a"
	}
	t.Config.AudioSpecificConfig = asc
	aot := int(cfg.ObjectType)
	// RFC 6381 names the base object type; HE-AAC signalled explicitly
	// (SBR/PS extension) keeps the explicit type as hls.js and Shaka do.
	t.CodecString = fmt.Sprintf("mp4a.40.%d", aot)
	t.Profile = map[int]string{1: "Main", 2: "LC", 3: "SSR", 4: "LTP", 5: "HE-AAC", 29: "HE-AACv2"}[aot]
	sbr, ps := cfg.SBRPresentFlag, -1
	if cfg.PSPresentFlag {
		ps = 1
	}
	extRate := cfg.ExtensionFrequency
	if !sbr {
		// Backward-compatible (hierarchical) signalling: an LC config
		// followed by the sync extension 0x2b7, which mp4ff does not read.
		if x, ok := ascSyncExtension(asc, cfg.ChannelConfiguration); ok {
			sbr, ps, extRate = x.sbr, x.ps, x.rate
			if sbr {
				t.Profile = "HE-AAC"
			}
			if ps == 1 {
				t.Profile = "HE-AACv2"
			}
		}
	}
	t.LevelIDC = -99
	t.SampleRate = cfg.SamplingFrequency
	if sbr && extRate > 0 {
		t.SampleRate = extRate
	}
	t.Channels = int(cfg.ChannelConfiguration)
	if t.Channels == 7 { // channel_configuration 7 is 7.1: eight channels
		t.Channels = 8
	}
	// libavcodec's AAC decoder assumes parametric stereo in a mono
	// stream with SBR unless the config says there is none
	// ("if (m4ac->sbr == 1 && m4ac->ps == -1) m4ac->ps = 1"), and
	// outputs stereo: ffprobe reports 2 channels.
	if sbr && ps != 0 && t.Channels == 1 {
		t.Channels = 2
	}
	t.ChannelLayout = aacLayout(t.Channels)
	t.SampleFormat = "fltp"
	t.FrameSize = 1024
	if t.Profile == "HE-AAC" || t.Profile == "HE-AACv2" {
		t.FrameSize = 2048
	}
	return nil
}

// SetAACFrames refines an AAC track from its first access units (raw,
// without ADTS headers), as libavcodec's decoder does when ffprobe probes
// the stream: a configuration that signals no SBR either way (no SBR or
// PS object type, no sync extension) leaves SBR to the bitstream, and
// when the frames carry SBR data (bitstream.AACStreamHasSBR) the decoder
// outputs twice the core rate and reports HE-AAC; for a mono core it also
// assumes parametric stereo, reports HE-AACv2 and outputs 2 channels
// (aacdec's decode_extension_payload, "m4ac->ps == -1 … nb_channels == 1").
// The codec string keeps the signalled object type (mp4a.40.2), as
// players expect for implicit signalling. It reports whether it changed
// the track.
func (t *Track) SetAACFrames(frames [][]byte) bool {
	asc := t.Config.AudioSpecificConfig
	if t.Codec != CodecAAC || len(asc) < 2 || len(frames) == 0 {
		return false
	}
	cfg, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(asc))
	if err != nil || cfg.SBRPresentFlag || cfg.PSPresentFlag {
		return false
	}
	if aot := cfg.ObjectType; aot < 1 || aot > 4 {
		return false
	}
	if _, ok := ascSyncExtension(asc, cfg.ChannelConfiguration); ok {
		return false // signalled explicitly, either way
	}
	if !bitstream.AACStreamHasSBR(frames) {
		return false
	}
	t.SampleRate = 2 * cfg.SamplingFrequency
	t.Profile = "HE-AAC"
	if t.Channels == 1 {
		t.Profile, t.Channels = "HE-AACv2", 2
		t.ChannelLayout = aacLayout(2)
	}
	t.FrameSize = 2048
	return true
}

// ascExt is what the sync extension of an AudioSpecificConfig says.
type ascExt struct {
	sbr  bool
	ps   int // -1 not signalled, 0 or 1
	rate int // extension (SBR output) sampling rate
}

// ascSyncExtension reads the backward-compatible SBR/PS signalling at
// the end of an AAC-LC AudioSpecificConfig (ISO/IEC 14496-3 1.6.5.2:
// syncExtensionType 0x2b7, extensionAudioObjectType 5, sbrPresentFlag,
// extensionSamplingFrequencyIndex, then 0x548 and psPresentFlag), as
// libavcodec's ff_mpeg4audio_get_config does. ok is false when there is
// none (or a program_config_element, which it does not walk, precedes it).
func ascSyncExtension(asc []byte, chanConfig byte) (x ascExt, ok bool) {
	pos, n := 0, len(asc)*8
	read := func(bits int) (v int) {
		for i := 0; i < bits; i++ {
			v <<= 1
			if pos < n && asc[pos/8]&(0x80>>(pos%8)) != 0 {
				v |= 1
			}
			pos++
		}
		return v
	}
	rate := func() int {
		if i := read(4); i == 15 {
			return read(24)
		} else if i < len(aacRates) {
			return aacRates[i]
		}
		return 0
	}
	if chanConfig == 0 || read(5) != 2 {
		return x, false
	}
	rate()
	read(4) // channelConfiguration
	// GASpecificConfig: frameLengthFlag, dependsOnCoreCoder
	// (coreCoderDelay), extensionFlag (0 for LC).
	read(1)
	if read(1) == 1 {
		read(14)
	}
	read(1)
	if n-pos < 16 || read(11) != 0x2b7 || read(5) != 5 {
		return x, false
	}
	x.ps = -1
	if x.sbr = read(1) == 1; x.sbr {
		x.rate = rate()
		if n-pos >= 12 && read(11) == 0x548 {
			x.ps = read(1)
		}
	}
	return x, pos <= n
}

// aacRates are the sampling frequencies of samplingFrequencyIndex.
var aacRates = []int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aacLayout returns ffprobe's layout name for an AAC channel count
// (channel_configuration 1..6, 8 channels for configuration 7).
func aacLayout(ch int) string {
	return map[int]string{1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "5.1", 8: "7.1(wide)"}[ch]
}

// ac3Layout maps an AC-3 audio coding mode (acmod) and LFE flag to the
// channel count and ffprobe's layout name.
func ac3Layout(acmod byte, lfe bool) (int, string) {
	type l struct {
		n    int
		name string
	}
	base := []l{{2, "stereo"}, {1, "mono"}, {2, "stereo"}, {3, "3.0"}, {3, "3.0(back)"}, {4, "4.0"}, {4, "quad(side)"}, {5, "5.0(side)"}}[acmod&7]
	if !lfe {
		return base.n, base.name
	}
	withLFE := map[byte]string{1: "mono+LFE", 0: "2.1", 2: "2.1", 3: "3.1", 4: "3.1(back)", 5: "4.1", 6: "quad(side)+LFE", 7: "5.1(side)"}
	return base.n + 1, withLFE[acmod&7]
}

// SetAC3 fills the track from the 3-byte body of a dac3 box
// (ETSI TS 102 366 annex F):
//
//	fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1) bit_rate_code(5) reserved(5)
func (t *Track) SetAC3(dac3 []byte) error {
	if len(dac3) < 3 {
		return fmt.Errorf("%w: dac3: %d bytes, need 3", ErrTruncated, len(dac3))
	}
	v := uint32(dac3[0])<<16 | uint32(dac3[1])<<8 | uint32(dac3[2])
	fscod := byte(v >> 22 & 3)
	acmod := byte(v >> 11 & 7)
	lfe := v>>10&1 == 1
	brc := int(v >> 5 & 31)
	t.Kind, t.Codec = KindAudio, CodecAC3
	if t.CodecTag == "" {
		t.CodecTag = "ac-3"
	}
	t.CodecString = "ac-3"
	t.Config.Record = dac3
	t.SampleRate = bitstream.AC3SampleRates[fscod]
	t.Channels, t.ChannelLayout = ac3Layout(acmod, lfe)
	if kbps := bitstream.AC3Bitrate(brc); kbps > 0 && t.Bitrate == 0 {
		t.Bitrate = int64(kbps) * 1000
	}
	t.SampleFormat = "fltp"
	t.FrameSize = 1536
	t.LevelIDC = -99
	return nil
}

// SetAC3Info fills an AC-3 or E-AC-3 track from values read from a
// syncframe header (MPEG-TS carries no dac3/dec3).
func (t *Track) SetAC3Info(codec Codec, sampleRate int, acmod byte, lfe bool, bitrate int64) {
	t.Kind, t.Codec = KindAudio, codec
	t.CodecString = "ac-3"
	if codec == CodecEAC3 {
		t.CodecString = "ec-3"
	}
	t.SampleRate = sampleRate
	t.Channels, t.ChannelLayout = ac3Layout(acmod, lfe)
	if bitrate > 0 && t.Bitrate == 0 {
		t.Bitrate = bitrate
	}
	t.SampleFormat = "fltp"
	t.FrameSize = 1536
	t.LevelIDC = -99
}

// SetEAC3 fills the track from the body of a dec3 box (ETSI TS 102 366
// annex F), using its first independent substream:
//
//	data_rate(13) num_ind_sub(3) { fscod(2) bsid(5) reserved(1) asvc(1)
//	bsmod(3) acmod(3) lfeon(1) reserved(3) num_dep_sub(4) [chan_loc(9)|reserved(1)] }
func (t *Track) SetEAC3(dec3 []byte) error {
	if len(dec3) < 5 {
		return fmt.Errorf("%w: dec3: %d bytes, need at least 5", ErrTruncated, len(dec3))
	}
	dataRate := int64(dec3[0])<<5 | int64(dec3[1]>>3)
	fscod := dec3[2] >> 6
	acmod := dec3[3] >> 1 & 7
	lfe := dec3[3]&1 == 1
	t.Kind, t.Codec = KindAudio, CodecEAC3
	if t.CodecTag == "" {
		t.CodecTag = "ec-3"
	}
	t.CodecString = "ec-3"
	t.Config.Record = dec3
	t.SampleRate = bitstream.AC3SampleRates[fscod]
	t.Channels, t.ChannelLayout = ac3Layout(acmod, lfe)
	if t.Bitrate == 0 {
		t.Bitrate = dataRate * 1000
	}
	t.SampleFormat = "fltp"
	t.FrameSize = 1536
	t.LevelIDC = -99
	return nil
}

// SetOpus fills the track from the body of a dOps box (Opus in ISOBMFF
// §4.3.2): version(8) OutputChannelCount(8) PreSkip(16) InputSampleRate(32)
// OutputGain(16) ChannelMappingFamily(8) [mapping table].
func (t *Track) SetOpus(dOps []byte) error {
	if len(dOps) < 11 {
		return fmt.Errorf("%w: dOps: %d bytes, need at least 11", ErrTruncated, len(dOps))
	}
	t.Kind, t.Codec = KindAudio, CodecOpus
	if t.CodecTag == "" {
		t.CodecTag = "Opus"
	}
	t.CodecString = "opus"
	t.Config.Record = dOps
	t.Channels = int(dOps[1])
	t.ChannelLayout = map[int]string{1: "mono", 2: "stereo"}[t.Channels]
	// Opus always decodes at 48 kHz; InputSampleRate is informational.
	t.SampleRate = 48000
	t.SampleFormat = "fltp"
	t.LevelIDC = -99
	return nil
}

// mpeg2FrameRates are frame_rate_code's rates (ISO/IEC 13818-2 table 6-4).
var mpeg2FrameRates = [16]Rational{
	{}, {Num: 24000, Den: 1001}, {Num: 24, Den: 1}, {Num: 25, Den: 1}, {Num: 30000, Den: 1001},
	{Num: 30, Den: 1}, {Num: 50, Den: 1}, {Num: 60000, Den: 1001}, {Num: 60, Den: 1},
}

// mpeg2Aspects are the display aspect ratios of aspect_ratio_information
// (1 is square samples), libavcodec's ff_mpeg2_aspect.
var mpeg2Aspects = [5]Rational{{0, 1}, {1, 1}, {4, 3}, {16, 9}, {221, 100}}

// SetMPEG2Video fills the track from an MPEG-1/2 video sequence header
// and the extensions that follow it (ISO/IEC 13818-2 6.2.2), each
// starting with its start code value (0xB3, 0xB5) without the 00 00 01
// prefix. Without a sequence_extension the stream is MPEG-1 (codec
// mpeg1video, as libavcodec's mpegvideo parser names a stream whose
// sequence header no extension follows; MPEG-TS stream type 0x01 and
// 0x02 alike) and only the size, frame rate and range are set. The values are libavcodec's mpeg12dec's:
// profile and level from profile_and_level_indication, has_b_frames 1
// unless low_delay, the sample aspect ratio derived from the display
// aspect ratio, limited colour range, and the colour description of a
// sequence_display_extension.
func (t *Track) SetMPEG2Video(seq []byte, exts [][]byte) error {
	if len(seq) < 8 || seq[0] != 0xB3 {
		return fmt.Errorf("%w: mpeg2video: sequence header of %d bytes", ErrCorrupt, len(seq))
	}
	t.Kind, t.Codec = KindVideo, CodecMPEG2Video
	w := int(seq[1])<<4 | int(seq[2])>>4
	h := int(seq[2]&0x0f)<<8 | int(seq[3])
	aspect := int(seq[4] >> 4)
	rate := mpeg2FrameRates[seq[4]&0x0f]
	t.PixelFormat = "yuv420p"
	var dispW, dispH int
	mpeg2 := false
	for _, e := range exts {
		if len(e) < 2 || e[0] != 0xB5 {
			continue
		}
		switch e[1] >> 4 {
		case 1: // sequence_extension
			if len(e) < 7 {
				continue
			}
			mpeg2 = true
			pl := int(e[1]&0x0f)<<4 | int(e[2]>>4)
			profile := pl >> 4 & 7
			t.Profile = [8]string{"4:2:2", "High", "Spatially Scalable", "SNR Scalable", "Main", "Simple"}[profile]
			t.LevelIDC = pl & 0x0f
			t.PixelFormat = [4]string{"", "yuv420p", "yuv422p", "yuv444p"}[e[2]>>1&3]
			w |= (int(e[2]&1)<<1 | int(e[3]>>7)) << 12
			h |= int(e[3]>>5&3) << 12
			t.Interlaced = e[2]&0x08 == 0 // !progressive_sequence
			t.Reorder = 1
			if e[6]&0x80 != 0 { // low_delay
				t.Reorder = 0
			}
			if n, d := int64(e[6]>>5&3), int64(e[6]&0x1f); rate.Den > 0 && (n > 0 || d > 0) {
				rate = Rational{rate.Num * (n + 1), rate.Den * (d + 1)}.Reduce()
			}
		case 2: // sequence_display_extension
			b := e[1:]
			if b[0]&1 != 0 { // colour_description
				if len(b) < 8 {
					continue
				}
				t.Color.Described = true
				t.Color.Primaries, t.Color.Transfer, t.Color.Matrix = int(b[1]), int(b[2]), int(b[3])
				b = b[3:]
			}
			if len(b) >= 5 {
				dispW = int(b[1])<<6 | int(b[2]>>2)
				dispH = int(b[2]&1)<<13 | int(b[3])<<5 | int(b[4]>>3)
			}
		}
	}
	t.Width, t.Height = w, h
	t.FrameRate = rate
	t.BitDepth = 8
	// mpeg12dec's init sets the limited range for MPEG-1 and MPEG-2
	// alike; no header changes it.
	t.Color.Range = 1
	if !mpeg2 {
		// mpeg1_decode_sequence: no low_delay flag in MPEG-1, so one
		// frame of reorder delay; aspect_ratio_information is a pixel
		// aspect ratio (ff_mpeg1_aspect), 1 meaning square. The other
		// codes are heights-over-widths like 0.6735, which libavcodec
		// turns into a fraction with av_d2q(1/x, 255); they are left
		// unset here rather than approximated differently.
		t.Codec = CodecMPEG1Video
		t.Reorder = 1
		// mpeg1_decode_sequence reads bit_rate (18 bits, units of 400
		// bit/s) into the decoder context, and ffprobe prints it over the
		// container's figure, the VBR marker 0x3FFFF (104,857,200) too.
		// MPEG-2's decoder does not export it.
		t.Bitrate = int64(seq[5])<<10 | int64(seq[6])<<2 | int64(seq[7])>>6
		t.Bitrate *= 400
		if aspect == 1 {
			t.SampleAspect = Rational{1, 1}
		}
		return nil
	}
	switch {
	case aspect == 1:
		t.SampleAspect = Rational{1, 1}
	case aspect > 1 && aspect < len(mpeg2Aspects) && w > 0 && h > 0:
		// libavcodec: DAR over the picture (or the display size when a
		// display extension gives one that makes 4:3 or 16:9 sense).
		dar := mpeg2Aspects[aspect]
		sar := Rational{dar.Num * int64(h), dar.Den * int64(w)}
		if dispW > 0 && dispH > 0 {
			d := Rational{dar.Num * int64(dispH) * int64(w), dar.Den * int64(dispW) * int64(h)}.Reduce()
			if d == (Rational{4, 3}) || d == (Rational{16, 9}) {
				sar = Rational{dar.Num * int64(dispH), dar.Den * int64(dispW)}
			}
		}
		t.SampleAspect = sar.Reduce()
	}
	return nil
}

// SetMPEGAudioFrame fills the track from the header of an MPEG-1/2/2.5
// audio frame (Layer I, II or III): codec mp1, mp2 or mp3, rate, channels,
// nominal bit rate, and ffprobe's sample_fmt (libavcodec's float decoders
// come first: fltp for every layer).
func (t *Track) SetMPEGAudioFrame(b []byte) error {
	m := bitstream.ParseMPEGAudio(b)
	if m.Layer == 0 {
		return fmt.Errorf("%w: no MPEG audio frame header", ErrCorrupt)
	}
	t.Kind = KindAudio
	t.Codec = [4]Codec{"", "mp1", CodecMP2, CodecMP3}[m.Layer]
	t.SampleRate = m.Rate
	t.Channels, t.ChannelLayout = 2, "stereo"
	if m.Mono {
		t.Channels, t.ChannelLayout = 1, "mono"
	}
	t.Bitrate = int64(m.Bitrate) * 1000
	t.FrameSize = m.Samples
	t.SampleFormat = "fltp"
	t.LevelIDC = -99
	// RFC 6381: MP3 as HLS names it (mp4a.40.34, or the MPEG-1 audio
	// objectTypeIndication 0x6B); Layers I and II by their
	// objectTypeIndication, 0x6B for MPEG-1 and 0x69 for MPEG-2 LSF. An
	// MP4 esds keeps its own objectTypeIndication.
	if t.CodecString == "" || t.CodecTag != "mp4a" {
		switch {
		case m.Layer == 3 && m.MPEG2:
			t.CodecString = "mp4a.40.34"
		case m.MPEG2:
			t.CodecString = "mp4a.69"
		default:
			t.CodecString = "mp4a.6B"
		}
	}
	return nil
}
