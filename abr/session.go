package abr

import (
	"encoding/binary"
	"fmt"

	"math"
	"math/bits"
	"sync"
)

// Algorithm chooses the quality of each segment. Implementations read what
// they need from the session's View (ladder, segment sizes, buffer level,
// throughput and latency estimates and history), as the built-ins do, and
// keep their own state; Init is called once at the start of every session
// and must reset that state, so one value can be reused for consecutive
// sessions (but not shared by concurrent ones).
type Algorithm interface {
	// Init prepares the algorithm for a new session.
	Init(v View)
	// Decide returns the quality (0 = lowest) for segment seg and a delay in
	// ms to wait before requesting it (0 for none).
	Decide(v View, seg int) (quality int, delayMs float64)
}

// Abandoner is implemented by algorithms that may abandon a download in
// progress. Abandon is called every ~50 ms of transfer (at least 12000 bits)
// and returns the quality to abandon to, or -1 to keep downloading.
// bufferMs is the buffer level the player would have now.
type Abandoner interface {
	Abandon(v View, p *Progress, bufferMs float64) int
}

// DelayReporter is told about full-buffer waits (not about delays the
// algorithm asked for itself).
type DelayReporter interface {
	ReportDelay(v View, ms float64)
}

// Replacer is implemented by algorithms that replace buffered segments
// themselves, as dash.js's fast switching does (the preset DashJS): right
// after Decide, ReplaceOffset names the segment to download at the
// quality Decide chose, as a negative offset from the end of the buffer
// (-1 the last buffered segment), or 0 for the next segment as usual.
// Unlike Sabre's replacement (WithReplacement), the download keeps the
// delay Decide asked for: the player's buffer target counts the segments
// being replaced. A replacement still downloading when its segment starts
// playing is abandoned, as in Sabre's.
type Replacer interface {
	ReplaceOffset(v View) int
}

// DownloadReporter is told about every download after the buffer is updated,
// including abandoned ones.
type DownloadReporter interface {
	ReportDownload(v View, d *Download)
}

// FirstQualityChooser chooses the quality of segment 0 (0 when not
// implemented, as in Sabre).
type FirstQualityChooser interface {
	FirstQuality(v View) int
}

// Deliverer supplies where each segment comes from, for simulators that
// put the player behind something other than its trace: a peer-to-peer
// swarm, a cache, a shaped link (WithDeliverer). Deliver is called once per
// request, after the algorithm's decision and before any byte moves, with
// the session at the request (View.NetworkTimeMs is the request time,
// View.BufferLevel the buffer the request was made with). It must not
// allocate if the session is to stay allocation-free.
type Deliverer interface {
	Deliver(v View, seg, quality int, bits float64) Delivery
}

// Delivery is a Deliverer's answer. The zero value downloads from the
// trace, exactly as without a Deliverer. WaitMs is time spent before the
// request reaches the trace (e.g. looking for peers first); it counts as
// time to first bit and the network clock advances over it. With Supplied
// the segment does not touch the trace: it arrives LatencyMs + TransferMs
// after the wait (TransferMs > 0), the network clock advances by as much,
// and the estimator measures it like any download. Supplied downloads are
// never stepped, so no Abandoner is asked about them. With HideWait the
// wait is not part of the latency the estimator measures (the request's
// time to first bit in the records still includes it): a loader that
// reports its own timing to the player, as p2p-media-loader does to hls.js
// (a 10 ms latency and its transfer time), makes the player blind to the
// time a segment waited for peers.
type Delivery struct {
	WaitMs, LatencyMs, TransferMs float64
	Supplied, HideWait            bool
}

// SizeTabler is implemented by a Manifest whose segment sizes are one
// row-major table (segment i, quality q at i·levels + q, bits). A session
// reads such a table in place instead of copying it (it must then not
// change while the session runs), so many sessions over one stream share
// one table.
type SizeTabler interface {
	SizeTable() []float64
}

// Progress describes a download in progress, for Abandoner.
type Progress struct {
	Index      int     // segment index
	Quality    int     // quality being downloaded
	SizeBits   float64 // full size
	Downloaded float64 // bits received so far
	TimeMs     float64 // time since the request, latency included
	TTFBMs     float64 // time to first bit
}

// Download is the outcome of one request.
type Download struct {
	Progress
	AbandonTo   int  // -1 when the download completed
	Replacement bool // the download replaced an already buffered segment
}

// Abandoned reports whether the download was abandoned.
func (d *Download) Abandoned() bool { return d.AbandonTo >= 0 }

// Sample is one throughput/latency measurement fed to the estimator.
type Sample struct {
	DurationMs float64 // transfer time (latency excluded)
	Kbps       float64 // bits/ms
	LatencyMs  float64
}

// SegmentRecord is the per-download log line.
type SegmentRecord struct {
	Index        int     `json:"index"`
	Quality      int     `json:"quality"`
	BitrateKbps  float64 `json:"bitrate_kbps"`
	SizeBits     float64 `json:"size_bits"`
	Downloaded   float64 `json:"downloaded_bits"`
	StartMs      float64 `json:"start_ms"` // play clock when the request was sent
	TimeMs       float64 `json:"time_ms"`
	TTFBMs       float64 `json:"ttfb_ms"`
	WaitMs       float64 `json:"wait_ms"`  // full-buffer wait before the decision
	DelayMs      float64 `json:"delay_ms"` // delay asked for by the algorithm
	BufferBefore float64 `json:"buffer_before_ms"`
	BufferAfter  float64 `json:"buffer_after_ms"`
	RebufMs      float64 `json:"rebuffer_ms"` // stall time during this step
	Abandoned    bool    `json:"abandoned"`
	Replacement  bool    `json:"replacement,omitempty"`
	AbandonTo    int     `json:"abandon_to"`
	ThroughputKb float64 `json:"throughput_kbps"` // measured
	EstimateKbps float64 `json:"estimate_kbps"`   // estimate after this download
}

type pendingRec struct {
	start, end float64
	q          int
	hasEnd     bool
}

// Session is one deterministic simulated playback in the Sabre model: a
// network cursor over a looping trace, a player buffer, an estimator and an
// Algorithm. Step advances it by one download; Run runs it to the end. A
// Session uses no goroutines and, after construction, allocates nothing per
// segment (unless the Algorithm or the verbose log does). Independent sessions
// may run in parallel.
type Session struct {
	opt     config
	scratch config    // Reset collects its options here
	segMs   float64   // segment duration P, ms
	kbps    []float64 // the ladder, ascending
	n, nseg int       // levels, segments N
	sizes   []float64 // rows×n, bits (segSize)
	rows    int       // rows of sizes: nseg, or the length of a looped movie
	util    []float64 // Sabre's utility ln(b[q]/b[0]) per level
	logChg  []float64 // n×n table of |ln(b[q]/b[k])|, nil for very long ladders
	bufMs   float64   // maximum buffer B, ms
	gp      float64
	periods []Period
	alg     Algorithm
	ab      Abandoner
	qc      quietChecker // the Abandoner's proofs, if any
	lc      lineChecker
	pc      pathChecker
	fc      firstChecker
	// oneTransfer: outside Exact, a download the path proof covers moves as
	// one transfer (BOLA only: for the rules proven since, the default mode
	// replays the steps too, so their last bits — and the reaction-time
	// ties that rest on them — stay exactly what they were)
	oneTransfer bool
	dr          DelayReporter
	rr          DownloadReporter
	rp          Replacer
	trName      string

	// play side
	buf                                    []int // play queue: qualities of buffered segments from bh on
	bh                                     int
	dropped                                int     // entries popHead compacted away
	hiddenWait                             float64 // the Deliverer's wait the estimator does not see
	fcc                                    float64
	tPlay, tRebuf                          float64
	eRebuf                                 int
	playedUtility, playedBitrate           float64
	totalBitrateChange, totalLogBitrateChg float64
	lastPlayed                             int
	rampupTime                             float64
	rampupSet                              bool
	pending                                []pendingRec
	ph                                     int
	totalReaction                          float64
	startup                                float64
	switches, abandoned                    int
	playing                                bool
	replace                                int // 0 none, 1 left, 2 right
	abandonedBits                          float64
	overCount, leqCount                    int
	overAvg, leqAvg, estAvg                float64

	// network side
	index       int
	ttn, tnet   float64
	sustainable int
	hops        int // periods entered during the current operation
	// 1 − latency/P for the latency effLat (nextPeriod's sustainable quality)
	effLat, effFactor float64

	est  estimator
	hist [histLen]Sample
	nh   int

	jumps int // downloads that jumped to the rule's first possible firing (tests)

	next int
	done bool
	err  error
	rec  SegmentRecord
	dl   Download
	pw   pathWalk
}

