package live

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/media"
)

// Errors of the live packager; test with errors.Is.
var (
	// ErrNotMonotonic means a sample's DTS is not after the previous one.
	ErrNotMonotonic = errors.New("live: timestamps not increasing")
	// ErrRendition means an unknown, duplicate or badly named rendition.
	ErrRendition = errors.New("live: bad rendition")
	// ErrEnded means the stream has ended (Packager.End).
	ErrEnded = errors.New("live: stream ended")
	// ErrTimeout means a held request waited longer than its deadline.
	ErrTimeout = errors.New("live: timed out waiting for media")
)

// EventKind says what an [Event] reports.
type EventKind int

// Event kinds.
const (
	// EventPart: a part (CMAF chunk) was published.
	EventPart EventKind = iota + 1
	// EventSegment: a segment was completed.
	EventSegment
	// EventDrift: a video rendition cut a segment at a key frame that is
	// not at the instant the other renditions cut it.
	EventDrift
	// EventLongSegment: a segment is longer than the target duration
	// allows (the source has no key frame where one was due).
	EventLongSegment
	// EventDiscontinuity: the source restarted.
	EventDiscontinuity

	// Internal events, for the mirror; never reported.
	evInit  EventKind = -1
	evEvict EventKind = -2
)

// Event is reported to the WithEvents callback. The callback runs on the
// goroutine that pushed the sample and must not call back into the
// Packager.
type Event struct {
	Kind      EventKind
	Rendition string
	MSN       int64 // media sequence number of the segment
	Part      int   // part index within the segment (EventPart)
	Message   string
}

// Option configures a [Packager].
type Option func(*config)

type config struct {
	segment, part, window time.Duration
	clock                 Clock
	dir                   string
	ll                    bool
	events                func(Event)
	signer                *integrity.Signer
}

// WithSegmentDuration sets the target segment duration (default 2 s):
// video segments start at the first key frame at or after it.
func WithSegmentDuration(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.segment = d
		}
	}
}

// WithPartDuration sets the part (CMAF chunk) target (default 200 ms).
func WithPartDuration(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.part = d
		}
	}
}

// WithWindow sets how much media (complete segments) stays available: the
// playlist and MPD time-shift window, a DVR window when long. Default 30 s.
// Older segments and their parts are dropped (404).
func WithWindow(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.window = d
		}
	}
}

// WithClock sets the clock (default the system clock).
func WithClock(c Clock) Option { return func(cf *config) { cf.clock = c } }

// WithLowLatency turns LL-HLS parts, preload hints and blocking reload on
// (the default) or off (plain live HLS). Parts are always cut: LL-DASH
// sends them as chunks.
func WithLowLatency(on bool) Option { return func(c *config) { c.ll = on } }

// WithSigner signs every init segment, part and segment as it is
// published, with s (its stream id is the one players verify against):
// the entry is added before the publish that lets a playlist list the
// piece, and the rendition's sidecar (integrity.SidecarName: NAME.
// integrity.json beside the rendition's folder, URIs relative to it,
// seq the media sequence number) is re-signed with it, so a sidecar
// fetched after a playlist covers everything the playlist lists. Entries
// leave the sidecar with their segments' window. The Origin serves it at
// PREFIX/NAME.integrity.json and WithMirror writes it before the
// playlist.
//
// After a Discontinuity with a new track configuration the new init
// segment is not signed (a sidecar has one init entry): verifiers answer
// integrity.ErrUnknown for it, and a player fetches it from the origin.
func WithSigner(s *integrity.Signer) Option { return func(c *config) { c.signer = s } }

// WithMirror writes every init segment, part, segment and playlist to dir
// as well, for an external web server; files are written atomically
// (temporary name, then rename) and removed when they leave the window.
func WithMirror(dir string) Option { return func(c *config) { c.dir = dir } }

// WithEvents sets a callback for packager events (drift reports among
// them).
func WithEvents(fn func(Event)) Option { return func(c *config) { c.events = fn } }

// Part is one CMAF chunk (moof+mdat) of a segment.
type Part struct {
	Index       int
	Data        []byte
	StartDTS    int64
	Duration    int64 // in the track timescale
	Independent bool  // starts with a key frame
	// Arrived is when its first sample was pushed (the ingest arrival
	// of its first frame) and Published when it became available:
	// Published − Arrived is the packaging wait of the glass-to-glass
	// stage budget (package latency), served as Server-Timing.
	Arrived   time.Time
	Published time.Time

	// Response header values, built once at publication: every request
	// for the part (a thousand clients pulling it the instant it is
	// published) shares them.
	clen, timing []string
}

// Segment is one media segment: its parts concatenated.
type Segment struct {
	MSN        int64
	Disc       bool  // first segment after a source restart
	Gen        int   // init segment generation (changes at a restart)
	StartDTS   int64 // of its first sample
	StartPTS   int64 // presentation time of its first sample
	Duration   int64 // DTS span, in the track timescale; set when complete
	Parts      []*Part
	Complete   bool
	Size       int64
	Published  time.Time // when completed
	DiscSeq    int64     // discontinuity sequence number of the segment
	keyAtStart bool
	nominal    int64 // where the segment should have started (audio cuts)
}

