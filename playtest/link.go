package playtest

import (
	"math"
	"sort"
	"sync"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/shape"
)

// Download is one shaped request of a run as the shaper logged it
// (shape.Event): seconds since the client's first request, the scenario's
// clock.
type Download struct {
	StartS   float64 `json:"start_s"`
	EndS     float64 `json:"end_s"`
	Bytes    int64   `json:"bytes"`
	Class    string  `json:"class"`
	Path     string  `json:"path"`
	Canceled bool    `json:"canceled,omitempty"`
}

// DownloadLog collects a shaper's events (shape.WithObserver(log.Observe))
// for one run: a calibration run checks that the link the player got is
// the scenario's, on the loaded machine the run happens on.
type DownloadLog struct {
	mu sync.Mutex
	d  []Download
}

// maxDownloads bounds a log: a 2 min run of 2 s segments makes a few
// hundred requests.
const maxDownloads = 10_000

// Observe records e; it is a shape.WithObserver callback.
func (l *DownloadLog) Observe(e shape.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) >= maxDownloads {
		return
	}
	l.d = append(l.d, Download{StartS: e.Start.Seconds(), EndS: e.End.Seconds(), Bytes: e.Bytes,
		Class: e.Class.String(), Path: e.Path, Canceled: e.Canceled})
}

// Downloads returns the requests logged so far, by start time.
func (l *DownloadLog) Downloads() []Download {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]Download(nil), l.d...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartS < out[j].StartS })
	return out
}

// LinkCheck compares what the link delivered with what the scenario
// says, in 1-second bins in which a request was in flight the whole
// second (idle seconds say nothing about the shaper): the ratio of the
// bits delivered (each request's bytes spread evenly over its duration)
// to the scenario's rate. A ratio near 1 means the player got the
// scenario's link; the per-request latency (a request's first round
// trip carries no bytes) keeps it a little under 1 on short requests.
//
// Requests shorter than a second (a fast link, low renditions) leave no
// busy second, so the check also takes each busy period (requests in
// flight back to back or overlapping, at least half a second long): the
// bits delivered in it over what the scenario's rate allows in it less
// one round trip.
type LinkCheck struct {
	BusyBins    int     `json:"busy_bins"`
	MedianRatio float64 `json:"median_ratio"`
	MinRatio    float64 `json:"min_ratio"`
	MaxRatio    float64 `json:"max_ratio"`

	BusyPeriods       int     `json:"busy_periods"`
	PeriodMedianRatio float64 `json:"period_median_ratio"`
	PeriodMinRatio    float64 `json:"period_min_ratio"`
	PeriodMaxRatio    float64 `json:"period_max_ratio"`
}

// CheckLink computes the LinkCheck of a run's downloads over sc (nil
// when no second was busy or the scenario has no phases).
func CheckLink(sc *shape.Scenario, ds []Download) *LinkCheck {
	tr, err := SimTrace(sc)
	if err != nil || len(ds) == 0 {
		return nil
	}
	var end float64
	for _, d := range ds {
		end = math.Max(end, d.EndS)
	}
	n := int(math.Ceil(end))
	if n <= 0 || n > 24*3600 {
		return nil
	}
	bits := make([]float64, n)
	busy := make([]float64, n) // seconds of the bin covered by a request (union)
	type iv struct{ a, b float64 }
	var ivs []iv
	for _, d := range ds {
		if d.EndS <= d.StartS {
			continue
		}
		rate := float64(d.Bytes) * 8 / (d.EndS - d.StartS)
		for b := int(d.StartS); b < n && float64(b) < d.EndS; b++ {
			lo, hi := math.Max(d.StartS, float64(b)), math.Min(d.EndS, float64(b+1))
			if hi > lo {
				bits[b] += rate * (hi - lo)
			}
		}
		ivs = append(ivs, iv{d.StartS, d.EndS})
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].a < ivs[j].a })
	var cur *iv
	var periods []float64
	flush := func() {
		if cur == nil {
			return
		}
		if cur.b-cur.a >= 0.5 {
			var got float64
			for _, d := range ds {
				if d.StartS >= cur.a && d.EndS <= cur.b {
					got += float64(d.Bytes) * 8
				}
			}
			lat := latAt(tr.Periods, cur.a) / 1000
			if allow := integrate(tr.Periods, cur.a+lat, cur.b) * 1000; allow > 0 {
				periods = append(periods, got/allow)
			}
		}
		for b := int(cur.a); b < n && float64(b) < cur.b; b++ {
			lo, hi := math.Max(cur.a, float64(b)), math.Min(cur.b, float64(b+1))
			busy[b] += hi - lo
		}
	}
	for i := range ivs {
		if cur != nil && ivs[i].a <= cur.b {
			cur.b = math.Max(cur.b, ivs[i].b)
			continue
		}
		flush()
		c := ivs[i]
		cur = &c
	}
	flush()
	var ratios []float64
	for b := 0; b < n; b++ {
		if busy[b] < 0.999 {
			continue
		}
		kbps := rateAt(tr.Periods, float64(b)+0.5)
		if kbps <= 0 {
			continue
		}
		ratios = append(ratios, bits[b]/1000/kbps)
	}
	if len(ratios) == 0 && len(periods) == 0 {
		return nil
	}
	lc := &LinkCheck{BusyBins: len(ratios), BusyPeriods: len(periods)}
	if len(ratios) > 0 {
		sort.Float64s(ratios)
		lc.MedianRatio, lc.MinRatio, lc.MaxRatio = median(ratios), ratios[0], ratios[len(ratios)-1]
	}
	if len(periods) > 0 {
		sort.Float64s(periods)
		lc.PeriodMedianRatio, lc.PeriodMinRatio, lc.PeriodMaxRatio = median(periods), periods[0], periods[len(periods)-1]
	}
	return lc
}

// latAt is the scenario trace's latency (ms) at second t.
func latAt(ps []abr.Period, t float64) float64 {
	i, _ := periodAt(ps, t)
	return ps[i].LatencyMs
}

// integrate is the trace's kbit over [a, b] seconds.
func integrate(ps []abr.Period, a, b float64) float64 {
	var sum float64
	for t := a; t < b; {
		i, end := periodAt(ps, t)
		e := math.Min(b, end)
		sum += ps[i].Kbps * (e - t)
		if e <= t {
			break
		}
		t = e
	}
	return sum
}

// periodAt is the index of the trace's period at second t and the second
// it ends (the trace loops).
func periodAt(ps []abr.Period, t float64) (int, float64) {
	var total float64
	for _, p := range ps {
		total += p.DurationMs / 1000
	}
	base := math.Floor(t/total) * total
	for i, p := range ps {
		base += p.DurationMs / 1000
		if t < base {
			return i, base
		}
	}
	return len(ps) - 1, base
}

// rateAt is the scenario trace's rate at second t.
func rateAt(ps []abr.Period, t float64) float64 {
	i, _ := periodAt(ps, t)
	return ps[i].Kbps
}

// median of sorted values.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