const histLen = 32

// NewSession builds a session of manifest m over trace t with algorithm alg.
// The trace must be valid (see Trace.Validate); t is not modified. With no
// option the session is Sabre's model; see Option.
func NewSession(m Manifest, t *Trace, alg Algorithm, opts ...Option) (*Session, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	kb := m.Bitrates()
	if len(kb) == 0 {
		return nil, ErrEmptyLadder
	}
	for q, b := range kb {
		if !(b > 0) || (q > 0 && !(b > kb[q-1])) {
			// the models (and the sustainable-quality search) rely on it
			return nil, fmt.Errorf("%w: bitrates must be positive and strictly ascending (%v at level %d)", ErrMalformed, b, q)
		}
	}
	s := &Session{alg: alg}
	s.segMs = m.SegmentDuration()
	if !(s.segMs > 0) {
		return nil, fmt.Errorf("%w: segment duration %v", ErrMalformed, s.segMs)
	}
	lt := ladderFor(kb)
	s.kbps, s.util, s.logChg = lt.kbps, lt.util, lt.logChg
	s.n = len(kb)
	s.nseg = m.NumSegments()
	if s.nseg < 1 {
		return nil, fmt.Errorf("%w: no segments", ErrMismatch)
	}
	if s.nseg > maxSessionSegments {
		return nil, fmt.Errorf("abr: %d segments is more than a session plays (%d)", s.nseg, maxSessionSegments)
	}
	// A looped movie (Sabre's -ml) keeps the table of the movie it repeats:
	// segment i has row i mod rows, so memory does not grow with the length.
	tm := m
	if r, ok := m.(repeated); ok {
		tm = r.Manifest
	}
	s.rows = tm.NumSegments()
	if s.rows < 1 || s.rows > s.nseg {
		s.rows = s.nseg
		tm = m
	}
	if s.rows > maxSegments/s.n {
		return nil, fmt.Errorf("abr: %d segments × %d levels is more than the simulator holds (%d sizes)", s.rows, s.n, maxSegments)
	}
	if st, ok := tm.(SizeTabler); ok && len(st.SizeTable()) == s.rows*s.n {
		// shared, not copied: thousands of sessions over one stream (the
		// swarm simulator) would otherwise hold thousands of copies
		s.sizes = st.SizeTable()
		for i, sz := range s.sizes {
			if !(sz >= 0 && sz <= math.MaxFloat64) {
				return nil, fmt.Errorf("%w: segment %d quality %d: size %v bits", ErrMalformed, i/s.n, i%s.n, sz)
			}
		}
	} else {
		s.sizes = make([]float64, s.rows*s.n)
		for i := 0; i < s.rows; i++ {
			for q := 0; q < s.n; q++ {
				sz := tm.SegmentSize(i, q)
				if !(sz >= 0 && sz <= math.MaxFloat64) {
					// (a code-built Manifest is not checked by any reader)
					return nil, fmt.Errorf("%w: segment %d quality %d: size %v bits", ErrMalformed, i, q, sz)
				}
				s.sizes[i*s.n+q] = sz
			}
		}
	}
	s.trName = t.Name
	s.periods = t.Periods
	// the play queue is compacted as it drains (popHead), so it holds the
	// buffered segments, not the whole session
	s.buf = make([]int, 0, min(s.nseg+1, 2*bufCompact))
	s.pending = make([]pendingRec, 0, 16)
	s.ab, _ = alg.(Abandoner)
	s.qc, _ = alg.(quietChecker)
	s.lc, _ = alg.(lineChecker)
	s.pc, _ = alg.(pathChecker)
	s.fc, _ = alg.(firstChecker)
	_, s.oneTransfer = alg.(*Bola)
	s.dr, _ = alg.(DelayReporter)
	s.rr, _ = alg.(DownloadReporter)
	s.rp, _ = alg.(Replacer)
	if err := s.Reset(opts...); err != nil {
		return nil, err
	}
	return s, nil
}

// maxSegments bounds the segment sizes a session holds (rows·levels; it
// copies them unless the Manifest is a SizeTabler).
const maxSegments = 1 << 26

// maxSessionSegments bounds N (≈ 8 years of 1 s segments).
const maxSessionSegments = 1 << 28

// segSize is the size of segment idx at quality q, bits.
func (s *Session) segSize(idx, q int) float64 {
	if idx >= s.rows {
		idx %= s.rows
	}
	return s.sizes[idx*s.n+q]
}

var (
	defaultHalfLives = []float64{3, 8}
	defaultWindows   = []int{3}
)

// ResetTrace rewinds the session onto another trace (reusing its memory)
// with the options opts, as Reset does.
func (s *Session) ResetTrace(t *Trace, opts ...Option) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.resetValid(t, opts...)
}

// resetValid is ResetTrace for a trace its caller has just validated (a
// sweep's loader validates every trace it decodes).
func (s *Session) resetValid(t *Trace, opts ...Option) error {
	s.trName, s.periods = t.Name, t.Periods
	return s.Reset(opts...)
}

// Reset rewinds the session to its start, reusing its memory, and
// re-initialises the algorithm. The session then runs with opts, as if
// built by NewSession with them (no option: Sabre's model), not with the
// options it had.
func (s *Session) Reset(opts ...Option) error {
	// collected in the session's own scratch config: a local would escape
	// (an Option may keep its pointer) and cost an allocation per Reset
	s.scratch = config{RampupThreshold: NoRampupThreshold}
	for _, o := range opts {
		o(&s.scratch)
	}
	return s.reset(s.scratch)
}

func (s *Session) reset(opt config) error {
	if opt.BufferMs == 0 {
		opt.BufferMs = 25000
	}
	if opt.GammaP == 0 {
		opt.GammaP = 5
	}
	if len(opt.HalfLives) == 0 {
		opt.HalfLives = defaultHalfLives
	}
	if len(opt.WindowSizes) == 0 {
		opt.WindowSizes = defaultWindows
	}
	if !(opt.BufferMs > 0) {
		return fmt.Errorf("abr: buffer size must be positive, got %v ms", opt.BufferMs)
	}
	s.opt = opt
	s.bufMs = opt.BufferMs
	s.gp = opt.GammaP
	s.bh, s.fcc, s.tPlay, s.tRebuf, s.eRebuf = 0, 0, 0, 0, 0
	s.buf, s.dropped = s.buf[:0], 0
	s.playedUtility, s.playedBitrate, s.totalBitrateChange, s.totalLogBitrateChg = 0, 0, 0, 0
	s.lastPlayed = -1
	s.rampupTime, s.rampupSet = 0, false
	s.pending, s.ph = s.pending[:0], 0
	s.totalReaction, s.startup, s.switches, s.abandoned, s.abandonedBits = 0, 0, 0, 0, 0
	s.playing = opt.StartupMs <= 0
	switch opt.Replace {
	case "", "none":
		s.replace = 0
	case "left":
		s.replace = 1
	case "right":
		s.replace = 2
	default:
		return fmt.Errorf("abr: replacement %q: want none, left or right", opt.Replace)
	}
	if !(opt.StartupMs >= 0) || !(opt.RequestLatencyMs >= 0) || math.IsInf(opt.StartupMs+opt.RequestLatencyMs, 0) {
		return fmt.Errorf("abr: startup threshold and request latency must be finite and non-negative")
	}
	s.overCount, s.leqCount, s.overAvg, s.leqAvg, s.estAvg = 0, 0, 0, 0, 0
	s.nh = 0
	s.next, s.done, s.err = 0, false, nil
	if err := s.est.init(opt, s.segMs); err != nil {
		return err
	}
	s.alg.Init(View{s})
	// network initialisation (after the ABR is constructed, §2.3)
	s.index, s.ttn, s.tnet, s.sustainable, s.hops = -1, 0, 0, -1, 0
	s.effLat = math.NaN()
	s.nextPeriod()
	return nil
}

