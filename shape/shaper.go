package shape

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultClientHeader and DefaultClientCookie name the request header and
// cookie the default client key reads before falling back to the remote
// IP: every test player on one machine comes from 127.0.0.1, and a
// header (hls.js xhrSetup, a Go client) or cookie (a browser, which sends
// it with every segment request) gives each its own link.
const (
	DefaultClientHeader = "X-Streamkit-Client"
	DefaultClientCookie = "streamkit_client"
)

// DefaultMaxClients bounds the links a Shaper keeps; past it, the one used
// least recently is forgotten (its next request starts a new timeline).
const DefaultMaxClients = 4096

// ClientKey returns the link a request belongs to.
type ClientKey func(*http.Request) string

// DefaultClientKey keys by the DefaultClientHeader header, else the
// DefaultClientCookie cookie, else the remote IP (without the port, so
// that a player's parallel connections share one link).
func DefaultClientKey(r *http.Request) string {
	if v := r.Header.Get(DefaultClientHeader); v != "" {
		return "h:" + clipKey(v)
	}
	if c, err := r.Cookie(DefaultClientCookie); err == nil && c.Value != "" {
		return "c:" + clipKey(c.Value)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

func clipKey(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}

// Event is what the shaper reports to an observer: one per request when
// it finishes, with the fault injected (Fault "" when none).
type Event struct {
	Client   string
	Class    Class
	Path     string
	Start    time.Duration // since the client's first request
	End      time.Duration
	Fault    string
	Status   int   // the status sent (0 when the connection was cut before the header)
	Bytes    int64 // body bytes delivered
	Losses   int   // loss events on this client's link so far
	Canceled bool  // the client went away before the response was complete
}

// Option configures a Shaper.
type Option func(*Shaper)

// WithSeed makes every random draw (jitter, loss, fault rates)
// reproducible: a client's draws depend only on the seed, its key and the
// order of its requests.
func WithSeed(seed uint64) Option { return func(s *Shaper) { s.seed = seed } }

// WithClock injects the time source and sleeper (default RealClock).
func WithClock(c Clock) Option { return func(s *Shaper) { s.clock = c } }

// WithClientKey replaces DefaultClientKey.
func WithClientKey(f ClientKey) Option { return func(s *Shaper) { s.key = f } }

// WithClassifier replaces Classify.
func WithClassifier(f func(*http.Request) Class) Option { return func(s *Shaper) { s.classify = f } }

// WithMaxClients bounds the number of links kept (default DefaultMaxClients).
func WithMaxClients(n int) Option { return func(s *Shaper) { s.maxLinks = n } }

// WithObserver receives an Event after every request. It is called from
// the request's goroutine and must not block.
func WithObserver(f func(Event)) Option { return func(s *Shaper) { s.observe = f } }

// WithStallTimeout sets how long one shaped write may wait for the link
// (an outage, a deep queue) before the write deadline passes: before each
// write the shaper moves the connection's write deadline to the wall
// clock's now + wait + this (default 30 s). A server's WriteTimeout bounds
// a whole response, which a slow shaped link legitimately exceeds; this
// turns it into a bound on lack of progress.
func WithStallTimeout(d time.Duration) Option { return func(s *Shaper) { s.stall = d } }

// Shaper applies a Scenario to HTTP responses, per client.
type Shaper struct {
	sc       *Scenario
	p        *plan
	seed     uint64
	clock    Clock
	key      ClientKey
	classify func(*http.Request) Class
	observe  func(Event)
	maxLinks int
	stall    time.Duration

	mu    sync.Mutex
	links map[string]*link
}

// New returns a Shaper for a validated scenario.
func New(sc *Scenario, opts ...Option) (*Shaper, error) {
	if sc == nil {
		return nil, fmt.Errorf("%w: nil scenario", ErrScenario)
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	s := &Shaper{sc: sc, p: newPlan(sc), clock: RealClock{}, key: DefaultClientKey, classify: Classify,
		maxLinks: DefaultMaxClients, stall: 30 * time.Second, links: map[string]*link{}}
	for _, o := range opts {
		o(s)
	}
	if s.maxLinks < 1 {
		s.maxLinks = 1
	}
	return s, nil
}

// Wrap loads the scenario file (LoadScenario: a JSON scenario or a trace
// in any format abr reads) and wraps h with a Shaper built with opts (as
// New takes them; WithSeed for reproducible draws); with an empty path it
// returns h unchanged. It is the one call a server command needs for a
// --shape flag:
//
//	h, err = shape.Wrap(h, shapeFlag, shape.WithSeed(seedFlag))
func Wrap(h http.Handler, scenarioPath string, opts ...Option) (http.Handler, error) {
	if scenarioPath == "" {
		return h, nil
	}
	sc, err := LoadScenario(scenarioPath)
	if err != nil {
		return nil, err
	}
	s, err := New(sc, opts...)
	if err != nil {
		return nil, err
	}
	return s.Handler(h), nil
}

// Scenario returns the scenario the shaper applies.
func (s *Shaper) Scenario() *Scenario { return s.sc }

func (s *Shaper) link(key string, now time.Time) *link {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.links[key]; l != nil {
		l.used = now
		return l
	}
	if len(s.links) >= s.maxLinks {
		var old *link
		for _, l := range s.links {
			if old == nil || l.used.Before(old.used) {
				old = l
			}
		}
		delete(s.links, old.key)
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	// an empty bucket: from its first request a client gets exactly the
	// timeline's bytes
	l := &link{p: s.p, key: key, start: now, used: now,
		rng: rand.New(rand.NewPCG(s.seed, h.Sum64())), atNext: make([]int, len(s.sc.Faults))}
	s.links[key] = l
	return l
}

// pick decides the fault of one request (nil for none): a pending at_s
// time of a matching rule first, else one uniform draw against the
// matching rules' rates laid end to end, so that each rule fires at
// exactly its configured rate.
func (s *Shaper) pick(l *link, c Class, t float64) *Fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.rng.Float64() // drawn for every request, so draws stay aligned
	for i := range s.sc.Faults {
		f := &s.sc.Faults[i]
		if !f.matches(c) {
			continue
		}
		fired := false
		for l.atNext[i] < len(f.AtS) && f.AtS[l.atNext[i]] <= t {
			l.atNext[i]++
			fired = true // times that passed together fire once
		}
		if fired {
			return f
		}
	}
	for i := range s.sc.Faults {
		f := &s.sc.Faults[i]
		if f.Rate == 0 || !f.matches(c) || t < f.FromS || (f.ToS > 0 && t >= f.ToS) {
			continue
		}
		if u < f.Rate {
			return f
		}
		u -= f.Rate
	}
	return nil
}

func (f *Fault) matches(c Class) bool {
	fc, _ := classByName(f.Class)
	return fc == ClassAny || fc == c
}

// errCut is returned by writes after a truncate or reset fault cut the
// response.
var errCut = errors.New("shape: response cut by an injected fault")

// Handler wraps h: every response is delayed by the client's latency and
// any slow-first-byte fault, its body is paced by the client's link, and
// faults replace or cut it.
func (s *Shaper) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.clock.Now()
		l := s.link(s.key(r), now)
		c := s.classify(r)
		t0 := l.since(now)
		f := s.pick(l, c, t0)
		sw := &writer{rw: w, s: s, l: l, ctx: r.Context(), limit: -1, length: -1, delay: l.latency(now)}
		ev := Event{Client: l.key, Class: c, Path: r.URL.Path, Start: dur(t0)}
		if f != nil {
			ev.Fault = f.Kind
			switch f.Kind {
			case FaultSlowFirstByte:
				sw.delay += time.Duration(f.DelayMs * float64(time.Millisecond))
			case FaultTruncate, FaultReset:
				sw.cut, sw.reset = true, f.Kind == FaultReset
				sw.frac = defaultTruncFrac
				if f.Kind == FaultReset {
					sw.frac = 0
				}
				if f.Fraction != nil {
					sw.frac = *f.Fraction
				}
			}
		}
		defer func() {
			ev.End, ev.Status, ev.Bytes, ev.Canceled = dur(l.since(s.clock.Now())), sw.status, sw.written, sw.canceled
			l.mu.Lock()
			ev.Losses = l.losses
			l.mu.Unlock()
			if s.observe != nil {
				s.observe(ev)
			}
		}()
		if f != nil && f.Kind == FaultStatus {
			hd := w.Header()
			hd.Set("Content-Type", "text/plain; charset=utf-8")
			hd.Set("Cache-Control", "no-store")
			hd.Set("X-Content-Type-Options", "nosniff")
			sw.WriteHeader(f.Status)
			fmt.Fprintf(sw, "%d %s (injected by streamkit shape)\n", f.Status, http.StatusText(f.Status))
			return
		}
		if sw.cut && sw.reset && sw.frac == 0 {
			sw.delayFirst()
			sw.abort() // reset before any byte of the response
			return
		}
		h.ServeHTTP(sw, r)
		if !sw.wrote && !sw.aborted {
			sw.delayFirst() // an empty response still pays the latency
		}
		if sw.cut && !sw.aborted && sw.limit >= 0 {
			sw.abort() // the handler wrote less than the cut point: cut at its end
		}
	})
}

