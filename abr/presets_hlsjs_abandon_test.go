package abr

import (
	"math"
	"testing"
)

// hlsTestView is a session on the calibration set's HLS ladder (2 s
// fragments of 351-2170 kbit/s) for calling the hlsjs preset's
// Abandoner by hand.
func hlsTestView(t *testing.T) View {
	t.Helper()
	kbps := []float64{351, 607, 1139, 2170}
	l := &Ladder{SegmentMs: 2000, Kbps: kbps}
	for range 10 {
		row := make([]float64, len(kbps))
		for q, k := range kbps {
			row[q] = k * 2000
		}
		l.Sizes = append(l.Sizes, row)
	}
	tr := &Trace{Name: "t", Periods: []Period{{DurationMs: 60e3, Kbps: 600, LatencyMs: 20}}}
	s, err := NewSession(l, tr, NewHlsJS(), WithBuffer(60e3))
	if err != nil {
		t.Fatal(err)
	}
	return s.View()
}

// primed returns an hlsjs preset whose estimators hold one 5 Mbit/s
// sample of 2 s (the 4 Mbit/s phase of the drop scenario, roughly).
func primed(v View) *HlsJS {
	a := NewHlsJS()
	a.Init(v)
	a.sampleTTFB(20)
	a.sample(2000, 5e6*2/8)
	a.last = 3
	return a
}

// TestHlsJSAbandonNotLevel1 pins hls.js 1.7.4's abr-controller.ts
// _abandonRulesCheck loop, for (nextLoadLevel = loadingFragForLevel - 1;
// nextLoadLevel > minAutoLevel; nextLoadLevel--): a fragment of level 1
// (minAutoLevel + 1) never enters it, fragLevelNextLoadedDelay stays
// +Infinity and the rule returns without switching, however slow the
// load. The preset used to abandon it for level 0.
func TestHlsJSAbandonNotLevel1(t *testing.T) {
	v := hlsTestView(t)
	a := primed(v)
	a.last = 1
	// a 607 kbit/s fragment crawling at 100 kbit/s, 1.5 s buffered
	p := &Progress{Index: 4, Quality: 1, SizeBits: 607 * 2000, Downloaded: 100 * 1500, TimeMs: 1520, TTFBMs: 20}
	if q := a.Abandon(v, p, 1500); q != -1 {
		t.Errorf("level-1 fragment abandoned to %d, want kept (-1)", q)
	}
	// the same crawl on a level-2 fragment is abandoned (to level 1 or 0)
	a = primed(v)
	p = &Progress{Index: 4, Quality: 2, SizeBits: 1139 * 2000, Downloaded: 100 * 1500, TimeMs: 1520, TTFBMs: 20}
	if q := a.Abandon(v, p, 1500); q < 0 || q > 1 {
		t.Errorf("level-2 fragment at 100 kbit/s: abandon to %d, want 0 or 1", q)
	}
}

