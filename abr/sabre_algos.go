package abr

import (
	"fmt"
	"math"
	"strconv"
)

// ---- throughput (§2.9.1) ----

// Throughput is Sabre's ThroughputRule: the highest quality sustainable at
// 0.9× the estimate, capped by an insufficient-buffer rule, with abandonment
// when a download would take more than 1.8 segment durations.
type Throughput struct {
	noIBR bool
	ibr   float64
}

// NewThroughput returns Sabre's throughput rule.
func NewThroughput(opts ...AlgorithmOption) *Throughput { return newThroughput(NewConfig(opts...)) }

func newThroughput(c Config) *Throughput { return &Throughput{noIBR: c.noIBR} }

// Init implements Algorithm.
func (a *Throughput) Init(v View) { a.ibr = 0.9 }

// Decide implements Algorithm.
func (a *Throughput) Decide(v View, seg int) (int, float64) {
	q := v.QualityFromThroughput(v.Throughput() * 0.9)
	if !a.noIBR {
		safe := (a.ibr * (v.BufferLevel() - v.Latency())) * v.Throughput()
		if a.ibr = a.ibr * 0.9; a.ibr < 0.5 {
			a.ibr = 0.5
		}
		for k := 0; k < q; k++ {
			if v.Bitrates()[k+1]*v.SegmentMs() > safe {
				q = k
				break
			}
		}
	}
	return q, 0
}

// Abandon implements Abandoner.
func (a *Throughput) Abandon(v View, p *Progress, _ float64) int {
	kb := v.Bitrates()
	dl := p.TimeMs - p.TTFBMs
	if !(p.TimeMs >= 500 && dl > 0) {
		return -1
	}
	r := p.Downloaded / dl
	left := p.SizeBits - p.Downloaded
	eta := left / r
	if p.TimeMs+eta > 1.8*v.SegmentMs() {
		q := v.QualityFromThroughput(r * 0.9)
		est := p.SizeBits * kb[q] / kb[p.Quality]
		if q < p.Quality && est < left {
			return q
		}
	}
	return -1
}

// ---- bola (§2.9.2) ----

// Bola is Sabre's BOLA: BOLA-BASIC with WithBOLABasic, BOLA with dynamic Vp
// and abandonment otherwise, and the BOLA-O variant with WithBOLAO.
type Bola struct {
	osc, basic  bool
	u           []float64
	vp, gp      float64
	lastQuality int
	// caches for Abandon (pure functions of Vp and of the download)
	av, other  []float64
	aVp, oSize float64
	oQ         int
	// rt[p·n+q] = kbps[q]/kbps[p]: the proofs' sizes of the alternatives
	// (to within an ulp of the rule's, far inside their margins)
	rt []float64
	// vpFor is the buffer bound Vp was last computed for
	vpFor float64
}

// NewBola returns Sabre's BOLA.
func NewBola(opts ...AlgorithmOption) *Bola { return newBola(NewConfig(opts...)) }

func newBola(c Config) *Bola { return &Bola{osc: c.osc, basic: c.basic} }

// Init implements Algorithm.
func (a *Bola) Init(v View) {
	kb := v.Bitrates()
	a.u = a.u[:0]
	l0 := math.Log(kb[0])
	for _, b := range kb {
		a.u = append(a.u, math.Log(b)+(-l0))
	}
	a.gp = v.GammaP()
	a.vp = (v.BufferSize() - v.SegmentMs()) / (a.u[v.Levels()-1] + a.gp)
	a.lastQuality = 0
	a.vpFor = math.NaN()
	a.av = append(a.av[:0], make([]float64, v.Levels())...)
	a.other = append(a.other[:0], make([]float64, v.Levels())...)
	a.aVp, a.oSize, a.oQ = math.NaN(), math.NaN(), -1
	a.rt = a.rt[:0]
	for _, bp := range kb {
		for _, bq := range kb {
			a.rt = append(a.rt, bq/bp)
		}
	}
}