func dur(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// writer paces a response through its client's link.
type writer struct {
	rw       http.ResponseWriter
	s        *Shaper
	l        *link
	ctx      context.Context
	delay    time.Duration
	delayed  bool
	wrote    bool // header sent
	status   int
	written  int64
	length   int64 // Content-Length, -1 unknown
	cut      bool  // a truncate or reset fault applies
	reset    bool
	frac     float64
	limit    int64 // cut after this many body bytes (-1: not yet known)
	aborted  bool
	canceled bool
	deadline time.Time // write deadline last set (wall clock)
}

func (w *writer) Header() http.Header { return w.rw.Header() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.rw }

func (w *writer) delayFirst() {
	if w.delayed {
		return
	}
	w.delayed = true
	if w.delay > 0 {
		if w.s.clock.Sleep(w.ctx, w.delay) != nil {
			w.canceled = true
		}
	}
}

func (w *writer) WriteHeader(code int) {
	if w.wrote || w.aborted {
		return
	}
	w.delayFirst()
	w.wrote, w.status = true, code
	if cl := w.rw.Header().Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.length = n
		}
	}
	if w.cut && w.length >= 0 {
		w.limit = int64(w.frac * float64(w.length))
	}
	w.rw.WriteHeader(code)
}

func (w *writer) Write(p []byte) (int, error) {
	if w.aborted {
		return 0, errCut
	}
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.cut && w.limit < 0 {
		// no Content-Length: the cut point is a share of the first write
		w.limit = int64(w.frac * float64(len(p)))
	}
	rc := http.NewResponseController(w.rw)
	done := 0
	for done < len(p) {
		if w.canceled || w.ctx.Err() != nil {
			w.canceled = true
			return done, w.ctx.Err()
		}
		n := min(w.l.chunk(w.s.clock.Now()), len(p)-done)
		if w.cut && w.written+int64(n) > w.limit {
			n = int(w.limit - w.written)
		}
		if n > 0 {
			rem := int64(-1)
			if w.length >= 0 {
				rem = w.length - w.written - int64(n)
			}
			now := w.s.clock.Now()
			ready := w.l.reserve(now, n, rem)
			wait := ready.Sub(now)
			if w.s.stall > 0 {
				// moving a deadline costs a runtime timer update: do it
				// only when the one set is less than half a stall away
				wall := time.Now()
				if dl := wall.Add(max(wait, 0) + w.s.stall); dl.Sub(w.deadline) > w.s.stall/2 {
					rc.SetWriteDeadline(dl)
					w.deadline = dl
				}
			}
			if wait > 0 {
				if err := w.s.clock.Sleep(w.ctx, wait); err != nil {
					w.canceled = true
					return done, err
				}
			}
			m, err := w.rw.Write(p[done : done+n])
			done += m
			w.written += int64(m)
			if err != nil {
				return done, err
			}
			rc.Flush()
		}
		if w.cut && w.written >= w.limit {
			w.abort()
			return done, errCut
		}
	}
	return done, nil
}

