package abr

import (
	"math"
)

// Player presets: the ABR logic of dash.js v5 and hls.js 1.x with their
// default constants (MODELS.md §4), mapped onto the segment-level Session.
// They are presets, not fidelity targets: the browsers run on wall-clock
// events that a trace simulator only approximates. The mapping is stated in
// each type's comment.

// ---- dash.js ----

// DashJS is dash.js v5's default ABR (5.2.1: the Dynamic strategy's
// thresholds are hybridSwitchBufferTime's 12 s and 6 s): the Dynamic strategy switching
// between ThroughputRule and BolaRule (BOLA-E as shipped, scoring with
// u−1+γp), combined by lowest bitrate with InsufficientBufferRule and
// SwitchHistoryRule, plus AbandonRequestsRule.
//
// Mapping: one decision per segment request; the throughput sample is the
// video request's bits (WithSideLoad takes out the audio fetched beside
// it) over the transfer time after TTFB (useDeadTimeLatency), the first
// segment's included, the latency sample the TTFB; the first up-switch's
// re-download of the first segment (firstRefetch) is a delay;
// the buffer target (18 s, 30 s at the top representation) is enforced with
// the algorithm's delay; abandonment progress events come every ~50 ms of
// transfer; fast switching (on by default in dash.js outside low latency)
// replaces buffered segments through Replacer. The session's BufferMs
// should be at least 30 s.
type DashJS struct {
	// EWMA state (§4.1.3)
	tf, ts, tw         float64 // throughput fast/slow estimates and total weight
	lf, ls, lw         float64
	haveT              bool
	isBola             bool
	bolaStartup        bool
	placeholder        float64 // s
	u                  []float64
	vp, gp             float64
	appended           int
	hist               [8]struct{ from, to int }
	nhist              int
	abandonedAt        float64 // play time of the last abandonment, ms; <0 none
	lastFinish         float64
	haveFinish         bool
	lastDecision       float64
	current            int
	progress           int // abandon-rule progress events of the current download
	progressIndex      int
	progressQ          int
	bufferTimeDefaultS float64   // 18
	bufferTimeTopS     float64   // 30
	fsIdx              int       // fast switching: the next buffered segment to download again; <0 none
	roff               int       // ReplaceOffset's answer for this decision
	side               []float64 // WithSideLoad: the audio bits of each segment's download
	sampledFirst       bool
	first              [1]Sample
	linkKbps           float64 // the last sample's whole-link rate (video and audio), kbit/s
	trace0Bits         float64 // the current download's first progress event: bits
	trace0Ms           float64 // and transfer time
}

// dashHybridSwitchS is dash.js 5.2's streaming.abr.hybridSwitchBufferTime:
// the buffer level at which the Dynamic strategy turns to BolaRule.
const dashHybridSwitchS = 12

// NewDashJS returns the dash.js preset with its default settings.
func NewDashJS(opts ...AlgorithmOption) *DashJS { return newDashJS(NewConfig(opts...)) }

func newDashJS(c Config) *DashJS {
	return &DashJS{bufferTimeDefaultS: c.bufferTargetS, bufferTimeTopS: c.topTargetS, side: c.sideBits}
}

// Init implements Algorithm.
func (a *DashJS) Init(v View) {
	kb := v.Bitrates()
	*a = DashJS{u: a.u[:0], bufferTimeDefaultS: a.bufferTimeDefaultS, bufferTimeTopS: a.bufferTimeTopS, side: a.side}
	if a.bufferTimeDefaultS == 0 {
		a.bufferTimeDefaultS = 18
	}
	if a.bufferTimeTopS == 0 {
		a.bufferTimeTopS = 30
	}
	n := len(kb)
	for _, b := range kb {
		a.u = append(a.u, math.Log(b*1000)-math.Log(kb[0]*1000)+1)
	}
	bt := math.Max(a.bufferTimeDefaultS, 10+2*float64(n))
	a.gp = (a.u[n-1] - 1) / (bt/10 - 1)
	a.vp = 10 / a.gp
	a.bolaStartup = true
	a.abandonedAt = -1
	a.progressIndex = -1
	a.fsIdx = -1
}

func (a *DashJS) optimal(v View, kbps float64) int {
	if !(kbps > 0) {
		return 0
	}
	q := 0
	for k, b := range v.Bitrates() {
		if b <= kbps {
			q = k
		}
	}
	return q
}

