package abr_test

import (
	"math"
	"testing"

	"github.com/streamkit-go/streamkit/abr"
)

// TestHlsJSProcessing pins what WithProcessing adds to the hlsjs preset,
// after hls.js 1.7.4's abr-controller.ts (onFragBuffered): the bandwidth
// sample of a fragment is its bytes over parsing.end − loading.start −
// min(TTFB, TTFB estimate), so the parse after the last byte is part of
// it; and the stream controller requests the next fragment once the last
// one is parsed. On the calibration set's HLS ladder over 5 Mbit/s, the
// second fragment's level must be the one findBestLevel (0.7 up-switch
// factor, fetch within the buffer) gives on that one sample, and its
// request must come the processing time after the first download ended.
func TestHlsJSProcessing(t *testing.T) {
	kbps := []float64{351, 607, 1139, 2170}
	l := &abr.Ladder{SegmentMs: 2000, Kbps: kbps}
	for range 20 {
		row := make([]float64, len(kbps))
		for q, k := range kbps {
			row[q] = k * 2000
		}
		l.Sizes = append(l.Sizes, row)
	}
	tr := &abr.Trace{Name: "high", Periods: []abr.Period{{DurationMs: 3600e3, Kbps: 5000, LatencyMs: 20}}}
	levels := map[float64]int{}
	for _, procMs := range []float64{0, 300, 1000} {
		recs := runPreset(t, "hlsjs", l, tr, abr.WithProcessing(procMs))
		r0, r1 := recs[0], recs[1]
		// one sample: the estimates are that sample exactly
		ttfb := math.Max(r0.TTFBMs, 5)
		bw := r0.Downloaded * 1000 / (r0.TimeMs - math.Min(r0.TTFBMs, ttfb) + procMs) // bit/s
		buf := r1.BufferBefore / 1000
		want := 0
		for q := len(kbps) - 1; q >= 0; q-- {
			fac := 0.95
			if q > r0.Quality {
				fac = 0.7
			}
			if adj := fac * bw; adj >= kbps[q]*1000 && ttfb/1000+kbps[q]*1000*2/adj < buf {
				want = q
				break
			}
		}
		if r1.Quality != want {
			t.Errorf("processing %v ms: second fragment at level %d, want %d (estimate %.0f kbit/s, buffer %.2f s)", procMs, r1.Quality, want, bw/1000, buf)
		}
		if gap := r1.StartMs - (r0.StartMs + r0.TimeMs); math.Abs(gap-procMs) > 1e-6 {
			t.Errorf("processing %v ms: second request %.1f ms after the first download ended", procMs, gap)
		}
		levels[procMs] = r1.Quality
	}
	if !(levels[1000] < levels[0]) {
		t.Errorf("second-fragment levels %v: a 1 s processing time should hold the estimate, and the level, down", levels)
	}
}

// TestHlsJSFirstFragmentSample: hls.js samples the first fragment too
// (abr-controller.ts onFragBuffered; ignoreFragment skips only init
// segments and alternate-audio fragments), so on a 5 Mbit/s link its
// second fragment is chosen from that sample (the top level here), not
// from the 500 kbit/s abrEwmaDefaultEstimate (which gives level 0).
func TestHlsJSFirstFragmentSample(t *testing.T) {
	l := &abr.Ladder{SegmentMs: 2000, Kbps: []float64{351, 607, 1139, 2170}}
	for range 10 {
		l.Sizes = append(l.Sizes, []float64{351 * 2000, 607 * 2000, 1139 * 2000, 2170 * 2000})
	}
	tr := &abr.Trace{Name: "high", Periods: []abr.Period{{DurationMs: 3600e3, Kbps: 5000, LatencyMs: 20}}}
	recs := runPreset(t, "hlsjs", l, tr)
	if recs[0].Quality != 0 || recs[1].Quality != 3 {
		t.Errorf("levels %d, %d: want 0 (from the default estimate) then 3 (from the first fragment's 5 Mbit/s sample)", recs[0].Quality, recs[1].Quality)
	}
}

// TestHlsJSSideLoad pins WithSideLoad against hls.js 1.7.4's sample
// (abr-controller.ts onFragBuffered: the main fragment's stats.loaded over
// its load time; ignoreFragment skips the audio playlist's fragments): on
// the calibration's 900 kbit/s link, 2 s segments of 351 kbit/s video and
// 69 kbit/s audio loaded together, hls.js's estimate is the video's bytes
// over the time of both, about 750 kbit/s, under the 867 kbit/s its 0.7
// up-switch factor needs for 607 kbit/s: it stays at 351 (as every run of
// the calibration's steady-low did). Counting the audio too, the estimate
// is the link's 900 kbit/s and the preset switches up.
func TestHlsJSSideLoad(t *testing.T) {
	kbps := []float64{351, 607, 1139, 2170}
	l := &abr.Ladder{SegmentMs: 2000, Kbps: kbps}
	audio := make([]float64, 20)
	for i := range 20 {
		audio[i] = 69 * 2000
		row := make([]float64, len(kbps))
		for q, k := range kbps {
			row[q] = k*2000 + audio[i] // the session moves the audio with the fragment
		}
		l.Sizes = append(l.Sizes, row)
	}
	tr := &abr.Trace{Name: "low", Periods: []abr.Period{{DurationMs: 3600e3, Kbps: 900, LatencyMs: 40}}}
	top := func(opts ...abr.AlgorithmOption) int {
		m := 0
		for _, r := range runPreset(t, "hlsjs", l, tr, opts...) {
			m = max(m, r.Quality)
		}
		return m
	}
	if q := top(abr.WithSideLoad(audio)); q != 0 {
		t.Errorf("video-only samples: up to level %d, want 351 kbit/s throughout", q)
	}
	if q := top(); q != 1 {
		t.Errorf("audio counted in the samples: up to level %d, want 1 (607 kbit/s fits 0.7 x 900)", q)
	}
}
