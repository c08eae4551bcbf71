package swarm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/streamkit-go/streamkit/abr"
)

// Option configures Run.
type Option func(*runConfig)

type runConfig struct {
	manifest abr.Manifest
	traces   map[string]*abr.Trace
	onPeer   func(PeerResult)
	onSeg    func(g int32, q int, p2p bool, bits float64) // tests: every delivered segment
	noBits   bool                                         // tests: no holding bitsets (the path for huge rings)
	ringRoom int                                          // tests: first room for ring blocks (growRings from the start)
}

// WithManifest gives the stream's segment sizes directly (for example from
// manifest.Load, which reads packaged .m3u8/.mpd presentations), instead of
// the scenario's stream.manifest or synthetic ladder.
func WithManifest(m abr.Manifest) Option { return func(c *runConfig) { c.manifest = m } }

// WithTraces supplies already loaded traces by the names the scenario's
// classes list (tests, embedded data); names not found are loaded from disk.
func WithTraces(t map[string]*abr.Trace) Option { return func(c *runConfig) { c.traces = t } }

// WithPeerResults calls fn for every viewer when its session ends, in the
// order sessions end (deterministic).
func WithPeerResults(fn func(PeerResult)) Option { return func(c *runConfig) { c.onPeer = fn } }

// PeerResult is one viewer's session.
type PeerResult struct {
	ID        int
	Class     string
	JoinMs    float64
	FirstSeg  int        // global index of the first segment played
	Trace     *abr.Trace // the trace its player ran on (rotated to its random start)
	UpKbps    float64    // its upload capacity (+Inf: unlimited)
	LeaveMs   float64
	Metrics   abr.Metrics // the player's own metrics, as an abr session reports them
	PeerBits  float64
	CDNBits   float64
	UpBits    float64
	BehindMs  float64 // live: distance behind the live edge at the end
	Neighbors float64 // mean connected neighbours at its requests
}

// hold is one segment a peer holds (ring of the live window).
type hold struct {
	g           int32
	q           int8
	bad         bool // altered data (accepted without verification)
	start, done float64
}

type peer struct {
	sess         *abr.Session
	join, leave  float64
	s0           int32
	class, nat   uint8
	tamper       bool
	alive        bool
	swarm        int8
	spos         int32 // index in its swarm's member list
	trace        int32 // index into the class's traces
	up           float64
	upBusy       float64
	nextAnnounce float64
	swarmSince   float64 // joined its current rendition's swarm
	seeding      bool    // its seeding timer runs
	next         int     // next session segment its player requests
	nseg         int32
	reqT, reqBl  float64    // its pending request: time and buffer level
	recent       [3]float64 // its loader's last download rates (kbit/s)
	nrecent      int
	nb           []neighbour
	peerBits     float64
	cdnBits      float64
	upBits       float64
	reqs         int32
	neighSum     float64
}

type traceRT struct {
	t     *abr.Trace
	cum   []float64 // end time of each period
	total float64
}

// kbpsAt is the trace's bandwidth ms after its start (it loops).
func (tr *traceRT) kbpsAt(ms float64) float64 {
	if tr.total > 0 {
		ms = math.Mod(ms, tr.total)
	}
	i := sort.SearchFloat64s(tr.cum, ms)
	if i < len(tr.cum) && tr.cum[i] == ms {
		i++
	}
	if i >= len(tr.cum) {
		i = len(tr.cum) - 1
	}
	return tr.t.Periods[i].Kbps
}

type classRT struct {
	Class
	traces []traceRT
	natCum []float64
}

type event struct {
	t    float64
	seq  uint64
	p    int32
	kind uint8
}

// event kinds
const (
	evStep  = iota // the player's next request (or a re-check of a waiting one)
	evLeave        // the viewer leaves
	evSeed         // the loader's random-HTTP timer
)