// bufferLevel is the buffered media in ms (View.BufferLevel).
func (s *Session) bufferLevel() float64 {
	return float64(s.segMs*float64(len(s.buf)-s.bh)) - s.fcc
}

func (s *Session) printf(format string, a ...any) {
	if s.opt.Out != nil {
		fmt.Fprintf(s.opt.Out, format, a...)
	}
}

func (s *Session) verbose() bool { return s.opt.Verbose && s.opt.Out != nil }

// ---- network model (§2.3) ----

func (s *Session) nextPeriod() {
	s.hops++
	s.index++
	if s.index == len(s.periods) {
		s.index = 0
	}
	p := &s.periods[s.index]
	s.ttn = p.DurationMs
	if p.LatencyMs != s.effLat {
		// traces repeat a few latencies: keep 1 − latency/P for the last one
		s.effLat, s.effFactor = p.LatencyMs, 1-p.LatencyMs/s.segMs
	}
	eff := p.Kbps * s.effFactor
	// the highest q with kbps[q] ≤ eff (0 if none), searched from the last
	// period's answer: consecutive periods mostly sustain the same quality
	q := s.sustainable
	if q < 0 {
		q = 0
	}
	for q > 0 && s.kbps[q] > eff {
		q--
	}
	for q+1 < s.n && s.kbps[q+1] <= eff {
		q++
	}
	if s.sustainable >= 0 && q != s.sustainable {
		s.advertise(q, s.sustainable)
	}
	s.sustainable = q
	if s.verbose() {
		s.printf("[%d] Network: %d,%d  (q=%d: bitrate=%d)\n", int64(math.RoundToEven(s.tnet)), int64(p.Kbps), int64(p.LatencyMs), q, int64(s.kbps[q]))
	}
}

func (s *Session) latency() float64 {
	units, total := 1.0, 0.0
	for units > 0 && s.hops <= maxHops {
		lat := s.periods[s.index].LatencyMs
		t := units * lat
		if t <= s.ttn {
			total += t
			s.tnet += t
			s.ttn -= t
			units = 0
		} else {
			total += s.ttn
			s.tnet += s.ttn
			units -= s.ttn / lat
			s.nextPeriod()
		}
	}
	return total
}

// maxHops bounds the periods one download or wait may cross, so a trace
// that delivers (almost) nothing ends in an error instead of a hang.
const maxHops = 1_000_000

func (s *Session) transfer(size float64) float64 {
	total := 0.0
	for size > 0 && s.hops <= maxHops {
		w := s.periods[s.index].Kbps
		if tw := float64(s.ttn * w); size <= tw {
			t := size / w
			total += t
			s.tnet += t
			s.ttn -= t
			size = 0
		} else {
			total += s.ttn
			s.tnet += s.ttn
			size -= tw
			s.nextPeriod()
		}
	}
	return total
}

func (s *Session) wait(t float64) {
	for t > s.ttn && s.hops <= maxHops {
		t -= s.ttn
		s.tnet += s.ttn
		s.nextPeriod()
	}
	s.ttn -= t
	s.tnet += t
}

func (s *Session) step(sizeLeft, minSize, minTime float64) (bitsTotal, timeTotal float64) {
	for sizeLeft > 0 && (minSize > 0 || minTime > 0) && s.hops <= maxHops {
		w := s.periods[s.index].Kbps
		var bits, t float64
		if w > 0 {
			minBits := minSize
			if mw := float64(minTime * w); mw > minBits {
				minBits = mw
			}
			toNext := float64(s.ttn * w)
			switch {
			case sizeLeft <= minBits && sizeLeft <= toNext:
				bits = sizeLeft
				t = bits / w
				s.ttn -= t
				s.tnet += t
			case minBits <= toNext:
				bits = minBits
				t = bits / w
				minSize, minTime = 0, 0
				s.ttn -= t
				s.tnet += t
			default:
				bits = toNext
				t = s.ttn
				s.tnet += t
				s.nextPeriod()
			}
		} else {
			if minSize > 0 || minTime > s.ttn {
				t = s.ttn
				s.tnet += t
				s.nextPeriod()
			} else {
				t = minTime
				s.ttn -= t
				s.tnet += t
			}
		}
		bitsTotal += bits
		timeTotal += t
		sizeLeft -= bits
		minSize -= bits
		minTime -= t
	}
	return
}

func (s *Session) stuck() error {
	if s.hops > maxHops {
		return fmt.Errorf("%w: no download finished within %d trace periods (at %.0f ms); the trace delivers too little", ErrNeverDelivers, maxHops, s.tnet)
	}
	return nil
}

// quietChecker is implemented by built-in abandonment rules that can prove
// they would answer "keep downloading" (-1, without side effects) for every
// progress state of the current download with Downloaded in
// [p.Downloaded, g1] and TimeMs in [p.TimeMs, t1]. The proof must hold in
// exact arithmetic with a margin far above float64 rounding, so that
// skipping the calls cannot change any result.
type quietChecker interface {
	quiet(v View, p *Progress, levelAtReq, g1, t1 float64) bool
}

// fastRun makes the fast steps that follow a proof (cmb bits in ct ms each,
// while more than cmb bits remain and the step ends inside the period),
// without calling the rule: whole in closed form when fastSteps can count
// them exactly, else one by one while the state stays in the proven box
// (Downloaded ≤ g1, TimeMs ≤ t1). It reports whether it stayed in the box.
func (s *Session) fastRun(d *Download, w, cmb, ct, size, kmax, g1, t1 float64, iter *int) bool {
	ttn, tnet, tm, got := s.ttn, s.tnet, d.TimeMs, d.Downloaded
	if j, gj := fastSteps(ttn, w, cmb, ct, got, size, kmax); j > 0 {
		if gj < 0 {
			gj = addSteps(got, cmb, j)
		}
		s.ttn = ttn - float64(50*j)
		s.tnet = addSteps(tnet, 50, j)
		d.TimeMs = addSteps(tm, 50, j)
		d.Downloaded = gj
		*iter += j
		return true
	}
	n := 0
	for size-got > cmb && cmb <= float64(ttn*w) && got <= g1 && tm <= t1 {
		ttn -= ct
		tnet += ct
		tm += ct
		got += cmb
		n++
	}
	*iter += n
	s.ttn, s.tnet, d.TimeMs, d.Downloaded = ttn, tnet, tm, got
	return got <= g1 && tm <= t1
}