// estimates returns the EWMA throughput (kbit/s, rounded) and latency (ms).
func (a *DashJS) estimates() (float64, float64, bool) {
	if !a.haveT {
		return 0, 0, false
	}
	tf := a.tf / (1 - math.Pow(0.5, a.tw/3))
	ts := a.ts / (1 - math.Pow(0.5, a.tw/8))
	lf := a.lf / (1 - math.Pow(0.5, a.lw/1))
	ls := a.ls / (1 - math.Pow(0.5, a.lw/2))
	return math.Round(math.Min(tf, ts)), math.Round(math.Max(lf, ls)), true
}

// FirstQuality implements FirstQualityChooser: optimal(1000 kbit/s).
func (a *DashJS) FirstQuality(v View) int {
	a.current = a.optimal(v, 1000)
	return a.current
}

func (a *DashJS) maxLevel(q int) float64 { return a.vp * (a.u[q] + a.gp) }

func (a *DashJS) minLevel(v View, q int) float64 {
	kb := v.Bitrates()
	r := 0.0
	for k := 0; k < q; k++ {
		if a.u[k] < a.u[q] {
			x := a.vp * (a.gp + (kb[q]*a.u[k]-kb[k]*a.u[q])/(kb[q]-kb[k]))
			r = math.Max(r, x)
		}
	}
	return r
}

// Decide implements Algorithm.
func (a *DashJS) Decide(v View, seg int) (int, float64) {
	if !a.sampledFirst {
		a.sampleFirst(v)
	}
	kb := v.Bitrates()
	L := v.BufferLevel() / 1000
	now := v.PlayTimeMs()
	est, _, have := a.estimates()
	safe := est * 0.9
	inAbandon := a.abandonedAt >= 0 && now-a.abandonedAt < 10000
	// Dynamic strategy (§4.1.5): BOLA from hybridSwitchBufferTime of
	// buffer, back to ThroughputRule below half of it. dash.js 5.2
	// (AbrController._updateDynamicAbrStrategy) takes the thresholds from
	// streaming.abr.hybridSwitchBufferTime, 12 s by default, not from
	// bufferTimeDefault (18 s) as MODELS.md §4.1.5 describes for 5.1.1:
	// with 18 s the preset stayed on ThroughputRule for 6 s of buffer
	// longer than the player (found by playtest --compare-sim).
	if a.isBola {
		a.isBola = L >= 0.5*dashHybridSwitchS
	} else if L >= dashHybridSwitchS {
		a.isBola = true
	}
	best := -1
	consider := func(q int) {
		if q >= 0 && (best < 0 || q < best) {
			best = q
		}
	}
	delay := 0.0
	loaded := L > 0.3
	if a.isBola {
		// BolaRule (§4.1.6)
		if a.bolaStartup {
			if have {
				q := a.optimal(v, safe)
				a.placeholder = math.Max(0, a.minLevel(v, q)-L)
				consider(q)
				if L >= v.SegmentMs()/1000 {
					a.bolaStartup = false
				}
			}
		} else {
			if a.haveFinish {
				a.placeholder += math.Max(0, (now-a.lastFinish)/1000)
				a.haveFinish = false
			} else {
				a.placeholder += math.Max(0, (now-a.lastDecision)/1000)
			}
			lv := L + a.placeholder
			q, bs := 0, math.Inf(-1)
			for k := range kb {
				if sc := (a.vp*(a.u[k]-1+a.gp) - lv) / (kb[k] * 1000); sc >= bs {
					q, bs = k, sc
				}
			}
			if q > a.current {
				if qt := a.optimal(v, safe); q > qt {
					q = max(a.current, qt)
				}
			}
			d := math.Max(0, lv-a.maxLevel(q))
			if d <= a.placeholder {
				a.placeholder -= d
			} else {
				d -= a.placeholder
				a.placeholder = 0
				if q < len(kb)-1 {
					delay = d * 1000
				}
			}
			consider(q)
		}
	} else if have && !inAbandon && loaded {
		consider(a.optimal(v, safe)) // ThroughputRule (§4.1.7)
	}
	// InsufficientBufferRule (§4.1.8)
	if a.appended >= 2 {
		if !loaded {
			consider(0)
		} else if x := 0.7 * est * L / (v.SegmentMs() / 1000); have && x > 0 {
			consider(a.optimal(v, x))
		}
	}
	// SwitchHistoryRule (§4.1.9)
	if a.nhist > 0 {
		drops, nodrops := 0, 0
		for i := 0; i < len(kb); i++ {
			dropped := false
			for k := 0; k < min(a.nhist, len(a.hist)); k++ {
				h := a.hist[k]
				if h.from == i {
					if h.to < h.from {
						drops++
						dropped = true
					} else {
						nodrops++
					}
				}
			}
			if drops+nodrops >= 8 && (nodrops == 0 || float64(drops)/float64(nodrops) > 0.075) {
				if i > 0 && dropped {
					consider(i - 1)
				} else {
					consider(i)
				}
				break
			}
		}
	}
	q := a.current
	if best >= 0 && best != a.current && (!inAbandon || best < a.current) {
		q = best
	}
	if best >= 0 {
		a.pushHist(a.current, q)
	}
	if seg == 1 && q > a.current && have && a.linkKbps > 0 {
		// The first up-switch, right after the first segment: dash.js
		// 5.2.1 downloads the first segment again at the new quality
		// before the second one (see firstRefetch), and decides the
		// second segment afresh after it.
		var d float64
		q, d = a.firstRefetch(v, q, L, est)
		delay += d
		L = math.Max(0, L-d/1000)
	}
	a.fastSwitch(v, seg, q, L, inAbandon)
	// buffer target (§4.1.4): request while level + P < target
	target := a.bufferTimeDefaultS
	if q == len(kb)-1 {
		target = a.bufferTimeTopS
	}
	if w := (L+v.SegmentMs()/1000-target)*1000 - delay; w > 0 {
		delay += w
	}
	a.current = q
	a.lastDecision = now + delay
	return q, delay
}

