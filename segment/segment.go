// Package segment cuts media tracks into CMAF (or MPEG-TS) segments for HLS and DASH packaging.
//
// [Cut] takes a ladder of renditions (each a [media.Demuxer], as
// returned by mp4.NewReader or ts.NewReader), cuts every video track at
// random-access points near a target duration (4 s by default), cuts the
// audio at the same instants, writes the segments below a directory and
// returns a [Presentation]: a description of every rendition and segment
// (URI, byte range, timing, size, key-frame ranges) from which package hls
// and package dash write their manifests. One set of CMAF files serves
// both manifests.
//
// Layout of the output directory (CMAF, one file per segment):
//
//	video_360p/init.mp4      ftyp+moov, no samples (CMAF header)
//	video_360p/seg_1.m4s ... styp, then one moof+mdat per GOP
//	audio_eng/init.mp4, audio_eng/seg_1.m4s ...
//
// With [WithByteRange] each rendition is one file (init, sidx, then the
// segments), addressed with byte ranges; with [WithTS] segments are
// MPEG-TS files (seg_1.ts ...) and there is no init segment.
//
// The CMAF files are written by package mp4's CMAF fragmenter (the same
// writer as remux), MPEG-TS by package ts's writer. The source's timeline
// is kept: output media time is the source's presentation time as ffprobe
// shows it (edit lists applied) shifted so that no track starts before
// zero, and what the source hid before its time zero (B-frame delay, AAC
// priming, the pre-roll of a cut) stays before [Rendition]'s
// PresentationTimeOffset, which the CMAF header's edit list carries (once:
// the DASH MPD describes the edited timeline, see package dash). Audio-only
// inputs are packaged on their
// own, cut at their frames.
//
// Cut reads sample tables first and payloads one segment at a time, so
// memory follows the segment size, not the input's. Each input is read
// once: segment n of every rendition it feeds (its video and its audio)
// is written from one read of the stretch of the file that holds them,
// and the GOP analysis of the video runs on those same payloads. An MPEG-TS reader
// only hands payloads out while iterating: they are spooled to a
// temporary file in dir as the tables are read (removed when Cut
// returns), and read back from it like an MP4 file's.
//
// Video segment boundaries of all renditions must coincide, so that a
// player can switch between them at any segment boundary; Cut checks
// this with gop.CheckAlignment and fails with its report otherwise
// ([MisalignedError]).
package segment

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// Errors returned by Cut. Test with errors.Is.
var (
	// ErrMisaligned means the video renditions do not have random-access
	// points at the same instants; the error is a *MisalignedError
	// carrying gop.CheckAlignment's report.
	ErrMisaligned = errors.New("segment: renditions are not GOP-aligned")
	// ErrNoVideo means no input has a video track, nor an audio track to
	// package alone.
	ErrNoVideo = errors.New("segment: no video track in the inputs")
	// ErrCodec means a track's codec cannot be packaged in the requested
	// segment format.
	ErrCodec = errors.New("segment: codec not supported in this segment format")
)

// Format is the container of the media segments.
type Format int

// Segment formats.
const (
	// CMAF is fragmented MP4 (ISO/IEC 23000-19): a separate init segment
	// and .m4s media segments. Both HLS and DASH can reference it.
	CMAF Format = iota
	// TS is MPEG-2 transport stream segments (.ts), for HLS only.
	TS
)

func (f Format) String() string {
	if f == TS {
		return "ts"
	}
	return "cmaf"
}

// Naming says how segment files are named.
type Naming int

// Segment file naming schemes.
const (
	// ByNumber names segments seg_1.m4s, seg_2.m4s ... (DASH $Number$).
	ByNumber Naming = iota
	// ByTime names segments by their start time in the track timescale
	// on the presentation timeline (Rendition.PresentationTime),
	// seg_0.m4s, seg_360000.m4s ... (DASH $Time$ with SegmentTimeline).
	// MPEG-TS segments, which have no edit list, are named by media time.
	ByTime
)

// Option configures Cut.
type Option func(*config)

type config struct {
	target    time.Duration
	format    Format
	byteRange bool
	naming    Naming
}

// DefaultTargetDuration is the segment duration Cut aims at unless
// WithTargetDuration says otherwise.
const DefaultTargetDuration = 4 * time.Second

// WithTargetDuration sets the target segment duration. Segment k+1
// starts at the first random-access point at or after k×d, so with 2 s
// GOPs and d = 5 s segments last 6, 4, 6, 4... s.
func WithTargetDuration(d time.Duration) Option { return func(c *config) { c.target = d } }

// WithTS writes MPEG-TS segments instead of CMAF (HLS only).
func WithTS() Option { return func(c *config) { c.format = TS } }

// WithByteRange writes one file per rendition and addresses segments by
// byte range (HLS EXT-X-BYTERANGE, DASH SegmentBase with a sidx).
func WithByteRange() Option { return func(c *config) { c.byteRange = true } }

// WithNaming chooses the segment file names (ByNumber by default).
func WithNaming(n Naming) Option { return func(c *config) { c.naming = n } }

// Input is one source of the ladder: typically a file holding one video
// rendition, or an audio-only file.
type Input struct {
	// Name identifies the input in errors and reports (a file name).
	Name string
	// Demuxer reads the input.
	Demuxer media.Demuxer
}

