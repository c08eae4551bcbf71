package abr

import (
	"fmt"
	"math"
)

// Pensieve model constants (MODELS.md §3.1).
const (
	pensieveChunks    = 48
	pensieveChunkMs   = 4000.0
	pensieveBufferMax = 60000.0
	pensieveSleepMs   = 500.0
	pensievePayload   = 0.95
	pensieveRTTms     = 80.0
	pensieveFirstQ    = 1
	mpcHorizon        = 5
	mpcHistory        = 8
)

// QoE selects Pensieve's reward (MODELS.md §3.5).
type QoE int

// The QoE variants of the Pensieve paper.
const (
	QoELinear QoE = iota // bitrate (Mbit/s) − 4.3·rebuffer − |Δbitrate|
	QoELog               // ln(r/r0) − 2.66·rebuffer − |Δ ln r|
	QoEHD                // HD score table 1,2,3,12,15,20 − 8·rebuffer − |Δ score|
)

// ParseQoE maps "linear", "log" and "hd" to a QoE.
func ParseQoE(s string) (QoE, error) {
	switch s {
	case "linear", "lin", "":
		return QoELinear, nil
	case "log":
		return QoELog, nil
	case "hd":
		return QoEHD, nil
	}
	return 0, fmt.Errorf("abr: unknown QoE %q (want linear, log or hd)", s)
}

func (k QoE) String() string {
	switch k {
	case QoELog:
		return "log"
	case QoEHD:
		return "hd"
	}
	return "linear"
}

var hdScore = [...]float64{1, 2, 3, 12, 15, 20}

// Reward is the per-chunk reward of QoE k for level q after level last with
// rebufS seconds of rebuffering (§3.5).
func (k QoE) Reward(kbps []float64, q, last int, rebufS float64) float64 {
	switch k {
	case QoELog:
		v := math.Log(kbps[q] / kbps[0])
		vl := math.Log(kbps[last] / kbps[0])
		return float64(v-float64(2.66*rebufS)) - math.Abs(v-vl)
	case QoEHD:
		v, vl := hdValue(q), hdValue(last)
		return float64(v-float64(8*rebufS)) - math.Abs(v-vl)
	}
	return float64(kbps[q]/1000-float64(4.3*rebufS)) - float64(1*math.Abs(kbps[q]-kbps[last]))/1000
}

func hdValue(q int) float64 {
	if q < len(hdScore) {
		return hdScore[q]
	}
	return hdScore[len(hdScore)-1]
}

// ChunkResult is what Pensieve's environment returns after one chunk.
type ChunkResult struct {
	Chunk   int     // index of the chunk just downloaded
	Quality int     // its level
	DelayMs float64 // download time including the 80 ms RTT
	BufferS float64 // buffer after the download (and any sleep), seconds
	RebufS  float64 // rebuffering during the download, seconds
	Bytes   float64 // chunk size
	Remain  int     // chunks left
	Reward  float64
}

// PensievePolicy chooses levels in the Pensieve model. Init resets its state
// for a new session; Next returns the level of the next chunk.
type PensievePolicy interface {
	Init(e *PensieveSession)
	Next(e *PensieveSession, r *ChunkResult) int
}

// PensieveSession is one trace through Pensieve's fixed environment
// (test/fixed_env.py) with a policy: a deterministic, allocation-free
// stepper like Session.
type PensieveSession struct {
	tr     *CookedTrace
	vs     *VideoSizes
	pol    PensievePolicy
	qoe    QoE
	ptr    int
	lastT  float64
	buffer float64 // ms
	chunk  int
	q, lq  int
	res    PensieveResult
	levels [pensieveChunks]int
	rew    [pensieveChunks]float64
}

// PensieveResult summarises a session (§3.6).
type PensieveResult struct {
	Trace        string
	Levels       []int     // level of chunks 0..47
	Rewards      []float64 // R_0..R_47
	QoESum       float64   // Σ R_1..R_47
	QoEMean      float64   // QoESum / 47
	QoEMeanAll48 float64   // Σ R_0..R_47 / 48
	AvgBitrate   float64   // mean kbit/s over chunks 1..47
	RebufS       float64   // Σ rebuffering over chunks 1..47
	Switches     int
}