// Decide implements Algorithm.
func (a *Bola) Decide(v View, i int) (int, float64) {
	if !a.basic {
		// (the min/max of plain positive numbers, without math's NaN/±0 calls)
		t := float64(i - 0)
		if r := float64(v.NumSegments() - i); r < t {
			t = r
		}
		t /= 2
		if !(t > 3) {
			t = 3
		}
		t = t * v.SegmentMs()
		bv := v.BufferSize()
		if t < bv {
			bv = t
		}
		if bv != a.vpFor { // the same operands give the same Vp
			a.vp, a.vpFor = (bv-v.SegmentMs())/(a.u[v.Levels()-1]+a.gp), bv
		}
	}
	a.refreshAV()
	L := v.BufferLevel()
	q, best := 0, math.Inf(-1)
	for k := 0; k < v.Levels(); k++ {
		sc := (a.av[k] - L) / v.Bitrates()[k] // av[k] = Vp·(u[k] + γp)
		if k == 0 || sc > best {
			q, best = k, sc
		}
	}
	delay := 0.0
	if q > a.lastQuality {
		qt := v.QualityFromThroughput(v.Throughput())
		switch {
		case q <= qt:
		case a.lastQuality > qt:
			q = a.lastQuality
		case !a.osc:
			q = qt + 1
		default:
			q = qt
			delay = math.Max(0, v.BufferLevel()-float64(a.vp*(a.gp+a.u[q])))
			if q == v.Levels()-1 {
				delay = 0
			}
		}
	}
	a.lastQuality = q
	return q, delay
}

// caches refreshes Vp·(gp + u[q]) (a function of Vp) and the sizes of the
// alternatives (a function of the download).
func (a *Bola) caches(v View, p *Progress) {
	kb := v.Bitrates()
	a.refreshAV()
	if p.SizeBits != a.oSize || p.Quality != a.oQ {
		for q := 0; q < p.Quality; q++ {
			a.other[q] = p.SizeBits * kb[q] / kb[p.Quality]
		}
		a.oSize, a.oQ = p.SizeBits, p.Quality
	}
}

// refreshAV recomputes av[q] = Vp·(γp + u[q]) after Vp changed.
func (a *Bola) refreshAV() {
	if a.aVp != a.vp {
		for q := range a.u {
			a.av[q] = float64(a.vp * (a.gp + a.u[q]))
		}
		a.aVp = a.vp
	}
}

// Abandon implements Abandoner (never abandons with Basic).
func (a *Bola) Abandon(v View, p *Progress, bl float64) int {
	if a.basic || p.Quality == 0 {
		return -1
	}
	remain := p.SizeBits - p.Downloaded
	if p.Downloaded <= 0 || remain <= 0 {
		return -1
	}
	a.caches(v, p)
	score := (a.av[p.Quality] - bl) / remain
	if score < 0 {
		return -1
	}
	cand := -1
	// other[q] grows with q, so the first q with other >= remain ends the search
	for q := 0; q < p.Quality && a.other[q] < remain; q++ {
		if sq := (a.av[q] - bl) / a.other[q]; sq > score {
			score, cand = sq, q
		}
	}
	if cand >= 0 {
		a.lastQuality = cand
	}
	return cand
}

// ---- bolae (§2.9.3) ----

// BolaE is Sabre's BOLA-E (placeholder buffer, insufficient-buffer rule,
// BOLA-O with WithBOLAO), or BOLA-PL with WithoutIBR.
type BolaE struct {
	osc, noIBR  bool
	u           []float64
	vp, gpe     float64
	bt          float64
	startup     bool
	av, other   []float64 // Vp·(gp_e + u[q]); sizes of the alternatives
	minLv       []float64 // minLevel(q)
	oSize       float64
	oQ          int
	placeholder float64
	lastQuality int
	ibr         float64
	// printTarget makes Init print the buffer target to the session's
	// output the way Sabre's constructor does (WithSabreOutput).
	printTarget bool
	// bufferFromInt marks B as an integer in Sabre's Python (no -b given),
	// which only changes how the printed target looks.
	bufferFromInt bool
}

// NewBolaE returns Sabre's BOLA-E.
func NewBolaE(opts ...AlgorithmOption) *BolaE { return newBolaE(NewConfig(opts...)) }

func newBolaE(c Config) *BolaE {
	return &BolaE{osc: c.osc, noIBR: c.noIBR, printTarget: c.sabreOutput, bufferFromInt: c.bufferFromInt}
}

// Init implements Algorithm.
func (a *BolaE) Init(v View) {
	kb := v.Bitrates()
	a.u = a.u[:0]
	off := 1 - math.Log(kb[0])
	for _, b := range kb {
		a.u = append(a.u, math.Log(b)+off)
	}
	if !a.noIBR {
		minB := 10000 + 2000*float64(v.Levels())
		a.bt = math.Max(minB, v.BufferSize())
		a.gpe = (a.u[v.Levels()-1] - 1) / (a.bt/10000 - 1)
		a.vp = 10000 / a.gpe
		if a.printTarget {
			// Python's max keeps the first (integer) argument unless B is
			// larger, and B is a float when -b was given.
			if v.BufferSize() > minB && !a.bufferFromInt {
				fmt.Fprintf(v.Output(), "%s\n", pyFloat(v.BufferSize()))
			} else {
				fmt.Fprintf(v.Output(), "%s\n", strconv.FormatInt(int64(a.bt), 10))
			}
		}
	} else {
		a.gpe = v.GammaP() - 1
		a.vp = (v.BufferSize() - v.SegmentMs()) / (a.u[v.Levels()-1] + a.gpe)
	}
	a.av, a.other, a.minLv = a.av[:0], a.other[:0], a.minLv[:0]
	for q := range a.u {
		a.av = append(a.av, float64(a.vp*(a.gpe+a.u[q])))
		a.other = append(a.other, 0)
		a.minLv = append(a.minLv, a.computeMinLevel(kb, q))
	}
	a.oSize, a.oQ = math.NaN(), -1
	a.startup = true
	a.placeholder = 0
	a.lastQuality = 0
	a.ibr = 0.9
}

