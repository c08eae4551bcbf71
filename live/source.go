package live

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// Input is one encoded file a [FileSource] plays: a video rendition of a
// ladder, or an audio track (the inputs `streamkit package` takes).
type Input struct {
	Name    string // for messages
	Demuxer media.Demuxer
}

// FileSource plays encoded files as a live stream: in real time on the
// packager's clock, looping with continuous timestamps, so a live stream
// exists without an encoder. Each video input becomes a rendition (v0,
// v1, …); audio-only inputs become audio renditions (a0, …), and
// without any, the audio of the first input that has some is used.
type FileSource struct {
	p       *Packager
	clock   Clock
	tracks  []*srcTrack
	loopSec float64
	offset  float64 // live time of this source's content zero, seconds
	loops   int     // 0: forever
	cs      []*cursor
	epoch   time.Time
}

// srcTrack is one track of an input and the rendition it feeds.
type srcTrack struct {
	rend     string
	d        media.Demuxer
	t        *media.Track
	zero     int64 // content zero in source ticks (edit list media time)
	shift    int64 // live ticks = source ticks - zero + shift (+ loops)
	loopTick int64
	audio    bool
}

// SourceOption configures a FileSource.
type SourceOption func(*FileSource)

// WithLoops limits how many times the files play (default: forever).
func WithLoops(n int) SourceOption { return func(s *FileSource) { s.loops = n } }

// WithStartAt starts the source's timeline at live time t instead of 0:
// a restarted source (after Packager.Discontinuity) continues after the
// media already published; see Packager.NextTime.
func WithStartAt(t time.Duration) SourceOption {
	return func(s *FileSource) { s.offset = t.Seconds() }
}

