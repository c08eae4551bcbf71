package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// Errors of the ingest server; test with errors.Is.
var (
	// ErrRefused means a publish was refused: bad name or key, the
	// stream limit, or a ladder member arriving after its stream started.
	ErrRefused = errors.New("ingest: publish refused")
	// ErrBitrate means a publisher exceeded WithMaxBitrate.
	ErrBitrate = errors.New("ingest: bitrate over the limit")
	// ErrTimeout means a publisher sent nothing for WithReadTimeout.
	ErrTimeout = errors.New("ingest: publisher timed out")
	// ErrCodec means a publish carries no track the packager takes.
	ErrCodec = errors.New("ingest: unsupported codec")
)

// Arrival is the ingest-arrival stamp of one frame: when its last byte
// arrived, on the server's clock, and where it went on the live timeline.
type Arrival struct {
	Stream    string // the stream (URL /live/Stream/)
	Rendition string // v0, v1080, a0, …
	DTS, PTS  int64  // live timeline, in Timescale ticks
	Timescale uint32
	Key       bool
	Size      int
	At        time.Time
}

// Option configures a Server.
type Option func(*config)

type config struct {
	popts       []live.Option
	clock       live.Clock
	key         string
	maxStreams  int
	maxBitrate  int64
	readTimeout time.Duration
	ladderWait  time.Duration
	jumpLimit   time.Duration
	idleEnd     time.Duration
	log         *slog.Logger
	onStart     func(name string)
	arrival     func(Arrival)
	playerJS    map[string]string
}

// WithPackagerOptions sets the options of every stream's live.Packager
// (segment and part durations, window, low latency, mirror…). The
// server's clock (WithClock) is added after them.
func WithPackagerOptions(opts ...live.Option) Option {
	return func(c *config) { c.popts = append(c.popts, opts...) }
}

// WithClock sets the clock of the packagers and of the arrival stamps
// (default the system clock).
func WithClock(cl live.Clock) Option { return func(c *config) { c.clock = cl } }

// WithPublishKey refuses publishes that do not carry key (see the
// package documentation for where each protocol carries it).
func WithPublishKey(key string) Option { return func(c *config) { c.key = key } }

// WithMaxStreams bounds the concurrent publishers (default 16).
func WithMaxStreams(n int) Option { return func(c *config) { c.maxStreams = n } }

// WithMaxBitrate bounds each publisher's bitrate in bit/s, measured over
// 2 s windows (default 50 Mbit/s); above it the publisher is dropped.
func WithMaxBitrate(bps int64) Option { return func(c *config) { c.maxBitrate = bps } }

// WithReadTimeout drops a publisher that sends nothing for d (default
// 10 s; d <= 0 keeps the default). Until an RTMP publisher's tracks are
// known it also has 15 s and 32 MB in all.
func WithReadTimeout(d time.Duration) Option { return func(c *config) { c.readTimeout = d } }

// WithLadderWait is how long the members of a ladder (NAME_720…) are
// gathered before the stream starts (default 1 s). Single publishes start
// at once.
func WithLadderWait(d time.Duration) Option { return func(c *config) { c.ladderWait = d } }

// WithJumpLimit is the largest forward step of a track's source
// timestamps taken as continuous (default 5 s); larger steps, and steps
// backwards, are a discontinuity.
func WithJumpLimit(d time.Duration) Option { return func(c *config) { c.jumpLimit = d } }

// WithIdleEnd ends and forgets a stream whose publishers have all been
// gone for d (default 60 s): its playlists get EXT-X-ENDLIST and its name
// is free again. A reconnect within d continues the stream after a
// discontinuity.
func WithIdleEnd(d time.Duration) Option { return func(c *config) { c.idleEnd = d } }

// WithLogger sets where connections, refusals and drops are logged
// (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithOnStart calls fn (on its own goroutine) when a stream starts: the
// moment to print its entry points.
func WithOnStart(fn func(name string)) Option { return func(c *config) { c.onStart = fn } }

// WithArrival reports the ingest-arrival stamp of every frame pushed,
// on the publisher's goroutine; fn must be quick.
func WithArrival(fn func(Arrival)) Option { return func(c *config) { c.arrival = fn } }

// WithPlayerJS is live.WithPlayerJS for every stream's player page.
func WithPlayerJS(files map[string]string) Option { return func(c *config) { c.playerJS = files } }

