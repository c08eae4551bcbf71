package abr

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
)

// Timeline draws one session as SVG: the trace's bandwidth and the chosen
// bitrates (top), the buffer level with stalls shaded (bottom).
type Timeline struct {
	Title    string
	Trace    *Trace
	Bitrates []float64
	Records  []SegmentRecord
	Metrics  Metrics
}

const (
	svgW, svgH   = 900.0, 560.0
	padL, padR   = 70.0, 20.0
	panelTopY    = 50.0
	panelH       = 190.0
	panelGap     = 60.0
	svgFontStyle = `font-family="sans-serif" font-size="12"`
)

type svgWriter struct {
	w   *bufio.Writer
	err error
}

func (s *svgWriter) p(format string, a ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, a...)
	}
}

// NiceMax is the top of an axis that shows v, as the package's SVGs draw
// it: the smallest 1, 2, 2.5, 5 or 10 × 10^k not below v (1 for v ≤ 0).
// Other packages' plots (swarm's time series) use it for the same axes.
func NiceMax(v float64) float64 { return niceMax(v) }

func niceMax(v float64) float64 {
	if !(v > 0) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func (s *svgWriter) axes(y0, h, xmax, ymax float64, ylabel, xlabel string) {
	x0, w := padL, svgW-padL-padR
	s.p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`+"\n", x0, y0, w, h)
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		y := y0 + h - h*float64(i)/4
		s.p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text x="%.1f" y="%.1f" text-anchor="end" %s>%g</text>`+"\n",
			x0, y, x0+w, y, x0-4, y+4, svgFontStyle, v)
	}
	// round-numbered time ticks (0, 20, 40, … s), about six of them
	step := niceMax(xmax / 6)
	for i := 0; float64(i)*step <= xmax*(1+1e-9) && i <= 100; i++ {
		v := float64(i) * step
		x := x0 + w*v/xmax
		s.p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/><text x="%.1f" y="%.1f" text-anchor="middle" %s>%g</text>`+"\n",
			x, y0+h, x, y0+h+4, x, y0+h+16, svgFontStyle, v)
	}
	s.p(`<text x="%.1f" y="%.1f" %s>%s</text>`+"\n", x0, y0-6, svgFontStyle, html.EscapeString(ylabel))
	s.p(`<text x="%.1f" y="%.1f" text-anchor="end" %s>%s</text>`+"\n", x0+w, y0+h+30, svgFontStyle, html.EscapeString(xlabel))
}

// WriteSVG writes the timeline.
func (t *Timeline) WriteSVG(w io.Writer) error {
	s := &svgWriter{w: bufio.NewWriter(w)}
	end := t.Metrics.PlayTimeMs / 1000
	for _, r := range t.Records {
		end = math.Max(end, (r.StartMs+r.TimeMs)/1000)
	}
	if !(end > 0) {
		end = 1
	}
	x0, pw := padL, svgW-padL-padR
	X := func(sec float64) float64 { return x0 + pw*sec/end }
	// bandwidth ceiling
	maxKb := 0.0
	for _, b := range t.Bitrates {
		maxKb = math.Max(maxKb, b)
	}
	if t.Trace != nil {
		for _, p := range t.Trace.Periods {
			maxKb = math.Max(maxKb, p.Kbps)
		}
	}
	maxKb = niceMax(maxKb * 1.05)
	maxBuf := 1.0
	for _, r := range t.Records {
		maxBuf = math.Max(maxBuf, math.Max(r.BufferBefore, r.BufferAfter)/1000)
	}
	maxBuf = niceMax(maxBuf * 1.05)
	s.p(`<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g">`+"\n", svgW, svgH, svgW, svgH)
	s.p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	s.p(`<text x="%.1f" y="20" %s font-weight="bold">%s</text>`+"\n", padL, svgFontStyle, html.EscapeString(t.Title))
	s.p(`<text x="%.1f" y="36" %s>avg bitrate %.0f kbit/s, rebuffer %.2f s in %d events, %d switches, startup %.0f ms</text>`+"\n",
		padL, svgFontStyle, t.Metrics.TimeAverageBitrate, t.Metrics.RebufferMs/1000, t.Metrics.RebufferEvents, t.Metrics.Switches, t.Metrics.StartupMs)
	y1 := panelTopY + 20
	s.axes(y1, panelH, end, maxKb, "kbit/s: trace bandwidth (grey), chosen bitrate (blue), abandoned (red)", "time (s)")
	Y1 := func(kb float64) float64 { return y1 + panelH - panelH*math.Min(kb, maxKb)/maxKb }
	if t.Trace != nil && len(t.Trace.Periods) > 0 {
		s.p(`<polyline fill="none" stroke="#aaa" stroke-width="1" points="`)
		tt := 0.0
		for i := 0; tt/1000 < end && i < 1_000_000; i++ {
			p := t.Trace.Periods[i%len(t.Trace.Periods)]
			s.p("%.1f,%.1f %.1f,%.1f ", X(tt/1000), Y1(p.Kbps), X(math.Min(tt+p.DurationMs, end*1000)/1000), Y1(p.Kbps))
			tt += p.DurationMs
			if p.DurationMs <= 0 && i > len(t.Trace.Periods) {
				break
			}
		}
		s.p(`"/>` + "\n")
	}
	for _, r := range t.Records {
		col := "#1f77b4"
		if r.Abandoned {
			col = "#d62728"
		}
		s.p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n",
			X(r.StartMs/1000), Y1(r.BitrateKbps), X((r.StartMs+r.TimeMs)/1000), Y1(r.BitrateKbps), col)
	}
	y2 := y1 + panelH + panelGap
	s.axes(y2, panelH, end, maxBuf, "buffer (s); stalls shaded red", "play time (s)")
	Y2 := func(sec float64) float64 { return y2 + panelH - panelH*math.Min(sec, maxBuf)/maxBuf }
	for _, r := range t.Records {
		if r.RebufMs > 0 {
			a := (r.StartMs + r.TimeMs - r.RebufMs) / 1000
			s.p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#d62728" fill-opacity="0.3"/>`+"\n",
				X(a), y2, math.Max(X(a+r.RebufMs/1000)-X(a), 0.5), panelH)
		}
	}
	s.p(`<polyline fill="none" stroke="#2ca02c" stroke-width="1.5" points="`)
	for _, r := range t.Records {
		if r.WaitMs+r.DelayMs > 0 {
			s.p("%.1f,%.1f ", X(r.StartMs/1000-(r.WaitMs+r.DelayMs)/1000), Y2(r.BufferBefore/1000+(r.WaitMs+r.DelayMs)/1000))
		}
		s.p("%.1f,%.1f ", X(r.StartMs/1000), Y2(r.BufferBefore/1000))
		after := math.Max(r.BufferBefore-r.TimeMs, 0)
		s.p("%.1f,%.1f ", X((r.StartMs+r.TimeMs)/1000), Y2(after/1000))
		s.p("%.1f,%.1f ", X((r.StartMs+r.TimeMs)/1000), Y2(r.BufferAfter/1000))
	}
	s.p(`"/>` + "\n")
	s.p("</svg>\n")
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

