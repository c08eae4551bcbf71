package probe

import (
	"strconv"
	"strings"

	"github.com/streamkit-go/streamkit/media"
)

// Format describes the container, as ffprobe's "format" section.
type Format struct {
	Filename string
	// Container is streamkit's registered format name ("mp4", "mpegts");
	// Name and LongName are ffprobe's format_name and format_long_name.
	Container      string
	Name, LongName string
	NbStreams      int
	NbPrograms     int
	// StartTime and Duration are in microseconds (ffprobe's AV_TIME_BASE),
	// [Unknown] when not known.
	StartTime, Duration int64
	// Size of the input in bytes; BitRate is Size*8 over Duration, -1
	// when the duration is unknown.
	Size, BitRate int64
	ProbeScore    int
	// Tags are the container tags ffprobe prints (major_brand,
	// minor_version, compatible_brands for MP4).
	Tags map[string]string
}

// Stream describes one elementary stream, as an entry of ffprobe's
// "streams" array. Timestamps are in TimeBase units.
type Stream struct {
	Index   int
	ID      int // MP4 track_ID or MPEG-TS PID
	Program int // MPEG-TS program_number, 0 for MP4

	CodecName     string
	CodecLongName string
	Profile       string
	CodecType     string
	// CodecTagString and CodecTag are the four-character code, as ffprobe
	// prints it ("avc1", "[27][0][0][0]") and as a little-endian number.
	CodecTagString string
	CodecTag       uint32
	// CodecString is the RFC 6381 codecs parameter ("avc1.64000d").
	CodecString string

	// Video.
	Width, Height      int
	SampleAspectRatio  media.Rational
	DisplayAspectRatio media.Rational
	PixFmt             string
	Level              int
	Rotation           int // degrees as ffprobe's display matrix side data; 0 when none
	Interlaced         bool
	// CodedWidth and CodedHeight are the picture size before cropping
	// as the decoder reports it (HEVC pads to the coding block size).
	CodedWidth, CodedHeight int
	// HasBFrames is ffprobe's has_b_frames: the decoder's reorder depth.
	HasBFrames int
	// ColorRange, ColorSpace, ColorTransfer and ColorPrimaries are
	// ffprobe's names ("tv", "bt709"); "" when not signalled.
	ColorRange, ColorSpace, ColorTransfer, ColorPrimaries string
	// FieldOrder is "progressive", "tt", "bb", "tb" or "bt"; "" unknown.
	FieldOrder string
	// BitsPerRawSample is the decoded sample depth where the decoder
	// exports it (H.264); 0 otherwise.
	BitsPerRawSample int
	// NALLengthSize is the size of the NAL unit length prefix of H.264 and
	// HEVC samples in MP4 (1, 2 or 4); 0 for Annex B (MPEG-TS).
	NALLengthSize int

	// Audio.
	SampleFmt     string
	SampleRate    int
	Channels      int
	ChannelLayout string

	RFrameRate   media.Rational // ffprobe r_frame_rate: the base rate all timestamps fit
	AvgFrameRate media.Rational // frames over duration
	TimeBase     media.Rational
	// StartPTS and DurationTS are in TimeBase units, [Unknown] when not
	// known. StartPTS is on the presentation timeline, as ffprobe's
	// start_pts: for MP4 the edit list's shift is applied (media.Sample's
	// timestamps are raw).
	StartPTS   int64
	DurationTS int64
	BitRate    int64 // bits per second, -1 when unknown
	NbFrames   int64 // -1 when the container does not say (MPEG-TS, fragments)
	Language   string
	// Disposition is ffprobe's disposition object as flags.
	Disposition media.Disposition
	// Tags are the stream tags after language, in ffprobe's order
	// (creation_time, handler_name, vendor_id, encoder).
	Tags []media.Tag
}

// StartTime returns the stream start in seconds (0 when Unknown).
func (s *Stream) StartTime() float64 { return ticksSeconds(s.StartPTS, s.TimeBase) }