// firstRefetch models what dash.js 5.2.1 did on every calibration run
// whose ABR switched up right after the first segment (drop, outage and
// steady-high: 9 runs of 9; playtest --calibrate's shaper logs in
// BENCHMARKS.md): it requested the first segment again at the new quality
// (video_270p/seg_1, then video_480p/seg_1) and only then the second
// segment, whose quality the ABR chose again with the buffer the
// re-download had drained: 360p on the 4 Mbit/s drop, 270p or 180p on the
// 3 Mbit/s outage, 480p on the 5 Mbit/s steady link. The rule that cuts
// the second segment is InsufficientBufferRule (dash.js 5.2.1
// src/streaming/rules/abr/InsufficientBufferRule.js, getSwitchRequest:
// bitrate = throughput · throughputSafetyFactor (0.7) · bufferLevel /
// fragmentDuration), now in force because the re-download was the second
// media segment appended (_onBytesAppended counts down segmentIgnoreCount,
// 2, for every media segment, replacements included). The code path that
// sets the request back to the first segment was not pinned down in
// StreamProcessor (the fast switch of _prepareForFastQualitySwitch needs
// 1.5 segments of buffer and does not apply); the model is the observed
// behaviour. The session cannot download the segment that is already
// playing, so the re-download is the algorithm's delay: its transfer at
// the last sample's link rate, after one latency estimate. The session
// starts playback as the first segment arrives; dash.js in Chromium
// started it 0.16-1.34 s later (median 0.34 s over those 9 runs), so the
// re-download drains the buffer the rule sees by its time less
// dashPlayStartS. It returns the second segment's quality and the delay
// in ms.
// dashPlayStartS is how much later than the first segment's arrival
// dash.js 5.2.1 started playback in the calibration runs (median of 9).
const dashPlayStartS = 0.34

func (a *DashJS) firstRefetch(v View, q int, L, est float64) (int, float64) {
	_, lat, _ := a.estimates()
	d := lat + a.mainBits(0, v.SegmentSize(0, q))/a.linkKbps
	a.appended++
	a.current = q
	L = math.Max(0, L-math.Max(0, d/1000-dashPlayStartS))
	q1 := q
	if x := 0.7 * est * L / (v.SegmentMs() / 1000); !(x > 0) {
		q1 = 0
	} else if o := a.optimal(v, x); o < q1 {
		q1 = o
	}
	a.pushHist(q, q1)
	return q1, d
}

func (a *DashJS) pushHist(from, to int) {
	a.hist[a.nhist%len(a.hist)] = struct{ from, to int }{from, to}
	a.nhist++
}

// mainBits is the video part of segment i's bits (WithSideLoad).
func (a *DashJS) mainBits(i int, bits float64) float64 {
	if i >= 0 && i < len(a.side) {
		return math.Max(0, bits-a.side[i])
	}
	return bits
}

