package mp4

import (
	"errors"
	"fmt"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// This file holds the writers' options, limits and the output track
// model. What the progressive and the fragmented (CMAF) writers share is
// split by concern: write_box.go encodes boxes, write_entry.go rebuilds
// sample entries, write_convert.go converts MPEG-TS payloads to MP4 form,
// write_timeline.go plans edit lists.

// ErrWrite is wrapped by writer errors about the input that cannot be
// written as MP4 (unsupported codec, missing decoder configuration,
// timestamps going backwards). Test with errors.Is.
var ErrWrite = errors.New("mp4: cannot write")

// WriteOption configures the writers (WriteProgressive, WriteFragmented,
// WriteCMAF).
type WriteOption func(*writeConfig)

type writeConfig struct {
	fragDur   time.Duration
	progress  func(done, total int64)
	tracks    map[int]bool
	chunkMax  int
	tsOrigin  bool
	originSet bool
	moovAtEnd bool
	// WithPresentationOffset
	given      bool
	presOffset int64
}

func newWriteConfig(opts []WriteOption) writeConfig {
	c := writeConfig{fragDur: 2 * time.Second, chunkMax: 1024}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithFragmentDuration sets the target fragment (segment) duration of the
// fragmented and CMAF writers; fragments are cut at the first key frame of
// the reference track (the first video track, else the first track) at or
// after it. Default 2 s.
func WithFragmentDuration(d time.Duration) WriteOption {
	return func(c *writeConfig) {
		if d > 0 {
			c.fragDur = d
		}
	}
}

// WithProgress sets a callback reporting payload bytes written so far and
// the total expected (the sum of Track.Bytes, 0 when unknown).
func WithProgress(fn func(done, total int64)) WriteOption {
	return func(c *writeConfig) { c.progress = fn }
}

// WithMoovAtEnd makes WriteProgressive put moov after mdat, the layout of
// a recorder that writes as it goes (and of ffmpeg without +faststart).
// Players must then read the end of the file before they can start;
// Faststart turns such a file around.
func WithMoovAtEnd() WriteOption { return func(c *writeConfig) { c.moovAtEnd = true } }

// WithTracks limits the output to the tracks with these IDs (Track.ID).
// By default every audio and video track is written; subtitle and data
// tracks (SCTE-35 and the like) are always skipped.
func WithTracks(ids ...int) WriteOption {
	return func(c *writeConfig) {
		c.tracks = map[int]bool{}
		for _, id := range ids {
			c.tracks[id] = true
		}
	}
}

// WithTSTimeline forces (true) or disables (false) MPEG-TS timestamp
// normalisation. By default it applies when the input's Format() is
// "mpegts": the smallest first PTS over all tracks becomes time zero, each
// track's first DTS becomes its media time zero, and the difference is kept
// as an edit list, so every timestamp ffprobe shows moves by the same
// constant.
func WithTSTimeline(on bool) WriteOption {
	return func(c *writeConfig) { c.tsOrigin, c.originSet = on, true }
}

// WithPresentationOffset makes a Fragmenter write the timeline of a
// packager rather than a remuxer's: sample timestamps are written as the
// caller gives them (tfdt = DTS; composition offset = PTS-DTS, negative
// ones in trun version 1, ISO/IEC 23000-19 §7.5.17), never moved to start
// at zero, and SetStart is ignored. The CMAF header then carries an edit
// list only when offset is not 0: one edit whose media_time is offset, the
// media time that is presentation time zero (the one place it is said: a
// DASH MPD over these segments counts from that zero rather than repeating
// it as presentationTimeOffset, see package dash). A packager uses it to keep what the source hid
// with its own edit list (AAC encoder priming, the pre-roll of a cut)
// before time zero, with every track shifted by the same amount so that
// ffprobe of init + segments shows the source's timestamps and players
// that ignore edit lists (hls.js) keep audio and video in sync.
//
// This is the writer's second timeline; the first (the default) keeps
// the input's presentation through an edit list computed from the first
// samples, as remux needs. Both are options of the one CMAF writer so that
// remux and package write identical boxes otherwise.
func WithPresentationOffset(offset int64) WriteOption {
	return func(c *writeConfig) { c.given, c.presOffset = true, offset }
}

// MaxSamples caps the number of samples one write accepts: the
// progressive writer keeps 12 to 16 bytes of tables per sample, so the cap
// bounds its memory (about 1 GiB) whatever the input claims. Empty
// samples, which cost nothing in the input and can be declared by the
// billion in a few bytes of a hostile sample table, are capped at
// maxEmptySamples.
const MaxSamples = 1 << 26

const maxEmptySamples = 1 << 20

// sampleGuard enforces MaxSamples and the empty-sample cap.
type sampleGuard struct{ n, empty int64 }

func (g *sampleGuard) check(s *media.Sample) error {
	g.n++
	if s.Size == 0 {
		g.empty++
	}
	if g.n > MaxSamples || g.empty > maxEmptySamples {
		return fmt.Errorf("%w: more than %d samples (%d empty) at track %d sample %d, byte %d: refusing to build tables that large",
			ErrWrite, min(g.n, MaxSamples), g.empty, s.TrackID, s.Index, s.Pos)
	}
	return nil
}

// outTrack is one track as the writers emit it.
type outTrack struct {
	t     *media.Track
	id    uint32 // output track_ID, 1-based
	conv  converter
	entry []byte // complete sample entry box
	hdlr  string // vide, soun
	// timeline
	d0      int64 // first DTS in the input: media time zero
	minPTS  int64
	edits   []media.Edit
	movieTS uint32
	// ctts version needed (any negative composition offset)
	negCTO bool
}