// Presentation describes what Cut wrote: every rendition and segment,
// relative to the output directory. It is the model package hls and
// package dash build manifests from.
type Presentation struct {
	Format         Format
	ByteRange      bool
	Naming         Naming
	TargetDuration time.Duration
	// Duration is the presentation duration in seconds (the longest
	// rendition).
	Duration float64
	// Video renditions from lowest to highest bandwidth, then Audio
	// renditions in input order.
	Video []*Rendition
	Audio []*Rendition
}

// Renditions returns the video renditions followed by the audio ones.
func (p *Presentation) Renditions() []*Rendition {
	out := make([]*Rendition, 0, len(p.Video)+len(p.Audio))
	out = append(out, p.Video...)
	return append(out, p.Audio...)
}

// Range is a byte range [Offset, Offset+Size) of the file URI.
type Range struct {
	URI    string
	Offset int64
	Size   int64
}

// Rendition is one packaged track.
type Rendition struct {
	// ID names the rendition and its folder ("video_360p", "audio_eng").
	ID string
	// Source is the input the track came from.
	Source string
	// Track describes the source track (codec, resolution, language...).
	Track media.Track
	// Timescale of every time value below (the source track's).
	Timescale uint32
	// PresentationTimeOffset is the time (in Timescale) of the source's
	// presentation time zero on this rendition's timeline: what the
	// source hid before zero with its edit list (AAC priming, B-frame
	// delay, the pre-roll of a cut) is kept before it. The CMAF header's
	// edit list has this media_time; the DASH MPD does not repeat it as
	// presentationTimeOffset (its times are already on the edited
	// timeline, see package dash). 0 when the
	// source hid nothing. TS segments have no edit list: for them it is
	// where the first presented sample starts (the priming frame left out),
	// and only the playlist durations use it.
	PresentationTimeOffset int64
	// Init is the CMAF header (ftyp+moov); nil for TS.
	Init *Range
	// Index is the sidx box in byte-range CMAF; nil otherwise.
	Index *Range
	// ByteRange is set when every segment is a byte range of one file
	// (WithByteRange).
	ByteRange bool
	// Independent is set when every segment starts with a stream access
	// point of type 1 (ISO/IEC 14496-12 annex I): a key frame that
	// decodes on its own and is presented first, so that a player can
	// start or switch there and show it. HLS then claims
	// EXT-X-INDEPENDENT-SEGMENTS. Always set for audio.
	Independent bool
	// SAPType is the largest SAP type a segment starts with: 1 (key frame
	// presented first), 2 (closed GOP whose leading pictures are shown
	// before the key frame) or 3 (open GOP: leading pictures reference
	// the previous segment and cannot be decoded). DASH signals it as
	// startWithSAP; 0 when a segment's start was not analysed.
	SAPType int
	// Segments in presentation order.
	Segments []Segment
	// IFrames lists every key frame for I-frame playlists (video only).
	IFrames []IFrame
	// Bandwidth is the peak segment bit rate and AverageBandwidth the
	// mean bit rate over the whole rendition, in bits per second, counted
	// as HLS counts them (media segment bytes over EXTINF durations).
	Bandwidth, AverageBandwidth int64
	// Samples is the number of samples written.
	Samples int64
}

// Seconds converts ticks of the rendition's timescale to seconds.
func (r *Rendition) Seconds(ticks int64) float64 {
	return float64(ticks) / float64(r.Timescale)
}

// PresentationTime converts a media time of the rendition (a Segment's or
// IFrame's Start) to the presentation timeline, the one the CMAF header's
// edit list makes: media time minus PresentationTimeOffset, where what
// lies before zero (AAC priming, the pre-roll of a cut) starts at zero,
// since it is never presented. DASH's SegmentTimeline, $Time$ names and
// the sidx's earliest_presentation_time are on this timeline, because
// players that apply the edit list (every MSE browser) put the samples
// there; see package dash for why the offset is not signalled again.
func (r *Rendition) PresentationTime(mediaTime int64) int64 {
	return max(mediaTime-r.PresentationTimeOffset, 0)
}

// Duration returns the rendition's duration in seconds.
func (r *Rendition) Duration() float64 {
	var d int64
	for _, s := range r.Segments {
		d += s.Duration
	}
	return r.Seconds(d)
}

// Segment is one media segment.
type Segment struct {
	// Number counts from 1.
	Number int
	Range
	// Start is the composition time of the segment's first sample in
	// media time (Rendition.PresentationTime converts it to the
	// presentation timeline that DASH's SegmentTimeline and $Time$ use),
	// Duration its length, both in the rendition's timescale.
	Start, Duration int64
	// Samples in this segment.
	Samples int
}

// IFrame is one key frame inside a segment: the byte range that holds
// everything a decoder needs to show it (for CMAF: its moof, the mdat
// header and the frame; for TS: PAT, PMT and the frame's PES packets).
type IFrame struct {
	Range
	// Start and Duration (until the next key frame) in the timescale.
	Start, Duration int64
}

func (c *config) validate() error {
	if c.target < 100*time.Millisecond || c.target > 10*time.Minute {
		return fmt.Errorf("segment: target duration %v out of range (100ms..10m)", c.target)
	}
	return nil
}