// sampleFirst feeds the first segment's download to the estimates and
// counts it appended: the session reports downloads from the second
// segment on (as Sabre does), but dash.js measures every media request
// (ThroughputController._onFragmentLoadingCompleted → ThroughputModel
// addEntry, the first segment included) and InsufficientBufferRule's
// _onBytesAppended counts the first segment down from segmentIgnoreCount.
// Without it the preset chose the second segment with no estimate, kept
// the start quality for it, and switched up a segment later than dash.js.
func (a *DashJS) sampleFirst(v View) {
	a.sampledFirst = true
	h := v.History(a.first[:0])
	if len(h) == 0 || !(h[0].DurationMs > 0) {
		return
	}
	a.appended++
	bits := h[0].Kbps * h[0].DurationMs
	a.sampleBits(h[0].DurationMs, bits, bits, 0, math.Max(h[0].LatencyMs, 0))
}

// fastSwitch is dash.js's fast switching (streaming.buffer.fastSwitchEnabled,
// on by default outside low-latency mode: MediaPlayerModel.getFastSwitchEnabled):
// on a switch to a representation of higher bandwidth than the segment
// buffered 1.5 segment durations ahead of the play position, with at
// least that much buffered and no abandonment in force,
// StreamProcessor._prepareForFastQualitySwitch sets the next request to
// that position (setExplicitBufferingTime(time + 1.5·fragmentDuration)):
// from there on the buffered segments are downloaded again, one by one,
// each at the quality decided for it, and overwrite the ones in the
// buffer. The buffer level the player sees (the media buffer's) still
// counts the segments being replaced, so the buffer target paces the
// replacements: they run about 3 s ahead of playback, and the viewer sees
// an up-switch about 3 s after it is decided instead of after the whole
// buffer. Without it the preset played the outage scenario's recovery
// 28 s long at 279 kbit/s where dash.js 5.2.1 played 1055 and 2094 (found
// by playtest --calibrate).
func (a *DashJS) fastSwitch(v View, seg, q int, L float64, inAbandon bool) {
	a.roff = 0
	n := v.Buffered()
	if a.fsIdx >= seg {
		a.fsIdx = -1 // caught up with the end of the buffer
	}
	segMs := v.SegmentMs()
	if q != a.current && !inAbandon && L*1000 >= 1.5*segMs {
		fcc := float64(n)*segMs - v.BufferLevel() // played part of the segment playing
		k := int((fcc + 1.5*segMs) / segMs)
		if bq := v.BufferedQuality(k); bq >= 0 && v.Bitrates()[bq] < v.Bitrates()[q] {
			a.fsIdx = seg - n + k
		}
	}
	if a.fsIdx < 0 {
		return
	}
	// never the segment playing: playback overtook the replacements
	a.fsIdx = max(a.fsIdx, seg-n+1)
	if a.fsIdx >= seg {
		a.fsIdx = -1
		return
	}
	a.roff = a.fsIdx - seg
	a.fsIdx++
}

// ReplaceOffset implements Replacer: fast switching's replacements.
func (a *DashJS) ReplaceOffset(View) int { return a.roff }

// ReportDownload implements DownloadReporter.
func (a *DashJS) ReportDownload(v View, d *Download) {
	a.progressIndex = -1
	if d.Abandoned() && d.Replacement && !a.slow(v, &d.Progress, d.Downloaded, d.TimeMs-d.TTFBMs) {
		// The session gave up a fast-switch replacement as its segment
		// started playing (Replacer), and AbandonRequestsRule would not
		// have abandoned it: dash.js sets no abandonment state for it
		// (AbrController._onFragmentLoadProgress sets it only from
		// AbandonRequestsRule's answer) and keeps its switch history
		// and quality. Taken as an abandonment, it held the preset at
		// the lower renditions for 10 s more after the outage.
		return
	}
	if d.Abandoned() {
		a.abandonedAt = v.PlayTimeMs()
		a.nhist = 0
		a.current = d.AbandonTo
		want := 10.0
		if d.AbandonTo > 0 {
			want = a.minLevel(v, d.AbandonTo)
		}
		a.placeholder = math.Min(a.placeholder, math.Max(0, want-v.BufferLevel()/1000))
		// The aborted request is an HTTP request metric like any other:
		// ThroughputModel.addEntry does not check for an abort, so what
		// the abandoned download moved, over its whole transfer time,
		// becomes a throughput sample with its (large) weight. Seen in
		// dash.js 5.2.1 by playtest: its estimate fell from 2970 to 207
		// kbit/s at the abandonment after the outage scenario and took
		// 15 s to recover, where the preset, without the sample, went
		// straight back to the top.
		a.sample(d)
		return
	}
	a.appended++
	a.lastFinish, a.haveFinish = v.PlayTimeMs(), true
	a.placeholder *= 0.99
	a.placeholder = math.Min(a.placeholder, math.Max(0, a.maxLevel(a.current)-(v.BufferLevel()+d.TimeMs)/1000))
	if d.TimeMs < 10 {
		return // treated as cached
	}
	a.sample(d)
}