// fastSteps returns how many consecutive fast steps (cmb bits in ct ms each,
// while more than cmb bits remain and cmb ≤ ttn·w) a download that has got
// of size bits makes from here, when that can be told exactly: ct = 50 and
// cmb an integer (integer bandwidths, the common case), so ttn − 50·j is
// exact for every j and addSteps gives every partial sum of the downloaded
// bits exactly, which makes both loop tests exact to evaluate for any j.
// Otherwise it returns 0 and the caller steps one by one. When the count
// had to look at the partial sums (the download may end in the period), it
// also returns the bits downloaded after the steps, else −1.
func fastSteps(ttn, w, cmb, ct, got, size, kmax float64) (int, float64) {
	if ct != 50 || !smallInt(cmb) || !(ttn < 1<<40) {
		return 0, -1
	}
	// The steps j = 0..n−1 pass the period test cmb ≤ (ttn − 50·j)·w: in
	// exact arithmetic ttn − 50·j ≥ 50, so j ≈ ttn/50 − 1 (the product's
	// rounding can move the answer by one either way; the tests below are
	// the loop's own, on exact operands, and the test is monotone in j).
	j := int(ttn*0.02) - 1
	for j >= 0 && !(cmb <= float64((ttn-float64(50*j))*w)) {
		j--
	}
	for cmb <= float64((ttn-float64(50*(j+1)))*w) {
		j++
	}
	n := j + 1 // steps j = 0..n-1 pass the period test; state n fails it
	if n <= 0 {
		return 0, -1
	}
	gn := -1.0
	if left := size - got; !(left-float64(n)*cmb > 2*cmb+left*1e-9) {
		// The download may end in this period: count the states with more
		// than cmb bits left, evaluated on the exact partial sums
		// got_k = addSteps(got, cmb, k), got_{k+1} = got_k + cmb.
		if !(got >= 0 && got < 1<<52 && left < 1<<52) {
			return 0, -1
		}
		k := int(left/cmb) - 1
		if k > n {
			k = n
		}
		g := got // got_k, for k ≥ 0
		if k >= 0 {
			g = addSteps(got, cmb, k)
			for k >= 0 && !(size-g > cmb) {
				if k--; k >= 0 {
					g = addSteps(got, cmb, k)
				}
			}
		}
		next := got // got_{k+1}
		if k >= 0 {
			next = g + cmb
		}
		for k < n && size-next > cmb {
			k++
			g = next
			next = g + cmb
		}
		// states 0..k have more than cmb left
		if m := k + 1; m <= n {
			n, gn = m, next
		} else {
			gn = g // k = n
		}
		if n <= 0 {
			return 0, -1
		}
	}
	if float64(n) > kmax {
		return 0, -1
	}
	return n, gn
}

// addSteps returns x after n additions of c, one at a time, in float64,
// for 0 ≤ x < 2^52 and an integer c > 0 (else it adds one by one). Below
// the next power of two above x every addition is exact (c is a multiple
// of the spacing of floats there), so k of them are one exact addition of
// k·c; the addition that crosses the power of two rounds once, like the
// loop's, and the next binade starts over.
func addSteps(x, c float64, n int) float64 {
	// The common case: x + n·c in the binade of x (x ≥ 1 and below 2^52,
	// so the spacing of floats there divides the integer c), where every
	// partial sum is exact.
	if x >= 1 && x < 1<<52 && c >= 1 && c < 1<<40 && float64(int64(c)) == c {
		if y := x + float64(n)*c; y < math.Float64frombits((math.Float64bits(x)>>52+1)<<52) {
			return y
		}
	}
	return addStepsSlow(x, c, n)
}

// addStepsSlow is addSteps beyond its common case.
func addStepsSlow(x, c float64, n int) float64 {
	if !(x >= 0 && x < 1<<52 && c > 0 && smallInt(c)) {
		for ; n > 0; n-- {
			x += c
		}
		return x
	}
	for n > 0 {
		if !(x < 1<<52) {
			for ; n > 0; n-- {
				x += c
			}
			return x
		}
		if x < 1 {
			x += c // crosses 1 (c ≥ 1): one rounding
			n--
			continue
		}
		// x is a multiple of 2^lo (its lowest set bit), and so is every
		// partial sum; all are exact below 2^(53+min(lo, 0)), and x + n·c
		// computed at once is exact there too.
		xb := math.Float64bits(x)
		lo := int(xb>>52) - 1075 + bits.TrailingZeros64(xb&(1<<52-1)|1<<52)
		if lo > 0 {
			lo = 0
		}
		if y := x + float64(n)*c; y < math.Float64frombits(uint64(1023+53+lo)<<52) {
			return y
		}
		top := math.Float64frombits((xb>>52 + 1) << 52) // the least power of two above x
		room := top - x                                 // exact (Sterbenz)
		k := int(room / c)
		for k > 0 && !(float64(k)*c < room) {
			k--
		}
		for float64(k+1)*c < room {
			k++
		}
		x += float64(k) * c // exact: stays below top (k < n, as x + n·c ≥ top)
		x += c              // crosses top: one rounding
		n -= k + 1
	}
	return x
}

// smallInt reports whether c is an integer in [0, 2^40): math.Trunc's
// test without its call (an assembly function on amd64 v1, paid three
// times per trace period of a download in Exact mode).
func smallInt(c float64) bool {
	return c >= 0 && c < 1<<40 && float64(int64(c)) == c
}

// pathChecker is implemented by rules that can prove themselves silent for
// a whole download before it starts: at every state on the download's path
// pw through the coming trace periods (time p.TimeMs on, nothing
// downloaded yet).
type pathChecker interface {
	quietPath(v View, p *Progress, levelAtReq float64, pw *pathWalk) bool
}

// pathWalk is what a download of the whole segment in one transfer does
// from the current network state: it enters n more trace periods and
// spends last ms in the final one, el ms in all; (gl, tl), tl > 0, is the
// point of its path (bits by time since the start) with the least average
// rate gl/tl.
type pathWalk struct {
	n        int
	last, el float64
	gl, tl   float64
}

// walk computes pw for a transfer of size bits with transfer's own
// arithmetic (so commit then moves the network exactly as transfer would),
// without moving the network. It reports false for a download that would
// cross more than 64 periods.
func (s *Session) walk(size float64, pw *pathWalk) bool {
	i, ttn := s.index, s.ttn
	rem, el, gl, tl := size, 0.0, 1.0, 0.0
	for n := 0; n < 64; n++ {
		w := s.periods[i].Kbps
		t := rem / w // (issued before the test: the loop's exit waits on it)
		if tw := float64(ttn * w); rem <= tw {
			el += t
			if size*tl < gl*el {
				gl, tl = size, el
			}
			pw.n, pw.last, pw.el, pw.gl, pw.tl = n, t, el, gl, tl
			return tl > 0
		} else {
			rem -= tw
		}
		el += ttn
		if got := size - rem; got*tl < gl*el {
			gl, tl = got, el
		}
		if i++; i == len(s.periods) {
			i = 0
		}
		ttn = s.periods[i].DurationMs
	}
	return false
}

// commit moves the network along pw: the same operations, in the same
// order, as transfer of the walked size.
func (s *Session) commit(pw *pathWalk) float64 {
	total := 0.0
	for k := 0; k < pw.n; k++ {
		total += s.ttn
		s.tnet += s.ttn
		s.nextPeriod()
	}
	total += pw.last
	s.tnet += pw.last
	s.ttn -= pw.last
	return total
}

// lineChecker is implemented by rules that can prove themselves silent
// along the fast steps of one period: the states p.TimeMs + k·ct,
// p.Downloaded + k·cmb for real k in [0, kmax], a tighter set than
// quietChecker's box.
type lineChecker interface {
	quietLine(v View, p *Progress, levelAtReq, ct, cmb, kmax float64) bool
}

// firstChecker is implemented by rules that can tell, in closed form, the
// first fast step of a trace period at which they could fire: they return
// K such that the rule answers "keep downloading" (-1, without side
// effects) at every state p.TimeMs + k·ct, p.Downloaded + k·cmb for
// integer k in [0, K] (K ≤ kmax), or −1 if they cannot prove it even at
// k = 0. It is asked when the whole period could not be proven silent, so
// that the download jumps over the silent states to the first one at which
// the rule may fire, instead of calling the rule at every 50 ms step up
// to there. Like the other proofs, K must hold in exact arithmetic with a
// margin far above float64 rounding.
type firstChecker interface {
	firstFiring(v View, p *Progress, levelAtReq, ct, cmb, kmax float64) int
}