// TestHlsJSEmergencySwitch pins what hls.js 1.7.4 does after deciding to
// switch down (abr-controller.ts _abandonRulesCheck, abortAndSwitch;
// stream-controller.ts onFragLoadEmergencyAborted): the partial sample
// is fed; when the estimate × abrBandWidthUpFactor (0.7) still exceeds the
// new level's bitrate, resetEstimator gives a new estimator whose default
// estimate is that bitrate (the 5 Mbit/s history is gone); when the
// fragment would take more than twice as long as the lower one,
// abortAndSwitch goes at once to the lowest level (findBestLevel at the
// lowest level's bitrate) and resets the estimator to it; and the level
// chosen is forced on the next request (nextAutoLevel's forcedAutoLevel).
func TestHlsJSEmergencySwitch(t *testing.T) {
	v := hlsTestView(t)
	kb := v.Bitrates()

	// timer path: the top fragment at 1.6 Mbit/s, 1 s in (1.6 of 4.34
	// Mbit), 1.6 s buffered: 1.71 s to go. The loop stops at level 2
	// (0.1 + 2 x 1139/1600 = 1.52 s < min(1.6, 2.1)); 1.71 s is not over
	// twice 1.52, so no abortAndSwitch. The estimate (the 5 Mbit/s history
	// and this 1.6 Mbit/s sample) x 0.7 exceeds 1139 kbit/s: reset to
	// 1139. findBestLevel(1139 kbit/s, ..., 0, 1.6, 1, 1) then: level 2
	// takes 0.1 + 2 = 2.1 s (over the 1.6 s), level 1 1.17 s: level 1.
	a := primed(v)
	p := &Progress{Index: 5, Quality: 3, SizeBits: 2170 * 2000, Downloaded: 1600 * 1000, TimeMs: 1020, TTFBMs: 20}
	q := a.Abandon(v, p, 1600)
	if q != 1 {
		t.Fatalf("timer path: switched to %d, want 1", q)
	}
	if a.fastW >= 0.001 || a.defBw != kb[2]*1000 || a.bandwidth() != kb[2]*1000 {
		t.Errorf("timer path: estimator weight %.3f, default %.0f: want reset to level 2's %.0f bit/s", a.fastW, a.defBw, kb[2]*1000)
	}
	if a.ttfbEstimate() != 100 {
		t.Errorf("TTFB estimate %.1f ms after the reset, want the 100 ms default", a.ttfbEstimate())
	}
	// the next request is at the forced level, whatever the estimate says
	s := v.s
	if got, _ := a.Decide(View{s}, 5); got != q {
		t.Errorf("request after the switch at %d, want the forced %d", got, q)
	}
	if a.forced != -1 {
		t.Errorf("forced level %d still in force after its request", a.forced)
	}

	// immediate path: the top fragment at 300 kbit/s (20 s to go) with 6 s
	// buffered: abortAndSwitch to the lowest level, estimator reset to it
	a = primed(v)
	p = &Progress{Index: 5, Quality: 3, SizeBits: 2170 * 2000, Downloaded: 300 * 1200, TimeMs: 1220, TTFBMs: 20}
	q = a.Abandon(v, p, 6000)
	if q != 0 {
		t.Errorf("immediate path: switched to %d, want 0", q)
	}
	if a.defBw != kb[0]*1000 || a.fastW >= 0.001 {
		t.Errorf("immediate path: estimator default %.0f (weight %.3f), want reset to %.0f", a.defBw, a.fastW, kb[0]*1000)
	}
	if a.forced != 0 {
		t.Errorf("immediate path: forced %d, want 0", a.forced)
	}
	if math.IsNaN(a.bandwidth()) {
		t.Error("estimate NaN")
	}
}

// TestHlsJSFirstProcessing: WithFirstProcessing replaces WithProcessing
// for the first fragment only, in its sample and in the wait before the
// second request (hls.js samples up to parsing.end, abr-controller.ts
// onFragBuffered, and loads the next fragment once the last is parsed).
func TestHlsJSFirstProcessing(t *testing.T) {
	kbps := []float64{351, 607, 1139, 2170}
	l := &Ladder{SegmentMs: 2000, Kbps: kbps}
	for range 6 {
		l.Sizes = append(l.Sizes, []float64{351 * 2000, 607 * 2000, 1139 * 2000, 2170 * 2000})
	}
	tr := &Trace{Name: "high", Periods: []Period{{DurationMs: 3600e3, Kbps: 4000, LatencyMs: 20}}}
	run := func(opts ...AlgorithmOption) []SegmentRecord {
		s, err := NewSession(l, tr, NewHlsJS(opts...), WithBuffer(600e3), WithStartup(0))
		if err != nil {
			t.Fatal(err)
		}
		var recs []SegmentRecord
		s.SetOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) })
		if _, err := s.Run(); err != nil {
			t.Fatal(err)
		}
		return recs
	}
	base := run(WithProcessing(10))
	slow := run(WithProcessing(10), WithFirstProcessing(600))
	gap := func(r []SegmentRecord, i int) float64 { return r[i].StartMs - (r[i-1].StartMs + r[i-1].TimeMs) }
	if g := gap(slow, 1); math.Abs(g-600) > 1e-6 {
		t.Errorf("second request %.1f ms after the first download, want 600", g)
	}
	if g := gap(slow, 2); math.Abs(g-10) > 1e-6 {
		t.Errorf("third request %.1f ms after the second download, want 10 (WithProcessing)", g)
	}
	// one 72 KB fragment over 4 Mbit/s (~0.2 s) plus 0.6 s of parse: the
	// sample is under 0.7 x 2170 kbit/s, the top is not reached at once
	if base[1].Quality != 3 || slow[1].Quality >= 3 {
		t.Errorf("second fragment at %d (first-fragment processing 10 ms) and %d (600 ms): want 3 and lower", base[1].Quality, slow[1].Quality)
	}
}