// sim is one run. It is the Deliverer of every player's session: Deliver
// is called inside the current peer's Step.
type sim struct {
	sc      Scenario
	ctx     context.Context
	cfg     runConfig
	rng     *rand.Rand
	segMs   float64
	n       int
	kbps    []float64
	sizes   []float64
	nseg    int // global segments
	live    bool
	hold    int     // hold-back in segments
	preMs   float64 // live: segment g is complete at (g+1)·P − pre
	bufMs   float64
	w       int // ring size
	classes []classRT
	classW  []float64
	peers   []peer
	swarms  [][]int32
	heap    []event
	seq     uint64
	cur     int32

	// the current request's outcome, read back after Step
	lastStart   float64
	lastDone    float64 // the loader's completion (supplied), −1: the session's
	lastCounted bool    // its bytes were counted when the loader fetched it
	curBits     float64 // the current request's size
	lastP2P     bool
	lastBad     bool
	lastUp      int32

	// Hot per-peer state in flat arrays indexed by peer id: the scheduler
	// looks at ~20 neighbours per request, and a peer struct (or a ring
	// of its own) per neighbour missed the cache every time at 100k
	// peers. held answers "does neighbour j hold slot/rendition" from a
	// bit per peer (the segment's bitset is shared by everyone watching
	// it, so it stays in cache); only holders are then looked at.
	rings   []hold    // slot-major: entry (slot, block) at slot·rcap + block; peer id's block is ph[id].rb
	rcap    int       // ring blocks room per slot
	nblk    int       // ring blocks handed out
	capHint int       // first room
	ph      []peerHot // what a neighbour's scan reads of each peer, one 16-byte entry
	freeRB  []int32   // blocks of departed peers, reused (deterministic: LIFO)
	aliveB  []uint64  // bitset: peer alive
	held    []uint64  // per ((g mod 2w)·n + q), words uint64s: peers whose ring holds g at rendition q (see holds)
	words   int

	memo                                                 holdersMemo
	cands                                                []cand // holders of the current request (holdersRaw)
	candKey                                              candKey
	res                                                  Result
	cdnB, p2pB                                           []float64 // bits per bucket
	conc                                                 []int32   // concurrency difference array per bucket
	bucketMs                                             float64
	events                                               int64
	sumStartup, sumBehind, sumBitrate, sumRebuf, sumPlay float64
	segsPlayed                                           int
	neighSum                                             float64
	reqs                                                 int64
}

// Run simulates the scenario and returns its results. The run is one
// goroutine and deterministic: the same scenario and seed give the same
// Result, bit for bit.
func Run(ctx context.Context, sc *Scenario, opts ...Option) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	s := &sim{sc: *sc, ctx: ctx}
	s.sc.Classes = append([]Class(nil), sc.Classes...)
	s.sc.defaults()
	for _, o := range opts {
		o(&s.cfg)
	}
	if err := s.setup(); err != nil {
		return nil, err
	}
	if err := s.loop(); err != nil {
		return nil, err
	}
	s.finish()
	return &s.res, nil
}