// NewFileSource adds the renditions of inputs to p (when p has none yet)
// and returns a source that pushes their samples when Run.
func NewFileSource(p *Packager, inputs []Input, opts ...SourceOption) (*FileSource, error) {
	s := &FileSource{p: p, clock: p.cfg.clock}
	for _, o := range opts {
		o(s)
	}
	var videos, audios []*srcTrack
	var firstAudio *srcTrack
	hasAudioOnly := false
	for _, in := range inputs {
		var v, a *media.Track
		for _, t := range in.Demuxer.Tracks() {
			switch {
			case t.Kind == media.KindVideo && v == nil:
				v = t
			case t.Kind == media.KindAudio && a == nil:
				a = t
			}
		}
		switch {
		case v != nil:
			videos = append(videos, &srcTrack{d: in.Demuxer, t: v})
			if a != nil && firstAudio == nil {
				firstAudio = &srcTrack{d: in.Demuxer, t: a, audio: true}
			}
		case a != nil:
			audios = append(audios, &srcTrack{d: in.Demuxer, t: a, audio: true})
			hasAudioOnly = true
		default:
			return nil, fmt.Errorf("live: %s: no audio or video track", in.Name)
		}
	}
	if !hasAudioOnly && firstAudio != nil {
		audios = append(audios, firstAudio)
	}
	for i, v := range videos {
		v.rend = fmt.Sprintf("v%d", i)
	}
	for i, a := range audios {
		a.rend = fmt.Sprintf("a%d", i)
	}
	s.tracks = append(videos, audios...)
	if len(s.tracks) == 0 {
		return nil, errors.New("live: no inputs")
	}
	// The loop lasts as long as the reference track (the first video):
	// every track is cut to it so that the next loop starts at the same
	// instant on every track.
	ref := s.tracks[0]
	s.loopSec = ref.t.Seconds(presentedDuration(ref.t))
	if s.loopSec <= 0 {
		return nil, fmt.Errorf("live: %s: unknown duration", ref.t.Codec)
	}
	// One live origin for all tracks: content time zero (where the edit
	// list starts presentation) maps to live time offset+c, c being the
	// largest decode-before-presentation delay, so that every DTS is ≥ 0
	// and audio and video presented together carry the same timestamp.
	var c float64
	for _, st := range s.tracks {
		st.zero = contentZero(st.t)
		if !st.audio {
			c = max(c, st.t.Seconds(st.zero-st.t.StartDTS))
		}
	}
	have := len(p.Renditions()) > 0
	for _, st := range s.tracks {
		ts := float64(st.t.Timescale)
		st.shift = int64(math.Round((s.offset + c) * ts))
		st.loopTick = int64(math.Round(s.loopSec * ts))
		if have {
			if r := p.Rendition(st.rend); r == nil {
				return nil, fmt.Errorf("live: the packager has no rendition %s for %s", st.rend, st.t.Codec)
			}
			continue
		}
		t := *st.t
		if t.Bitrate <= 0 && t.Bytes > 0 && t.Duration > 0 {
			t.Bitrate = int64(float64(t.Bytes*8) / t.Seconds(t.Duration))
		}
		if err := p.AddRendition(st.rend, &t); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// presentedDuration is the track's presentation length: its edit list's
// when there is one, else its media duration.
func presentedDuration(t *media.Track) int64 {
	if len(t.Edits) > 0 && t.MovieTimescale > 0 {
		var d int64
		for _, e := range t.Edits {
			if e.MediaTime >= 0 {
				d += e.Duration
			}
		}
		if d > 0 {
			return d * int64(t.Timescale) / int64(t.MovieTimescale)
		}
	}
	return t.Duration
}

// contentZero is the media time where presentation starts: the first
// non-empty edit's media time, else the smallest PTS.
func contentZero(t *media.Track) int64 {
	for _, e := range t.Edits {
		if e.MediaTime >= 0 {
			return e.MediaTime
		}
	}
	return t.StartPTS
}

// Duration returns the length of one loop.
func (s *FileSource) Duration() time.Duration {
	return time.Duration(s.loopSec * float64(time.Second))
}

// cursor walks one track's samples, loop after loop.
type cursor struct {
	st   *srcTrack
	loop int
	next func() (media.Sample, error, bool)
	stop func()
	cur  media.Sample
	ok   bool
	buf  []byte
}

func (c *cursor) open() {
	c.next, c.stop = iter.Pull2(media.TrackSamples(c.st.d, c.st.t.ID))
}

// advance loads the next sample to push, skipping what lies outside the
// loop: audio priming before content zero and anything at or after the
// loop's end.
func (c *cursor) advance(loops int) error {
	for {
		s, err, ok := c.next()
		if err != nil {
			return err
		}
		if !ok {
			c.stop()
			c.stop = nil
			c.loop++
			if loops > 0 && c.loop >= loops {
				c.ok = false
				return nil
			}
			c.open()
			continue
		}
		rel := s.PTS - c.st.zero
		if (c.st.audio && rel < 0) || rel >= c.st.loopTick {
			continue
		}
		off := c.st.shift - c.st.zero + int64(c.loop)*c.st.loopTick
		s.DTS += off
		s.PTS += off
		c.cur, c.ok = s, true
		return nil
	}
}

func (c *cursor) seconds() float64 { return c.st.t.Seconds(c.cur.DTS) }

// start opens the cursors and fixes the epoch, once.
func (s *FileSource) start() error {
	if s.cs != nil {
		return nil
	}
	s.cs = make([]*cursor, len(s.tracks))
	for i, st := range s.tracks {
		s.cs[i] = &cursor{st: st}
		s.cs[i].open()
	}
	for _, c := range s.cs {
		if err := c.advance(s.loops); err != nil {
			return err
		}
	}
	epoch, ok := s.p.Epoch()
	if !ok {
		epoch = s.clock.Now()
		s.p.SetEpoch(epoch)
	}
	s.epoch = epoch
	return nil
}

// Close releases the source's readers. Run closes the source when it
// returns.
func (s *FileSource) Close() {
	for _, c := range s.cs {
		if c.stop != nil {
			c.stop()
			c.stop = nil
		}
	}
}

// peek returns the cursor holding the earliest sample, nil at the end.
func (s *FileSource) peek() *cursor {
	var c *cursor
	for _, x := range s.cs {
		if x.ok && (c == nil || x.seconds() < c.seconds()) {
			c = x
		}
	}
	return c
}

// pushNext pushes c's sample and advances c.
func (s *FileSource) pushNext(c *cursor) error {
	data, err := c.st.d.ReadSample(&c.cur, c.buf)
	if err != nil {
		return fmt.Errorf("live: %s: %w", c.st.rend, err)
	}
	c.buf = data
	if err := s.p.Push(c.st.rend, c.cur, data); err != nil {
		return err
	}
	return c.advance(s.loops)
}

// PushUntil pushes, without waiting, every sample whose live decode time
// is before t; it reports whether samples remain. Tests drive a stream
// with it on a FakeClock: push up to t, then set the clock to Epoch()+t.
func (s *FileSource) PushUntil(t time.Duration) (bool, error) {
	if err := s.start(); err != nil {
		return false, err
	}
	for {
		c := s.peek()
		if c == nil {
			return false, nil
		}
		if c.seconds() >= t.Seconds() {
			return true, nil
		}
		if err := s.pushNext(c); err != nil {
			return false, err
		}
	}
}

// Run pushes samples in real time until ctx is done (returns ctx.Err())
// or, with WithLoops, the files have played (returns nil). A sample is
// pushed when the clock reaches its decode time: the packager's epoch
// plus its live DTS. Run closes the source when it returns.
func (s *FileSource) Run(ctx context.Context) error {
	defer s.Close()
	if err := s.start(); err != nil {
		return err
	}
	for {
		c := s.peek()
		if c == nil {
			return nil
		}
		due := s.epoch.Add(time.Duration(c.seconds() * float64(time.Second)))
		if wait := due.Sub(s.clock.Now()); wait > 0 {
			t := s.clock.NewTimer(wait)
			select {
			case <-t.C():
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.pushNext(c); err != nil {
			return err
		}
	}
}

// NextTime returns the live time where a restarted source continues
// (WithStartAt) so that its media follows the media already published
// without a hole: the latest presentation end of the renditions (after
// Discontinuity, where they all end), less the lead of the source's
// presentation over its decode timeline (the B-frame delay of its video,
// the instant its first sample is shown), which the restarted source is
// assumed to have too.
func (p *Packager) NextTime() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var end, lead float64
	started := false
	for _, r := range p.rends {
		if !r.started || len(r.segs) == 0 {
			continue
		}
		started = true
		last := r.segs[len(r.segs)-1]
		if last.Complete {
			end = max(end, r.Track.Seconds(last.StartPTS+last.Duration))
		} else {
			end = max(end, r.presentationEnd())
		}
		// The largest presentation-over-decode lead of a rendition: the
		// video's B-frame delay (a file source also puts audio's first
		// sample at the video's first presentation; an ingest session
		// starts at the key frame's decode time, and the rendition's own
		// lead is what counts).
		lead = max(lead, r.Track.Seconds(r.leadPTS)-r.Track.Seconds(r.leadDTS))
	}
	if !started {
		return 0
	}
	return time.Duration(math.Ceil(max(end-lead, 0) * float64(time.Second)))
}