// Duration returns the stream duration in seconds (0 when Unknown).
func (s *Stream) Duration() float64 { return ticksSeconds(s.DurationTS, s.TimeBase) }

func ticksSeconds(v int64, tb media.Rational) float64 {
	if v == Unknown || tb.Den == 0 {
		return 0
	}
	return float64(v) * float64(tb.Num) / float64(tb.Den)
}

// codecLongNames are ffprobe's codec_long_name strings.
var codecLongNames = map[media.Codec]string{
	media.CodecH264:       "H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10",
	media.CodecHEVC:       "H.265 / HEVC (High Efficiency Video Coding)",
	media.CodecAV1:        "Alliance for Open Media AV1",
	media.CodecVP9:        "Google VP9",
	media.CodecMPEG1Video: "MPEG-1 video",
	media.CodecMPEG2Video: "MPEG-2 video",
	media.CodecMPEG4Video: "MPEG-4 part 2",
	media.CodecAAC:        "AAC (Advanced Audio Coding)",
	media.CodecAC3:        "ATSC A/52A (AC-3)",
	media.CodecEAC3:       "ATSC A/52B (AC-3, E-AC-3)",
	media.CodecOpus:       "Opus (Opus Interactive Audio Codec)",
	media.CodecMP2:        "MP2 (MPEG audio layer 2)",
	media.CodecMP3:        "MP3 (MPEG audio layer 3)",
	media.CodecSCTE35:     "SCTE 35 Message Queue",
	"aac_latm":            "AAC LATM (Advanced Audio Coding LATM syntax)",
	"timed_id3":           "timed ID3 metadata",
	"klv":                 "SMPTE 336M Key-Length-Value (KLV) metadata",
	"eia_608":             "EIA-608 closed captions",
	"bin_data":            "binary data",
	"vp8":                 "On2 VP8",
	"mjpeg":               "Motion JPEG",
	"flac":                "FLAC (Free Lossless Audio Codec)",
	"vorbis":              "Vorbis",
	"mov_text":            "MOV text",
	"dvb_subtitle":        "DVB subtitles",
	"dvb_teletext":        "DVB teletext",
}

// newStream fills the fields every container shares from a track.
func newStream(t *media.Track) Stream {
	s := Stream{
		Index:          t.Index,
		ID:             t.ID,
		Program:        t.Program,
		CodecName:      string(t.Codec),
		CodecLongName:  codecLongNames[t.Codec],
		Profile:        t.Profile,
		CodecType:      t.Kind.String(),
		CodecString:    t.CodecString,
		Width:          t.Width,
		Height:         t.Height,
		PixFmt:         t.PixelFormat,
		Level:          t.LevelIDC,
		Rotation:       t.Rotation,
		Interlaced:     t.Interlaced,
		NALLengthSize:  t.Config.NALLengthSize,
		SampleFmt:      t.SampleFormat,
		SampleRate:     t.SampleRate,
		Channels:       t.Channels,
		ChannelLayout:  t.ChannelLayout,
		StartPTS:       Unknown,
		DurationTS:     Unknown,
		BitRate:        -1,
		NbFrames:       -1,
		Language:       t.Language,
		CodedWidth:     t.CodedWidth,
		CodedHeight:    t.CodedHeight,
		HasBFrames:     t.Reorder,
		ColorRange:     t.Color.RangeName(),
		ColorSpace:     t.Color.SpaceName(),
		ColorTransfer:  t.Color.TransferName(),
		ColorPrimaries: t.Color.PrimariesName(),
		FieldOrder:     t.FieldOrder,
		Disposition:    t.Disposition,
		Tags:           t.Tags,
		SampleAspectRatio: func() media.Rational {
			if t.SampleAspect.Num > 0 && t.SampleAspect.Den > 0 {
				return t.SampleAspect.Reduce()
			}
			return media.Rational{}
		}(),
	}
	if t.Codec == media.CodecUnknown {
		s.CodecName = ""
	}
	if s.CodedWidth == 0 && s.CodedHeight == 0 && t.Kind == media.KindVideo && t.Codec != media.CodecUnknown && t.Codec != media.CodecMPEG2Video && t.Codec != media.CodecMPEG1Video {
		// ffprobe prints coded_width/height from its own decoder context:
		// avcodec_open2 sets them to width/height (ff_set_dimensions)
		// unless the decoder's init says otherwise, which the codec
		// setters in media record (HEVC: the SPS luma size). mpeg12dec's
		// init zeroes them ("do not trust dimensions from input").
		s.CodedWidth, s.CodedHeight = t.Width, t.Height
	}
	if (t.Codec == media.CodecMPEG2Video || t.Codec == media.CodecMPEG1Video) && s.ColorRange == "" {
		// A stream whose sequence header was never seen (a short TS
		// cut): ffprobe still opens mpeg12dec, whose init sets the
		// limited range media.Track.SetMPEG2Video gives every header.
		s.ColorRange = media.Color{Range: 1}.RangeName()
	}
	if t.Codec == media.CodecH264 && t.BitDepth > 0 {
		s.BitsPerRawSample = t.BitDepth
	}
	s.CodecTagString, s.CodecTag = parseTag(t.CodecTag)
	if s.SampleAspectRatio.Den > 0 && s.Width > 0 && s.Height > 0 {
		s.DisplayAspectRatio = avReduce(int64(s.Width)*s.SampleAspectRatio.Num, int64(s.Height)*s.SampleAspectRatio.Den, 1024*1024)
	}
	if t.Timescale > 0 {
		s.TimeBase = media.Rational{Num: 1, Den: int64(t.Timescale)}
	}
	return s
}