func (s *sim) setup() error {
	sc := &s.sc
	s.rng = rand.New(rand.NewPCG(sc.Seed, 0x5eed5eed))
	if _, err := abr.New(sc.ABR.Algorithm); err != nil {
		return fmt.Errorf("%w: abr.algorithm: %v", ErrScenario, err)
	}
	st := sc.Stream
	m := s.cfg.manifest
	if m == nil && st.Manifest != "" {
		var err error
		if m, err = abr.LoadManifest(st.Manifest); err != nil {
			return err
		}
	}
	if m != nil {
		s.segMs = m.SegmentDuration()
		s.kbps = append([]float64(nil), m.Bitrates()...)
	} else {
		s.segMs = st.SegmentS * 1000
		s.kbps = append([]float64(nil), st.LadderKbps...)
	}
	s.n = len(s.kbps)
	if s.n == 0 || !(s.segMs > 0) {
		return fmt.Errorf("%w: empty ladder", ErrScenario)
	}
	s.live = st.Live
	durMs := st.DurationS * 1000
	if s.live {
		s.hold = int(math.Ceil(st.HoldBackS*1000/s.segMs - 1e-9))
		if s.hold < 1 {
			s.hold = 1
		}
		s.preMs = float64(s.hold+1) * s.segMs
		s.bufMs = float64(s.hold) * s.segMs
		s.w = int(math.Ceil(st.WindowS*1000/s.segMs)) + 1
		if s.w < s.hold+2 {
			s.w = s.hold + 2
		}
		s.nseg = int(math.Ceil((durMs+s.preMs)/s.segMs)) + 1
	} else {
		s.bufMs = sc.ABR.BufferS * 1000
		s.nseg = int(math.Ceil(durMs / s.segMs))
		// p2p-media-loader keeps VOD segments in memory up to
		// segmentMemoryStorageLimit (4096 MiB on desktop: over an hour
		// at 6 Mbit/s), so a peer holds what it watched; the ring holds
		// up to 1024 segments of it
		s.w = min(s.nseg, 1024)
	}
	if int64(s.nseg)*int64(s.n) > 1<<26 {
		return fmt.Errorf("%w: %d segments × %d renditions is too many", ErrScenario, s.nseg, s.n)
	}
	s.sizes = make([]float64, s.nseg*s.n)
	for g := 0; g < s.nseg; g++ {
		for q := 0; q < s.n; q++ {
			if m != nil {
				s.sizes[g*s.n+q] = m.SegmentSize(g%m.NumSegments(), q)
			} else {
				v := 1.0
				if st.VBR > 0 {
					v += st.VBR * (2*s.rng.Float64() - 1)
				}
				s.sizes[g*s.n+q] = s.kbps[q] * s.segMs * v
			}
		}
	}
	// classes and their traces (each trace in 4 rotations, so that peers on
	// one trace do not see the same network at the same moment)
	var mobW, fixW float64
	for _, cl := range sc.Classes {
		if cl.Mobile {
			mobW += cl.Share
		} else {
			fixW += cl.Share
		}
	}
	for ci := range sc.Classes {
		cl := classRT{Class: sc.Classes[ci]}
		w := cl.Share
		if ms := sc.Audience.MobileShare; ms > 0 {
			if cl.Mobile {
				w = ms * cl.Share / mobW
			} else {
				w = (1 - ms) * cl.Share / fixW
			}
		}
		s.classW = append(s.classW, w)
		var base []*abr.Trace
		for _, path := range cl.Traces {
			t := s.cfg.traces[path]
			if t == nil {
				var err error
				if t, err = abr.LoadTrace(path, cl.LatencyMs); err != nil {
					return err
				}
			}
			base = append(base, t)
		}
		if len(base) == 0 {
			base = append(base, &abr.Trace{Name: fmt.Sprintf("%s-%gkbps", cl.Name, cl.DownKbps),
				Periods: []abr.Period{{DurationMs: 3600e3, Kbps: cl.DownKbps, LatencyMs: cl.LatencyMs}}})
		}
		for _, t := range base {
			for r := 0; r < 4; r++ {
				rt := t
				if r > 0 && len(t.Periods) > 1 {
					k := s.rng.IntN(len(t.Periods))
					rt = &abr.Trace{Name: fmt.Sprintf("%s@%d", t.Name, k), Periods: append(append([]abr.Period(nil), t.Periods[k:]...), t.Periods[:k]...)}
				}
				tr := traceRT{t: rt}
				for _, p := range rt.Periods {
					tr.total += p.DurationMs
					tr.cum = append(tr.cum, tr.total)
				}
				cl.traces = append(cl.traces, tr)
				if len(t.Periods) <= 1 {
					break
				}
			}
		}
		tot := 0.0
		for ni, name := range sc.NAT.Types {
			tot += cl.NAT[name]
			if len(cl.NAT) == 0 && ni == 0 {
				tot = 1
			}
			cl.natCum = append(cl.natCum, tot)
		}
		s.classes = append(s.classes, cl)
	}
	s.swarms = make([][]int32, s.n)
	for _, cl := range s.classes {
		s.res.Classes = append(s.res.Classes, ClassResult{Name: cl.Name, Mobile: cl.Mobile})
	}
	s.bucketMs = sc.BucketS * 1000
	s.res.Scenario = sc.Name
	return nil
}

// arrivals draws every arrival time (ms), sorted.
func (s *sim) arrivals() []float64 {
	a := s.sc.Audience
	out := make([]float64, a.Peers)
	for i := range out {
		if a.Arrival != "poisson" && s.rng.Float64() < a.BurstShare {
			out[i] = (a.KickoffS + s.rng.ExpFloat64()*a.BurstS) * 1000
		} else {
			// a Poisson process conditioned on its count is uniform
			out[i] = s.rng.Float64() * a.ArriveS * 1000
		}
	}
	sort.Float64s(out)
	return out
}