// sample feeds a download's throughput and latency to the EWMAs
// (§4.1.2): the transfer after the first byte, weighted by its duration.
//
// The sample is the video request's: its bytes over its transfer time.
// dash.js keeps one ThroughputModel per media type (getAverageThroughput
// of 'video' for the video ABR) and fetches the audio segment beside the
// video one on the same link, so the video transfer ends when both have
// moved (the session moves them one after the other in the same time):
// WithSideLoad's audio bits are taken out of the bits, as the hlsjs preset
// does. Without it the preset's sample was the whole link and it kept
// 270p where dash.js 5.2.1's estimate, about 0.88 of the link on the
// calibration's ladder, went under the 598 kbit/s that 270p needs and it
// played 180p (norway-car, drop).
func (a *DashJS) sample(d *Download) {
	a.sampleBits(d.TimeMs-d.TTFBMs, d.Downloaded, d.SizeBits, d.Index, d.TTFBMs)
}

// sampleBits feeds a transfer of dl ms that moved bits of segment i's
// size bits (audio included) after a first byte at ttfb ms.
func (a *DashJS) sampleBits(dl, bits, size float64, i int, ttfb float64) {
	if dl <= 0 {
		return
	}
	a.linkKbps = bits / dl
	video := bits
	if size > 0 {
		video = bits * a.mainBits(i, size) / size
	}
	x := math.Round(video / dl) // kbit/s
	w := 0.0015 * dl
	af, as := math.Pow(0.5, w/3), math.Pow(0.5, w/8)
	a.tf = (1-af)*x + af*a.tf
	a.ts = (1-as)*x + as*a.ts
	a.tw += w
	lat := ttfb
	if lat == 0 {
		lat = 1
	}
	lf, ls := math.Pow(0.5, 1.0/1), math.Pow(0.5, 1.0/2)
	a.lf = (1-lf)*lat + lf*a.lf
	a.ls = (1-ls)*lat + ls*a.ls
	a.lw++
	a.haveT = true
}

// Abandon implements Abandoner (AbandonRequestsRule, §4.1.10).
func (a *DashJS) Abandon(v View, p *Progress, bl float64) int {
	kb := v.Bitrates()
	if p.Index != a.progressIndex || p.Quality != a.progressQ {
		a.progressIndex, a.progressQ, a.progress = p.Index, p.Quality, 0
	}
	a.progress++
	if a.progress == 1 {
		// AbandonRequestsRule._getSwitchRequest leaves the request's
		// first trace out of its throughput ("the first entries ...
		// contain the latency of the request"): its bytes and its time
		a.trace0Bits, a.trace0Ms = p.Downloaded, p.TimeMs-p.TTFBMs
	}
	if bl/1000 > a.bufferTimeDefaultS || p.Quality == 0 || a.progress < 6 {
		return -1
	}
	bits, el := p.Downloaded-a.trace0Bits, p.TimeMs-p.TTFBMs-a.trace0Ms
	if !a.slow(v, p, bits, el) {
		return -1
	}
	r := math.Round(bits / math.Max(el, 1))
	if !(r > 0) {
		return -1
	}
	c := a.optimal(v, r)
	if c < p.Quality && p.SizeBits-p.Downloaded > p.SizeBits*kb[c]/kb[p.Quality] {
		return c
	}
	return -1
}

// slow is AbandonRequestsRule's test of the transfer so far (dash.js
// 5.2.1 AbandonRequestsRule.shouldAbandon): more than
// minSegmentDownloadTimeThresholdInMs (500) of transfer, not done, and an
// estimated total time of at least abandonDurationMultiplier (1.8)
// segment durations.
// The throughput is bits over el ms (the transfer after the first trace).
func (a *DashJS) slow(v View, p *Progress, bits, el float64) bool {
	if p.TimeMs-p.TTFBMs <= 500 || p.Downloaded >= p.SizeBits {
		return false
	}
	r := math.Round(bits / math.Max(el, 1))
	if !(r > 0) {
		return true
	}
	total := math.Round(p.SizeBits/r/1000*100) / 100
	return total >= 1.8*v.SegmentMs()/1000
}

// ---- hls.js ----

