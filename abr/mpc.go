package abr

import "math"

// MPC is robustMPC (Yin et al., "A Control-Theoretic Approach for Dynamic
// Adaptive Video Streaming over HTTP", SIGCOMM 2015) for the Sabre model, as
// Pensieve's test/mpc.py runs it, with the look-ahead made to fit this
// model: each request of the look-ahead pays the session's latency
// estimate and, as the player does, waits until a segment fits in the
// buffer (at most B − P buffered), and segment sizes are those of the
// segments that really come next (Pensieve's look-ahead is one segment off,
// see PensieveSession for the faithful port).
//
// After every completed download (segment 0's included) it measures the
// throughput (bits over transfer time, latency excluded), predicts the
// next as the harmonic mean of the last 5 measurements divided by 1 + the
// largest relative error of the last 5 predictions, and chooses the first
// quality of the sequence of Horizon qualities that maximises Pensieve's
// linear QoE over the look-ahead:
//
//	Σ bitrate/1000 − μ·rebuffer_s − Σ |Δbitrate|/1000   (kbit/s → Mbit/s)
//
// with μ the top bitrate in Mbit/s (4.3 on Pensieve's ladder, where this
// is Pensieve's weight). Ties go to the lexicographically last sequence, as
// in Pensieve. The search is depth-first with prefix sharing, starts from
// the best constant sequence and cuts a branch only when an exact upper
// bound of its scores (futureBound) falls short of the best found by far
// more than float rounding, so it returns what scoring every sequence
// would (TestMPCFastEqualsExhaustive) and allocates nothing.
type MPC struct {
	horizon  int  // WithHorizon
	scoreAll bool // score every sequence one by one (the reference for tests)

	samples [mpcHorizon]float64 // last throughput measurements, kbit/s
	errs    [mpcHorizon]float64 // last relative prediction errors
	ns      int                 // measurements so far
	lastH   float64             // the last prediction (harmonic mean)
	haveH   bool
	last    int // quality of the last completed download
	hist    [histLen]Sample

	kb []float64
	h  int // the horizon for this ladder

	// per-decision search state
	dt       []float64 // dt[j*n+c]: look-ahead time of segment seg+j at quality c, ms
	look     int       // look-ahead of this decision, segments
	segMs    float64   // segment duration P
	bufMs    float64   // buffer size B
	mu, top  float64
	best     float64
	decision int
}

// NewMPC returns robustMPC with a 5-segment horizon.
func NewMPC(opts ...AlgorithmOption) *MPC { return newMPC(NewConfig(opts...)) }

func newMPC(c Config) *MPC { return &MPC{horizon: c.horizon} }

// Init implements Algorithm.
func (m *MPC) Init(v View) {
	m.ns, m.haveH, m.lastH, m.last = 0, false, 0, 0
	m.kb = v.Bitrates()
	if need := mpcHorizon * len(m.kb); cap(m.dt) < need {
		m.dt = make([]float64, need)
	}
	n := float64(len(m.kb))
	m.h = m.horizon
	if m.h <= 0 || m.h > mpcHorizon {
		m.h = mpcHorizon
	}
	for m.h > 1 && math.Pow(n, float64(m.h)) > 1e6 {
		m.h--
	}
}

// ReportDownload implements DownloadReporter: one throughput measurement
// per completed download (as the session's own estimator, it leaves out
// abandoned ones).
func (m *MPC) ReportDownload(v View, d *Download) {
	if d.Abandoned() {
		return
	}
	m.last = d.Quality
	if dt := d.TimeMs - d.TTFBMs; dt > 0 && d.Downloaded > 0 {
		m.measure(d.Downloaded / dt)
	}
}

// measure adds a throughput measurement x (kbit/s) and the relative error
// of the last prediction against it, as Pensieve does after every chunk.
func (m *MPC) measure(x float64) {
	e := 0.0
	if m.haveH {
		e = math.Abs(m.lastH-x) / x
	}
	m.samples[m.ns%mpcHorizon] = x
	m.errs[m.ns%mpcHorizon] = e
	m.ns++
}