// jumpSteps makes j fast steps (ct = 50, cmb an integer) in closed form, the
// same sums as j steps one at a time. The caller has checked that fastSteps
// counts at least j steps from here.
func (s *Session) jumpSteps(d *Download, cmb float64, j int) {
	s.ttn -= float64(50 * j)
	s.tnet = addSteps(s.tnet, 50, j)
	d.TimeMs = addSteps(d.TimeMs, 50, j)
	d.Downloaded = addSteps(d.Downloaded, cmb, j)
}

// proveSilent tries to prove that the abandonment rule answers "keep
// downloading" for every state the download can reach before the current
// trace period ends: time in [now, t1] and downloaded bits in [now, g1], with
// t1 − now the time left in the period and g1 − now what the period can
// still deliver (plus a margin). Within one period the bandwidth is constant,
// so the states the download passes through lie on a short line and the box
// around them is tight.
func (s *Session) proveSilent(qc quietChecker, d *Download, size, levelAtReq float64) (bool, float64, float64) {
	left := s.ttn
	g1 := d.Downloaded + float64(s.periods[s.index].Kbps*left)*(1+1e-9) + 1
	if g1 > size {
		g1 = size
	}
	t1 := d.TimeMs + left*(1+1e-12) + 1e-6
	if qc.quiet(View{s}, &d.Progress, levelAtReq, g1, t1) {
		return true, g1, t1
	}
	return false, 0, 0
}

// silentRun makes the whole download the way the stepped loop would, for a
// download proven silent: Sabre's steps, no rule calls.
func (s *Session) silentRun(d *Download, size float64) error {
	inf := math.Inf(1)
	minTime, minSize := 50-d.TimeMs, 12000.0
	cw, cmb, ct := -1.0, 0.0, 0.0 // fast-step size and time, cached for bandwidth cw
	for iter := 0; iter < 10_000_000; iter++ {
		if s.hops > maxHops {
			return s.stuck()
		}
		bits, t := s.step(size-d.Downloaded, minSize, minTime)
		d.TimeMs += t
		d.Downloaded += bits
		if !(d.Downloaded < size) {
			return nil
		}
		minTime, minSize = 50, 12000
		if w := s.periods[s.index].Kbps; w > 0 {
			if w != cw {
				cmb, ct = fastStep(w)
				cw = w
			}
			s.fastRun(d, w, cmb, ct, size, inf, inf, inf, &iter)
		}
	}
	return errStuck
}

// fastStep returns the bits and time of a step at bandwidth w > 0 that
// starts and ends inside one period: max(12000, 50·w) bits.
func fastStep(w float64) (cmb, ct float64) {
	cmb = 12000
	if mw := float64(50 * w); mw > cmb {
		cmb = mw
	}
	return cmb, cmb / w
}

// errStuck guards against float pathologies that would otherwise loop.
var errStuck = fmt.Errorf("%w: a download took more than 10 million abandonment steps", ErrNeverDelivers)

func (s *Session) download(d *Download, size float64, idx, q int, levelAtReq float64, useRule bool, replOff int) error {
	d.Index, d.Quality, d.SizeBits, d.Downloaded, d.TimeMs, d.TTFBMs = idx, q, size, 0, 0, 0
	d.AbandonTo, d.Replacement = -1, replOff != 0
	if !(size > 0) {
		return nil
	}
	s.hops = 0
	if s.opt.RequestLatencyMs > 0 {
		s.wait(s.opt.RequestLatencyMs)
		d.TTFBMs, d.TimeMs = s.opt.RequestLatencyMs, s.opt.RequestLatencyMs
		if err := s.stuck(); err != nil {
			return err
		}
	}
	s.hiddenWait = 0
	if s.opt.Deliverer != nil {
		dv := s.opt.Deliverer.Deliver(View{s}, idx, q, size)
		if !(dv.WaitMs >= 0) || !(dv.LatencyMs >= 0) || !(dv.TransferMs > 0 || !dv.Supplied) ||
			math.IsInf(dv.WaitMs+dv.LatencyMs+dv.TransferMs, 0) {
			return fmt.Errorf("abr: Deliverer answered segment %d with %+v", idx, dv)
		}
		if dv.WaitMs > 0 {
			s.wait(dv.WaitMs)
			d.TTFBMs += dv.WaitMs
			d.TimeMs += dv.WaitMs
			if dv.HideWait {
				s.hiddenWait = dv.WaitMs
			}
		}
		if dv.Supplied {
			s.wait(dv.LatencyMs + dv.TransferMs)
			d.TTFBMs += dv.LatencyMs
			d.TimeMs = d.TTFBMs + dv.TransferMs
			d.Downloaded = size
			return s.stuck()
		}
	}
	if !useRule {
		d.TTFBMs += s.latency()
		d.TimeMs = d.TTFBMs + s.transfer(size)
		d.Downloaded = size
		return s.stuck()
	}
	qc, lc, pc, fc := s.qc, s.lc, s.pc, s.fc
	if s.opt.NoSkip || replOff != 0 {
		qc, lc, pc, fc = nil, nil, nil, nil
	}
	d.TTFBMs += s.latency()
	d.TimeMs = d.TTFBMs
	pw := &s.pw // (a field: passed through an interface, a local would escape)
	if pc != nil && s.walk(size, pw) && pc.quietPath(View{s}, &d.Progress, levelAtReq, pw) {
		// Proven silent for the whole download: no rule call can happen.
		if s.opt.Exact || !s.oneTransfer {
			return s.silentRun(d, size) // Sabre's steps, without the rule calls
		}
		// Sabre's steps add up to the same time as one transfer in exact
		// arithmetic; in float64 the two differ in the last bits (see
		// WithExact).
		d.TimeMs = d.TTFBMs + s.commit(pw)
		d.Downloaded = size
		return s.stuck()
	}
	cw, cmb, ct := -1.0, 0.0, 0.0 // fast-step size and time, cached for bandwidth cw
	retry := 0                    // direct rule calls before the next proof attempt
	minTime, minSize := 50-d.TimeMs, 12000.0
	for iter := 0; ; iter++ {
		if iter > 10_000_000 {
			return errStuck
		}
		if s.hops > maxHops {
			return s.stuck()
		}
		// A general step: the first one (its time floor is 50 ms − TTFB),
		// one that crosses into the next period, or the last one.
		bits, t := s.step(size-d.Downloaded, minSize, minTime)
		d.TimeMs += t
		d.Downloaded += bits
		minTime, minSize = 50, 12000
		for d.Downloaded < size {
			// The rule is due at this state. Fast steps (the common case,
			// same operations as step: max(12000, 50·w) bits, ending inside
			// the period and before the end of the download) follow until
			// the period or the download ends.
			w := s.periods[s.index].Kbps
			if w > 0 && w != cw {
				cmb, ct = fastStep(w)
				cw = w
			}
			if (lc != nil || qc != nil) && retry == 0 && w > 0 {
				ok, g1, t1 := false, 0.0, 0.0
				kmax := s.ttn/ct + 1 // the proof covers steps 0..kmax
				if lc != nil {
					if ok = lc.quietLine(View{s}, &d.Progress, levelAtReq, ct, cmb, kmax); ok {
						g1, t1 = d.Downloaded+kmax*cmb, d.TimeMs+kmax*ct
					}
				} else if ok, g1, t1 = s.proveSilent(qc, d, size, levelAtReq); ok {
					kmax = math.Min((g1-d.Downloaded)/cmb, (t1-d.TimeMs)/ct)
				}
				if ok {
					// Proven silent up to the end of the period: run the fast
					// steps without calling the rule.
					if s.fastRun(d, w, cmb, ct, size, kmax, g1, t1, &iter) {
						break // the next step is a general one (its state is then checked)
					}
					continue // left the proven box (never expected): check this state
				}
				retry = 4
				if fc != nil && ct == 50 {
					// The rule may fire in this period: jump to the first
					// step at which it can (the states before it are proven
					// silent), and ask the rule from there on.
					if k := fc.firstFiring(View{s}, &d.Progress, levelAtReq, ct, cmb, kmax); k >= 0 {
						if n, _ := fastSteps(s.ttn, w, cmb, ct, d.Downloaded, size, math.Inf(1)); n > 0 {
							k = min(k+1, n) // to the first state not proven silent
							s.jumpSteps(d, cmb, k)
							iter += k
							s.jumps++
						}
					}
				}
			}
			bl := levelAtReq - d.TimeMs
			if bl < 0 {
				bl = 0
			}
			if replOff != 0 {
				// the replacement's rule: give up once the segment
				// would already be playing
				if bl+s.segMs*float64(replOff) <= 0 {
					d.AbandonTo = q
				}
			} else {
				d.AbandonTo = s.ab.Abandon(View{s}, &d.Progress, bl)
			}
			if d.AbandonTo >= 0 {
				if s.verbose() {
					s.printf("%d abandoning %d->%d\n", idx, q, d.AbandonTo)
					s.printf("%d/%d %d(%d)\n", int64(d.Downloaded), int64(size), int64(d.TimeMs), int64(d.TTFBMs))
				}
				return nil
			}
			if retry > 0 {
				retry--
			}
			if !(w > 0 && size-d.Downloaded > cmb && cmb <= float64(s.ttn*w)) {
				break
			}
			s.ttn -= ct
			s.tnet += ct
			d.TimeMs += ct
			d.Downloaded += cmb
			iter++
		}
		if !(d.Downloaded < size) {
			return nil
		}
	}
}