// Server holds the live streams and the publishers feeding them. Its
// ServeRTMP, ServeSRT and ServeUDP methods run the listeners; it is
// itself the http.Handler of the streams, /live/NAME/….
type Server struct {
	cfg     config
	mu      sync.Mutex
	streams map[string]*Stream
	active  int // publisher sessions
	closed  bool
	tmpl    *live.Packager // for HoldLimit
	// done is closed by Close; reapers (one per stream left without a
	// publisher, waiting WithIdleEnd on the clock) end with it.
	done    chan struct{}
	reapers sync.WaitGroup
}

// New returns a Server.
func New(opts ...Option) *Server {
	c := config{clock: live.SystemClock(), maxStreams: 16, maxBitrate: 50_000_000, readTimeout: 10 * time.Second,
		ladderWait: time.Second, jumpLimit: 5 * time.Second, idleEnd: 60 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.readTimeout <= 0 {
		c.readTimeout = 10 * time.Second
	}
	if c.maxStreams <= 0 {
		c.maxStreams = 16
	}
	s := &Server{cfg: c, streams: map[string]*Stream{}, done: make(chan struct{})}
	s.tmpl = live.New(s.packagerOptions(nil)...)
	return s
}

func (s *Server) packagerOptions(events func(live.Event)) []live.Option {
	o := append(slices.Clone(s.cfg.popts), live.WithClock(s.cfg.clock))
	if events != nil {
		o = append(o, live.WithEvents(events))
	}
	return o
}

// HoldLimit is the longest the origin holds a request (for the HTTP
// server's write timeout), as live.Packager.HoldLimit.
func (s *Server) HoldLimit() time.Duration { return s.tmpl.HoldLimit() }

// Template returns a packager configured as every stream's, never fed:
// what live.Serve needs to choose its timeouts.
func (s *Server) Template() *live.Packager { return s.tmpl }

// Stream returns the named stream, nil when there is none.
func (s *Server) Stream(name string) *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[name]
}

// Streams returns the names of the streams, sorted.
func (s *Server) Streams() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n []string
	for k := range s.streams {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// ServeHTTP serves /live/NAME/… from stream NAME's origin, and the
// player libraries at /js/. Unknown streams are 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	var st *Stream
	if strings.HasPrefix(path, "/js/") {
		s.mu.Lock()
		for _, x := range s.streams {
			st = x
			break
		}
		s.mu.Unlock()
	} else if rest, ok := strings.CutPrefix(path, "/live/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		st = s.Stream(name)
	}
	// Until its renditions exist (the publisher's tracks are known, a
	// ladder has gathered) a stream is not served: the origin would hold
	// the request on a packager without renditions.
	if st == nil || len(st.P.Renditions()) == 0 {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "no such stream", http.StatusNotFound)
		return
	}
	st.origin.ServeHTTP(w, r)
}

// Close ends every stream (EXT-X-ENDLIST, static MPDs; held requests are
// answered). Call it after the listeners have returned.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	sts := make([]*Stream, 0, len(s.streams))
	for _, st := range s.streams {
		sts = append(sts, st)
	}
	s.mu.Unlock()
	s.reapers.Wait()
	var err error
	for _, st := range sts {
		err = errors.Join(err, st.P.End())
	}
	return err
}

// The name patterns are compiled on first use, not at start-up: every
// streamkit command links this package, and compiling them cost each one
// a share of its start-up (BENCHMARKS.md, "Start-up").
var (
	nameRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`) })
	ladderRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.+)_([0-9]{3,4})p?$`) }) // a picture height: room_1 stays a name
)

// splitName turns a publish name (and an optional ?rendition= value) into
// the stream name and the variant ("" for a single publish).
func splitName(name, rendition string) (stream, variant string, err error) {
	if !nameRE().MatchString(name) {
		return "", "", fmt.Errorf("%w: bad stream name %q (want [A-Za-z0-9_-], at most 64)", ErrRefused, name)
	}
	if rendition != "" {
		if _, err := strconv.ParseUint(rendition, 10, 16); err != nil {
			return "", "", fmt.Errorf("%w: bad rendition %q (want a number such as 720)", ErrRefused, rendition)
		}
		return name, rendition, nil
	}
	if m := ladderRE().FindStringSubmatch(name); m != nil {
		return m[1], m[2], nil
	}
	return name, "", nil
}