// Rendition is one track of the live stream: a video rendition or an
// audio track, with its own playlist.
type Rendition struct {
	Name  string
	Track *media.Track

	p       *Packager
	w       *cmafWriter
	inits   map[int][]byte
	gen     int
	segs    []*Segment // the window, oldest first; the last may be in progress
	nextMSN int64
	pending []pendingSample
	partDur int64 // part target in ticks
	// partsPerSeg, for audio with a known frame size, is how many parts
	// a segment is cut into on its nominal grid (0: cut by partDur).
	partsPerSeg int64
	segDur      int64 // segment target in ticks
	lastDTS     int64
	lastGap     int64 // decode gap before the last sample, 0 after a start or discontinuity
	started     bool
	needDisc    bool
	notify      chan struct{}
	dropped     int64
	// cache holds the last rendered playlists, full and delta update, as
	// the origin sends them (see playlistResponse).
	cache [2]*renderedPlaylist
	// periodMSN is the first MSN of each discontinuity sequence (DASH
	// Period startNumber).
	periodMSN map[int64]int64
	discSeq   int64 // discontinuity sequence of the first segment in the window
	maxSeg    int64 // longest complete segment seen, ticks
	// leadDTS and leadPTS are the decode and presentation times of the
	// first sample since the start or the last discontinuity: how far the
	// source's presentation runs ahead of its decode timeline (NextTime).
	leadDTS, leadPTS int64
	// sidecar is the rendition's signed integrity sidecar as of the last
	// publish (WithSigner), JSON.
	sidecar []byte
}

type pendingSample struct {
	media.Sample
	data    []byte
	arrived time.Time
}

// Packager is the live CMAF packager. Samples are pushed per rendition
// in decode order; it cuts segments at key frames and parts at the part
// target, keeps a sliding window in memory and wakes waiters when a part
// or segment is published. It is safe for concurrent use: one goroutine
// per source pushes, any number of HTTP handlers read and wait.
type Packager struct {
	cfg    config
	mu     sync.Mutex
	rends  []*Rendition
	byName map[string]*Rendition
	epoch  time.Time // wall-clock time of live timeline zero
	hasEp  bool
	ended  bool
	cuts   map[int64]cutTime // per MSN, the first video rendition's cut instant
	drift  []string
	mirror *mirror
	// periods maps a discontinuity sequence number to the start of its
	// DASH Period on the live timeline, in seconds: the presentation time
	// of the reference rendition's first segment in it.
	periods map[int64]float64
	// maxSegSec is the longest segment so far, in seconds.
	maxSegSec float64
	// version counts publishes; rendered playlists are cached per version
	// (every request woken by one publish gets the same text).
	version uint64
	// signErr collects signing errors of calls that return none
	// (completeSegment); finish returns and clears it.
	signErr error

	// The epoch taken from the first Push is provisional (see
	// settleEpoch) until SetEpoch fixes it, something renders it (an MPD,
	// a playlist's PDT) or epochSettle has passed since that Push.
	epochFixed bool
	epochFirst time.Time // clock time of the first Push
}

// isRef reports whether r is the reference rendition, whose segment
// starts define DASH Period starts: the first video rendition, else the
// first rendition.
func (p *Packager) isRef(r *Rendition) bool {
	for _, o := range p.rends {
		if o.Track.Kind == media.KindVideo {
			return o == r
		}
	}
	return len(p.rends) > 0 && p.rends[0] == r
}

type cutTime struct {
	rendition string
	sec       float64
}

// New returns a Packager.
func New(opts ...Option) *Packager {
	c := config{segment: 2 * time.Second, part: 200 * time.Millisecond, window: 30 * time.Second, clock: SystemClock(), ll: true}
	for _, o := range opts {
		o(&c)
	}
	if c.part > c.segment {
		c.part = c.segment
	}
	p := &Packager{cfg: c, byName: map[string]*Rendition{}, cuts: map[int64]cutTime{}, periods: map[int64]float64{}}
	if c.dir != "" {
		p.mirror = &mirror{dir: c.dir}
	}
	return p
}