// ---- player (§2.5) ----

// bufCompact is how many played entries the play queue keeps before
// popHead moves the buffered ones to its front.
const bufCompact = 64

func (s *Session) popHead() {
	s.bh++
	if s.bh >= bufCompact && 2*s.bh >= len(s.buf) {
		n := copy(s.buf, s.buf[s.bh:])
		s.dropped += s.bh
		s.buf, s.bh = s.buf[:n], 0
	}
}

func (s *Session) play(t float64) {
	if !s.playing {
		// still filling the startup threshold: startup delay, not a stall
		s.tPlay += t
		s.startup += t
		return
	}
	if s.bh == len(s.buf) {
		s.tRebuf += t
		s.tPlay += t
		return
	}
	if s.fcc > 0 {
		if t+s.fcc < s.segMs {
			s.fcc += t
			s.tPlay += t
			return
		}
		t -= s.segMs - s.fcc
		s.tPlay += s.segMs - s.fcc
		s.popHead()
		s.fcc = 0
	}
	for t > 0 && s.bh < len(s.buf) {
		q := s.buf[s.bh]
		s.playedUtility += s.util[q]
		s.playedBitrate += s.kbps[q]
		if s.lastPlayed >= 0 && q != s.lastPlayed {
			s.totalBitrateChange += math.Abs(s.kbps[q] - s.kbps[s.lastPlayed])
			if s.logChg != nil {
				s.totalLogBitrateChg += s.logChg[q*s.n+s.lastPlayed]
			} else {
				s.totalLogBitrateChg += math.Abs(math.Log(s.kbps[q] / s.kbps[s.lastPlayed]))
			}
			s.switches++
		}
		s.lastPlayed = q
		if !s.rampupSet {
			thr := s.opt.RampupThreshold
			if thr < 0 {
				thr = s.sustainable
			}
			if q >= thr {
				s.rampupTime = s.tPlay
				s.rampupSet = true
			}
		}
		for i := s.ph; i < len(s.pending); i++ {
			if p := &s.pending[i]; !p.hasEnd && p.q <= q {
				p.end, p.hasEnd = s.tPlay, true
			}
		}
		if t >= s.segMs {
			s.popHead()
			s.tPlay += s.segMs
			t -= s.segMs
		} else {
			s.fcc = t
			s.tPlay += t
			t = 0
		}
	}
	if t > 0 {
		s.tRebuf += t
		s.tPlay += t
		s.eRebuf++
	}
	s.processPending(s.tPlay)
}

func (s *Session) processPending(now float64) {
	cutoff := now - s.bufMs
	for s.ph < len(s.pending) && s.pending[s.ph].start < cutoff {
		p := &s.pending[s.ph]
		if !p.hasEnd {
			s.totalReaction += s.bufMs
		} else {
			if d := p.end - p.start; d < s.bufMs {
				s.totalReaction += d
			} else {
				s.totalReaction += s.bufMs
			}
		}
		s.ph++
	}
	if s.ph == len(s.pending) {
		s.pending, s.ph = s.pending[:0], 0
	}
}

func (s *Session) advertise(q, prev int) {
	s.processPending(s.tnet)
	for i := s.ph; i < len(s.pending); i++ {
		if p := &s.pending[i]; !p.hasEnd && p.q > q {
			p.end, p.hasEnd = s.tnet, true
		}
	}
	if q <= prev {
		return
	}
	for _, b := range s.buf[s.bh:] {
		if b >= q {
			return
		}
	}
	for _, p := range s.pending[s.ph:] {
		if p.q >= q {
			return
		}
	}
	if s.ph > 0 && len(s.pending) == cap(s.pending) {
		n := copy(s.pending, s.pending[s.ph:])
		s.pending, s.ph = s.pending[:n], 0
	}
	s.pending = append(s.pending, pendingRec{start: s.tnet, q: q})
}

// checkReplace is Sabre's replacement search (§2.9.6): the first (left) or
// last (right) buffered segment, skipping the playing one and the next, whose
// quality is below q, as a negative offset from the end of the buffer; 0 if
// none.
func (s *Session) checkReplace(q int) int {
	n := len(s.buf) - s.bh
	skip := int(math.Ceil(1.5 + s.fcc/s.segMs))
	found := -1
	for pos := skip; pos < n; pos++ {
		if s.buf[s.bh+pos] < q {
			found = pos
			if s.replace == 1 {
				break
			}
		}
	}
	if found < 0 {
		return 0
	}
	return found - n
}

func (s *Session) checkStart() {
	if !s.playing && (s.bufferLevel() >= s.opt.StartupMs || s.bufferLevel()+s.segMs > s.bufMs || s.next >= s.nseg || s.dropped+len(s.buf) >= s.nseg) {
		s.playing = true
	}
}

// ---- main loop (§2.6) ----

// Done reports whether the session has finished.
func (s *Session) Done() bool { return s.done }

// Last returns the record of the most recent download.
func (s *Session) Last() *SegmentRecord { return &s.rec }

func (s *Session) pushSample(dl, t, l float64) {
	s.est.push(dl, t, l)
	h := &s.hist[uint(s.nh)%histLen]
	h.DurationMs, h.Kbps, h.LatencyMs = dl, t, l
	s.nh++
}

// Step performs one download (segment 0 first, then one loop iteration of
// §2.6, which may be an abandoned download) and returns whether the session
// has finished. After the last segment it plays the buffer out.
func (s *Session) Step() (done bool, err error) {
	if s.done || s.err != nil {
		return s.done, s.err
	}
	if err := s.step1(); err != nil {
		s.err = fmt.Errorf("%s: %w", s.trName, err)
		return false, s.err
	}
	if s.next >= s.nseg {
		s.play(s.bufferLevel())
		s.buf, s.bh, s.fcc = s.buf[:0], 0, 0
		s.done = true
	}
	return s.done, nil
}

