// Package media is streamkit's pivot model: the tracks and samples that every reader produces and every writer consumes.
//
// A container reader (package mp4, package ts) turns a file into a [Demuxer]:
// a list of [Track] descriptions plus an iterator over [Sample] records in
// file order. A sample record carries timing, size and flags but not the
// payload; the payload is read lazily with [Demuxer.ReadSample], so walking
// every sample of a multi-gigabyte file costs only the sample tables.
//
// Timestamps are integers in the track's Timescale (90 kHz for MPEG-TS,
// the mdhd timescale for MP4). PTS may be smaller than DTS (negative
// composition offsets, ISO/IEC 14496-12 ctts version 1).
//
// # Timelines
//
// Every timestamp in this package is on the container's raw (media)
// timeline: what the file stores, before any edit list. For MPEG-TS that is
// also what a player presents (33-bit PES timestamps unwrapped). For MP4 a
// player, and ffprobe, present a sample at PTS plus the track's edit-list
// shift (Track.Edits: an encoder's B-frame delay or AAC priming moved to
// zero, an empty edit's delay added): see mp4.EditShift and
// gop.PresentationShift. Packages that work on the presentation timeline
// say so in their types' docs (gop.Frame is edit-shifted).
//
// Formats register themselves by magic bytes with [RegisterFormat], the way
// image formats do in Go's standard library; [Open] sniffs the first bytes
// and dispatches, and [Probe] reads headers only.
package media

import (
	"errors"
	"fmt"
	"iter"
	"math"
)

// Kind is the kind of elementary stream a track carries.
type Kind int

// Track kinds. The string forms match ffprobe's codec_type.
const (
	KindUnknown Kind = iota
	KindVideo
	KindAudio
	KindSubtitle
	KindData
)

func (k Kind) String() string {
	switch k {
	case KindVideo:
		return "video"
	case KindAudio:
		return "audio"
	case KindSubtitle:
		return "subtitle"
	case KindData:
		return "data"
	}
	return "unknown"
}

// Codec names a coding format. The values are ffprobe's codec_name strings,
// so a Codec can be printed where ffprobe prints codec_name.
type Codec string

// Codecs streamkit knows by name.
const (
	CodecUnknown    Codec = ""
	CodecH264       Codec = "h264"
	CodecHEVC       Codec = "hevc"
	CodecAV1        Codec = "av1"
	CodecVP9        Codec = "vp9"
	CodecMPEG1Video Codec = "mpeg1video"
	CodecMPEG2Video Codec = "mpeg2video"
	CodecMPEG4Video Codec = "mpeg4"
	CodecAAC        Codec = "aac"
	CodecAC3        Codec = "ac3"
	CodecEAC3       Codec = "eac3"
	CodecOpus       Codec = "opus"
	CodecMP2        Codec = "mp2"
	CodecMP3        Codec = "mp3"
	CodecSCTE35     Codec = "scte_35"
)

// Rational is a fraction such as a frame rate (30000/1001) or a sample
// aspect ratio (1/1). The zero value means "unknown".
type Rational struct {
	Num, Den int64
}

// Float returns Num/Den, or 0 when Den is 0.
func (r Rational) Float() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// IsZero reports whether r is unknown (0/0 or n/0).
func (r Rational) IsZero() bool { return r.Den == 0 }

// String formats r as ffprobe does ("30000/1001"); unknown is "0/0".
func (r Rational) String() string { return fmt.Sprintf("%d/%d", r.Num, r.Den) }

