package playtest

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
)

// WriteSVG draws the run as a timeline, laid out like `streamkit abr run
// --svg`: the played bitrate over time (top) and the buffer level with the
// stalls shaded (bottom); the title line carries the QoE summary.
func (r *Result) WriteSVG(w io.Writer) error {
	const (
		width, height = 900.0, 520.0
		left, right   = 70.0, 20.0
		panelH, gap   = 180.0, 70.0
		top1          = 70.0
		font          = `font-family="sans-serif" font-size="12"`
	)
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	end := math.Max(r.ElapsedS, 1)
	maxKbps, maxBuf := 100.0, 1.0
	for _, b := range r.Bitrate {
		maxKbps = math.Max(maxKbps, b.Kbps)
	}
	for _, s := range r.Samples {
		maxBuf = math.Max(maxBuf, s.BufferS)
	}
	maxKbps, maxBuf = roundUp(maxKbps*1.1), roundUp(maxBuf*1.1)
	X := func(t float64) float64 { return left + (width-left-right)*math.Min(math.Max(t, 0), end)/end }
	top2 := top1 + panelH + gap
	Y := func(top, v, max float64) float64 { return top + panelH - panelH*math.Min(v, max)/max }
	axes := func(top, max float64, label string) {
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`+"\n", left, top, width-left-right, panelH)
		p(`<text x="%.1f" y="%.1f" %s>%s</text>`+"\n", left, top-8, font, label)
		for i := 0; i <= 4; i++ {
			v := max * float64(i) / 4
			p(`<text x="%.1f" y="%.1f" %s text-anchor="end">%g</text>`+"\n", left-6, Y(top, v, max)+4, font, v)
		}
		for i := 0; i <= 10; i++ {
			t := end * float64(i) / 10
			p(`<text x="%.1f" y="%.1f" %s text-anchor="middle">%.1f</text>`+"\n", X(t), top+panelH+16, font, t)
		}
	}
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%.1f" y="20" %s font-weight="bold">%s</text>`+"\n", left, font, html.EscapeString(r.Engine+" playing "+r.Src))
	p(`<text x="%.1f" y="38" %s>startup %.2f s, %d stalls %.2f s, mean played %.0f kbit/s, %d switches, %d/%d frames dropped</text>`+"\n",
		left, font, r.StartupS, r.StallCount, r.StallS, r.MeanKbps, r.Switches, r.DroppedFrames, r.TotalFrames)
	axes(top1, maxKbps, "played bitrate (kbit/s) over time since the player started (s)")
	for i, b := range r.Bitrate {
		to := end
		if i+1 < len(r.Bitrate) {
			to = r.Bitrate[i+1].TS
		}
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#1f77b4" stroke-width="3"/>`+"\n",
			X(b.TS), Y(top1, b.Kbps, maxKbps), X(to), Y(top1, b.Kbps, maxKbps))
	}
	axes(top2, maxBuf, "buffer (s); stalls shaded red")
	for _, s := range r.Stalls {
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#d62728" fill-opacity="0.3"/>`+"\n",
			X(s.AtS), top2, math.Max(X(s.AtS+s.DurationS)-X(s.AtS), 0.5), panelH)
	}
	p(`<polyline fill="none" stroke="#2ca02c" stroke-width="1.5" points="`)
	for _, s := range r.Samples {
		p("%.1f,%.1f ", X(s.TS), Y(top2, s.BufferS, maxBuf))
	}
	p(`"/>` + "\n</svg>\n")
	return bw.Flush()
}

// roundUp rounds v up to 1, 2 or 5 times a power of ten.
func roundUp(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*e {
			return m * e
		}
	}
	return 10 * e
}