// predict returns the harmonic mean H of the last (up to 5) measurements
// and the robust prediction F = H / (1 + the largest of the last 5
// errors), and remembers H as the prediction the next error is measured
// against. ok is false without a usable measurement.
func (m *MPC) predict() (H, F float64, ok bool) {
	k := min(m.ns, mpcHorizon)
	if k == 0 {
		return 0, 0, false
	}
	acc := 0.0
	for i := m.ns - k; i < m.ns; i++ {
		acc += 1 / m.samples[i%mpcHorizon]
	}
	H = 1 / (acc / float64(k))
	if !(H > 0) || math.IsInf(H, 0) {
		return 0, 0, false
	}
	mx := 0.0
	for i := m.ns - k; i < m.ns; i++ {
		mx = math.Max(mx, m.errs[i%mpcHorizon])
	}
	m.lastH, m.haveH = H, true
	return H, H / (1 + mx), true
}

// Decide implements Algorithm.
func (m *MPC) Decide(v View, seg int) (int, float64) {
	if m.ns == 0 {
		// Segment 0 is not reported to DownloadReporters; its measurement
		// is the session's first sample (Pensieve keeps chunk 0's too).
		for _, x := range v.History(m.hist[:0]) {
			if x.Kbps > 0 && !math.IsInf(x.Kbps, 0) {
				m.measure(x.Kbps)
			}
		}
	}
	_, F, ok := m.predict()
	if !ok {
		return 0, 0
	}
	m.look = min(m.h, v.NumSegments()-seg)
	if m.look <= 0 {
		return m.last, 0
	}
	m.segMs, m.bufMs = v.SegmentMs(), v.BufferSize()
	n, lat := len(m.kb), v.Latency()
	for j := 0; j < m.look; j++ {
		for c := range m.kb {
			m.dt[j*n+c] = lat + v.SegmentSize(seg+j, c)/F
		}
	}
	return m.plan(v.BufferLevel()), 0
}

// plan returns the first quality of the best sequence for the look-ahead
// set up in look, segMs, bufMs and dt, from buffer buf after the last quality.
func (m *MPC) plan(buf float64) int {
	m.top = m.kb[len(m.kb)-1]
	m.mu = m.top / 1000
	m.best, m.decision = math.Inf(-1), 0
	if m.scoreAll {
		m.exhaustive(buf)
	} else {
		m.incumbent(buf)
		m.search(0, buf, 0, 0, 0, m.last, 0)
	}
	return m.decision
}

// step is one segment of the look-ahead: the buffer after downloading
// segment seg+j at quality c from buffer cb, and the rebuffering it adds
// (ms). As in the session, the request waits until a segment fits in the
// buffer (at most B − P buffered; waiting drains it without stalling).
func (m *MPC) step(j, c int, cb, rb float64) (float64, float64) {
	if lim := math.Max(m.bufMs-m.segMs, 0); cb > lim {
		cb = lim
	}
	dt := m.dt[j*len(m.kb)+c]
	if cb < dt {
		rb += dt - cb
		cb = 0
	} else {
		cb -= dt
	}
	return cb + m.segMs, rb
}

func (m *MPC) score(rsum, rb, sdiff float64) float64 {
	return (rsum/1000 - m.mu*(rb/1000)) - sdiff/1000
}

// leaf keeps a sequence's score: ties go to the later sequence.
func (m *MPC) leaf(v float64, first int) {
	if v >= m.best {
		m.best, m.decision = v, first
	}
}