// pyFloat formats like Python's repr of a float.
func pyFloat(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e16 {
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func (a *BolaE) score(v View, L float64) int {
	q, best := 0, math.Inf(-1)
	for k := 0; k < v.Levels(); k++ {
		sc := (a.av[k] - L) / v.Bitrates()[k] // av[k] = Vp·(u[k]+γ) exactly (+ commutes)
		if k == 0 || sc > best {
			q, best = k, sc
		}
	}
	return q
}

// minLevel takes the ladder kb (View.Bitrates), not the View, to stay
// inlinable in Decide and ReportDownload.
func (a *BolaE) minLevel(kb []float64, q int) float64 { return a.minLv[q] }

// computeMinLevel is minLevel's value, a function of q and of the values
// Init fixes (Vp, γ, u, the ladder), so Init tabulates it.
func (a *BolaE) computeMinLevel(kb []float64, q int) float64 {
	r := 0.0
	for k := 0; k < q; k++ {
		if a.u[k] < a.u[q] {
			x := a.vp * (a.gpe + (float64(kb[q]*a.u[k])-float64(kb[k]*a.u[q]))/(kb[q]-kb[k]))
			if x > r {
				r = x
			}
		}
	}
	return r
}

func (a *BolaE) maxLevel(q int) float64 { return a.av[q] } // Vp·(u[q] + γ), tabulated by Init

// Decide implements Algorithm.
func (a *BolaE) Decide(v View, i int) (int, float64) {
	L := v.BufferLevel()
	if a.startup {
		if !v.HasEstimate() {
			return a.lastQuality, 0
		}
		a.startup = false
		a.ibr = 0.9
		q := v.QualityFromThroughput(v.Throughput())
		a.placeholder = fmax(0, a.minLevel(v.Bitrates(), q)-L)
		return q, 0
	}
	q := a.score(v, L+a.placeholder)
	qt := v.QualityFromThroughput(v.Throughput())
	if q > a.lastQuality && q > qt {
		q = a.lastQuality
		if qt > q {
			q = qt
		}
		if !a.osc {
			q++
		}
	}
	delay := L + a.placeholder - a.maxLevel(q)
	if delay > 0 {
		if delay <= a.placeholder {
			a.placeholder -= delay
			delay = 0
		} else {
			delay -= a.placeholder
			a.placeholder = 0
		}
	} else {
		delay = 0
	}
	if q == v.Levels()-1 {
		delay = 0
	}
	if !a.noIBR {
		safe := (a.ibr * (L - v.Latency())) * v.Throughput()
		if a.ibr = a.ibr * 0.9; a.ibr < 0.5 {
			a.ibr = 0.5
		}
		for k := 0; k < q; k++ {
			if v.Bitrates()[k+1]*v.SegmentMs() > safe {
				q = k
				delay = 0
				a.placeholder = fmin(a.placeholder, fmax(0, a.minLevel(v.Bitrates(), q)-L))
				break
			}
		}
	}
	return q, delay
}

// ReportDelay implements DelayReporter.
func (a *BolaE) ReportDelay(v View, ms float64) { a.placeholder += ms }

// ReportDownload implements DownloadReporter.
func (a *BolaE) ReportDownload(v View, d *Download) {
	L := v.BufferLevel()
	a.lastQuality = d.Quality
	if d.Replacement {
		if d.AbandonTo < 0 {
			a.placeholder += v.SegmentMs()
		}
		return
	}
	if d.AbandonTo < 0 {
		was := L + d.TimeMs
		a.placeholder = fmin(a.placeholder, fmax(0, a.maxLevel(d.Quality)-was))
		if L > 0 {
			a.placeholder = fmax(a.placeholder, a.minLevel(v.Bitrates(), d.Quality)-was)
		}
		return
	}
	want := 10000.0
	if d.AbandonTo > 0 {
		want = a.minLevel(v.Bitrates(), d.AbandonTo)
	}
	a.placeholder = fmin(a.placeholder, fmax(0, want-L))
}

// Abandon implements Abandoner.
func (a *BolaE) Abandon(v View, p *Progress, bl float64) int {
	remain := p.SizeBits - p.Downloaded
	if p.Downloaded <= 0 || remain <= 0 {
		return -1
	}
	bl2 := bl + a.placeholder - p.TTFBMs
	if !(bl2 > 0) { // Python's max(0, x)
		bl2 = 0
	}
	r := p.Downloaded / (p.TimeMs - p.TTFBMs)
	sz := remain - float64(p.TTFBMs*r)
	if sz <= 0 {
		return -1
	}
	a.caches(v, p)
	score := (a.av[p.Quality] - bl2) / sz
	cand := -1
	// other[q] grows with q, so the first q with other >= sz ends the search
	for q := 0; q < p.Quality && a.other[q] < sz; q++ {
		if sq := (a.av[q] - bl2) / a.other[q]; sq > score {
			score, cand = sq, q
		}
	}
	return cand
}

// ---- dynamic (§2.9.4) ----

// Dynamic is Sabre's DYNAMIC: BOLA when the buffer is large, THROUGHPUT
// otherwise, always abandoning with THROUGHPUT's rule.
type Dynamic struct {
	bola   Bola
	tput   Throughput
	isBola bool
}

// NewDynamic returns Sabre's dynamic.
func NewDynamic(opts ...AlgorithmOption) *Dynamic { return newDynamic(NewConfig(opts...)) }

func newDynamic(c Config) *Dynamic {
	return &Dynamic{bola: Bola{osc: c.osc, basic: c.basic}, tput: Throughput{noIBR: c.noIBR}}
}

// Init implements Algorithm.
func (a *Dynamic) Init(v View) { a.bola.Init(v); a.tput.Init(v); a.isBola = false }

// Decide implements Algorithm.
func (a *Dynamic) Decide(v View, i int) (int, float64) {
	L := v.BufferLevel()
	qb, db := a.bola.Decide(v, i)
	qt, dt := a.tput.Decide(v, i)
	if a.isBola {
		if L < 10000 && qb < qt {
			a.isBola = false
		}
	} else if L > 10000 && qb >= qt {
		a.isBola = true
	}
	if a.isBola {
		return qb, db
	}
	return qt, dt
}

// ReportDownload implements DownloadReporter: a replacement switches back
// to THROUGHPUT.
func (a *Dynamic) ReportDownload(v View, d *Download) {
	if d.Replacement {
		a.isBola = false
	}
}

// Abandon implements Abandoner.
func (a *Dynamic) Abandon(v View, p *Progress, bl float64) int { return a.tput.Abandon(v, p, bl) }

// ---- dynamicdash (§2.9.5) ----

// DynamicDash is Sabre's dynamicdash: BOLA-E and THROUGHPUT with a 5 s/10 s
// hysteresis.
type DynamicDash struct {
	bola   BolaE
	tput   Throughput
	isBola bool
}

// NewDynamicDash returns Sabre's dynamicdash.
func NewDynamicDash(opts ...AlgorithmOption) *DynamicDash { return newDynamicDash(NewConfig(opts...)) }

func newDynamicDash(c Config) *DynamicDash {
	return &DynamicDash{bola: *newBolaE(c), tput: Throughput{noIBR: c.noIBR}}
}

// Init implements Algorithm.
func (a *DynamicDash) Init(v View) { a.bola.Init(v); a.tput.Init(v); a.isBola = false }

// Decide implements Algorithm.
func (a *DynamicDash) Decide(v View, i int) (int, float64) {
	L := v.BufferLevel()
	if a.isBola && L < 5000 {
		a.isBola = false
	} else if !a.isBola && L > 10000 {
		a.isBola = true
	}
	if a.isBola {
		return a.bola.Decide(v, i)
	}
	return a.tput.Decide(v, i)
}

// ReportDelay implements DelayReporter.
func (a *DynamicDash) ReportDelay(v View, ms float64) { a.bola.ReportDelay(v, ms) }

// ReportDownload implements DownloadReporter.
func (a *DynamicDash) ReportDownload(v View, d *Download) { a.bola.ReportDownload(v, d) }

// Abandon implements Abandoner.
func (a *DynamicDash) Abandon(v View, p *Progress, bl float64) int {
	if a.isBola {
		return a.bola.Abandon(v, p, bl)
	}
	return a.tput.Abandon(v, p, bl)
}

// quietLine proves the rule silent at the states tm + k·ct, got + k·cmb
// for real k in [0, kmax] (the fast steps of one trace period), where
// tm, got are p.TimeMs, p.Downloaded. Along that line the buffer argument
// x = lvl − tm − k·ct and the remaining bits Z = R0 − k·cmb are linear in k,
// so the rule's comparison g = (Aq − x)·Z − (Ap − x)·o_q is a concave
// quadratic in k, and its maximum over [0, kmax] is exact to bound. It
// reports false (no proof) whenever the buffer could run dry on the line.
func (a *Bola) quietLine(v View, p *Progress, lvl, ct, cmb, kmax float64) bool {
	if a.basic || p.Quality == 0 {
		return true
	}
	a.caches(v, p)
	x0 := lvl - p.TimeMs
	x1 := x0 - kmax*ct
	r0 := p.SizeBits - p.Downloaded
	if !(x1 > 1e-6*(1+math.Abs(x0))) || !(p.Downloaded > 0) || !(r0 > 0) {
		return false
	}
	return a.lineQuiet(p.Quality, x0, r0, ct, cmb, kmax)
}

// lineQuiet is the test of quietLine and quietPieces, for a download of
// quality pq with a.caches current: silent at x = x0 − k·ct, Z = r0 − k·cmb
// for real k in [0, kmax], given that x stays positive there.
func (a *Bola) lineQuiet(pq int, x0, r0, ct, cmb, kmax float64) bool {
	x1 := x0 - kmax*ct
	ap := a.av[pq]
	if x1 > ap*(1+1e-9)+1e-9 {
		return true // the rule's "negative score" exit at every state
	}
	// Quick test first: along the line the rule's own score (Ap − x)/Z only
	// grows and each (Aq − x)/o_q is largest at the end (x = x1), so no
	// candidate exists if every (Aq − x1)/o_q is below (Ap − x0)/r0.
	if y := ap - x0; y > 0 {
		quick := true
		for q := 0; q < pq && a.other[q] < r0; q++ {
			if !((a.av[q]-x1)*r0 < y*a.other[q]*(1-1e-9)) {
				quick = false
				break
			}
		}
		if quick {
			return true
		}
	}
	return quadQuiet(a.av, a.other, pq, x0, r0, r0, ct, cmb, kmax, 0)
}

// quadQuiet proves g_q(k) = (Aq − x_k)·Z_k − (Ap − x_k)·o_q < 0, by a wide
// margin, for every q < pq and real k in [0, kmax] with o_q < zk − k·cmb,
// where x_k = x0 − k·ct and Z_k = rz − k·cmb: then no FP evaluation of the
// rule's comparisons (Aq − x)/o_q > (Ap − x)/Z finds a candidate on the
// line. g_q is a concave quadratic in k, so its maximum is exact to bound.
// slack widens the margin by slack·|Aq − x| (Z known only to ±slack).
func quadQuiet(av, other []float64, pq int, x0, rz, zk, ct, cmb, kmax, slack float64) bool {
	// The proof's own arithmetic need not be exact, only far from the
	// margin: a reciprocal instead of divisions.
	inv := (1 + 1e-9) / cmb
	ap := av[pq]
	y0 := ap - x0
	c2 := ct * cmb
	for q := 0; q < pq; q++ {
		o := other[q]
		if zk <= o {
			return true // other[q] grows with q: no candidate from here on
		}
		x := av[q] - x0
		// q is a candidate only while o < Z
		kq := (zk-o)*inv + 1e-9
		if kq > kmax {
			kq = kmax
		}
		// g(k) = (x + k·ct)(rz − k·cmb) − (y0 + k·ct)·o = c0 + c1·k − c2·k²
		c0 := x*rz - y0*o
		c1 := ct*rz - cmb*x - ct*o
		e := kq * ct
		m := 1e-9*((math.Abs(x)+e)*math.Abs(rz)+(math.Abs(y0)+e)*o) + 1e-6*(zk+o) + (math.Abs(x)+e)*slack
		if c1 <= 0 {
			if !(c0 < -m) { // maximum at k = 0
				return false
			}
			continue
		}
		if c0+c1*kq < -m { // the linear part alone bounds g
			continue
		}
		if c1 >= 2*c2*kq {
			if !(c0+c1*kq-c2*kq*kq < -m) { // maximum at k = kq
				return false
			}
			continue
		}
		// maximum at the vertex: c0 + c1²/(4·c2) < −m
		if !(4*c2*(c0+m)+c1*c1 < 0) {
			return false
		}
	}
	return true
}

// quietLine for BOLA-E: the buffer argument x = lvl − tm + placeholder −
// ttfb is linear along the line; the size argument Z = remain − ttfb·r,
// with r = got/(tm − ttfb) monotone along the line, is linear up to
// ttfb·(rmax − rmin), which widens the margin.
func (a *BolaE) quietLine(v View, p *Progress, lvl, ct, cmb, kmax float64) bool {
	if p.Quality == 0 {
		return true
	}
	a.caches(v, p)
	tt := p.TTFBMs
	d0 := p.TimeMs - tt
	e := kmax * ct
	x0 := lvl - p.TimeMs + a.placeholder - tt
	if !(lvl-p.TimeMs-e > 1e-6*(1+math.Abs(lvl))) || !(x0-e > 1e-6*(1+math.Abs(x0))) || !(d0 > 0) || !(p.Downloaded > 0) {
		return false // the buffer (or its projection) could clamp at 0
	}
	r0 := p.Downloaded / d0
	r1 := (p.Downloaded + kmax*cmb) / (d0 + e)
	rmin, rmax := math.Min(r0, r1)*(1-1e-12), math.Max(r0, r1)*(1+1e-12)
	rem := p.SizeBits - p.Downloaded
	dmin, dmax := tt*rmin, tt*rmax
	return quadQuiet(a.av, a.other, p.Quality, x0, rem-(dmin+dmax)/2, rem-dmin, ct, cmb, kmax, (dmax-dmin)/2+1e-9*rem)
}

// quietLine for DYNAMICDASH: BOLA-E's line proof while BOLA-E is active,
// else THROUGHPUT's box proof on the line's bounding box.
func (a *DynamicDash) quietLine(v View, p *Progress, lvl, ct, cmb, kmax float64) bool {
	if a.isBola {
		return a.bola.quietLine(v, p, lvl, ct, cmb, kmax)
	}
	return a.tput.quiet(v, p, lvl, p.Downloaded+kmax*cmb, p.TimeMs+kmax*ct)
}

// caches refreshes the sizes of the alternatives (a function of the
// download).
func (a *BolaE) caches(v View, p *Progress) {
	kb := v.Bitrates()
	if p.SizeBits != a.oSize || p.Quality != a.oQ {
		for q := 0; q < p.Quality; q++ {
			a.other[q] = p.SizeBits * kb[q] / kb[p.Quality]
		}
		a.oSize, a.oQ = p.SizeBits, p.Quality
	}
}

// quiet for ThroughputRule: the rule can only fire at or after 500 ms and
// when time + eta > 1.8·P, where eta = (size − got)·(time − ttfb)/got grows
// with time and shrinks with got, so the box's worst corner bounds it.
func (a *Throughput) quiet(v View, p *Progress, lvl, g1, t1 float64) bool {
	if p.Quality == 0 || t1 < 500 {
		return true
	}
	if !(p.Downloaded > 0) || !(t1-p.TTFBMs > 0) {
		return false
	}
	ub := t1 + (p.SizeBits-p.Downloaded)*(t1-p.TTFBMs)/p.Downloaded
	return ub < 1.8*v.SegmentMs()*(1-1e-9)
}

// firstFiring for ThroughputRule: along the period's steps (time
// T = T0 + k·ct, bits G = G0 + k·cmb) the rule is silent while T < 500 or
// while T + eta = ttfb + S·(T − ttfb)/G stays below 1.8·P, that is while
// h(k) = c·G − S·(T − ttfb) > 0 with c = 1.8·P − ttfb: a line in k. The
// states silent by either test are a prefix of the steps (T only grows; h
// is tested with a relative margin of 1e-9 and, where it falls, its root
// is rounded down by one step), so K is the end of the longer prefix.
func (a *Throughput) firstFiring(v View, p *Progress, lvl, ct, cmb, kmax float64) int {
	if p.Quality == 0 {
		return int(kmax) // nothing to abandon to
	}
	g0, d0 := p.Downloaded, p.TimeMs-p.TTFBMs
	if !(g0 > 0) || !(d0 > 0) || !(kmax >= 0) || !(kmax < 1<<30) {
		return -1
	}
	k := -1
	if x := (500 - p.TimeMs) / ct; x > 0 {
		k = int(x*(1-1e-9)) - 1 // T < 500 with room to spare
	}
	c := 1.8*v.SegmentMs()*(1-1e-9) - p.TTFBMs
	if c > 0 {
		S := p.SizeBits
		// h(k) − 1e-9·(c·G + S·(T − ttfb)) = h0 + h1·k
		h0 := c*g0*(1-1e-9) - S*d0*(1+1e-9)
		h1 := c*cmb*(1-1e-9) - S*ct*(1+1e-9)
		switch {
		case h0 <= 0:
		case h1 >= 0:
			return int(kmax)
		default:
			if ka := int(h0/-h1*(1-1e-9)) - 1; ka > k {
				k = ka
			}
		}
	}
	if float64(k) > kmax {
		k = int(kmax)
	}
	return k
}

// firstFiring for DYNAMIC: THROUGHPUT's rule abandons.
func (a *Dynamic) firstFiring(v View, p *Progress, lvl, ct, cmb, kmax float64) int {
	return a.tput.firstFiring(v, p, lvl, ct, cmb, kmax)
}

// firstFiring for DYNAMICDASH while THROUGHPUT's rule is the active one
// (BOLA-E's is proven with quietLine or stepped).
func (a *DynamicDash) firstFiring(v View, p *Progress, lvl, ct, cmb, kmax float64) int {
	if a.isBola {
		return -1
	}
	return a.tput.firstFiring(v, p, lvl, ct, cmb, kmax)
}

func (a *Dynamic) quiet(v View, p *Progress, lvl, g1, t1 float64) bool {
	return a.tput.quiet(v, p, lvl, g1, t1)
}

// quietPath proves the rule silent for the whole download from its current
// state (after the request latency, nothing downloaded yet), along the
// download's path through the coming trace periods (pw, Session.walk). It
// tests one line: by time τ the download has at least wlo·τ bits, wlo the
// least average rate since the start (a ratio that is monotone on each
// period's line, so its least value is at a period's end), and for a
// candidate q (Z > o_q) the rule's comparison g = (Aq − x)·Z − (Ap − x)·o_q
// is linear in Z and negative at Z = o_q, so g < 0 on the line
// Z = size − wlo·τ implies g < 0 at the real state. If a candidate fails
// there, each period's line is tested (quietPieces).
func (a *Bola) quietPath(v View, p *Progress, lvl float64, pw *pathWalk) bool {
	if a.basic || p.Quality == 0 {
		return true
	}
	size := p.SizeBits - p.Downloaded
	if !(size > 0) {
		return true
	}
	a.refreshAV()
	rt := a.rt[p.Quality*v.Levels():]
	ap := a.av[p.Quality]
	x0 := lvl - p.TimeMs
	el, gl, tl := pw.el, pw.gl, pw.tl
	el = el*(1+1e-9) + 1e-6
	x1 := x0 - el
	if !(x1 > 1e-6*(1+math.Abs(x0))) {
		return false // the buffer could run dry: x is no longer linear
	}
	if x1 > ap*(1+1e-9)+1e-9 {
		return true // the rule's "negative score" exit at every state
	}
	// On the line, g(τ) = (a + τ)(size − wlo·τ) − (y + τ)·o_q = c0 + c1·τ −
	// wlo·τ², a = Aq − x0, y = Ap − x0, o_q = size·r_q, is bounded over all
	// of [0, el] (a superset of the states where q is a candidate), with a
	// margin m far above the rounding of the walk, of Sabre's sums and of
	// this test. Everything is divided by size and, as wlo = gl/tl,
	// multiplied by tl: c0 = a − y·r_q, c1 = (1 − r_q)·tl − a·gs.
	y := ap - x0
	gs := gl * (1 - 1e-9) / size
	yq := y * (1 - 1e-9)
	ya, g2 := math.Abs(y)+2*el, 2*gs*el
	for q := 0; q < p.Quality; q++ {
		r := rt[q]
		// Quick test: the rule's own score (Ap − x)/Z only grows along the
		// path and (Aq − x)/o_q is largest at its end:
		// (Aq − x1)·size < y·o_q.
		if y > 0 && a.av[q]-yq*r < x1 {
			continue
		}
		ax := a.av[q] - x0
		c0 := ax - y*r
		c1 := (1-r)*tl - ax*gs
		m := 1e-9*(math.Abs(ax)+ya) + 2e-6
		var ok bool
		switch {
		case c1 <= 0: // maximum at τ = 0
			ok = c0 < -m
		case c1 >= g2: // maximum at τ = el
			ok = c0*tl+el*(c1-gs*el) < -m*tl
		default: // maximum at the vertex: c0 + c1²/(4·wlo) < −m
			ok = 4*gs*tl*(c0+m)+c1*c1 < 0
		}
		if !ok {
			return a.quietPieces(v, p, lvl)
		}
	}
	return true
}

// quietPieces proves the rule silent on each trace period's line of the
// download's path (see quietPath).
func (a *Bola) quietPieces(v View, p *Progress, lvl float64) bool {
	a.caches(v, p)
	periods, i, ttn := v.path()
	t, z := p.TimeMs, p.SizeBits-p.Downloaded
	for hops := 0; hops < 64; hops++ {
		w := periods[i].Kbps
		dur, bits := ttn, float64(ttn*w)
		last := z <= bits
		if last {
			dur, bits = z/w, z
		}
		x0 := lvl - t
		if x1 := x0 - dur; !(x1 > 1e-6*(1+math.Abs(x0))) {
			return false
		}
		if !a.lineQuiet(p.Quality, x0, z, 1, w, dur) {
			return false
		}
		if last {
			return true
		}
		t += dur
		z -= bits
		if i++; i == len(periods) {
			i = 0
		}
		ttn = periods[i].DurationMs
	}
	return false
}

// pathRate is the least average rate, bits per ms, of the download along
// pw since its transfer started (by time τ it has at least pathRate·τ bits
// on every state of Sabre's steps), lowered by far more than the rounding
// of the walk and of the steps' sums.
func pathRate(pw *pathWalk) float64 { return pw.gl * (1 - 1e-9) / pw.tl }

// quietPath for BOLA-E (see Bola.quietPath). The rule's size argument is
// Z = remain − ttfb·r with r = got/τ (τ the time since the transfer
// started), so Z = S − got·(1 + ttfb/τ) ≤ S − wlo·(ttfb + τ), wlo the
// least average rate (got ≥ wlo·τ): a line in τ, as the buffer argument
// x = lvl − TimeMs + placeholder − ttfb is while it does not clamp at 0.
// The comparison g = (Aq − x)·Z − (Ap − x)·o_q is linear in Z and negative
// at Z = o_q (Aq < Ap), so g < 0 on the line bounds it at every state
// where q is a candidate (Z > o_q): quadQuiet's test, with k = τ.
func (a *BolaE) quietPath(v View, p *Progress, lvl float64, pw *pathWalk) bool {
	pq := p.Quality
	if pq == 0 {
		return true // no lower quality to abandon to
	}
	if !(p.Downloaded == 0) || !(a.vp > 0) {
		return false
	}
	a.caches(v, p)
	el := pw.el*(1+1e-9) + 1e-6
	x0 := lvl - p.TimeMs + a.placeholder - p.TTFBMs
	if !(lvl-p.TimeMs-el > 1e-6*(1+math.Abs(lvl))) || !(x0-el > 1e-6*(1+math.Abs(x0))) {
		return false // the buffer (or its projection) could clamp at 0
	}
	if !(a.av[pq]-a.av[pq-1] > 1e-9*(math.Abs(a.av[pq])+math.Abs(x0))) {
		return false // Aq < Ap by a margin (av grows with q when Vp > 0)
	}
	wlo := pathRate(pw)
	z0 := p.SizeBits - wlo*p.TTFBMs
	return quadQuiet(a.av, a.other, pq, x0, z0, z0, 1, wlo, el, 1e-9*p.SizeBits+1e-6)
}

// quietPath for THROUGHPUT: the rule fires only at TimeMs ≥ 500 and when
// TimeMs + eta > 1.8·P, with eta = (S − got)·τ/got, so TimeMs + eta =
// ttfb + S·τ/got ≤ ttfb + S/wlo along the whole path (got ≥ wlo·τ).
func (a *Throughput) quietPath(v View, p *Progress, lvl float64, pw *pathWalk) bool {
	if p.Quality == 0 {
		return true // q < Quality is needed to abandon
	}
	if !(p.Downloaded == 0) {
		return false
	}
	if p.TimeMs+pw.el*(1+1e-9)+1e-6 < 500*(1-1e-9) {
		return true // over before the rule's first possible call
	}
	return p.TTFBMs+p.SizeBits/pathRate(pw) < 1.8*v.SegmentMs()*(1-1e-9)
}

// quietPath for DYNAMIC: THROUGHPUT's rule abandons.
func (a *Dynamic) quietPath(v View, p *Progress, lvl float64, pw *pathWalk) bool {
	return a.tput.quietPath(v, p, lvl, pw)
}

// quietPath for DYNAMICDASH: the rule of the active algorithm (fixed for
// the download: isBola changes only in Decide).
func (a *DynamicDash) quietPath(v View, p *Progress, lvl float64, pw *pathWalk) bool {
	if a.isBola {
		return a.bola.quietPath(v, p, lvl, pw)
	}
	return a.tput.quietPath(v, p, lvl, pw)
}

// fmax is math.Max, inlined where the arguments differ (math.Max is an
// assembly call on amd64, per segment in BOLA-E's placeholder updates);
// ties, signed zeros and NaNs go to math.Max itself, so results are its own.
func fmax(a, b float64) float64 {
	if a > b {
		return a
	}
	if b > a {
		return b
	}
	return math.Max(a, b)
}

// fmin is math.Min, as fmax is math.Max.
func fmin(a, b float64) float64 {
	if a < b {
		return a
	}
	if b < a {
		return b
	}
	return math.Min(a, b)
}