// HlsJS is hls.js 1.7's default ABR controller (§4.2): dual EWMA bandwidth
// estimate (3 s / 9 s half-lives) with a TTFB estimate, findBestLevel with
// the 0.95 / 0.7 (up-switch) factors, and emergency abandonment as 1.7.4
// does it (the estimator reset and the forced level after it, see Abandon).
//
// Mapping: levels have one bitrate (BANDWIDTH = AVERAGE-BANDWIDTH); the
// bandwidth sample of a fragment is its total time minus min(TTFB, TTFB
// estimate), plus WithProcessing's parse time (WithFirstProcessing's for
// the first fragment), over the fragment's own
// bits (WithSideLoad takes out the audio fetched beside it), the first
// fragment included; the abandonment check runs every ~100 ms of transfer; the
// forward buffer target min(max(8·60 MB/bitrate, 30 s), 600 s) is enforced
// with the algorithm's delay (the session's BufferMs also caps it).
type HlsJS struct {
	fast, slow, bwW float64 // bandwidth EWMAs (bits/s) and total weight
	fastW           float64
	ttfb, ttfbW     float64
	last            int
	lastCheck       float64
	chkIndex        int
	procMs          float64   // WithProcessing
	firstProcMs     float64   // WithFirstProcessing (0: procMs)
	side            []float64 // WithSideLoad
	first           [1]Sample
	sampledFirst    bool
	defBw           float64 // abrEwmaDefaultEstimate (bit/s): 500000, then what an emergency switch resets it to
	forced          int     // the level an emergency switch forced on the next request; -1 none
}

// NewHlsJS returns the hls.js preset with its default settings.
func NewHlsJS(opts ...AlgorithmOption) *HlsJS { return newHlsJS(NewConfig(opts...)) }

func newHlsJS(c Config) *HlsJS {
	return &HlsJS{procMs: math.Max(0, c.processingMs), firstProcMs: math.Max(0, c.firstProcMs), side: c.sideBits, defBw: hlsDefaultEstimate, forced: -1}
}

var hlsAlphaFast, hlsAlphaSlow = math.Exp(math.Log(0.5) / 3), math.Exp(math.Log(0.5) / 9)

// Init implements Algorithm.
func (a *HlsJS) Init(v View) {
	*a = HlsJS{chkIndex: -1, procMs: a.procMs, firstProcMs: a.firstProcMs, side: a.side, defBw: hlsDefaultEstimate, forced: -1}
}

// hlsDefaultEstimate is hls.js's abrEwmaDefaultEstimate (bit/s).
const hlsDefaultEstimate = 500000

// resetEstimator is abr-controller.ts resetEstimator: a new
// EwmaBandWidthEstimator (bandwidth and TTFB averages empty) whose
// default estimate is bw (bit/s).
func (a *HlsJS) resetEstimator(bw float64) {
	a.fast, a.slow, a.bwW, a.fastW, a.ttfb, a.ttfbW = 0, 0, 0, 0, 0, 0
	a.defBw = bw
}

// mainBits is what of a download of segment i hls.js counts (WithSideLoad).
func (a *HlsJS) mainBits(i int, bits float64) float64 {
	if i >= 0 && i < len(a.side) {
		return math.Max(0, bits-a.side[i])
	}
	return bits
}

func ewmaEst(est, alpha, w float64) float64 {
	z := 1 - math.Pow(alpha, w)
	if z == 0 {
		return est
	}
	return est / z
}

// bandwidth returns the estimate in bit/s.
func (a *HlsJS) bandwidth() float64 {
	if a.fastW < 0.001 {
		return a.defBw
	}
	return math.Min(ewmaEst(a.fast, hlsAlphaFast, a.fastW), ewmaEst(a.slow, hlsAlphaSlow, a.bwW))
}

// ttfbEstimate returns the TTFB estimate in ms.
func (a *HlsJS) ttfbEstimate() float64 {
	if a.ttfbW < 0.001 {
		return 100
	}
	return ewmaEst(a.ttfb, hlsAlphaSlow, a.ttfbW)
}

func (a *HlsJS) sample(durMs, bytes float64) {
	if bytes <= 0 {
		return
	}
	minDelay := math.Min(50, bytes/100000)
	sec := math.Max(durMs, minDelay) / 1000
	v := 8 * bytes / sec
	af, as := math.Pow(hlsAlphaFast, sec), math.Pow(hlsAlphaSlow, sec)
	a.fast = v*(1-af) + af*a.fast
	a.slow = v*(1-as) + as*a.slow
	a.fastW += sec
	a.bwW += sec
}