// search visits the sequences that extend a prefix of length j (buffer cb,
// rebuffering rb, bitrate sum rsum, switching sum sdiff, last quality lq,
// first quality first) in lexicographic order, skipping a branch only when
// futureBound shows that none of its sequences can reach the best score.
func (m *MPC) search(j int, cb, rb, rsum, sdiff float64, lq, first int) {
	if j == m.look {
		m.leaf(m.score(rsum, rb, sdiff), first)
		return
	}
	if j > 0 {
		// Exact bounds: the prefix's score plus the most the rest can add
		// (at most the top bitrate per step; closer, for long rests, by
		// futureBound). Cut only when that falls short of the best by far
		// more than rounding (a tie must still be visited: it may come
		// later).
		p := m.score(rsum, rb, sdiff)
		g := float64(m.look-j) * m.top / 1000
		if !m.short(p, g) && m.look-j >= 2 {
			g = m.futureBound(j, cb)
		}
		if m.short(p, g) {
			return
		}
	}
	for c := range m.kb {
		ncb, nrb := m.step(j, c, cb, rb)
		f := first
		if j == 0 {
			f = c
		}
		m.search(j+1, ncb, nrb, rsum+m.kb[c], sdiff+math.Abs(m.kb[c]-m.kb[lq]), c, f)
	}
}

// short reports whether a branch whose prefix scores p and whose rest adds
// at most g (both exact-arithmetic bounds, computed in float64) falls short
// of the best score by more than any rounding.
func (m *MPC) short(p, g float64) bool {
	return p+g < m.best-1e-9*(1+math.Abs(m.best)+math.Abs(p)+math.Abs(g))
}

// futureBound is an upper bound, in exact arithmetic, of what steps j..L−1
// can add to the score from buffer cb: each step at most the best over
// qualities of bitrate/1000 − μ·rebuffer/1000, where the rebuffering is
// at least what the download takes beyond the most buffer the step can
// start with (cb, then + P per step, never more than B − P after the
// wait); switching only subtracts. The most-buffer bound is built step by
// step like the buffer itself, so float rounding (monotone) keeps it above.
func (m *MPC) futureBound(j int, cb float64) float64 {
	g, lim := 0.0, math.Max(m.bufMs-m.segMs, 0)
	cmax := cb
	for k := j; k < m.look; k++ {
		if k > j {
			cmax += m.segMs
		}
		if cmax > lim {
			cmax = lim
		}
		best := math.Inf(-1)
		row := m.dt[k*len(m.kb) : (k+1)*len(m.kb)]
		for c, b := range m.kb {
			v := b / 1000
			if dt := row[c]; dt > cmax {
				v -= m.mu * ((dt - cmax) / 1000)
			}
			best = math.Max(best, v)
		}
		g += best
	}
	return g
}

// incumbent scores the L constant sequences (q, q, …, q), the same way a
// leaf is scored, and starts the search from the best of them: a good
// score early is what lets the bound cut branches. The sequence itself is
// visited again by the search, which makes the decision.
func (m *MPC) incumbent(buf float64) {
	var c [mpcHorizon]int
	for q := range m.kb {
		for j := range c {
			c[j] = q
		}
		m.best = math.Max(m.best, m.scoreSeq(buf, &c))
	}
}

// scoreSeq scores the sequence c[0..L−1] from buffer buf, with the same
// operations, in the same order, as search does along its path.
func (m *MPC) scoreSeq(buf float64, c *[mpcHorizon]int) float64 {
	cb, rb, rsum, sdiff, lq := buf, 0.0, 0.0, 0.0, m.last
	for j := 0; j < m.look; j++ {
		cb, rb = m.step(j, c[j], cb, rb)
		rsum += m.kb[c[j]]
		sdiff += math.Abs(m.kb[c[j]] - m.kb[lq])
		lq = c[j]
	}
	return m.score(rsum, rb, sdiff)
}

// exhaustive scores every sequence one by one, in lexicographic order.
func (m *MPC) exhaustive(buf float64) {
	n := len(m.kb)
	total := 1
	for i := 0; i < m.look; i++ {
		total *= n
	}
	var c [mpcHorizon]int
	for t := 0; t < total; t++ {
		v := t
		for j := m.look - 1; j >= 0; j-- {
			c[j] = v % n
			v /= n
		}
		m.leaf(m.scoreSeq(buf, &c), c[0])
	}
}
