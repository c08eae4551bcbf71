package abr

import "math"

// MPC is robustMPC (Yin et al., "A Control-Theoretic Approach for Dynamic
// Adaptive Video Streaming over HTTP", SIGCOMM 2015) for the Sabre model, as
// Pensieve's test/mpc.py runs it, with the look-ahead made to fit this
// model: each request of the look-ahead pays the session's latency
// estimate, the buffer is capped at the session's buffer size (the player
// waits rather than buffer more), and segment sizes are those of the
// segments that really come next (Pensieve's look-ahead is one segment off,
// see PensieveSession for the faithful port).
//
// After every download it measures the throughput (bits over transfer
// time, latency excluded), predicts the next as the harmonic mean of the
// last 5 measurements divided by 1 + the largest relative error of the last
// 5 predictions, and chooses the first quality of the sequence of Horizon
// qualities that maximises Pensieve's linear QoE over the look-ahead:
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
	// Horizon is the look-ahead in segments (0 = 5). With more than
	// 10^6 sequences (ladders of 16 levels or more at horizon 5) it is
	// shortened to keep a decision bounded.
	Horizon int
	// Exhaustive scores every sequence one by one (the reference for tests).
	Exhaustive bool

	samples [mpcHorizon]float64 // last throughput measurements, kbit/s
	errs    [mpcHorizon]float64 // last relative prediction errors
	ns      int                 // measurements so far
	lastH   float64             // the last prediction (harmonic mean)
	haveH   bool
	last    int // quality of the last completed download

	// per-decision search state
	kb         []float64
	dt         []float64 // dt[j*n+c]: look-ahead time of segment seg+j at quality c, ms
	L          int
	F, lat, P  float64
	B, mu, top float64
	best       float64
	decision   int
}

// NewMPC returns robustMPC with a 5-segment horizon.
func NewMPC(Config) *MPC { return &MPC{} }

// Init implements Algorithm.
func (m *MPC) Init(s *Session) {
	m.ns, m.haveH, m.lastH, m.last = 0, false, 0, 0
	m.kb = s.Bitrates()
	if need := mpcHorizon * len(m.kb); cap(m.dt) < need {
		m.dt = make([]float64, need)
	}
}

// ReportDownload implements DownloadReporter: one throughput measurement
// per download that moved bits.
func (m *MPC) ReportDownload(s *Session, d *Download) {
	if !d.Abandoned() {
		m.last = d.Quality
	}
	dt := d.TimeMs - d.TTFBMs
	if !(dt > 0 && d.Downloaded > 0) {
		return
	}
	x := d.Downloaded / dt
	e := 0.0
	if m.haveH {
		e = math.Abs(m.lastH-x) / x
	}
	m.samples[m.ns%mpcHorizon] = x
	m.errs[m.ns%mpcHorizon] = e
	m.ns++
}

// Decide implements Algorithm.
func (m *MPC) Decide(s *Session, seg int) (int, float64) {
	k := min(m.ns, mpcHorizon)
	H := s.Throughput()
	if k > 0 {
		acc := 0.0
		for i := m.ns - k; i < m.ns; i++ {
			acc += 1 / m.samples[i%mpcHorizon]
		}
		H = 1 / (acc / float64(k))
	}
	if !(H > 0) || math.IsInf(H, 0) {
		return 0, 0
	}
	mx := 0.0
	for i := m.ns - k; i < m.ns; i++ {
		mx = math.Max(mx, m.errs[i%mpcHorizon])
	}
	m.lastH, m.haveH = H, true

	n := len(m.kb)
	h := m.Horizon
	if h <= 0 || h > mpcHorizon {
		h = mpcHorizon
	}
	for h > 1 && math.Pow(float64(n), float64(h)) > 1e6 {
		h--
	}
	m.L = min(h, s.NumSegments()-seg)
	m.F, m.lat, m.P, m.B = H/(1+mx), s.Latency(), s.SegmentMs(), s.BufferSize()
	m.top = m.kb[n-1]
	m.mu = m.top / 1000
	m.best, m.decision = math.Inf(-1), 0
	if m.L <= 0 {
		return m.last, 0
	}
	for j := 0; j < m.L; j++ {
		for c := range m.kb {
			m.dt[j*n+c] = m.lat + s.SegmentSize(seg+j, c)/m.F
		}
	}
	if m.Exhaustive {
		m.exhaustive(s.BufferLevel())
	} else {
		m.incumbent(s.BufferLevel())
		m.search(0, s.BufferLevel(), 0, 0, 0, m.last, 0)
	}
	return m.decision, 0
}

// step is one segment of the look-ahead: the buffer after downloading
// segment seg+j at quality c, and the rebuffering it adds (ms).
func (m *MPC) step(j, c int, cb, rb float64) (float64, float64) {
	dt := m.dt[j*len(m.kb)+c]
	if cb < dt {
		rb += dt - cb
		cb = 0
	} else {
		cb -= dt
	}
	cb += m.P
	if cb > m.B {
		cb = m.B
	}
	return cb, rb
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
	if j == m.L {
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
		g := float64(m.L-j) * m.top / 1000
		if !m.short(p, g) && m.L-j >= 2 {
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
// start with (cb + P per step before it, and never more than the cap);
// switching only subtracts.
func (m *MPC) futureBound(j int, cb float64) float64 {
	g := 0.0
	for k := j; k < m.L; k++ {
		cmax := cb + float64(k-j)*m.P
		if k > j && cmax > m.B {
			cmax = m.B
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
	for c := range m.kb {
		cb, rb, rsum, sdiff, lq := buf, 0.0, 0.0, 0.0, m.last
		for j := 0; j < m.L; j++ {
			cb, rb = m.step(j, c, cb, rb)
			rsum += m.kb[c]
			sdiff += math.Abs(m.kb[c] - m.kb[lq])
			lq = c
		}
		m.best = math.Max(m.best, m.score(rsum, rb, sdiff))
	}
}

// exhaustive scores every sequence one by one, in lexicographic order.
func (m *MPC) exhaustive(buf float64) {
	n := len(m.kb)
	total := 1
	for i := 0; i < m.L; i++ {
		total *= n
	}
	var c [mpcHorizon]int
	for t := 0; t < total; t++ {
		v := t
		for j := m.L - 1; j >= 0; j-- {
			c[j] = v % n
			v /= n
		}
		cb, rb, rsum, sdiff, lq := buf, 0.0, 0.0, 0.0, m.last
		for j := 0; j < m.L; j++ {
			cb, rb = m.step(j, c[j], cb, rb)
			rsum += m.kb[c[j]]
			sdiff += math.Abs(m.kb[c[j]] - m.kb[lq])
			lq = c[j]
		}
		m.leaf(m.score(rsum, rb, sdiff), c[0])
	}
}