// NewPensieveSession prepares trace tr with chunk sizes vs and policy pol.
func NewPensieveSession(tr *CookedTrace, vs *VideoSizes, pol PensievePolicy, qoe QoE) (*PensieveSession, error) {
	if err := tr.Validate(); err != nil {
		return nil, err
	}
	if len(vs.Bytes) < 2 || len(vs.Bytes[0]) < pensieveChunks {
		return nil, fmt.Errorf("%w: need %d chunk sizes for at least 2 levels", ErrMismatch, pensieveChunks)
	}
	if qoe == QoEHD && len(vs.Kbps) > len(hdScore) {
		return nil, fmt.Errorf("abr: HD QoE is defined for at most %d levels", len(hdScore))
	}
	e := &PensieveSession{tr: tr, vs: vs, pol: pol, qoe: qoe}
	e.Reset()
	return e, nil
}

// Reset rewinds the session and re-initialises the policy.
func (e *PensieveSession) Reset() {
	e.ptr, e.lastT, e.buffer, e.chunk = 1, e.tr.Time[0], 0, 0
	e.q, e.lq = pensieveFirstQ, pensieveFirstQ
	e.res = PensieveResult{Trace: e.tr.Name}
	e.pol.Init(e)
}

// Bitrates is the ladder in kbit/s.
func (e *PensieveSession) Bitrates() []float64 { return e.vs.Kbps }

// ChunkBytes is the size of chunk idx at level q, 0 outside 0..48 (as in
// Pensieve's MPC look-ahead).
func (e *PensieveSession) ChunkBytes(q, idx int) float64 {
	if idx < 0 || idx >= len(e.vs.Bytes[q]) {
		return 0
	}
	return e.vs.Bytes[q][idx]
}

// Levels is the number of levels.
func (e *PensieveSession) Levels() int { return len(e.vs.Kbps) }

// Done reports whether all chunks were downloaded.
func (e *PensieveSession) Done() bool { return e.chunk >= pensieveChunks }

func (e *PensieveSession) advance() {
	e.ptr++
	if e.ptr >= len(e.tr.Time) {
		e.ptr = 1
		e.lastT = 0.0
	}
}

// Step downloads one chunk at the current level, scores it and asks the
// policy for the next level.
func (e *PensieveSession) Step(r *ChunkResult) error {
	if e.Done() {
		return nil
	}
	q := e.q
	size := e.vs.Bytes[q][e.chunk]
	delay, sent := 0.0, 0.0
	tm, bw := e.tr.Time, e.tr.Mbps
	for iter := 0; ; iter++ {
		if iter > maxHops {
			return fmt.Errorf("%s: %w: chunk %d not delivered within %d trace samples", e.tr.Name, ErrNeverDelivers, e.chunk, maxHops)
		}
		rate := bw[e.ptr] * 1e6 / 8
		dur := tm[e.ptr] - e.lastT
		payload := float64(rate*dur) * pensievePayload
		if sent+payload > size {
			frac := ((size - sent) / rate) / pensievePayload
			delay += frac
			e.lastT += frac
			break
		}
		sent += payload
		delay += dur
		e.lastT = tm[e.ptr]
		e.advance()
	}
	delayMs := float64(delay*1000) + pensieveRTTms
	rebufMs := math.Max(delayMs-e.buffer, 0)
	e.buffer = math.Max(e.buffer-delayMs, 0) + pensieveChunkMs
	if e.buffer > pensieveBufferMax {
		sleep := math.Ceil((e.buffer-pensieveBufferMax)/pensieveSleepMs) * pensieveSleepMs
		e.buffer -= sleep
		left := sleep
		for iter := 0; iter <= maxHops; iter++ {
			dur := tm[e.ptr] - e.lastT
			if dur > left/1000 {
				e.lastT += left / 1000
				break
			}
			left -= float64(dur * 1000)
			e.lastT = tm[e.ptr]
			e.advance()
		}
	}
	*r = ChunkResult{Chunk: e.chunk, Quality: q, DelayMs: delayMs, BufferS: e.buffer / 1000, RebufS: rebufMs / 1000, Bytes: size}
	e.chunk++
	r.Remain = pensieveChunks - e.chunk
	r.Reward = e.qoe.Reward(e.vs.Kbps, q, e.lq, r.RebufS)
	e.levels[r.Chunk], e.rew[r.Chunk] = q, r.Reward
	if r.Chunk >= 1 {
		e.res.QoESum += r.Reward
		e.res.AvgBitrate += e.vs.Kbps[q]
		e.res.RebufS += r.RebufS
		if q != e.lq {
			e.res.Switches++
		}
	}
	e.lq = q
	nq := e.pol.Next(e, r)
	if nq < 0 || nq >= len(e.vs.Kbps) {
		return fmt.Errorf("abr: policy chose level %d of %d", nq, len(e.vs.Kbps))
	}
	e.q = nq
	return nil
}

