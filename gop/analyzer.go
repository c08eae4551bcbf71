package gop

import (
	"context"
	"fmt"
	"slices"

	"github.com/streamkit-go/streamkit/media"
)

// Analyzer classifies the access units of one video track, in decode
// order. It keeps the parameter sets seen so far, so samples must be fed
// in decode order. An Analyzer is not safe for concurrent use.
type Analyzer struct {
	codec      media.Codec
	lengthSize int
	h264       *h264Parser
	hevc       *hevcParser
	av1        *av1Parser
	mpeg2      mpeg2State
}

// NewAnalyzer returns an Analyzer for track t. It parses the parameter
// sets of t.Config (avcC/hvcC/av1C); in-band parameter sets in the
// samples are picked up as they come. Codecs other than H.264, HEVC, AV1,
// MPEG-1/2 and MPEG-4 Part 2 video give an error wrapping
// media.ErrUnsupported.
func NewAnalyzer(t *media.Track) (*Analyzer, error) {
	a := &Analyzer{codec: t.Codec, lengthSize: t.Config.NALLengthSize}
	var err error
	switch t.Codec {
	case media.CodecH264:
		a.h264, err = newH264Parser(&t.Config)
	case media.CodecHEVC:
		a.hevc, err = newHEVCParser(&t.Config)
	case media.CodecAV1:
		a.av1, err = newAV1Parser(&t.Config)
	case media.CodecMPEG1Video, media.CodecMPEG2Video, media.CodecMPEG4Video:
	default:
		return nil, fmt.Errorf("gop: track %d: codec %q: %w", t.ID, t.Codec, media.ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("gop: track %d: %w", t.ID, err)
	}
	return a, nil
}

// Analyze classifies one access unit: s describes the sample (timing,
// size, position) and au is its payload. Errors are *FrameError values
// naming the sample index and position; the Analyzer stays usable after
// one.
func (a *Analyzer) Analyze(s *media.Sample, au []byte) (Frame, error) {
	f := Frame{
		Index:            s.Index,
		PTS:              s.PTS,
		DTS:              s.DTS,
		Duration:         int64(s.Duration),
		Size:             len(au),
		Pos:              s.Pos,
		Sync:             s.Sync,
		RecoveryFrameCnt: -1,
		ReorderFrames:    -1,
	}
	if s.Offset >= 0 {
		f.Pos = s.Offset
	}
	var err error
	switch {
	case a.h264 != nil:
		err = a.h264.frame(au, a.lengthSize, &f)
	case a.hevc != nil:
		err = a.hevc.frame(au, a.lengthSize, &f)
	case a.av1 != nil:
		err = a.av1.frame(au, &f)
	case a.codec == media.CodecMPEG2Video || a.codec == media.CodecMPEG1Video:
		err = a.mpeg2.frame(au, &f)
	default:
		err = frameMPEG4(au, &f)
	}
	if err != nil {
		return f, &FrameError{Index: s.Index, Pos: f.Pos, Err: err}
	}
	return f, nil
}

// PresentationShift returns what ffprobe adds to a track's raw sample
// timestamps: for an MP4 edit list, the empty edits' duration minus the
// media_time of the first real edit, in the track's timescale (0 without
// an edit list and for MPEG-TS): [media.EditShift].
func PresentationShift(t *media.Track) int64 { return media.EditShift(t) }

// Option tunes [ReadFrames] and [AnalyzeTrack].
type Option func(*config)

type config struct {
	keepErrors    bool
	rawTimestamps bool
	timestamps    func(s *media.Sample) (pts, dts int64, shown bool)
}

// WithKeepErrors makes ReadFrames go on after a sample it cannot analyse:
// the frame is kept with Type "?" and the errors are returned joined after
// the frames. By default the first error stops the walk.
func WithKeepErrors() Option { return func(c *config) { c.keepErrors = true } }

// WithRawTimestamps keeps the container's timestamps (media.Sample's raw
// timeline) without the MP4 edit-list shift of [PresentationShift].
func WithRawTimestamps() Option { return func(c *config) { c.rawTimestamps = true } }

// WithTimestamps gives each sample's timestamps on the presentation
// timeline instead of [PresentationShift], and whether a player shows it;
// frames it hides get Discarded. mp4.Reader's FFprobeTimestamps supplies
// exactly ffprobe's view of an edit list. A nil fn is ignored.
func WithTimestamps(fn func(s *media.Sample) (pts, dts int64, shown bool)) Option {
	return func(c *config) {
		if fn != nil {
			c.timestamps = fn
		}
	}
}

// ReadFrames analyses every sample of track t of d and returns its frames
// in decode order, with Display (presentation order) and Leading set.
// Timestamps are shifted by [PresentationShift] so that they are the ones
// ffprobe prints. Access units holding only the second field of a frame
// are folded into that frame, as ffprobe reports one frame per field pair.
func ReadFrames(ctx context.Context, d media.Demuxer, t *media.Track, opts ...Option) ([]Frame, error) {
	c, err := NewCollector(t, opts...)
	if err != nil {
		return nil, err
	}
	var buf []byte
	for s, err := range media.TrackSamples(d, t.ID) {
		if err != nil {
			return c.frames, err
		}
		if len(c.frames)&255 == 0 {
			if err := ctx.Err(); err != nil {
				return c.frames, err
			}
		}
		data, err := d.ReadSample(&s, buf)
		if err != nil {
			return c.frames, fmt.Errorf("gop: reading sample %d of track %d: %w", s.Index, t.ID, err)
		}
		if s.Data == nil {
			buf = data
		}
		if err := c.Add(&s, data); err != nil {
			return c.frames, err
		}
	}
	return c.Frames()
}

// Collector does what [ReadFrames] does for a caller that reads the
// payloads itself: it analyses the samples of one track handed to it in
// decode order and gathers their frames. A packager that reads every
// payload to write it analyses the frames in the same pass instead of
// reading the file once more (package segment). A Collector is not safe
// for concurrent use.
type Collector struct {
	a      *Analyzer
	o      config
	shift  int64
	frames []Frame
	errs   []error
}

// NewCollector returns a Collector for track t with ReadFrames' options.
func NewCollector(t *media.Track, opts ...Option) (*Collector, error) {
	c := &Collector{}
	for _, opt := range opts {
		opt(&c.o)
	}
	a, err := NewAnalyzer(t)
	if err != nil {
		return nil, err
	}
	c.a = a
	if !c.o.rawTimestamps {
		c.shift = PresentationShift(t)
	}
	// SampleCount comes from the file: use it as a hint only, capped so
	// that a hostile stsz cannot make us allocate much up front (64 Ki
	// frames, about 5 MB: 36 minutes at 30 fps without regrowing).
	c.frames = make([]Frame, 0, min(max(t.SampleCount, 0), 1<<16))
	return c, nil
}

// Add analyses the next sample s of the track, whose payload is au. It
// returns the sample's error unless WithKeepErrors was given (then the
// frame is kept with Type "?" and the error returned by Frames); after an
// error without WithKeepErrors the Collector must not be used further.
func (c *Collector) Add(s *media.Sample, au []byte) error {
	f, err := c.a.Analyze(s, au)
	if err != nil {
		if !c.o.keepErrors {
			return err
		}
		c.errs = append(c.errs, err)
		f.Type = TypeUnknown
	}
	if c.o.timestamps != nil {
		var shown bool
		f.PTS, f.DTS, shown = c.o.timestamps(s)
		f.Discarded = !shown
	} else {
		f.PTS += c.shift
		f.DTS += c.shift
	}
	if f.SecondField && len(c.frames) > 0 {
		p := &c.frames[len(c.frames)-1]
		p.Size += f.Size
		p.Slices += f.Slices
		p.Structure = FieldPair
		p.Duration += f.Duration
		p.Reference = p.Reference || f.Reference
		return nil
	}
	c.frames = append(c.frames, f)
	return nil
}

// Frames returns the frames added so far in decode order, with Display
// and Leading set, and the errors WithKeepErrors kept, joined.
func (c *Collector) Frames() ([]Frame, error) {
	SetDisplayOrder(c.frames)
	MarkLeading(c.frames)
	if len(c.errs) > 0 {
		return c.frames, joinErrors(c.errs)
	}
	return c.frames, nil
}

// SetDisplayOrder sets Display on frames (in decode order) from their
// PTS; ties keep decode order.
func SetDisplayOrder(frames []Frame) {
	idx := make([]int, len(frames))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		pa, pb := frames[a].PTS, frames[b].PTS
		switch {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	for d, i := range idx {
		frames[i].Display = d
	}
}

// PresentationOrder returns a copy of frames sorted by Display.
func PresentationOrder(frames []Frame) []Frame {
	out := make([]Frame, len(frames))
	for _, f := range frames {
		if f.Display >= 0 && f.Display < len(out) {
			out[f.Display] = f
		}
	}
	return out
}

// MarkLeading sets Leading on H.264-style streams, where it is not coded:
// a frame that follows a random-access point in decode order but precedes
// it in presentation order is leading; after an open-GOP point (recovery
// point, CRA) it is skipped when decoding starts there, after an IDR it
// is decodable. Frames already marked (HEVC RASL/RADL) are left alone.
func MarkLeading(frames []Frame) {
	rap := -1
	for i := range frames {
		f := &frames[i]
		if f.RAP != RAPNone {
			rap = i
			continue
		}
		if rap < 0 || f.Leading != NotLeading || f.PTS >= frames[rap].PTS {
			continue
		}
		if frames[rap].RAP == RAPIDR || frames[rap].RAP == RAPBLA {
			f.Leading = LeadingDecodable
		} else {
			f.Leading = LeadingSkipped
		}
	}
}

type joinedErrors []error

func (e joinedErrors) Error() string {
	if len(e) == 1 {
		return e[0].Error()
	}
	return fmt.Sprintf("%v (and %d more errors)", e[0], len(e)-1)
}

func (e joinedErrors) Unwrap() []error { return e }

func joinErrors(errs []error) error { return joinedErrors(errs) }