// nameRE is compiled on first use, not in every command's start-up.
var nameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`) })

// AddRendition adds a track under name ([a-z0-9_-], at most 32 bytes).
// Renditions are added before the first sample is pushed.
func (p *Packager) AddRendition(name string, t *media.Track) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !nameRE().MatchString(name) || p.byName[name] != nil {
		return fmt.Errorf("%w: name %q", ErrRendition, name)
	}
	if t.Kind != media.KindVideo && t.Kind != media.KindAudio {
		return fmt.Errorf("%w: %s: track %d is %s, want audio or video", ErrRendition, name, t.ID, t.Kind)
	}
	if t.Timescale == 0 {
		return fmt.Errorf("%w: %s: track %d has no timescale", ErrRendition, name, t.ID)
	}
	for _, r := range p.rends {
		if r.started {
			return fmt.Errorf("%w: %s: added after the stream started", ErrRendition, name)
		}
	}
	w, err := newCMAFWriter(t)
	if err != nil {
		return fmt.Errorf("live: %s: %w", name, err)
	}
	r := &Rendition{Name: name, Track: t, p: p, w: w, inits: map[int][]byte{}, notify: make(chan struct{}), periodMSN: map[int64]int64{}}
	r.setTargets()
	p.rends = append(p.rends, r)
	p.byName[name] = r
	return nil
}

// setTargets works out the rendition's part and segment targets in ticks.
// A part holds whole frames, so the part target is the largest whole
// number of frames within the configured duration: with 29.97 fps and
// 200 ms that is 5 frames (166.8 ms). Advertising 200 ms would make every
// full part shorter than 85 % of PART-TARGET, which the HLS draft forbids.
//
// Audio frames rarely divide the part: 200 ms of 48 kHz AAC is 9.375
// frames, and parts of 9 frames left every 2 s segment ending on an 85 ms
// part (1 s: 43 ms), a part hls.js 1.7.4 can skip and stall on (see
// estimateDur). Audio parts are therefore cut on an even grid over the
// segment's nominal span, partsPerSeg of them, each at the frame nearest
// its boundary: they hold 9 or 10 frames and the segment ends on a full
// part. The part target is then the larger count (10 frames, 213 ms)
// plus a millisecond, because timestamps rounded to milliseconds (RTMP)
// make a part of whole frames measure up to a millisecond more than its
// frames, and no part may exceed PART-TARGET. 9 frames are 89.6 % of
// that. The grid is used only when its smaller parts stay at or above
// 85 % of the target (the draft's floor for every part but a segment's
// last): with fewer than about seven frames a part (24 kHz or HE-AAC's
// 2048-sample frames at 200 ms: parts of 4 or 5 frames, 80 %) the parts
// go back to whole frames within the configured duration.
func (r *Rendition) setTargets() {
	r.segDur = media.Ticks(r.p.cfg.segment.Seconds(), r.Track.Timescale)
	r.partDur = media.Ticks(r.p.cfg.part.Seconds(), r.Track.Timescale)
	r.partsPerSeg = 0 // a new track at a discontinuity sets its own
	f := frameTicks(r.Track)
	if f <= 0 && r.Track.Kind == media.KindVideo {
		// Frame duration unknown (a live source rarely signals it): a
		// part ends when the next frame, estimated from the gaps so far
		// (estimateDur), would carry it past the target. Timestamps
		// rounded to the millisecond (RTMP; 29.97 fps is 33, 33, 34 ms)
		// make that estimate up to a millisecond short, so six frames
		// can measure 201 ms against a 200 ms target. The target holds
		// that millisecond, as the audio grid's does, so that no part
		// exceeds PART-TARGET.
		r.partDur += media.Ticks(0.001, r.Track.Timescale)
		return
	}
	if f <= 0 || f > r.partDur {
		return
	}
	if r.Track.Kind == media.KindAudio {
		n := max(1, int64(math.Round(float64(r.segDur)/float64(r.partDur))))
		g := float64(r.segDur) / float64(n) / float64(f) // frames per grid part
		hi := int64(math.Ceil(g - 1e-9))
		lo := int64(math.Floor(g + 1e-9))
		target := hi*f + media.Ticks(0.001, r.Track.Timescale)
		if float64(lo*f) >= 0.85*float64(target) {
			r.partsPerSeg, r.partDur = n, target
			return
		}
	}
	r.partDur = r.partDur / f * f
}

// frameTicks is a track's nominal frame duration in ticks, 0 if unknown.
func frameTicks(t *media.Track) int64 {
	ts := int64(t.Timescale)
	switch t.Kind {
	case media.KindVideo:
		if t.FrameRate.Num > 0 && t.FrameRate.Den > 0 && ts*t.FrameRate.Den%t.FrameRate.Num == 0 {
			return ts * t.FrameRate.Den / t.FrameRate.Num
		}
	case media.KindAudio:
		fs := int64(t.FrameSize)
		if fs == 0 && t.Codec == media.CodecAAC {
			fs = 1024
		}
		if fs > 0 && t.SampleRate > 0 && fs*ts%int64(t.SampleRate) == 0 {
			return fs * ts / int64(t.SampleRate)
		}
	}
	return 0
}

// Renditions returns the renditions in the order they were added.
func (p *Packager) Renditions() []*Rendition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Rendition(nil), p.rends...)
}

// Rendition returns the named rendition, nil if there is none.
func (p *Packager) Rendition(name string) *Rendition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byName[name]
}

// SetEpoch sets the wall-clock time of live timeline zero (by default the
// clock's time at the first Push minus that sample's DTS). Sources that
// pace themselves on the clock set it so that pacing and
// EXT-X-PROGRAM-DATE-TIME agree exactly.
func (p *Packager) SetEpoch(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.epoch, p.hasEp, p.epochFixed = t, true, true
	p.version++
}

// epochSettle bounds how long after the first Push the implicit epoch
// may still move.
const epochSettle = 3 * time.Second

// settleEpoch maps a sample pushed now with decode time dts (seconds)
// onto the wall clock. Without SetEpoch the live timeline's zero is
// where the first sample says it is: now minus its DTS. But the first
// samples of a source often arrive late and in a burst: gortmplib holds
// a video-only RTMP publish for 2 s of track analysis and then replays
// it, an SRT receiver releases its latency buffer, an encoder starts
// slowly. Taking the first sample's arrival as the anchor then dates
// every later sample seconds too late: EXT-X-PROGRAM-DATE-TIME and
// ProducerReferenceTime lie by that much, and an LL-DASH player, which
// plans its requests on availabilityStartTime, plays that much further
// behind (dash.js requested only complete segments and stayed 3.5 s
// behind a 1 s target behind a video-only RTMP publish). A sample that
// arrives earlier on that map than the first proves the anchor late, so
// while the anchor is provisional it moves to the earliest arrival seen:
// media is never dated before it arrived. It stops moving once shown.
// The caller holds p.mu.
func (p *Packager) settleEpoch(now time.Time, dts float64) {
	at := now.Add(-time.Duration(dts * float64(time.Second)))
	switch {
	case !p.hasEp:
		p.epoch, p.hasEp, p.epochFirst = at, true, now
	case !p.epochFixed && now.Sub(p.epochFirst) > epochSettle:
		p.epochFixed = true
	case !p.epochFixed && at.Before(p.epoch):
		p.epoch = at
		p.version++
	}
}

// Epoch returns the wall-clock time of live timeline zero.
func (p *Packager) Epoch() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.epoch, p.hasEp
}

// Wall maps ticks of timescale on the live timeline to wall-clock time.
func (p *Packager) wall(ticks int64, timescale uint32) time.Time {
	p.epochFixed = true // shown: clients plan on it from now on
	return p.epoch.Add(time.Duration(float64(ticks) / float64(timescale) * float64(time.Second)))
}

// Push hands the packager one sample of the named rendition, with its
// payload (copied). DTS must increase per rendition and be ≥ 0 on the live
// timeline, which starts at 0 for every rendition. A video rendition's
// first sample (and its first after Discontinuity) must be a key frame;
// samples before it are dropped.
func (p *Packager) Push(name string, s media.Sample, data []byte) error {
	p.mu.Lock()
	r := p.byName[name]
	if r == nil {
		p.mu.Unlock()
		return fmt.Errorf("%w: no rendition %q", ErrRendition, name)
	}
	if p.ended {
		p.mu.Unlock()
		return ErrEnded
	}
	var evs []Event
	err := r.push(s, data, &evs)
	return p.finish(evs, err)
}

// finish releases p.mu, then reports evs to the WithEvents callback and
// writes them to the mirror; it returns err, or the mirror's error.
func (p *Packager) finish(evs []Event, err error) error {
	out := p.mirrorJobs(evs)
	err = errors.Join(err, p.signErr)
	p.signErr = nil
	p.mu.Unlock()
	p.emit(evs)
	if p.mirror != nil {
		if merr := p.mirror.run(out); merr != nil && err == nil {
			err = merr
		}
	}
	return err
}

// closeSegment completes r's segment in progress with the samples
// pending; the last sample's duration is estimated.
func (r *Rendition) closeSegment(evs *[]Event, stretch int64) error {
	if !r.closable() {
		return nil
	}
	end := r.lastDTS + r.lastDur() + stretch
	err := r.flushPart(end, evs)
	r.completeSegment(end, evs)
	return err
}

// closable reports whether r has a segment in progress to close.
func (r *Rendition) closable() bool {
	return r.started && !r.needDisc && len(r.segs) > 0 && !r.segs[len(r.segs)-1].Complete
}

// presentationEnd is where r's segment in progress ends on the
// presentation timeline, in seconds: its start plus the decode time it
// spans, the rule EXTINF and the trun durations follow.
func (r *Rendition) presentationEnd() float64 {
	seg := r.segs[len(r.segs)-1]
	return r.Track.Seconds(seg.StartPTS + r.lastDTS + r.lastDur() - seg.StartDTS)
}

func (p *Packager) emit(evs []Event) {
	if p.cfg.events == nil {
		return
	}
	for _, e := range evs {
		if e.Kind <= 0 {
			continue // internal (mirror) events
		}
		p.cfg.events(e)
	}
}

func (r *Rendition) push(s media.Sample, data []byte, evs *[]Event) error {
	p := r.p
	if s.DTS < 0 {
		return fmt.Errorf("%w: %s: DTS %d before the live timeline start", ErrNotMonotonic, r.Name, s.DTS)
	}
	if r.started && s.DTS <= r.lastDTS {
		return fmt.Errorf("%w: %s: DTS %d after %d", ErrNotMonotonic, r.Name, s.DTS, r.lastDTS)
	}
	video := r.Track.Kind == media.KindVideo
	if !r.started || r.needDisc {
		if video && !s.Sync {
			r.dropped++
			return nil
		}
	}
	p.settleEpoch(p.cfg.clock.Now(), float64(s.DTS)/float64(r.Track.Timescale))
	cont := r.started && !r.needDisc // continues the timeline of the last sample
	if cont {
		seg := r.segs[len(r.segs)-1]
		dur := int64(s.Duration)
		if dur == 0 {
			dur = r.estimateDur(s.DTS)
		}
		// Video is cut at a key frame; audio at the frame nearest the
		// nominal boundary, counted from the previous nominal boundary
		// rather than the previous cut, so audio segments do not drift
		// from the video ones by the rounding of each cut.
		elapsed := s.DTS - seg.nominal
		var cut bool
		if video {
			cut = s.Sync && s.DTS-seg.StartDTS+dur/2 >= r.segDur
		} else {
			cut = elapsed+dur/2 >= r.segDur
		}
		switch {
		case cut:
			if err := r.flushPart(s.DTS, evs); err != nil {
				return err
			}
			r.completeSegment(s.DTS, evs)
			r.startSegment(s, false, evs)
		case len(r.pending) > 0 && r.partFull(seg, s.DTS, elapsed, dur):
			if err := r.flushPart(s.DTS, evs); err != nil {
				return err
			}
		}
	} else {
		disc := r.needDisc
		r.needDisc = false
		r.startSegment(s, disc, evs)
		r.started = true
	}
	r.pending = append(r.pending, pendingSample{Sample: s, data: append([]byte(nil), data...), arrived: p.cfg.clock.Now()})
	r.lastGap = 0
	if cont {
		r.lastGap = s.DTS - r.lastDTS
	}
	r.lastDTS = s.DTS
	return nil
}

// partFull reports whether the pending part ends before the sample at
// dts (elapsed after its segment's nominal start, lasting dur). Audio
// with a grid (see setTargets) ends a part at the frame nearest the next
// grid boundary; the part target, which holds the grid's larger part and
// the millisecond RTMP's rounded timestamps can add to it, is then only
// a safety bound. Other tracks end a part when the sample would carry it
// past the target.
func (r *Rendition) partFull(seg *Segment, dts, elapsed, dur int64) bool {
	span := dts + dur - r.pending[0].DTS
	if r.partsPerSeg > 0 {
		k := int64(len(seg.Parts)) + 1
		return k < r.partsPerSeg && elapsed+dur/2 >= k*r.segDur/r.partsPerSeg || span > r.partDur
	}
	return span > r.partDur
}

// estimateDur is how long a sample at dts lasts when the source does not
// say (a live source rarely does): the decode gap since the previous
// sample, or the gap before that when it is shorter. The shorter of the
// two because timestamps rounded to a coarser clock than the frame rate
// alternate: RTMP/FLV carries whole milliseconds, so 30 fps arrives as
// gaps of 33, 34, 33, 33, 34, 33 ms. Estimated from the last gap alone,
// the sixth frame of a part (at 167 ms, after a 34 ms gap) seemed to end
// at 201 ms, past a 200 ms part target, and was pushed into the next
// part: every 1 s segment came out as parts of 167, 200, 200, 200, 200
// and 33 ms. That one-frame last part is legal (only a segment's last
// part may be short) but it stalled hls.js 1.7.4 about every other
// segment: when the playlist lists the segment complete before the part
// ahead of it is appended, hls.js's fragment tracker counts the segment
// as fully buffered (its end lies within its 0.2 s buffer padding), the
// last part is never requested and playback stops 33 ms short of the
// next segment until a stall nudges it. With the shorter gap the parts
// are 200 ms each and a segment ends on a full part.
func (r *Rendition) estimateDur(dts int64) int64 {
	gap := dts - r.lastDTS
	if r.lastGap > 0 && r.lastGap < gap {
		return r.lastGap
	}
	return gap
}

// startSegment opens segment nextMSN with s as its first sample.
func (r *Rendition) startSegment(s media.Sample, disc bool, evs *[]Event) {
	if _, ok := r.inits[r.gen]; !ok {
		// The header is written lazily: the fragmenter learns some
		// configurations (AC-3 from MPEG-TS) from the first sample.
		if b, err := r.w.init(); err == nil {
			r.inits[r.gen] = b
			if sg := r.p.cfg.signer; sg != nil && r.gen == 0 {
				if _, err := sg.AddInit(r.Name, r.Name+"/"+initName(0), b); err != nil {
					r.p.signErr = errors.Join(r.p.signErr, err)
				}
			}
			if r.p.mirror != nil {
				*evs = append(*evs, Event{Kind: evInit, Rendition: r.Name, Part: r.gen})
			}
		}
	}
	seg := &Segment{MSN: r.nextMSN, Disc: disc, Gen: r.gen, StartDTS: s.DTS, StartPTS: s.PTS, keyAtStart: s.Sync, nominal: s.DTS}
	if len(r.segs) == 0 || disc {
		r.leadDTS, r.leadPTS = s.DTS, s.PTS
	}
	if n := len(r.segs); n == 0 {
		seg.DiscSeq = r.discSeq
	} else {
		prev := r.segs[n-1]
		seg.DiscSeq = prev.DiscSeq
		if disc {
			seg.DiscSeq++
		} else if r.Track.Kind != media.KindVideo {
			seg.nominal = prev.nominal + r.segDur
		}
	}
	if _, ok := r.periodMSN[seg.DiscSeq]; !ok {
		r.periodMSN[seg.DiscSeq] = seg.MSN
		if _, ok := r.p.periods[seg.DiscSeq]; !ok && r.p.isRef(r) {
			r.p.periods[seg.DiscSeq] = float64(seg.StartPTS) / float64(r.Track.Timescale)
		}
	}
	r.nextMSN++
	r.segs = append(r.segs, seg)
	r.p.version++ // the preload hint moves to the new segment
	if r.Track.Kind == media.KindVideo {
		r.p.checkCut(r, seg, evs)
	}
	if disc {
		*evs = append(*evs, Event{Kind: EventDiscontinuity, Rendition: r.Name, MSN: seg.MSN})
	}
}

// checkCut compares the instant rendition r starts segment seg with the
// instant the first video rendition started the same segment.
func (p *Packager) checkCut(r *Rendition, seg *Segment, evs *[]Event) {
	sec := float64(seg.StartPTS) / float64(r.Track.Timescale)
	c, ok := p.cuts[seg.MSN]
	if !ok {
		p.cuts[seg.MSN] = cutTime{rendition: r.Name, sec: sec}
		for msn := range p.cuts {
			if msn < seg.MSN-64 {
				delete(p.cuts, msn)
			}
		}
		return
	}
	tol := 0.001
	if f := frameTicks(r.Track); f > 0 {
		tol = float64(f) / float64(r.Track.Timescale) / 2
	}
	if math.Abs(c.sec-sec) > tol {
		msg := fmt.Sprintf("rendition %s starts segment %d at key frame %.3fs, rendition %s at %.3fs: key frames not aligned (%+.3fs)",
			r.Name, seg.MSN, sec, c.rendition, c.sec, sec-c.sec)
		p.drift = append(p.drift, msg)
		if len(p.drift) > 100 {
			p.drift = p.drift[len(p.drift)-100:]
		}
		*evs = append(*evs, Event{Kind: EventDrift, Rendition: r.Name, MSN: seg.MSN, Message: msg})
	}
}

// Drift returns the key-frame alignment reports so far (the last 100).
func (p *Packager) Drift() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.drift...)
}

// flushPart writes the pending samples as one part of the current
// segment; next is the DTS of the sample that follows.
func (r *Rendition) flushPart(next int64, evs *[]Event) error {
	if len(r.pending) == 0 {
		return nil
	}
	seg := r.segs[len(r.segs)-1]
	first := len(seg.Parts) == 0
	b, err := r.w.chunk(r.pending, next, first)
	if err != nil {
		return fmt.Errorf("live: %s segment %d part %d: %w", r.Name, seg.MSN, len(seg.Parts), err)
	}
	part := &Part{
		Index:       len(seg.Parts),
		Data:        b,
		StartDTS:    r.pending[0].DTS,
		Duration:    next - r.pending[0].DTS,
		Independent: r.Track.Kind != media.KindVideo || r.pending[0].Sync,
		Arrived:     r.pending[0].arrived,
		Published:   r.p.cfg.clock.Now(),
	}
	part.clen = []string{strconv.Itoa(len(b))}
	if v := serverTimingValue(part.Arrived, part.Published, false); v != "" {
		part.timing = []string{v}
	}
	seg.Parts = append(seg.Parts, part)
	seg.Size += int64(len(b))
	clear(r.pending)
	r.pending = r.pending[:0]
	*evs = append(*evs, Event{Kind: EventPart, Rendition: r.Name, MSN: seg.MSN, Part: part.Index})
	if sg := r.p.cfg.signer; sg != nil {
		// Signed before the publish: no playlist lists the part unsigned.
		if _, err = sg.AddPart(r.Name, uint64(seg.MSN), uint32(part.Index), r.Name+"/"+partName(seg.MSN, part.Index), b); err == nil {
			err = r.resign()
		}
		if err != nil {
			err = fmt.Errorf("live: %s segment %d part %d: %w", r.Name, seg.MSN, part.Index, err)
		}
	}
	r.publish()
	return err
}

// resign renders the rendition's sidecar with the signer's entries.
func (r *Rendition) resign() error {
	sc, err := r.p.cfg.signer.Sidecar(r.Name)
	if err != nil {
		return err
	}
	b, err := sc.Marshal()
	if err != nil {
		return err
	}
	r.sidecar = b
	return nil
}

// signSegment signs complete segment seg (its parts concatenated, hashed
// without copying) and trims the entries that left the window.
func (r *Rendition) signSegment(seg *Segment) error {
	sg := r.p.cfg.signer
	h := sha256.New()
	for _, pt := range seg.Parts {
		h.Write(pt.Data)
	}
	e := integrity.Entry{Kind: integrity.KindSegment, Seq: uint64(seg.MSN), URI: r.Name + "/" + segName(seg.MSN), Length: uint64(seg.Size)}
	h.Sum(e.SHA256[:0])
	if _, err := sg.AddHashed(r.Name, e); err != nil {
		return err
	}
	sg.Trim(r.Name, uint64(r.segs[0].MSN))
	return r.resign()
}

// publish wakes every request waiting on r: the channel is closed and
// replaced, so a waiter costs one parked goroutine and no polling.
func (r *Rendition) publish() {
	close(r.notify)
	r.notify = make(chan struct{})
	r.p.version++
}

// completeSegment closes the current segment at end (the DTS after its
// last sample) and slides the window.
func (r *Rendition) completeSegment(end int64, evs *[]Event) {
	seg := r.segs[len(r.segs)-1]
	seg.Duration = end - seg.StartDTS
	seg.Complete = true
	seg.Published = r.p.cfg.clock.Now()
	r.maxSeg = max(r.maxSeg, seg.Duration)
	r.p.maxSegSec = max(r.p.maxSegSec, float64(seg.Duration)/float64(r.Track.Timescale))
	if float64(seg.Duration)/float64(r.Track.Timescale) >= math.Ceil(r.p.cfg.segment.Seconds()-1e-9)+0.5 {
		*evs = append(*evs, Event{Kind: EventLongSegment, Rendition: r.Name, MSN: seg.MSN,
			Message: fmt.Sprintf("rendition %s segment %d lasts %.3fs, over the %.0fs target duration: no key frame where one was due",
				r.Name, seg.MSN, float64(seg.Duration)/float64(r.Track.Timescale), math.Ceil(r.p.cfg.segment.Seconds()))})
	}
	*evs = append(*evs, Event{Kind: EventSegment, Rendition: r.Name, MSN: seg.MSN})
	// Slide: keep complete segments spanning at most the window, and
	// never fewer than needed for a delta update to skip something.
	win := media.Ticks(r.p.cfg.window.Seconds(), r.Track.Timescale)
	var total int64
	keep := len(r.segs)
	for i := len(r.segs) - 1; i >= 0; i-- {
		if !r.segs[i].Complete {
			continue
		}
		if total+r.segs[i].Duration > win && total > 0 {
			break
		}
		total += r.segs[i].Duration
		keep = i
	}
	if keep > 0 {
		for _, old := range r.segs[:keep] {
			*evs = append(*evs, Event{Kind: evEvict, Rendition: r.Name, MSN: old.MSN, Part: len(old.Parts)})
		}
		r.discSeq = r.segs[keep].DiscSeq
		clear(r.segs[:keep])
		r.segs = append(r.segs[:0], r.segs[keep:]...)
		for g := range r.inits {
			if g < r.segs[0].Gen {
				delete(r.inits, g)
			}
		}
		for d := range r.periodMSN {
			if d < r.segs[0].DiscSeq {
				delete(r.periodMSN, d)
			}
		}
		if r.p.isRef(r) {
			for d := range r.p.periods {
				if d < r.segs[0].DiscSeq {
					delete(r.p.periods, d)
				}
			}
		}
	}
	if r.p.cfg.signer != nil {
		if err := r.signSegment(seg); err != nil {
			r.p.signErr = errors.Join(r.p.signErr, fmt.Errorf("live: %s segment %d: %w", r.Name, seg.MSN, err))
		}
	}
	r.publish()
}

// DiscontinuityOption configures one Discontinuity.
type DiscontinuityOption func(*discConfig)

type discConfig struct{ keepTiming bool }

// KeepTiming is for a discontinuity while some sources keep pushing on
// their timeline (an ingest ladder member left, or one publisher's
// timestamps jumped while the others' did not): the segments in progress
// close where their samples end, without the alignment at the seam that
// Discontinuity gives a source that stopped (the renditions still fed
// would otherwise be stretched over samples yet to come).
func KeepTiming() DiscontinuityOption { return func(c *discConfig) { c.keepTiming = true } }

// Discontinuity marks a restart of the source: the segments in progress
// are completed, and each rendition's next segment carries
// EXT-X-DISCONTINUITY (a new DASH Period). tracks gives renditions whose
// track changed (new codec configuration: a new init segment); nil keeps
// them. Timestamps pushed afterwards must still increase: the source maps
// its new clock after the old one (NextTime).
func (p *Packager) Discontinuity(tracks map[string]*media.Track, opts ...DiscontinuityOption) error {
	var dc discConfig
	for _, o := range opts {
		o(&dc)
	}
	p.mu.Lock()
	var evs []Event
	var err error
	// A source that stops leaves its renditions ending at different
	// instants: it interleaves by decode time, video decode times run
	// ahead of presentation by the B-frame delay, and audio frames do not
	// line up with video ones. A restart at one instant (NextTime) would
	// then leave a hole at the seam in the renditions that ended early,
	// and players stall on it: hls.js does not jump a hole wider than its
	// maxBufferHole (0.1 s) mid-stream (TestBrowserLiveRestart showed
	// audio ending 0.18 s before video). So the segments in progress all
	// close at the latest presentation end: the last sample of each
	// rendition that ended early lasts longer, by at most maxStretch (a
	// rendition that stopped long before keeps its hole).
	var common float64
	for _, r := range p.rends {
		if r.closable() && !dc.keepTiming {
			common = max(common, r.presentationEnd())
		}
	}
	for _, r := range p.rends {
		if r.started && !r.needDisc {
			var stretch int64
			if r.closable() {
				if d := common - r.presentationEnd(); d > 0 && d <= maxStretch.Seconds() {
					stretch = media.Ticks(d, r.Track.Timescale)
				}
			}
			if e := r.closeSegment(&evs, stretch); e != nil && err == nil {
				err = e
			}
			r.needDisc = true
		}
		if t := tracks[r.Name]; t != nil {
			w, e := newCMAFWriter(t)
			if e != nil {
				if err == nil {
					err = e
				}
				continue
			}
			r.rescale(r.Track.Timescale, t.Timescale)
			r.Track, r.w = t, w
			r.gen++
			r.setTargets()
		}
	}
	return p.finish(evs, err)
}

// rescale converts r's bookkeeping from ticks of timescale from to ticks
// of to, when a discontinuity brings a track with another timescale. The
// window's segments keep their bytes (their init segment of the old
// generation still describes them), but everything that reads their
// times does so through r.Track: the EXTINF of the segments before the
// restart, NextTime, the monotonic check of the next Push and the
// MPD's timeline would otherwise take old ticks for new ones. The times
// are rounded to the nearest new tick. A segment addressed by time
// (t_T.m4s) gets the name of its rescaled start.
func (r *Rendition) rescale(from, to uint32) {
	if from == to || from == 0 || to == 0 {
		return
	}
	// Times go through media.Rescale, the module's one conversion, and a
	// duration is converted as the difference of its converted end and
	// start: rounding start and duration separately could leave a tick of
	// gap (or overlap) between a segment and the next, which DASH's
	// SegmentTimeline for the Period before the restart would show as a
	// hole.
	conv := func(v int64) int64 { return media.Rescale(v, int64(to), int64(from)) }
	span := func(start, dur int64) int64 { return conv(start+dur) - conv(start) }
	r.lastDTS, r.leadDTS, r.leadPTS, r.maxSeg = conv(r.lastDTS), conv(r.leadDTS), conv(r.leadPTS), conv(r.maxSeg)
	for _, seg := range r.segs {
		seg.Duration = span(seg.StartDTS, seg.Duration)
		seg.StartDTS, seg.StartPTS, seg.nominal = conv(seg.StartDTS), conv(seg.StartPTS), conv(seg.nominal)
		for _, pt := range seg.Parts {
			pt.Duration = span(pt.StartDTS, pt.Duration)
			pt.StartDTS = conv(pt.StartDTS)
		}
	}
	for i := range r.pending {
		ps := &r.pending[i]
		ps.Duration = uint32(span(ps.DTS, int64(ps.Duration)))
		ps.DTS, ps.PTS = conv(ps.DTS), conv(ps.PTS)
	}
}

// maxStretch bounds how much longer Discontinuity makes the last sample
// of a rendition that ended early: a couple of audio frames or video
// frames plus the B-frame delay, never a gap that is really in the source.
const maxStretch = 500 * time.Millisecond

// lastDur estimates the duration of the last pushed sample.
func (r *Rendition) lastDur() int64 {
	if n := len(r.pending); n > 0 {
		if d := int64(r.pending[n-1].Duration); d > 0 {
			return d
		}
		if n > 1 {
			return r.pending[n-1].DTS - r.pending[n-2].DTS
		}
	}
	if f := frameTicks(r.Track); f > 0 {
		return f
	}
	return 1
}

// End completes the segments in progress and marks the stream ended:
// playlists get EXT-X-ENDLIST and every waiter is released.
func (p *Packager) End() error {
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return nil
	}
	var evs []Event
	var err error
	for _, r := range p.rends {
		if e := r.closeSegment(&evs, 0); e != nil && err == nil {
			err = e
		}
	}
	p.ended = true
	for _, r := range p.rends {
		r.publish()
	}
	return p.finish(evs, err)
}

// Ended reports whether End was called.
func (p *Packager) Ended() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended
}

// StoredBytes returns the payload bytes held in memory (init segments,
// parts and pending samples), the figure the window bounds.
func (p *Packager) StoredBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, r := range p.rends {
		for _, b := range r.inits {
			n += int64(len(b))
		}
		for _, s := range r.segs {
			n += s.Size
		}
		for _, s := range r.pending {
			n += int64(len(s.data))
		}
	}
	return n
}