// Flush passes through (the shaper flushes after every paced write).
func (w *writer) Flush() {
	if !w.aborted {
		if !w.wrote {
			w.WriteHeader(http.StatusOK)
		}
		http.NewResponseController(w.rw).Flush()
	}
}

// abort cuts the connection: for truncate, an orderly close (FIN) after
// the bytes sent so far; for reset, a hijack and close with SO_LINGER 0,
// which makes the kernel send RST (a listener that wraps connections must
// give them a NetConn method, as crypto/tls does, or the close is a FIN). Where hijacking is impossible (HTTP/2)
// both abort the stream with http.ErrAbortHandler.
func (w *writer) abort() {
	if w.aborted {
		return
	}
	w.aborted = true
	rc := http.NewResponseController(w.rw)
	if w.wrote {
		rc.Flush() // (before the header, a flush would send a 200)
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if w.reset {
		// listeners that wrap connections (a connection limit, TLS) are
		// seen through when the wrapper has NetConn, as *tls.Conn does
		c := conn
		for i := 0; i < 8; i++ {
			if l, ok := c.(interface{ SetLinger(int) error }); ok {
				l.SetLinger(0)
				break
			}
			u, ok := c.(interface{ NetConn() net.Conn })
			if !ok {
				break
			}
			c = u.NetConn()
		}
	}
	conn.Close()
}
