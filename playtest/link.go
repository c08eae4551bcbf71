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
type LinkCheck struct {
	BusyBins    int     `json:"busy_bins"`
	MedianRatio float64 `json:"median_ratio"`
	MinRatio    float64 `json:"min_ratio"`
	MaxRatio    float64 `json:"max_ratio"`
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
	flush := func() {
		if cur == nil {
			return
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
	if len(ratios) == 0 {
		return nil
	}
	sort.Float64s(ratios)
	return &LinkCheck{BusyBins: len(ratios), MedianRatio: median(ratios), MinRatio: ratios[0], MaxRatio: ratios[len(ratios)-1]}
}

// rateAt is the scenario trace's rate at second t.
func rateAt(ps []abr.Period, t float64) float64 {
	var total float64
	for _, p := range ps {
		total += p.DurationMs / 1000
	}
	if total <= 0 {
		return 0
	}
	t = math.Mod(t, total)
	for _, p := range ps {
		if t < p.DurationMs/1000 {
			return p.Kbps
		}
		t -= p.DurationMs / 1000
	}
	return ps[len(ps)-1].Kbps
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