func (a *HlsJS) sampleTTFB(ms float64) {
	sec := ms / 1000
	w := math.Sqrt2 * math.Exp(-sec*sec/2)
	al := math.Pow(hlsAlphaSlow, w)
	a.ttfb = math.Max(ms, 5)*(1-al) + al*a.ttfb
	a.ttfbW += w
}

// findBestLevel returns the best level or -1 (§4.2.2).
func (a *HlsJS) findBestLevel(v View, bw, buf, maxStarv, f, fUp float64, maxLevel int) int {
	maxFetch := buf + maxStarv
	ttfb := a.ttfbEstimate() / 1000
	dur := v.SegmentMs() / 1000
	for q := maxLevel; q >= 0; q-- {
		fac := f
		if q > a.last {
			fac = fUp
		}
		adj := fac * bw
		bitrate := v.Bitrates()[q] * 1000
		fetch := ttfb + bitrate*dur/adj
		if adj >= bitrate && (fetch <= ttfb || math.IsInf(fetch, 0) || math.IsNaN(fetch) || fetch < maxFetch) {
			return q
		}
	}
	return -1
}

// FirstQuality implements FirstQualityChooser.
func (a *HlsJS) FirstQuality(v View) int {
	q := a.findBestLevel(v, a.bandwidth(), 0, 4, 1, 1, len(v.Bitrates())-1)
	if q < 0 {
		q = 0
	}
	a.last = q
	return q
}

// Decide implements Algorithm.
func (a *HlsJS) Decide(v View, seg int) (int, float64) {
	if !a.sampledFirst {
		a.sampleFirst(v)
	}
	kb := v.Bitrates()
	bw := a.bandwidth()
	buf := v.BufferLevel() / 1000
	dur := v.SegmentMs() / 1000
	top := len(kb) - 1
	q := -1
	if buf > 0 {
		q = a.findBestLevel(v, bw, buf, 0, 0.95, 0.7, top)
	}
	if q < 0 {
		q = a.findBestLevel(v, bw, buf, math.Min(dur, 4), 0.95, 0.7, top)
	}
	if q < 0 {
		q = a.last
		if kb[0] < kb[a.last] {
			q = 0
		}
	}
	if a.forced >= 0 {
		// the request after an emergency switch is at the level it
		// forced (abr-controller.ts nextAutoLevel: forcedAutoLevel wins
		// while the estimator cannot estimate, and while it has not
		// errored more than the ABR choice)
		q, a.forced = a.forced, -1
	}
	a.last = q
	target := math.Min(math.Max(8*60e6/(kb[q]*1000), 30), 600)
	delay := math.Max(0, buf-target) * 1000
	// the last fragment is parsed before this one is requested
	// (WithProcessing, WithFirstProcessing): the link idles meanwhile
	proc := a.procMs
	if seg == 1 && a.firstProcMs > 0 {
		proc = a.firstProcMs
	}
	return q, delay + proc
}

// sampleFirst feeds the first fragment's download to the estimators: the
// session reports downloads from the second segment on (as Sabre does),
// but hls.js samples every main fragment it buffers, the first included
// (abr-controller.ts onFragBuffered; ignoreFragment skips only init
// segments and other playlists' fragments). Without it the preset chose
// the second fragment from the 500 kbit/s default estimate.
func (a *HlsJS) sampleFirst(v View) {
	a.sampledFirst = true
	h := v.History(a.first[:0])
	if len(h) == 0 || !(h[0].DurationMs > 0) {
		return
	}
	lat := math.Max(h[0].LatencyMs, 0)
	a.sampleTTFB(lat)
	proc := a.procMs
	if a.firstProcMs > 0 {
		proc = a.firstProcMs
	}
	a.sample(h[0].DurationMs+lat-math.Min(lat, a.ttfbEstimate())+proc, a.mainBits(0, h[0].Kbps*h[0].DurationMs)/8)
}

// ReportDownload implements DownloadReporter.
func (a *HlsJS) ReportDownload(v View, d *Download) {
	a.chkIndex = -1
	if d.Abandoned() {
		// the partial sample was fed when abandoning; an aborted
		// fragment never reaches onFragLoaded, where the TTFB is sampled
		return
	}
	a.sampleTTFB(d.TTFBMs)
	// hls.js samples up to parsing.end (abr-controller.ts onFragBuffered):
	// the processing time is part of the sample (WithProcessing)
	a.sample(d.TimeMs-math.Min(d.TTFBMs, a.ttfbEstimate())+a.procMs, a.mainBits(d.Index, d.Downloaded)/8)
	a.last = d.Quality
}