// checkKey compares a publish key with the configured one.
func (s *Server) checkKey(key string) error {
	if s.cfg.key != "" && key != s.cfg.key {
		return fmt.Errorf("%w: wrong or missing publish key", ErrRefused)
	}
	return nil
}

// Stream is one live stream: a packager and its origin, fed by one
// publisher or by the members of a ladder.
type Stream struct {
	Name string
	// P is the stream's packager.
	P      *live.Packager
	origin *live.Origin
	srv    *Server

	mu       sync.Mutex
	members  map[string]*member // by variant
	first    time.Time          // when the first member joined
	begun    bool
	gone     time.Time // when the last session ended (zero while one is live)
	sessions int
	maps     []*session // mapped sessions, for shared mappings
	live     []*session // open sessions
	stats    Stats      // of the closed sessions, and Publishes
}

// member is one variant of a stream (a rendition source) across its
// reconnections.
type member struct {
	variant string
	rends   []string       // rendition per source track (empty: not packaged)
	tracks  []*media.Track // as added to the packager
	live    bool
}

// open starts a publisher session on stream name (created when new).
func (s *Server) open(name, rendition, key, proto, remote string) (*session, error) {
	if err := s.checkKey(key); err != nil {
		return nil, err
	}
	sname, variant, err := splitName(name, rendition)
	if err != nil {
		return nil, err
	}
	now := s.cfg.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("%w: server shutting down", ErrRefused)
	}
	s.reapLocked(now)
	if s.active >= s.cfg.maxStreams {
		return nil, fmt.Errorf("%w: %d publishers already (the limit)", ErrRefused, s.cfg.maxStreams)
	}
	st := s.streams[sname]
	if st == nil && len(s.streams) >= 4*s.cfg.maxStreams {
		// Ended streams stay (their window, for viewers catching up) until
		// they have been idle for WithIdleEnd: a bound on them keeps
		// publish-and-leave under new names from growing memory.
		return nil, fmt.Errorf("%w: %d streams kept already (idle ones end after %v)", ErrRefused, len(s.streams), s.cfg.idleEnd)
	}
	if st == nil {
		// gone is set until the first session is counted: a stream whose
		// first publish is refused below is reaped like an idle one.
		st = &Stream{Name: sname, srv: s, members: map[string]*member{}, first: now, gone: now}
		st.P = live.New(s.packagerOptions(st.event)...)
		oo := []live.OriginOption{live.WithPrefix("/live/" + sname + "/")}
		if s.cfg.playerJS != nil {
			oo = append(oo, live.WithPlayerJS(s.cfg.playerJS))
		}
		st.origin = live.NewOrigin(st.P, oo...)
		s.streams[sname] = st
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.members[variant]
	switch {
	case m != nil && m.live:
		return nil, fmt.Errorf("%w: %s is already being published", ErrRefused, name)
	case m == nil && st.begun:
		return nil, fmt.Errorf("%w: ladder member %q of %s arrived after the stream started (publish all renditions within %v)", ErrRefused, variant, sname, s.cfg.ladderWait)
	case m == nil && variant == "" && len(st.members) > 0, m == nil && variant != "" && st.members[""] != nil:
		return nil, fmt.Errorf("%w: %s mixes a single publish and ladder members", ErrRefused, sname)
	}
	if m == nil {
		m = &member{variant: variant}
		st.members[variant] = m
	}
	m.live = true
	st.sessions++
	st.gone = time.Time{}
	s.active++
	sess := &session{st: st, m: m, proto: proto, remote: remote, name: name}
	st.live = append(st.live, sess)
	st.stats.Publishes++
	s.cfg.log.Info("publish", "stream", sname, "variant", variant, "proto", proto, "remote", remote)
	return sess, nil
}

// discOpts are the options of a discontinuity of a stream with others
// publishers live besides the one the discontinuity is about: theirs keep
// their timing (live.KeepTiming); with none, the whole source stopped or
// restarted and the segments in progress are aligned at the seam.
func discOpts(others int) []live.DiscontinuityOption {
	if others > 0 {
		return []live.DiscontinuityOption{live.KeepTiming()}
	}
	return nil
}

