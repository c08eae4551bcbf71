package latency

import (
	"fmt"
	"html"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

func ms(d time.Duration) string { return fmt.Sprintf("%d", d.Round(time.Millisecond).Milliseconds()) }

// WriteTable prints the comparison table: glass-to-glass per mode and its
// stage budget (means over the budgeted frames, ms).
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tsegment\tpart\tframes\treadable\tmedian ms\tp95 ms\tmean ms\tencoder+ingest\tpackaging\tdelivery\tplayer buffer\tstages sum\t")
	for _, r := range results {
		part := "-"
		if r.Mode.LowLatency {
			part = r.Mode.Part.String()
		}
		if r.Err != nil {
			fmt.Fprintf(tw, "%s\t%v\t%s\t\t\t\t\t\t\t\t\t\t\t\n", r.Mode.Name, r.Mode.Segment, part)
			continue
		}
		s := r.Summary
		fmt.Fprintf(tw, "%s\t%v\t%s\t%d\t%.1f%%\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Mode.Name, r.Mode.Segment, part,
			s.Displayed, 100*float64(s.Readable)/float64(max(1, s.Displayed)), ms(s.Median), ms(s.P95), ms(s.Mean),
			ms(s.Budget.EncodeIngest), ms(s.Budget.Packaging), ms(s.Budget.Delivery), ms(s.Budget.PlayerBuffer), ms(s.Budget.Sum()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(w, "%s: not measured: %v\n", r.Mode.Name, r.Err)
			continue
		}
		if err := r.Summary.Check(); err != nil {
			fmt.Fprintf(w, "%s: %v\n", r.Mode.Name, err)
		}
		if r.Summary.Negative > 0 {
			fmt.Fprintf(w, "%s: %d frames have a negative stage (the browser's clock and the origin's disagree)\n", r.Mode.Name, r.Summary.Negative)
		}
		fmt.Fprintf(w, "%s: stalls %d; %s's target latency at the end %v; fetched %d parts, %d segments in progress (chunked), %d complete segments\n",
			r.Mode.Name, r.Stalls, r.Mode.Player, r.PlayerTarget.Round(time.Millisecond), r.Fetches["part"], r.Fetches["chunked segment"], r.Fetches["segment"])
		if r.ShortLastParts > 0 {
			fmt.Fprintf(w, "%s: %d of %d segments end on a part under 85 %% of the part duration (hls.js 1.7.4 can skip such a part and stall)\n", r.Mode.Name, r.ShortLastParts, r.Segments)
		}
		if n := r.Summary.Readable - r.Summary.Budgeted; n > 0 {
			fmt.Fprintf(w, "%s: %d readable frames without a complete budget (fetch not seen, or outside the window)\n", r.Mode.Name, n)
		}
	}
	return nil
}

// stageColors are the budget's colours, in Budget.Stages order.
var stageColors = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759"}
var modeColors = []string{"#4e79a7", "#e15759", "#59a14f", "#b07aa1", "#f28e2b"}

// WriteSVG draws glass-to-glass latency over time, one line per mode
// (time since that mode's first measured frame), and under it each
// mode's stage budget as a stacked bar.
func WriteSVG(w io.Writer, results []Result) error {
	const W, plotH, left, top = 900, 320, 70, 40
	barTop := top + plotH + 60
	H := barTop + 40*len(results) + 60
	var maxLat time.Duration
	var maxT time.Duration
	for _, r := range results {
		if len(r.Frames) == 0 {
			continue
		}
		t0 := r.Frames[0].Capture
		for _, f := range r.Frames {
			maxLat = max(maxLat, f.Total())
			maxT = max(maxT, f.Capture.Sub(t0))
		}
		maxLat = max(maxLat, r.Summary.Budget.Sum())
	}
	yMax := niceCeil(maxLat)
	xMax := max(niceCeil(maxT), time.Second)
	pw := float64(W - left - 30)
	x := func(d time.Duration) float64 { return left + pw*float64(d)/float64(xMax) }
	y := func(d time.Duration) float64 { return top + plotH - plotH*float64(max(d, 0))/float64(yMax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="%d" y="22" font-size="15">Glass-to-glass latency (capture → display, read from the pixels)</text>`+"\n", left)
	for i := 0; i <= 5; i++ {
		d := yMax * time.Duration(i) / 5
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s ms</text>`+"\n",
			left, W-30, y(d), y(d), left-6, y(d)+4, ms(d))
	}
	for i := 0; i <= 4; i++ {
		d := xMax * time.Duration(i) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.3g s</text>`+"\n", x(d), top+plotH+16, d.Seconds())
	}
	for i, r := range results {
		col := modeColors[i%len(modeColors)]
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			left+10+i*150, top+plotH+30, col, left+26+i*150, top+plotH+40, html.EscapeString(r.Mode.Name))
		if len(r.Frames) == 0 {
			continue
		}
		t0 := r.Frames[0].Capture
		var pts []string
		for _, f := range r.Frames {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(f.Capture.Sub(t0)), y(f.Total())))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", col, strings.Join(pts, " "))
	}
	// The stage budgets.
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14">Stage budget (mean over the frames, ms)</text>`+"\n", left, barTop-8)
	for i, r := range results {
		yy := barTop + 40*i
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-6, yy+18, html.EscapeString(r.Mode.Name))
		if r.Err != nil || r.Summary.Budgeted == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#a00">not measured</text>`+"\n", left, yy+18)
			continue
		}
		at := time.Duration(0)
		for j, st := range r.Summary.Budget.Stages() {
			d := max(st.D, 0)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="26" fill="%s"><title>%s %s ms</title></rect>`+"\n",
				left+pw*float64(at)/float64(yMax), yy, pw*float64(d)/float64(yMax), stageColors[j], st.Name, ms(st.D))
			at += d
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s ms</text>`+"\n", left+pw*float64(at)/float64(yMax)+6, yy+18, ms(r.Summary.Mean))
	}
	ly := barTop + 40*len(results) + 10
	for j, st := range (Budget{}).Stages() {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			left+j*170, ly, stageColors[j], left+16+j*170, ly+10, st.Name)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten milliseconds.
func niceCeil(d time.Duration) time.Duration {
	step := time.Millisecond * 100
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if d <= step*m {
				return step * m
			}
		}
		step *= 10
	}
}