// Abandon implements Abandoner (§4.2.3): hls.js 1.7.4's
// abr-controller.ts _abandonRulesCheck, line by line:
//
//   - the search for a lower level runs from the loading level − 1 down
//     to, but not including, minAutoLevel (for (nextLoadLevel =
//     loadingFragForLevel - 1; nextLoadLevel > minAutoLevel; ...)): a
//     level-1 fragment is never abandoned (the delay stays +Infinity),
//     and when no level fits the loop ends at level 0 with the delay of
//     level 1;
//   - the sample is the load time less min(TTFB estimate, TTFB);
//   - if the new estimate × abrBandWidthUpFactor exceeds the new level's
//     bitrate, the estimator is reset with that bitrate as its default
//     (resetEstimator), and findBestLevel(that bitrate, …, 1, 1) may lower
//     the level further;
//   - when the fragment would take more than twice as long as the lower
//     one (fragLoadedDelay > 2 × fragLevelNextLoadedDelay) abortAndSwitch
//     runs at once and goes to the lowest level findBestLevel allows at
//     the lowest level's bitrate, resetting the estimator to it;
//     otherwise FRAG_LOAD_EMERGENCY_ABORTED makes the stream controller
//     load the fragment again at the new level (stream-controller.ts
//     onFragLoadEmergencyAborted; FragmentLoader.load aborts the old
//     request);
//   - that level is forced on the next request (nextAutoLevel's
//     forcedAutoLevel).
//
// Before, the preset abandoned level-1 fragments, kept its estimator and
// let the next decision pick the level: on the drop scenario it came
// back up after its abandonments where hls.js 1.7.4 stayed down (found
// by playtest --calibrate).
func (a *HlsJS) Abandon(v View, p *Progress, bl float64) int {
	kb := v.Bitrates()
	if p.Index != a.chkIndex {
		a.chkIndex, a.lastCheck = p.Index, -1e18
	}
	if p.TimeMs-a.lastCheck < 100 {
		return -1
	}
	a.lastCheck = p.TimeMs
	dur := v.SegmentMs() / 1000
	ttfbEst := a.ttfbEstimate()
	if p.Quality == 0 || p.TimeMs <= math.Max(ttfbEst, 500*dur) {
		return -1
	}
	buf := bl / 1000
	el := p.TimeMs - p.TTFBMs
	if el <= 0 || p.Downloaded <= 0 {
		return -1
	}
	rate := (p.Downloaded / 8) * 1000 / el // bytes/s
	expected := math.Max(p.Downloaded/8, math.Round(dur*kb[p.Quality]*1000/8))
	remaining := (expected - p.Downloaded/8) / rate
	if remaining <= buf {
		return -1
	}
	bwe := 8 * rate
	ttfbS := ttfbEst / 1000
	next := p.Quality - 1
	t := math.Inf(1)
	for ; next > 0; next-- {
		t = ttfbS + dur*kb[next]*1000/bwe
		if t < math.Min(buf, dur+ttfbS) {
			break
		}
	}
	if t >= remaining || t > 10*dur {
		return -1
	}
	a.sample(p.TimeMs-math.Min(ttfbEst, p.TTFBMs), a.mainBits(p.Index, p.Downloaded)/8)
	if a.bandwidth()*0.7 > kb[next]*1000 {
		a.resetEstimator(kb[next] * 1000)
	}
	if q := a.switchLevel(v, kb[next]*1000, buf, next); q >= 0 {
		next = q
	}
	if remaining > 2*t && next > 0 {
		// abortAndSwitch at once: the lowest level findBestLevel allows
		// at the lowest level's bitrate
		next = max(a.switchLevel(v, kb[0]*1000, buf, next), 0)
		a.resetEstimator(kb[next] * 1000)
	}
	a.last = next
	a.forced = next
	return next
}

// switchLevel is findBestLevel(bw, minAutoLevel, maxLevel, 0, buf, 1, 1)
// as the abandonment calls it: both factors 1, and a fetch must end
// within the buffer.
func (a *HlsJS) switchLevel(v View, bw, buf float64, maxLevel int) int {
	return a.findBestLevel(v, bw, 0, buf, 1, 1, maxLevel)
}

func init() {
	Register("dashjs", "dash.js v5 preset: Dynamic (Throughput/BOLA) + InsufficientBuffer + SwitchHistory + AbandonRequests", func(c Config) Algorithm { return newDashJS(c) })
	Register("hlsjs", "hls.js 1.7 preset: dual EWMA, findBestLevel (0.95/0.7), emergency abandonment", func(c Config) Algorithm { return newHlsJS(c) })
}