// Run steps the session to its end and returns its metrics.
func (s *Session) Run() (Metrics, error) {
	for !s.done {
		if _, err := s.Step(); err != nil {
			return Metrics{}, err
		}
	}
	return s.Metrics(), nil
}

func (s *Session) step1() error {
	r := &s.rec
	d := &s.dl
	if s.next == 0 {
		q := 0
		if fq, ok := s.alg.(FirstQualityChooser); ok {
			q = fq.FirstQuality(View{s})
		}
		if q < 0 || q >= s.n {
			return fmt.Errorf("abr: algorithm chose quality %d of %d", q, s.n)
		}
		size := s.sizes[q]
		if err := s.download(d, size, 0, q, 0, false, 0); err != nil {
			return err
		}
		dl := d.TimeMs - d.TTFBMs
		s.buf = append(s.buf, q)
		s.checkStart()
		s.pushSample(dl, size/dl, d.TTFBMs-s.hiddenWait)
		s.tPlay += d.TimeMs
		s.startup = d.TimeMs
		*r = SegmentRecord{Index: 0, Quality: q, BitrateKbps: s.kbps[q], SizeBits: size, Downloaded: d.Downloaded,
			TimeMs: d.TimeMs, TTFBMs: d.TTFBMs, BufferAfter: s.bufferLevel(), AbandonTo: -1,
			ThroughputKb: size / dl, EstimateKbps: s.est.throughput}
		if s.verbose() {
			s.printf("[0-%d]  0: q=%d s=%d/%d t=%d=%d+%d bl=0->0->%d\n", int64(math.RoundToEven(d.TimeMs)), q,
				int64(d.Downloaded), int64(size), int64(d.TimeMs), int64(d.TTFBMs), int64(dl), int64(s.bufferLevel()))
		}
		s.next = 1
		if s.opt.OnSegment != nil {
			s.opt.OnSegment(r)
		}
		return nil
	}
	waitMs, delayMs := 0.0, 0.0
	rebuf0 := s.tRebuf
	if w := s.bufferLevel() + s.segMs - s.bufMs; w > 0 {
		s.play(w)
		s.hops = 0
		s.wait(w)
		if err := s.stuck(); err != nil {
			return err
		}
		if s.dr != nil {
			s.dr.ReportDelay(View{s}, w)
		}
		waitMs = w
		if s.verbose() {
			s.printf("full buffer delay %d bl=%d\n", int64(w), int64(s.bufferLevel()))
		}
	}
	q, delay := s.alg.Decide(View{s}, s.next)
	if q < 0 || q >= s.n || math.IsNaN(delay) || math.IsInf(delay, 0) {
		return fmt.Errorf("abr: algorithm returned quality %d (of %d), delay %v for segment %d", q, s.n, delay, s.next)
	}
	roff := 0
	if s.replace != 0 {
		if roff = s.checkReplace(q); roff != 0 {
			delay = 0
		}
	} else if s.rp != nil {
		if roff = s.rp.ReplaceOffset(View{s}); roff < -(len(s.buf)-s.bh) || roff > 0 {
			return fmt.Errorf("abr: algorithm asked to replace the segment at offset %d of %d buffered", roff, len(s.buf)-s.bh)
		}
	}
	if delay > 0 {
		s.play(delay)
		s.hops = 0
		s.wait(delay)
		if err := s.stuck(); err != nil {
			return err
		}
		delayMs = delay
		if s.verbose() {
			s.printf("abr delay %d bl=%d\n", int64(delay), int64(s.bufferLevel()))
		}
	}
	idx := s.next + roff
	size := s.segSize(idx, q)
	t0 := s.tPlay
	lvl := s.bufferLevel()
	useRule := !s.opt.NoAbandon && (s.ab != nil || roff != 0)
	if err := s.download(d, size, idx, q, lvl, useRule, roff); err != nil {
		return err
	}
	s.play(d.TimeMs)
	lvlPlayed := s.bufferLevel()
	if d.AbandonTo < 0 {
		if roff == 0 {
			s.buf = append(s.buf, q)
			s.next++
			s.checkStart()
		} else if s.bufferLevel()+s.segMs*float64(roff) >= 0 {
			s.buf[len(s.buf)+roff] = q
		}
	}
	if s.rr != nil {
		s.rr.ReportDownload(View{s}, d)
	}
	dl := d.TimeMs - d.TTFBMs
	tput := d.Downloaded / dl
	thr := s.est.throughput
	if thr > tput {
		s.overCount++
		s.overAvg += (thr - tput - s.overAvg) / float64(s.overCount)
	} else {
		s.leqCount++
		s.leqAvg += (tput - thr - s.leqAvg) / float64(s.leqCount)
	}
	s.estAvg += (thr - tput - s.estAvg) / float64(s.overCount+s.leqCount)
	if d.AbandonTo < 0 {
		s.pushSample(dl, tput, d.TTFBMs-s.hiddenWait)
	} else {
		s.abandoned++
		s.abandonedBits += d.Downloaded
	}
	// (field by field: a composite literal is built on the stack and copied)
	r.Index, r.Quality, r.BitrateKbps, r.SizeBits, r.Downloaded = idx, q, s.kbps[q], size, d.Downloaded
	r.StartMs, r.TimeMs, r.TTFBMs, r.WaitMs, r.DelayMs = t0, d.TimeMs, d.TTFBMs, waitMs, delayMs
	r.BufferBefore, r.BufferAfter, r.RebufMs = lvl, s.bufferLevel(), s.tRebuf-rebuf0
	r.Abandoned, r.AbandonTo, r.Replacement = d.AbandonTo >= 0, d.AbandonTo, roff != 0
	r.ThroughputKb, r.EstimateKbps = tput, s.est.throughput
	if s.verbose() {
		s.printf("[%d-%d]  %d: q=%d s=%d/%d t=%d=%d+%d ", int64(math.RoundToEven(t0)), int64(math.RoundToEven(t0+d.TimeMs)),
			idx, q, int64(d.Downloaded), int64(size), int64(d.TimeMs), int64(d.TTFBMs), int64(dl))
		switch {
		case d.AbandonTo >= 0:
			to := d.AbandonTo
			if roff != 0 {
				to = -1 // the replacement rule's answer
			}
			s.printf(" ABANDONED to %d - %d/%d bits in %d=%d+%d ttfb+ttdl  bl=%d\n", to, int64(d.Downloaded), int64(size),
				int64(d.TimeMs), int64(d.TTFBMs), int64(dl), int64(s.bufferLevel()))
		case roff != 0:
			s.printf(" REPLACEMENT  bl=%d\n", int64(s.bufferLevel()))
		default:
			s.printf("bl=%d->%d->%d\n", int64(lvl), int64(lvlPlayed), int64(s.bufferLevel()))
		}
	}
	if s.opt.OnSegment != nil {
		s.opt.OnSegment(r)
	}
	return nil
}

// ---- estimator (§2.7) ----

type estimator struct {
	sliding             bool
	H, LH               []float64
	wtOne               []float64 // Wt beyond which the bias correction 1 − 0.5^(Wt/H) is exactly 1
	Et, El, aL          []float64
	wlPow               [][]float64 // pow(0.5, k/LH[i]) for sample counts k, filled lazily
	wlLH                []float64   // the LH each table was made for
	Wt, Wl              float64
	ws                  []int
	tw, lw              [20]float64
	nw                  int
	throughput, latency float64
	have                bool
}