// Run plays the whole video and returns the summary. The returned slices are
// fresh copies.
func (e *PensieveSession) Run() (PensieveResult, error) {
	var r ChunkResult
	for !e.Done() {
		if err := e.Step(&r); err != nil {
			return PensieveResult{}, err
		}
	}
	return e.Result(true), nil
}

// Result returns the summary; with copySlices the per-chunk levels and
// rewards are copied out (otherwise they are nil, and Result allocates
// nothing).
func (e *PensieveSession) Result(copySlices bool) PensieveResult {
	res := e.res
	n := float64(pensieveChunks - 1)
	res.QoEMean = res.QoESum / n
	res.AvgBitrate /= n
	all := 0.0
	for _, v := range e.rew {
		all += v
	}
	res.QoEMeanAll48 = all / pensieveChunks
	if copySlices {
		res.Levels = append([]int(nil), e.levels[:]...)
		res.Rewards = append([]float64(nil), e.rew[:]...)
	}
	return res
}

// ---- BB (§3.7) ----

// BB is Pensieve's buffer-based baseline: reservoir 5 s, cushion 10 s.
type BB struct{}

// Init implements PensievePolicy.
func (BB) Init(*PensieveSession) {}

// Next implements PensievePolicy.
func (BB) Next(e *PensieveSession, r *ChunkResult) int {
	top := e.Levels() - 1
	switch {
	case r.BufferS < 5:
		return 0
	case r.BufferS >= 15:
		return top
	}
	return int((float64(top) * (r.BufferS - 5)) / 10)
}

// ---- robustMPC (§3.8) ----

// RobustMPC is Pensieve's robustMPC with per-session state (§3.8.1). It
// shares prefix work depth-first, which gives the decisions of scoring all
// 6^5 tuples one by one as the reference does (the same operations per
// tuple, the same tie rule) far faster; NewPensievePolicy's
// "robustmpc-exhaustive" scores them one by one.
type RobustMPC struct {
	scoreAll bool // score every tuple one by one
	// carryOver keeps the error and estimate history across sessions, as
	// the original repository does by accident (kept to reproduce it; off).
	carryOver bool
	hist      [mpcHistory]float64
	errs      [mpcHorizon]float64
	nerr      int
	lastEst   float64
	haveEst   bool
	dt        [mpcHorizon][8]float64
	best      float64
	decision  int
	look      int
	kb        []float64
	seed, top float64
	decisions int // decisions made (for benchmarks)
}

// Init implements PensievePolicy.
func (m *RobustMPC) Init(e *PensieveSession) {
	m.hist = [mpcHistory]float64{}
	if !m.carryOver {
		m.nerr, m.haveEst, m.lastEst = 0, false, 0
	}
	m.kb = e.Bitrates()
}

// Next implements PensievePolicy.
func (m *RobustMPC) Next(e *PensieveSession, r *ChunkResult) int {
	x := (r.Bytes / r.DelayMs) / 1000
	copy(m.hist[:], m.hist[1:])
	m.hist[mpcHistory-1] = x
	ei := 0.0
	if m.haveEst {
		ei = math.Abs(m.lastEst-x) / x
	}
	m.errs[m.nerr%mpcHorizon] = ei
	m.nerr++
	past := m.hist[mpcHistory-mpcHorizon:]
	for len(past) > 0 && past[0] == 0 {
		past = past[1:]
	}
	acc := 0.0
	for _, v := range past {
		acc += 1 / v
	}
	H := 1 / (acc / float64(len(past)))
	mx := 0.0
	k := m.nerr
	if k > mpcHorizon {
		k = mpcHorizon
	}
	for i := 0; i < k; i++ {
		v := m.errs[(m.nerr-1-i)%mpcHorizon]
		if i == 0 || v > mx {
			mx = v
		}
	}
	F := H / (1 + mx)
	m.lastEst, m.haveEst = H, true

	base := pensieveChunks - r.Remain
	L := mpcHorizon
	if pensieveChunks-base < mpcHorizon {
		L = pensieveChunks - base
	}
	m.decisions++
	if m.scoreAll {
		return m.exhaustive(e, r.BufferS, r.Quality, base, L, F)
	}
	return m.fast(e, r.BufferS, r.Quality, base, L, F)
}