// reapAfter ends the streams still without a publisher once idleEnd has
// passed on the clock, or returns when the server closes. A stream ends
// when its time is up, not only when the next publish looks (reapLocked
// in open): its playlists get EXT-X-ENDLIST then, and players stop
// waiting for a publisher that is not coming back.
func (s *Server) reapAfter(t live.Timer) {
	defer s.reapers.Done()
	select {
	case <-t.C():
		s.mu.Lock()
		if !s.closed {
			s.reapLocked(s.cfg.clock.Now())
		}
		s.mu.Unlock()
	case <-s.done:
		t.Stop()
	}
}

// reapLocked ends and forgets streams idle for longer than idleEnd.
func (s *Server) reapLocked(now time.Time) {
	for name, st := range s.streams {
		st.mu.Lock()
		idle := st.sessions == 0 && !st.gone.IsZero() && (now.Sub(st.gone) >= s.cfg.idleEnd || len(st.members) == 0)
		st.mu.Unlock()
		if idle {
			st.P.End()
			delete(s.streams, name)
			s.cfg.log.Info("stream ended", "stream", name, "reason", "no publisher for "+s.cfg.idleEnd.String())
		}
	}
}

func (st *Stream) event(e live.Event) {
	switch e.Kind {
	case live.EventDrift, live.EventLongSegment:
		st.srv.cfg.log.Warn(e.Message, "stream", st.Name)
	case live.EventDiscontinuity:
		st.srv.cfg.log.Info("discontinuity", "stream", st.Name, "rendition", e.Rendition, "msn", e.MSN)
	}
}

// session is one publisher connection: it maps the source's tracks to
// renditions and its timestamps onto the live timeline.
type session struct {
	st           *Stream
	m            *member
	proto        string
	remote, name string
	tracks       []*trackMap
	ready        bool // tracks set
	// Mapping: live seconds = source seconds - zeroSrc + zeroLive.
	mapped            bool
	zeroSrc, zeroLive float64
	gen               int
	hasVideo          bool
	dropped           int64
	closed            bool
	tsr               *ts.Stream     // MPEG-TS input (SRT, UDP)
	tsSnap            ts.StreamStats // its counters after the last write
}

type trackMap struct {
	t        *media.Track
	rend     string
	lastSrc  int64
	lastLive int64
	gen      int
	has      bool
}

// setTracks declares the session's source tracks (the first video and
// the first audio are used). For a reconnecting member whose tracks
// changed, the new configuration becomes a new init segment at the
// discontinuity.
func (ss *session) setTracks(tracks []*media.Track) error {
	st := ss.st
	st.mu.Lock()
	defer st.mu.Unlock()
	var v, a *media.Track
	for _, t := range tracks {
		switch {
		case t.Kind == media.KindVideo && v == nil:
			v = t
		case t.Kind == media.KindAudio && a == nil:
			a = t
		}
	}
	if v == nil && a == nil {
		return fmt.Errorf("%w: no audio or video track the packager takes", ErrCodec)
	}
	// Audio of a ladder: from the first member that has some.
	audioOwner := true
	for _, o := range st.members {
		if o != ss.m && o.hasAudio() {
			audioOwner = false
		}
	}
	vname, aname := "v0", "a0"
	if ss.m.variant != "" {
		vname = "v" + ss.m.variant
	}
	ss.tracks = nil
	for _, t := range tracks {
		tm := &trackMap{t: t}
		switch {
		case t == v:
			tm.rend = vname
			ss.hasVideo = true
		case t == a && audioOwner:
			tm.rend = aname
		}
		ss.tracks = append(ss.tracks, tm)
	}
	if ss.m.rends != nil {
		// A reconnection: same renditions; a changed codec configuration
		// becomes a new init segment after the discontinuity.
		changed := map[string]*media.Track{}
		for i, tm := range ss.tracks {
			if tm.rend == "" {
				continue
			}
			j := slices.Index(ss.m.rends, tm.rend)
			if j < 0 {
				tm.rend = "" // a track the stream did not have: not packaged
				continue
			}
			if !sameConfig(ss.m.tracks[j], tm.t) {
				changed[tm.rend] = tm.t
				ss.m.tracks[j] = tm.t
			}
			_ = i
		}
		if st.begun {
			if err := st.P.Discontinuity(changed, discOpts(st.sessions-1)...); err != nil {
				return err
			}
		}
	} else {
		for _, tm := range ss.tracks {
			if tm.rend != "" {
				ss.m.rends = append(ss.m.rends, tm.rend)
				ss.m.tracks = append(ss.m.tracks, tm.t)
			}
		}
	}
	ss.ready = true
	return nil
}