// CDFSeries is one curve of a CDF plot.
type CDFSeries struct {
	Name   string
	Values []float64
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// WriteCDFSVG draws the empirical CDF of each series (e.g. per-trace QoE per
// algorithm) on shared axes.
func WriteCDFSVG(w io.Writer, title, xlabel string, series []CDFSeries) error {
	s := &svgWriter{w: bufio.NewWriter(w)}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, se := range series {
		for _, v := range se.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if hi == lo {
		hi = lo + 1
	}
	const h = 380.0
	y0 := 50.0
	x0, pw := padL, svgW-padL-padR
	X := func(v float64) float64 { return x0 + pw*(v-lo)/(hi-lo) }
	Y := func(p float64) float64 { return y0 + h - h*p }
	s.p(`<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g">`+"\n", svgW, 500.0, svgW, 500.0)
	s.p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	s.p(`<text x="%.1f" y="20" %s font-weight="bold">%s</text>`+"\n", padL, svgFontStyle, html.EscapeString(title))
	s.p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`+"\n", x0, y0, pw, h)
	for i := 0; i <= 4; i++ {
		p := float64(i) / 4
		s.p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text x="%.1f" y="%.1f" text-anchor="end" %s>%g</text>`+"\n",
			x0, Y(p), x0+pw, Y(p), x0-4, Y(p)+4, svgFontStyle, p)
	}
	for i := 0; i <= 6; i++ {
		v := lo + (hi-lo)*float64(i)/6
		s.p(`<text x="%.1f" y="%.1f" text-anchor="middle" %s>%.4g</text>`+"\n", X(v), y0+h+15, svgFontStyle, v)
	}
	s.p(`<text x="%.1f" y="%.1f" text-anchor="end" %s>%s</text>`+"\n", x0+pw, y0+h+32, svgFontStyle, html.EscapeString(xlabel))
	for i, se := range series {
		v := append([]float64(nil), se.Values...)
		sort.Float64s(v)
		col := palette[i%len(palette)]
		s.p(`<polyline fill="none" stroke="%s" stroke-width="2" points="`, col)
		for k, x := range v {
			s.p("%.1f,%.1f %.1f,%.1f ", X(x), Y(float64(k)/float64(len(v))), X(x), Y(float64(k+1)/float64(len(v))))
		}
		s.p(`"/>` + "\n")
		s.p(`<text x="%.1f" y="%.1f" fill="%s" %s>%s (n=%d)</text>`+"\n", x0+10, y0+16+14*float64(i), col, svgFontStyle, html.EscapeString(se.Name), len(v))
	}
	s.p("</svg>\n")
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}