func (s *sim) sessionMs() float64 {
	a := s.sc.Audience
	switch a.Session {
	case "fixed":
		return a.SessionS * 1000
	case "lognormal":
		return a.SessionS * 1000 * math.Exp(a.SessionSigma*s.rng.NormFloat64())
	}
	return a.SessionS * 1000 * s.rng.ExpFloat64()
}

// The event queue is a 4-ary heap of values ordered by (t, seq): no
// allocation or interface per event, and half the levels of a binary heap
// (the queue holds about one event per viewer). seq makes every key
// unique, so the order events come out in is the same for any correct
// priority queue.
func (s *sim) push(e event) {
	s.seq++
	e.seq = s.seq
	h := append(s.heap, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !less(e, h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
	s.heap = h
}

func less(a, b event) bool { return a.t < b.t || (a.t == b.t && a.seq < b.seq) }

func (s *sim) pop() event {
	h := s.heap
	top := h[0]
	n := len(h) - 1
	e := h[n]
	h = h[:n]
	if n > 0 {
		i := 0
		for {
			c := 4*i + 1
			if c >= n {
				break
			}
			m := c
			for k := c + 1; k < c+4 && k < n; k++ {
				if less(h[k], h[m]) {
					m = k
				}
			}
			if !less(h[m], e) {
				break
			}
			h[i] = h[m]
			i = m
		}
		h[i] = e
	}
	s.heap = h
	return top
}

func (s *sim) loop() error {
	arr := s.arrivals()
	s.peers = make([]peer, 0, len(arr))
	s.initHot(len(arr))
	ai := 0
	for ai < len(arr) || len(s.heap) > 0 {
		if s.events&0xfff == 0 && s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		s.events++
		if ai < len(arr) && (len(s.heap) == 0 || arr[ai] < s.heap[0].t) {
			if err := s.arrive(arr[ai]); err != nil {
				return err
			}
			ai++
			continue
		}
		e := s.pop()
		switch e.kind {
		case evLeave:
			s.depart(e.p, e.t)
			continue
		case evSeed:
			s.seed(e.p, e.t)
			continue
		}
		if ok, again := s.ready(e.p, e.t); !ok {
			s.push(event{t: again, p: e.p})
			continue
		}
		if err := s.step(e.p, e.t); err != nil {
			return err
		}
	}
	return nil
}

func (s *sim) arrive(t float64) error {
	sc := &s.sc
	id := int32(len(s.peers))
	s.peers = append(s.peers, peer{})
	p := &s.peers[id]
	p.join, p.alive, p.swarm, p.leave = t, true, -1, math.Inf(1)
	p.class = uint8(pick(s.classW, s.rng.Float64()))
	cl := &s.classes[p.class]
	p.nat = uint8(pick(cl.natCum, s.rng.Float64()))
	p.trace = int32(s.rng.IntN(len(cl.traces)))
	p.tamper = s.rng.Float64() < sc.Integrity.TamperShare
	switch {
	case cl.UpUnlimited:
		p.up = math.Inf(1)
	case cl.UpSigma > 0:
		p.up = cl.UpMedianKbps * math.Exp(cl.UpSigma*s.rng.NormFloat64())
	default:
		p.up = cl.UpMedianKbps
	}
	// what it will watch: live from the hold-back, VOD from the start
	lenMs := s.sessionMs()
	if sc.Audience.Arrival == "event" {
		end := sc.Audience.EndS*1000 + s.rng.Float64()*sc.Audience.DepartS*1000
		lenMs = math.Min(lenMs, end-t)
	}
	var s0, nseg int
	if s.live {
		last := int(math.Floor((t+s.preMs)/s.segMs)) - 1 // newest complete segment
		s0 = last - s.hold + 1
		endMs := sc.Stream.DurationS * 1000
		lenMs = math.Min(lenMs, endMs-t)
		nseg = int(math.Ceil(lenMs / s.segMs))
		if s0+nseg > s.nseg {
			nseg = s.nseg - s0
		}
	} else {
		nseg = int(math.Ceil(lenMs / s.segMs))
		if nseg > s.nseg {
			nseg = s.nseg
		}
	}
	p.s0, p.nseg = int32(s0), int32(nseg)
	s.ph = append(s.ph, peerHot{leave: p.leave, rb: -1, cls: p.class})
	if nseg < 1 {
		// arrives after the end (or leaves at once): never plays
		p.alive = false
		return nil
	}
	s.allocRing(id)
	setBit(s.aliveB, id)
	k := sc.Tracker.Neighbours
	p.nb = make([]neighbour, 0, k)
	alg, err := abr.New(sc.ABR.Algorithm)
	if err != nil {
		return err
	}
	win := &window{table: s.sizes[s0*s.n : (s0+nseg)*s.n], kbps: s.kbps, segMs: s.segMs, nseg: nseg}
	opts := []abr.Option{abr.WithBuffer(s.bufMs), abr.WithDeliverer(s)}
	if sc.ABR.StartupS > 0 {
		opts = append(opts, abr.WithStartup(sc.ABR.StartupS*1000))
	}
	p.sess, err = abr.NewSession(win, cl.traces[p.trace].t, alg, opts...)
	if err != nil {
		return err
	}
	s.concAdd(t, 1)
	s.push(event{t: t, p: id})
	return nil
}

func pick(cum []float64, u float64) int {
	// cum may be weights (classes) or cumulative (NAT): normalise on the fly
	if len(cum) == 0 {
		return 0
	}
	isCum := true
	for i := 1; i < len(cum); i++ {
		if cum[i] < cum[i-1] {
			isCum = false
		}
	}
	if !isCum || len(cum) == 1 {
		tot := 0.0
		for _, w := range cum {
			tot += w
		}
		r := u * tot
		for i, w := range cum {
			r -= w
			if r < 0 {
				return i
			}
		}
		return len(cum) - 1
	}
	r := u * cum[len(cum)-1]
	for i, c := range cum {
		if r < c {
			return i
		}
	}
	return len(cum) - 1
}

// window is one viewer's part of the stream, sharing the run's size table.
type window struct {
	table []float64
	kbps  []float64
	segMs float64
	nseg  int
}

func (w *window) SegmentDuration() float64     { return w.segMs }
func (w *window) Bitrates() []float64          { return w.kbps }
func (w *window) NumSegments() int             { return w.nseg }
func (w *window) SegmentSize(i, q int) float64 { return w.table[i*len(w.kbps)+q] }
func (w *window) SizeTable() []float64         { return w.table }

func (s *sim) step(id int32, t float64) error {
	p := &s.peers[id]
	s.cur = id
	done, err := p.sess.Step()
	if err != nil {
		return err
	}
	p = &s.peers[id]
	v := p.sess.View()
	rec := p.sess.Last()
	end := p.join + v.NetworkTimeMs()
	g := int(p.s0) + rec.Index
	done0 := end
	if s.lastDone >= 0 {
		done0 = s.lastDone
	}
	if !s.lastCounted && done0 > s.lastStart {
		p.measured(rec.Downloaded / (done0 - s.lastStart))
	}
	s.put(id, int32(g), rec.Quality, s.lastBad, s.lastStart, done0)
	bits := rec.Downloaded
	if rec.Abandoned {
		p.next = rec.Index
	} else {
		p.next = rec.Index + 1
	}
	if s.cfg.onSeg != nil && !s.lastCounted {
		s.cfg.onSeg(int32(g), rec.Quality, s.lastP2P, bits)
	}
	switch {
	case s.lastCounted:
	case s.lastP2P:
		s.addBits(true, s.lastStart, done0, bits)
		p.peerBits += bits
		u := &s.peers[s.lastUp]
		u.upBits += bits
	default:
		s.addBits(false, s.lastStart, done0, bits)
		p.cdnBits += bits
	}
	if done {
		leave := end + v.BufferLevel()
		p.leave = leave
		s.ph[id].leave = leave
		s.push(event{t: leave, p: id, kind: evLeave})
		return nil
	}
	wait := v.BufferLevel() + s.segMs - s.bufMs
	if wait < 0 {
		wait = 0
	}
	p.reqT, p.reqBl = end+wait, v.BufferLevel()-wait
	s.push(event{t: end + wait, p: id})
	return nil
}

func (s *sim) depart(id int32, t float64) {
	p := &s.peers[id]
	p.alive = false
	clearBit(s.aliveB, id)
	s.freeRing(id)
	s.leaveSwarm(id)
	s.concAdd(t, -1)
	m := p.sess.Metrics()
	s.sumStartup += m.StartupMs
	s.sumRebuf += m.RebufferMs
	s.sumPlay += m.PlayTimeMs
	s.sumBitrate += m.PlayedBitrate
	s.segsPlayed += m.Segments
	behind := 0.0
	if s.live {
		// edge at join minus the hold-back, plus the join phase, startup
		// and every stall (players here do not catch up, as hls.js with
		// its default maxLiveSyncPlaybackRate 1)
		phase := math.Mod(p.join+s.preMs, s.segMs)
		behind = float64(s.hold)*s.segMs + phase + m.StartupMs + m.RebufferMs
		s.sumBehind += behind
	}
	cl := &s.classes[p.class]
	cr := &s.res.Classes[p.class]
	cr.Peers++
	cr.UploadBytes += p.upBits / 8
	cr.PeerBytes += p.peerBits / 8
	cr.CDNBytes += p.cdnBits / 8
	s.res.Peers++
	if s.cfg.onPeer != nil {
		nb := 0.0
		if p.reqs > 0 {
			nb = p.neighSum / float64(p.reqs)
		}
		s.cfg.onPeer(PeerResult{ID: int(id), Class: cl.Name, JoinMs: p.join, FirstSeg: int(p.s0), Trace: cl.traces[p.trace].t, UpKbps: p.up, LeaveMs: p.leave,
			Metrics: m, PeerBits: p.peerBits, CDNBits: p.cdnBits, UpBits: p.upBits, BehindMs: behind, Neighbors: nb})
	}
	// free what the run no longer needs
	p.sess, p.nb = nil, nil
}

// initHot sizes the flat per-peer arrays for n peers.
func (s *sim) initHot(n int) {
	s.ph = make([]peerHot, 0, n)
	s.words = (n + 63) / 64
	s.aliveB = make([]uint64, s.words)
	// room for every peer's ring up to 64 MB of them at once; more grows
	// on demand (VOD rings of 1024 segments, audiences that churn)
	s.capHint = max(1, min(n, (64<<20)/(24*max(1, s.w))))
	if s.cfg.ringRoom > 0 {
		s.capHint = s.cfg.ringRoom
	}
	// the holding bitsets: 2w·n rows of one bit per peer (3 MB for 100k
	// peers, a 31-segment live ring and 4 renditions); above 512 MB (VOD
	// rings of 1024 segments, many renditions, millions of peers) the
	// rings are looked at directly
	if rows := 2 * int64(s.w) * int64(s.n) * int64(s.words); rows*8 <= 512<<20 && !s.cfg.noBits {
		s.held = make([]uint64, rows)
	}
}

// neighbour is one connection of a peer: the other peer, when the
// connection is up, and the loader's last download rate from it (kbit/s,
// for the bandwidth-weighted choice). One slice of them, not three: a scan
// reads all three of an entry.
type neighbour struct {
	j     int32
	ready float64
	bw    float64
}

// peerHot is what the scheduler reads of a neighbour on every scan, side by
// side (one cache line fetch, not three: the neighbours of a request are
// random peers, so their entries are rarely in cache at 100k peers).
type peerHot struct {
	leave float64 // its leave time (peer.leave)
	rb    int32   // its ring block (−1: none)
	cls   uint8   // its class
}

// slotOf is peer id's ring entry for segment g (the peer has a ring).
func (s *sim) slotOf(id, g int32) *hold {
	return &s.rings[(int(g)%s.w)*s.rcap+int(s.ph[id].rb)]
}

// The rings are stored slot-major (every block's entry for one slot side by
// side), not one block of w entries per peer: the scheduler reads the slot
// of the segment being requested in the rings of ~20 random neighbours, and
// at any moment almost every request is for the same one or two segments
// (live, everyone near the edge), so those reads stay within one slot's
// rcap entries (240 KB at 10k peers, in cache) instead of spreading over
// every ring (w× as much memory). The order of everything is unchanged.

// put records that peer id holds (or is loading) segment g at quality q.
func (s *sim) put(id, g int32, q int, bad bool, start, done float64) {
	h := s.slotOf(id, g)
	if h.g >= 0 {
		s.setHeld(h.g, int(h.q), id, false)
	}
	h.g, h.q, h.bad, h.start, h.done = g, int8(q), bad, start, done
	s.setHeld(g, q, id, true)
}

// heldRow is the bitset of the peers that may hold segment g at rendition
// q (nil without bitsets): a clear bit means peer j does not hold it; a
// set one, that its ring slot holds rendition q of g or of a segment 2w
// (4w, …) away, which the caller tells apart by the slot's g. (The rows go
// by g mod 2w, not by ring slot, so that the segment a slot held before,
// g − w, which every neighbour still has when g is asked for, does not
// pass.) A set bit implies a live peer with a ring.
func (s *sim) heldRow(g int32, q int) []uint64 {
	if s.held == nil {
		return nil
	}
	i := ((int(g)%(2*s.w))*s.n + q) * s.words
	return s.held[i : i+s.words]
}

func (s *sim) setHeld(g int32, q int, id int32, on bool) {
	if s.held == nil {
		return
	}
	row := s.held[((int(g)%(2*s.w))*s.n+q)*s.words:]
	if on {
		setBit(row, id)
	} else {
		clearBit(row, id)
	}
}

func setBit(b []uint64, i int32)   { b[i>>6] |= 1 << (uint(i) & 63) }
func clearBit(b []uint64, i int32) { b[i>>6] &^= 1 << (uint(i) & 63) }
func bit(b []uint64, i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

// allocRing gives peer id an empty ring block (a departed peer's, or a
// new one).
func (s *sim) allocRing(id int32) {
	var b int32
	if n := len(s.freeRB); n > 0 {
		b = s.freeRB[n-1]
		s.freeRB = s.freeRB[:n-1]
	} else {
		if s.nblk == s.rcap {
			s.growRings()
		}
		b = int32(s.nblk)
		s.nblk++
	}
	s.ph[id].rb = b
	for slot := 0; slot < s.w; slot++ {
		s.rings[slot*s.rcap+int(b)] = hold{g: -1}
	}
}

// growRings doubles the ring blocks' room (slot-major: each slot's entries
// move to their new place).
func (s *sim) growRings() {
	nc := max(2*s.rcap, 1)
	if s.rcap == 0 {
		nc = s.capHint
	}
	r := make([]hold, s.w*nc)
	for slot := 0; slot < s.w; slot++ {
		copy(r[slot*nc:slot*nc+s.nblk], s.rings[slot*s.rcap:slot*s.rcap+s.nblk])
	}
	s.rings, s.rcap = r, nc
}

// freeRing returns peer id's ring block when it leaves.
func (s *sim) freeRing(id int32) {
	b := s.ph[id].rb
	if b < 0 {
		return
	}
	for slot := 0; slot < s.w; slot++ {
		h := &s.rings[slot*s.rcap+int(b)]
		if h.g >= 0 {
			s.setHeld(h.g, int(h.q), id, false)
			h.g = -1
		}
	}
	s.ph[id].rb = -1
	s.freeRB = append(s.freeRB, b)
}

func (s *sim) concAdd(t float64, d int32) {
	b := int(t / s.bucketMs)
	for len(s.conc) <= b {
		s.conc = append(s.conc, 0)
	}
	s.conc[b] += d
}

// addBits spreads bits evenly over [a, b] into the per-bucket sums of
// peer (p2p) or CDN bits.
func (s *sim) addBits(p2p bool, a, b, bits float64) {
	if !(b > a) {
		b = a
	}
	ba, bb := int(a/s.bucketMs), int(b/s.bucketMs)
	for len(s.cdnB) <= bb {
		s.cdnB = append(s.cdnB, 0)
		s.p2pB = append(s.p2pB, 0)
	}
	dst := s.cdnB
	if p2p {
		dst = s.p2pB
	}
	if ba == bb {
		dst[ba] += bits
		return
	}
	rate := bits / (b - a)
	for k := ba; k <= bb; k++ {
		lo := math.Max(a, float64(k)*s.bucketMs)
		hi := math.Min(b, float64(k+1)*s.bucketMs)
		dst[k] += rate * (hi - lo)
	}
}