// Reduce returns r in lowest terms with a positive denominator.
func (r Rational) Reduce() Rational {
	if r.Den == 0 {
		return r
	}
	if r.Den < 0 {
		r.Num, r.Den = -r.Num, -r.Den
	}
	g := gcd(abs64(r.Num), r.Den)
	if g > 1 {
		r.Num /= g
		r.Den /= g
	}
	return r
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// CodecConfig is the out-of-band decoder configuration of a track, kept in
// its raw, parsed-enough form so that writers can rebuild sample entries.
type CodecConfig struct {
	// VPS, SPS and PPS are the parameter-set NAL units (without start codes
	// or length prefixes) of H.264 and HEVC tracks. VPS is HEVC only.
	VPS, SPS, PPS [][]byte
	// NALLengthSize is the size of the length prefix in front of each NAL
	// unit of a sample (1, 2 or 4) for length-prefixed (MP4) H.264/HEVC
	// samples; 0 means the samples are in Annex B byte-stream format.
	NALLengthSize int
	// AudioSpecificConfig is the MPEG-4 AudioSpecificConfig of an AAC track.
	AudioSpecificConfig []byte
	// Record is the raw body of the codec's configuration box as found in
	// the sample entry: avcC, hvcC, av1C, dac3, dec3 or dOps. Writers prefer
	// it when present; it may be nil for tracks read from MPEG-TS.
	Record []byte
}

// Edit is one entry of an edit list (ISO/IEC 14496-12 elst): a span of
// the presentation timeline (Duration, in the movie timescale) mapped to
// media time MediaTime (in the track's timescale); MediaTime -1 is an
// empty edit (a gap).
type Edit struct {
	Duration  int64
	MediaTime int64
	RateInt   int16
	RateFrac  int16
}

// Track describes one elementary stream.
type Track struct {
	// ID is the MP4 track_ID or the MPEG-TS elementary PID.
	ID int
	// Index is the zero-based position among the file's tracks, as
	// ffprobe numbers streams.
	Index int
	// Program is the MPEG-TS program_number (0 for MP4).
	Program int

	Kind  Kind
	Codec Codec
	// CodecString is the RFC 6381 "codecs" parameter, e.g. "avc1.64001f",
	// "hvc1.1.6.L93.B0", "mp4a.40.2", "av01.0.04M.08", "ac-3", "ec-3", "opus".
	CodecString string
	// CodecTag is the four-character sample entry (avc1, hev1, mp4a …) for
	// MP4, or the ffprobe codec_tag_string for other containers.
	CodecTag string
	// Profile and Level are human-readable names as ffprobe prints them
	// ("High", "Main 10", "LC"); LevelIDC is the numeric level (31 for 3.1
	// in H.264, 93 for 3.1 in HEVC), -99 when not applicable.
	Profile  string
	LevelIDC int

	// Timescale is the number of timestamp ticks per second.
	Timescale uint32
	// StartDTS and StartPTS are the timestamps of the first sample in
	// decode order and the smallest presentation timestamp, on the raw
	// timeline (before the edit list, like Sample's).
	StartDTS, StartPTS int64
	// Duration is the track duration in Timescale units (the mdhd
	// duration for MP4, last-minus-first plus one sample for TS).
	Duration int64
	// Edits is the MP4 edit list, nil when absent. MovieTimescale is the
	// timescale of Edit.Duration.
	Edits          []Edit
	MovieTimescale uint32

	// SampleCount and Bytes are the number of samples and their total
	// payload size, known without reading payloads for MP4 files; -1 when
	// a reader could only learn them by scanning.
	SampleCount int64
	Bytes       int64
	// Bitrate in bits per second as declared by the container (btrt,
	// esds avgBitrate); 0 when absent. Probe computes one from Bytes.
	Bitrate int64

	Config CodecConfig

	// Video.
	Width, Height int
	SampleAspect  Rational // pixel (sample) aspect ratio; zero when unknown
	FrameRate     Rational // nominal frame rate; zero when unknown or variable
	Rotation      int      // display rotation in degrees, counter-clockwise as ffprobe reports it (-90, 90, 180)
	Interlaced    bool
	PixelFormat   string // ffprobe pix_fmt, e.g. "yuv420p"; "" when unknown
	BitDepth      int

	// Audio.
	SampleRate    int
	Channels      int
	ChannelLayout string // ffprobe's name: "mono", "stereo", "5.1(side)"
	SampleFormat  string // ffprobe sample_fmt, e.g. "fltp"
	FrameSize     int    // samples per audio frame (1024 for AAC)

	// Language is an ISO 639-2/T code ("eng"), "" or "und" when unknown.
	Language string

	// Signal and stream metadata, as ffprobe reports them (see stream.go).
	Color Color
	// CodedWidth and CodedHeight are the decoded picture size before
	// cropping as libavcodec reports it (HEVC: the SPS luma size; H.264 and
	// AV1: the display size); 0 when unknown.
	CodedWidth, CodedHeight int
	// Reorder is the number of frames a decoder holds back before output
	// (H.264 max_num_reorder_frames, HEVC sps_max_num_reorder_pics, MPEG-2
	// 1 unless low_delay): ffprobe's has_b_frames.
	Reorder int
	// FieldOrder is ffprobe's field_order: "progressive", "tt", "bb",
	// "tb", "bt"; "" when unknown.
	FieldOrder string
	// ContainerColor and ContainerFieldOrder are what the container
	// itself signals (an MP4 colr or fiel box), before any codec
	// configuration replaces them: ffprobe reports these for an H.264
	// stream it has no frame of to decode (an init segment), because
	// libavcodec's h264 decoder exports nothing from the avcC alone.
	ContainerColor      Color
	ContainerFieldOrder string
	// Disposition flags (MP4 tkhd enabled, MPEG-TS audio_type).
	Disposition Disposition
	// Tags are the stream metadata ffprobe prints under "tags" besides
	// language, in the order libavformat sets them (creation_time,
	// handler_name, vendor_id, encoder, ...).
	Tags []Tag
}

// Seconds converts t ticks of the track's timescale to seconds.
func (t *Track) Seconds(ticks int64) float64 {
	if t.Timescale == 0 {
		return 0
	}
	return float64(ticks) / float64(t.Timescale)
}

// Sample is one access unit: a video frame or an audio frame (or, for MP4,
// whatever the track stores as one sample).
type Sample struct {
	// TrackID matches Track.ID.
	TrackID int
	// Index is the sample's zero-based decode-order position in its track.
	Index int64
	// DTS and PTS are decode and presentation timestamps in the track's
	// timescale, on the container's raw timeline: for MP4, the sample
	// table's DTS and PTS = DTS + composition offset, before the edit list
	// (a player shows the sample at PTS + mp4.EditShift(track)); for
	// MPEG-TS, the unwrapped PES timestamps (see "Timelines" above).
	DTS, PTS int64
	// Duration in the track's timescale (0 when unknown).
	Duration uint32
	// Size of the payload in bytes.
	Size uint32
	// Offset is the byte position of the payload in the source when it is
	// stored contiguously (MP4); -1 when it is not (MPEG-TS PES payloads
	// are scattered across packets).
	Offset int64
	// Sync marks a random-access point (stss / sample_is_non_sync_sample
	// clear / random_access_indicator or a key frame for TS).
	Sync bool
	// Data holds the payload when the reader had to assemble it anyway
	// (MPEG-TS). It is only valid until the iterator advances; nil for MP4.
	Data []byte
	// Pos is where the sample was found: the byte offset of the first TS
	// packet of the PES, or of the sample in MP4. Used in error messages.
	Pos int64
}

// CTO returns the composition time offset PTS-DTS.
func (s *Sample) CTO() int64 { return s.PTS - s.DTS }

// Demuxer is implemented by every container reader.
type Demuxer interface {
	// Format returns the registered format name ("mp4", "mpegts").
	Format() string
	// Tracks returns the file's tracks in stream-index order.
	Tracks() []*Track
	// Samples iterates over all samples of all tracks in file order
	// (decode order within each track). Iteration stops at the first error,
	// which is yielded with a zero Sample.
	Samples() iter.Seq2[Sample, error]
	// ReadSample returns the payload of s, reusing buf when it is large
	// enough. For samples whose Data is set it returns Data.
	ReadSample(s *Sample, buf []byte) ([]byte, error)
}

// TrackSamples filters d.Samples() to one track.
func TrackSamples(d Demuxer, trackID int) iter.Seq2[Sample, error] {
	return func(yield func(Sample, error) bool) {
		for s, err := range d.Samples() {
			if err != nil {
				yield(Sample{}, err)
				return
			}
			if s.TrackID != trackID {
				continue
			}
			if !yield(s, nil) {
				return
			}
		}
	}
}

// Errors shared by the readers. Readers wrap them with position details;
// test with errors.Is.
var (
	// ErrFormat means the input is not in any registered format.
	ErrFormat = errors.New("media: unknown format")
	// ErrTruncated means the input ended inside a structure.
	ErrTruncated = errors.New("media: truncated input")
	// ErrCorrupt means a structure holds impossible values.
	ErrCorrupt = errors.New("media: corrupt input")
	// ErrUnsupported means a valid feature streamkit does not handle.
	ErrUnsupported = errors.New("media: unsupported")
)

// PosError locates a parse error: what was being read and at which byte
// offset. Its Err is typically one of the package sentinels, so
// errors.Is(err, media.ErrTruncated) works through it.
type PosError struct {
	Format string // "mp4", "mpegts"
	Offset int64  // byte offset in the input
	What   string // box path ("moov/trak[1]/mdia/minf/stbl/stsz") or "packet 1234 (PID 256)"
	Err    error
}

func (e *PosError) Error() string {
	return fmt.Sprintf("%s: %s at byte %d: %v", e.Format, e.What, e.Offset, e.Err)
}

func (e *PosError) Unwrap() error { return e.Err }

// Ticks converts seconds to ticks of timescale, rounding to nearest.
func Ticks(seconds float64, timescale uint32) int64 {
	return int64(math.Round(seconds * float64(timescale)))
}