func (e *estimator) init(o config, P float64) error {
	e.sliding = o.Sliding
	if n := len(o.HalfLives); cap(e.H) < n || cap(e.LH) < n || cap(e.Et) < n || cap(e.El) < n || cap(e.aL) < n || cap(e.wtOne) < n {
		// one backing array for the six per-half-life slices: push reads
		// them all for every segment, so they share a cache line or two
		// instead of six (thousands of sessions side by side, as the
		// swarm simulator runs them, otherwise miss the cache on each)
		b := make([]float64, 6*n)
		e.H, e.LH, e.Et, e.El, e.aL, e.wtOne = b[0:0:n], b[n:n:2*n], b[2*n:2*n:3*n], b[3*n:3*n:4*n], b[4*n:4*n:5*n], b[5*n:5*n:6*n]
	} else {
		e.H, e.LH, e.Et, e.El, e.aL, e.wtOne = e.H[:0], e.LH[:0], e.Et[:0], e.El[:0], e.aL[:0], e.wtOne[:0]
	}
	for _, h := range o.HalfLives {
		if !(h > 0) {
			return fmt.Errorf("abr: half-life must be positive, got %v", h)
		}
		e.H = append(e.H, h*1000)
		e.wtOne = append(e.wtOne, 55*h*1000*(1+1e-12))
		e.LH = append(e.LH, h*1000/P)
		e.Et = append(e.Et, 0)
		e.El = append(e.El, 0)
		e.aL = append(e.aL, pow05(1/(h*1000/P)))
	}
	e.ws = append(e.ws[:0], o.WindowSizes...)
	for _, k := range e.ws {
		if k < 1 || k > 20 {
			return fmt.Errorf("abr: window size must be 1..20, got %d", k)
		}
	}
	e.Wt, e.Wl, e.nw, e.throughput, e.latency, e.have = 0, 0, 0, 0, 0, false
	for len(e.wlPow) < len(e.H) {
		e.wlPow = append(e.wlPow, nil)
		e.wlLH = append(e.wlLH, math.NaN())
	}
	for i := range e.H {
		if e.wlLH[i] != e.LH[i] { // keep the table while LH is unchanged
			e.wlPow[i], e.wlLH[i] = nil, e.LH[i]
		}
	}
	return nil
}

// powWl returns pow(0.5, Wl/LH[i]); Wl counts samples, so the values repeat
// from one session to the next and are kept (identical inputs, identical
// results) in a table every session with this LH shares (powTable).
func (e *estimator) powWl(i int) float64 {
	k := int(e.Wl)
	if float64(k) != e.Wl || k >= maxPowTable {
		return pow05(e.Wl / e.LH[i])
	}
	t := e.wlPow[i]
	if k >= len(t) {
		t = powTable(e.LH[i], k+1)
		e.wlPow[i] = t
	}
	return t[k]
}

// maxPowTable bounds a shared table (sample counts beyond it compute pow05).
const maxPowTable = 1 << 16

// ladder is a ladder's tables, built once per ladder and shared by every
// session over it (see ladderFor).
type ladder struct {
	kbps   []float64 // the bitrates (kbit/s), ascending
	util   []float64 // Sabre's utility ln(b[q]/b[0]) per level
	logChg []float64 // n×n table of |ln(b[q]/b[k])|, nil for very long ladders
}

func newLadder(kb []float64) *ladder {
	n := len(kb)
	l := &ladder{kbps: append([]float64(nil), kb...), util: make([]float64, n)}
	l0 := math.Log(l.kbps[0])
	for q := range l.util {
		l.util[q] = math.Log(l.kbps[q]) + (0 - l0)
	}
	if n <= 64 {
		// |ln(b[q]/b[k])| for every pair, as play computes it
		l.logChg = make([]float64, n*n)
		for q := 0; q < n; q++ {
			for k := 0; k < n; k++ {
				l.logChg[q*n+k] = math.Abs(math.Log(l.kbps[q] / l.kbps[k]))
			}
		}
	}
	return l
}

// ladders holds the tables of the ladders sessions were built over, by
// their exact bitrates. Why shared: play reads them at every segment, and
// the swarm simulator steps 100k sessions of one ladder in turn; a copy per
// session was a cache miss (or two) per segment, one table for all of them
// stays in cache. Tables are never written after they are built (View's
// Bitrates says not to modify), so readers need no lock.
var ladders struct {
	sync.Mutex
	m map[string]*ladder
}

// ladderFor returns the shared tables of ladder kb (a private copy past
// 256 distinct ladders or 64 levels).
func ladderFor(kb []float64) *ladder {
	if len(kb) > 64 {
		return newLadder(kb)
	}
	var key [64 * 8]byte
	for i, b := range kb {
		binary.LittleEndian.PutUint64(key[8*i:], math.Float64bits(b))
	}
	k := key[:8*len(kb)]
	ladders.Lock()
	defer ladders.Unlock()
	if l := ladders.m[string(k)]; l != nil {
		return l
	}
	l := newLadder(kb)
	if ladders.m == nil {
		ladders.m = map[string]*ladder{}
	}
	if len(ladders.m) < 256 {
		ladders.m[string(k)] = l
	}
	return l
}

// powTables holds pow(0.5, k/LH) for k = 0, 1, … per LH, shared by every
// session of the process. Why shared: each session used to fill its own
// table, one entry per segment; the swarm simulator runs 100k sessions
// of one LH side by side, which made those tables its largest memory
// (100k × 2 half-lives × 1,800 segments × 8 bytes = 2.9 GB for an hour)
// and their growth a seventh of its time. A table is never written after
// it is published: growing makes a new one (sessions keep reading theirs),
// so readers need no lock.
var powTables struct {
	sync.Mutex
	m map[float64][]float64
}

// powTable returns a table of at least n entries for lh (n ≤ maxPowTable).
func powTable(lh float64, n int) []float64 {
	powTables.Lock()
	defer powTables.Unlock()
	t := powTables.m[lh]
	if len(t) >= n {
		return t
	}
	size := min(max(n, 2*len(t), 256), maxPowTable)
	nt := make([]float64, size)
	copy(nt, t)
	for k := len(t); k < size; k++ {
		nt[k] = pow05(float64(k) / lh)
	}
	if powTables.m == nil {
		powTables.m = map[float64][]float64{}
	}
	if len(powTables.m) < 1024 { // (a sweep over many segment durations and half-lives)
		powTables.m[lh] = nt
	}
	return nt
}

func (e *estimator) push(dl, t, l float64) {
	e.have = true
	if e.sliding {
		e.tw[e.nw%20], e.lw[e.nw%20] = t, l
		e.nw++
		for j, k := range e.ws {
			if k > e.nw {
				k = e.nw
			}
			st, sl := 0.0, 0.0
			for i := e.nw - k; i < e.nw; i++ {
				st += e.tw[i%20]
				sl += e.lw[i%20]
			}
			mt, ml := st/float64(k), sl/float64(k)
			if j == 0 || mt < e.throughput {
				e.throughput = mt
			}
			if j == 0 || ml > e.latency {
				e.latency = ml
			}
		}
		return
	}
	e.Wt += dl
	e.Wl++
	// (one pass per half-life; the slices re-sliced to len(H) so the
	// bounds checks go)
	H := e.H
	Et, El, aL, wtOne := e.Et[:len(H)], e.El[:len(H)], e.aL[:len(H)], e.wtOne[:len(H)]
	for i, h := range H {
		a := pow05(dl / h)
		et := float64(a*Et[i]) + float64((1-a)*t)
		Et[i] = et
		a = aL[i] // pow(0.5, 1/LH[i]), constant
		el := float64(a*El[i]) + float64((1-a)*l)
		El[i] = el
		ti := et
		if !(e.Wt >= wtOne[i]) {
			ti /= 1 - pow05(e.Wt/h)
		} // else pow(0.5, Wt/H) < 2^-54, so 1 − pow(0.5, Wt/H) is exactly 1
		li := el / (1 - e.powWl(i))
		if i == 0 || ti < e.throughput {
			e.throughput = ti
		}
		if i == 0 || li > e.latency {
			e.latency = li
		}
	}
}