func (m *RobustMPC) exhaustive(e *PensieveSession, buf float64, q, base, L int, F float64) int {
	n := e.Levels()
	total := 1
	for i := 0; i < mpcHorizon; i++ {
		total *= n
	}
	best, decision := -1e8, 0
	var c [mpcHorizon]int
	for t := 0; t < total; t++ {
		v := t
		for j := mpcHorizon - 1; j >= 0; j-- {
			c[j] = v % n
			v /= n
		}
		cb, rb, rsum, sdiff, lq := buf, 0.0, 0.0, 0.0, q
		for j := 0; j < L; j++ {
			dt := (e.ChunkBytes(c[j], base+j+1) / 1e6) / F
			if cb < dt {
				rb += dt - cb
				cb = 0
			} else {
				cb -= dt
			}
			cb += 4
			rsum += m.kb[c[j]]
			sdiff += math.Abs(m.kb[c[j]] - m.kb[lq])
			lq = c[j]
		}
		V := float64(rsum/1000-float64(4.3*rb)) - sdiff/1000
		if V >= best {
			best = V
			decision = 0
			if L > 0 {
				decision = c[0]
			}
		}
	}
	return decision
}

func (m *RobustMPC) fast(e *PensieveSession, buf float64, q, base, L int, F float64) int {
	n := e.Levels()
	if L == 0 {
		return 0
	}
	if n > len(m.dt[0]) {
		return m.exhaustive(e, buf, q, base, L, F)
	}
	for j := 0; j < L; j++ {
		for c := 0; c < n; c++ {
			m.dt[j][c] = (e.ChunkBytes(c, base+j+1) / 1e6) / F
		}
	}
	m.best, m.decision, m.look = -1e8, 0, L
	// Seed the pruning bound with the score of the constant tuples. Pruning
	// a subtree whose upper bound is below a score some tuple reaches never
	// drops a maximal tuple, and the running "V >= best" rule over the tuples
	// still visited (in the same order) ends on the same last maximum.
	m.seed = math.Inf(-1)
	for c := 0; c < n; c++ {
		cb, rb, rs, sd, lq := buf, 0.0, 0.0, 0.0, q
		for j := 0; j < L; j++ {
			dt := m.dt[j][c]
			if cb < dt {
				rb += dt - cb
				cb = 0
			} else {
				cb -= dt
			}
			cb += 4
			rs += m.kb[c]
			sd += math.Abs(m.kb[c] - m.kb[lq])
			lq = c
		}
		if V := float64(rs/1000-float64(4.3*rb)) - sd/1000; V > m.seed {
			m.seed = V
		}
	}
	m.top = m.kb[n-1]
	m.dfs(n, 0, buf, 0, 0, 0, q, -1)
	return m.decision
}

// dfs visits tuples in lexicographic order; for L < 5 every prefix stands
// for 6^(5-L) identical tuples, all with the same first element, so visiting
// it once keeps the "last maximum wins" rule.
func (m *RobustMPC) dfs(n, j int, cb, rb, rsum, sdiff float64, lq, first int) {
	for c := 0; c < n; c++ {
		dt := m.dt[j][c]
		cb2, rb2 := cb, rb
		if cb2 < dt {
			rb2 += dt - cb2
			cb2 = 0
		} else {
			cb2 -= dt
		}
		cb2 += 4
		rs := rsum + m.kb[c]
		sd := sdiff + math.Abs(m.kb[c]-m.kb[lq])
		f := first
		if j == 0 {
			f = c
		}
		// Exact bound: rsum can grow by at most the top rate per remaining
		// chunk while rb and sdiff never decrease, and every operation of the
		// score is monotone, so no leaf below scores more than ub.
		if rest := m.look - j - 1; rest > 0 {
			ub := float64((rs+float64(rest)*m.top)/1000-float64(4.3*rb2)) - sd/1000
			if ub < m.seed {
				continue
			}
		}
		if j+1 == m.look {
			V := float64(rs/1000-float64(4.3*rb2)) - sd/1000
			if V >= m.best {
				m.best, m.decision = V, f
			}
			continue
		}
		m.dfs(n, j+1, cb2, rb2, rs, sd, c, f)
	}
}