// parseTag turns a four-character code, possibly in ffprobe's notation
// for unprintable bytes ("[27][0][0][0]"), into ffprobe's
// codec_tag_string and the little-endian codec_tag number.
func parseTag(tag string) (string, uint32) {
	var b []byte
	for i := 0; i < len(tag) && len(b) < 4; i++ {
		if tag[i] == '[' {
			if j := strings.IndexByte(tag[i:], ']'); j > 0 {
				if v, err := strconv.Atoi(tag[i+1 : i+j]); err == nil && v >= 0 && v < 256 {
					b = append(b, byte(v))
					i += j
					continue
				}
			}
		}
		b = append(b, tag[i])
	}
	for len(b) < 4 {
		b = append(b, 0)
	}
	v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	return media.FourCCString(b), v
}

// avReduce is libavutil's av_reduce: the best rational approximation of
// num/den whose numerator and denominator do not exceed max.
func avReduce(num, den, max int64) media.Rational {
	if den == 0 {
		return media.Rational{}
	}
	sign := (num < 0) != (den < 0)
	num, den = abs(num), abs(den)
	g := gcd(num, den)
	if g > 0 {
		num /= g
		den /= g
	}
	a0 := [2]int64{0, 1}
	a1 := [2]int64{1, 0}
	if num <= max && den <= max {
		a1 = [2]int64{num, den}
		den = 0
	}
	for den != 0 {
		x := num / den
		nextDen := num - den*x
		a2n := x*a1[0] + a0[0]
		a2d := x*a1[1] + a0[1]
		if a2n > max || a2d > max {
			if a1[0] != 0 {
				x = (max - a0[0]) / a1[0]
			}
			if a1[1] != 0 {
				x = min(x, (max-a0[1])/a1[1])
			}
			if den*(2*x*a1[1]+a0[1]) > num*a1[1] {
				a1 = [2]int64{x*a1[0] + a0[0], x*a1[1] + a0[1]}
			}
			break
		}
		a0 = a1
		a1 = [2]int64{a2n, a2d}
		num = den
		den = nextDen
	}
	if sign {
		a1[0] = -a1[0]
	}
	return media.Rational{Num: a1[0], Den: a1[1]}
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
