package gop

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
)

// Colours of the frame types in SVG charts (the usual bitrate-viewer
// palette: I red, P blue, B green).
var typeColour = map[PictType]string{TypeI: "#d62728", TypeP: "#1f77b4", TypeB: "#2ca02c"}

func colourOf(t PictType) string {
	if c, ok := typeColour[t]; ok {
		return c
	}
	return "#7f7f7f"
}

// WriteSVG draws the classic bitrate-viewer picture of a track: one bar
// per frame at its presentation time, as tall as the frame is large,
// coloured by type, with a dashed line at every GOP start. frames are in
// decode order (as [ReadFrames] returns them); timescale converts their
// timestamps to seconds. The output is a standalone SVG document.
func WriteSVG(w io.Writer, frames []Frame, timescale uint32, title string) error {
	const (
		width, height           = 1000.0, 420.0
		left, right, top, floor = 70.0, 20.0, 40.0, 50.0
	)
	bw := bufio.NewWriter(w)
	pw := width - left - right
	ph := height - top - floor
	ts := float64(timescale)
	if ts <= 0 {
		ts = 1
	}
	t0, t1 := math.Inf(1), math.Inf(-1)
	maxSize := 1
	for _, f := range frames {
		s := float64(f.PTS) / ts
		e := float64(f.PTS+max(f.Duration, 0)) / ts
		t0 = math.Min(t0, s)
		t1 = math.Max(t1, e)
		maxSize = max(maxSize, f.Size)
	}
	if len(frames) == 0 {
		t0, t1 = 0, 1
	}
	if t1 <= t0 {
		t1 = t0 + 1
	}
	yMax := niceCeil(float64(maxSize))
	x := func(t float64) float64 { return left + (t-t0)/(t1-t0)*pw }
	y := func(v float64) float64 { return top + ph - v/yMax*ph }
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(bw, `<text x="%.0f" y="22" font-size="15">%s</text>`+"\n", left, html.EscapeString(title))
	// Axes and grid.
	for i := 0; i <= 4; i++ {
		v := yMax * float64(i) / 4
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), width-right, y(v))
		fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y(v)+4, humanBytes(v))
	}
	step := niceStep((t1 - t0) / 8)
	for t := math.Ceil(t0/step) * step; t <= t1+1e-9; t += step {
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/>`+"\n", x(t), top+ph, x(t), top+ph+5)
		fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x(t), top+ph+18, trimFloat(t))
	}
	fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" text-anchor="middle">presentation time (s)</text>`+"\n", left+pw/2, height-8)
	fmt.Fprintf(bw, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">frame size</text>`+"\n", top+ph/2)
	// Frame bars.
	bar := pw / float64(max(len(frames), 1)) * 0.8
	bar = math.Max(0.6, math.Min(bar, 12))
	for _, f := range frames {
		cx := x(float64(f.PTS) / ts)
		fmt.Fprintf(bw, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s %s pts %s s, %d bytes</title></rect>`+"\n",
			cx, y(float64(f.Size)), bar, top+ph-y(float64(f.Size)), colourOf(f.Type), f.Type, keyWord(f.Key),
			trimFloat(float64(f.PTS)/ts), f.Size)
	}
	// GOP boundaries.
	for i, f := range frames {
		if !f.Key {
			continue
		}
		gx := x(float64(f.PTS) / ts)
		fmt.Fprintf(bw, `<line x1="%.2f" y1="%.1f" x2="%.2f" y2="%.1f" stroke="#444" stroke-dasharray="4 3"><title>GOP start, frame %d</title></line>`+"\n",
			gx, top, gx, top+ph, i)
	}
	fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", left, top+ph, width-right, top+ph)
	fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", left, top, left, top+ph)
	// Legend.
	lx := width - right - 250
	for i, t := range []PictType{TypeI, TypeP, TypeB} {
		fmt.Fprintf(bw, `<rect x="%.1f" y="12" width="12" height="12" fill="%s"/><text x="%.1f" y="22">%s</text>`+"\n",
			lx+float64(i)*55, colourOf(t), lx+float64(i)*55+16, t)
	}
	fmt.Fprintf(bw, `<line x1="%.1f" y1="18" x2="%.1f" y2="18" stroke="#444" stroke-dasharray="4 3"/><text x="%.1f" y="22">GOP</text>`+"\n",
		lx+165, lx+190, lx+194)
	fmt.Fprintln(bw, `</svg>`)
	return bw.Flush()
}

func keyWord(k bool) string {
	if k {
		return "key"
	}
	return ""
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// niceStep is niceCeil for axis tick spacing.
func niceStep(v float64) float64 { return niceCeil(v) }

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