func (m *member) hasAudio() bool {
	for _, r := range m.rends {
		if strings.HasPrefix(r, "a") {
			return true
		}
	}
	return false
}

// sameConfig reports whether two tracks have the same decoder
// configuration (no new init segment needed).
func sameConfig(a, b *media.Track) bool {
	eq := func(x, y [][]byte) bool {
		return slices.EqualFunc(x, y, func(p, q []byte) bool { return bytes.Equal(p, q) })
	}
	return a.Codec == b.Codec && a.Timescale == b.Timescale && a.Width == b.Width && a.Height == b.Height &&
		a.SampleRate == b.SampleRate && a.Channels == b.Channels && eq(a.Config.SPS, b.Config.SPS) &&
		eq(a.Config.PPS, b.Config.PPS) && eq(a.Config.VPS, b.Config.VPS) &&
		bytes.Equal(a.Config.AudioSpecificConfig, b.Config.AudioSpecificConfig) && bytes.Equal(a.Config.Record, b.Config.Record)
}

// beginLocked adds the renditions of every member to the packager once
// the ladder has gathered; it reports whether the stream has begun.
func (st *Stream) beginLocked(now time.Time) bool {
	if st.begun {
		return true
	}
	ladder := false
	for v, m := range st.members {
		if v != "" {
			ladder = true
		}
		if m.live && m.rends == nil {
			return false // a member still learning its tracks
		}
	}
	if ladder && now.Sub(st.first) < st.srv.cfg.ladderWait {
		return false
	}
	// Video renditions first, highest variant first (the packager's
	// reference rendition and the multivariant order), then audio.
	var ms []*member
	for _, m := range st.members {
		if m.rends != nil {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *member) int {
		x, _ := strconv.Atoi(a.variant)
		y, _ := strconv.Atoi(b.variant)
		return y - x
	})
	for _, kind := range []media.Kind{media.KindVideo, media.KindAudio} {
		for _, m := range ms {
			for i, r := range m.rends {
				t := m.tracks[i]
				if t.Kind != kind {
					continue
				}
				lt := *t
				lt.StartDTS, lt.StartPTS, lt.Duration, lt.Edits = 0, 0, 0, nil
				if err := st.P.AddRendition(r, &lt); err != nil {
					st.srv.cfg.log.Error("rendition refused", "stream", st.Name, "rendition", r, "err", err)
				}
			}
		}
	}
	st.begun = true
	if fn := st.srv.cfg.onStart; fn != nil {
		go fn(st.Name)
	}
	return true
}

// push maps one source sample of track i onto the live timeline and
// hands it to the packager. Samples that cannot be placed (before the
// first key frame, behind the timeline after a remap) are dropped and
// counted; the packager's own errors are returned.
func (ss *session) push(i int, s media.Sample, data []byte, at time.Time) error {
	if i < 0 || i >= len(ss.tracks) {
		return nil
	}
	tm := ss.tracks[i]
	if tm.rend == "" {
		return nil
	}
	st := ss.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.beginLocked(at) {
		ss.dropped++
		return nil
	}
	ts := tm.t.Timescale
	video := tm.t.Kind == media.KindVideo
	if ss.mapped && tm.has && tm.gen == ss.gen {
		d := s.DTS - tm.lastSrc
		if d < -media.Ticks(0.5, ts) || d > media.Ticks(st.srv.cfg.jumpLimit.Seconds(), ts) {
			st.srv.cfg.log.Warn("timestamp jump: discontinuity", "stream", st.Name, "rendition", tm.rend,
				"jump", time.Duration(float64(d)/float64(ts)*float64(time.Second)).String())
			ss.mapped = false
			if err := st.P.Discontinuity(nil, discOpts(st.sessions-1)...); err != nil {
				return err
			}
		}
	}
	if !ss.mapped {
		if (video && !s.Sync) || (!video && ss.hasVideo) {
			ss.dropped++
			return nil
		}
		ss.mapLocked(float64(s.DTS) / float64(ts))
	}
	ldts := s.DTS - media.Ticks(ss.zeroSrc, ts) + media.Ticks(ss.zeroLive, ts)
	tm.lastSrc, tm.has, tm.gen = s.DTS, true, ss.gen
	if ldts < 0 || (tm.lastLive > 0 && ldts <= tm.lastLive) {
		ss.dropped++
		return nil
	}
	ls := s
	ls.DTS = ldts
	ls.PTS = s.PTS - s.DTS + ldts
	ls.TrackID = tm.t.ID
	if err := st.P.Push(tm.rend, ls, data); err != nil {
		if errors.Is(err, live.ErrNotMonotonic) {
			ss.dropped++
			return nil
		}
		return err
	}
	tm.lastLive = ldts
	if fn := st.srv.cfg.arrival; fn != nil {
		fn(Arrival{Stream: st.Name, Rendition: tm.rend, DTS: ls.DTS, PTS: ls.PTS, Timescale: ts, Key: s.Sync, Size: len(data), At: at})
	}
	return nil
}

// mapLocked fixes the session's mapping with src (seconds) as its zero:
// the mapping of another live session of the stream when their source
// clocks agree (a ladder from one encoder), else where the stream
// stands.
func (ss *session) mapLocked(src float64) {
	st := ss.st
	ss.gen++
	ss.mapped = true
	if !slices.Contains(st.maps, ss) {
		st.maps = append(st.maps, ss)
	}
	for _, o := range st.maps {
		if o == ss || !o.mapped || o.closed {
			continue
		}
		// o's source time now, from its newest track.
		var now float64
		for _, tm := range o.tracks {
			if tm.has {
				now = max(now, float64(tm.lastSrc)/float64(tm.t.Timescale))
			}
		}
		if d := src - now; d > -2 && d < 2 {
			ss.zeroSrc, ss.zeroLive = o.zeroSrc, o.zeroLive
			return
		}
	}
	ss.zeroSrc = src
	ss.zeroLive = st.P.NextTime().Seconds()
}

// close ends the session: the stream waits for a reconnection (a
// discontinuity) or, after WithIdleEnd, ends.
func (ss *session) close(reason error) {
	st := ss.st
	s := st.srv
	st.mu.Lock()
	if ss.closed {
		st.mu.Unlock()
		return
	}
	ss.closed = true
	ss.m.live = false
	st.sessions--
	st.maps = slices.DeleteFunc(st.maps, func(o *session) bool { return o == ss })
	st.live = slices.DeleteFunc(st.live, func(o *session) bool { return o == ss })
	st.stats.Dropped += ss.dropped
	var tstats ts.StreamStats
	if ss.tsr != nil {
		tstats = ss.tsSnap
		addTS(&st.stats.TS, tstats)
	}
	idle := st.sessions == 0
	if idle {
		st.gone = s.cfg.clock.Now()
	}
	if st.begun {
		// Complete the segments in progress now rather than at the
		// reconnection: viewers get everything that arrived.
		st.P.Discontinuity(nil, discOpts(st.sessions)...) // st.sessions: the others
	}
	dropped := ss.dropped
	st.mu.Unlock()
	s.mu.Lock()
	s.active--
	if idle && !s.closed {
		s.reapers.Add(1)
		// The timer starts now, not when the goroutine runs: the idle
		// time counts from the close.
		go s.reapAfter(s.cfg.clock.NewTimer(s.cfg.idleEnd))
	}
	s.mu.Unlock()
	args := []any{"stream", st.Name, "proto", ss.proto, "remote", ss.remote, "dropped", dropped}
	if ss.tsr != nil {
		args = append(args, "ts_packets", tstats.Packets, "cc_errors", tstats.CCErrors, "resyncs", tstats.Resyncs, "stream_errors", tstats.StreamErrors)
	}
	if reason != nil {
		s.cfg.log.Warn("publisher closed: "+reason.Error(), args...)
	} else {
		s.cfg.log.Info("publisher ended", args...)
	}
}

// meter measures a publisher's bitrate over 2 s windows.
type meter struct {
	max   int64
	start time.Time
	n     int64
}

func (m *meter) add(n int, now time.Time) error {
	if m.max <= 0 {
		return nil
	}
	if m.start.IsZero() {
		m.start = now
	}
	m.n += int64(n)
	if el := now.Sub(m.start); el >= 2*time.Second {
		bps := float64(m.n*8) / el.Seconds()
		m.start, m.n = now, 0
		if bps > float64(m.max) {
			return fmt.Errorf("%w: %.0f bit/s, limit %d", ErrBitrate, bps, m.max)
		}
	}
	return nil
}

// Publishers returns the number of publishers feeding the stream now.
func (st *Stream) Publishers() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sessions
}
