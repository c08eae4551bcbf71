package swarm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"

	"github.com/streamkit-go/streamkit/abr"
)

// Result is what a run measured. Bytes are payload bytes; rates are over
// the run's buckets.
type Result struct {
	Scenario        string  `json:"scenario"`
	Peers           int     `json:"peers"`           // viewers who played
	PeakConcurrent  int     `json:"peak_concurrent"` // most viewers at once (bucket resolution)
	PeerBytes       float64 `json:"peer_bytes"`      // delivered by peers
	CDNBytes        float64 `json:"cdn_bytes"`       // delivered by the CDN (segments)
	SidecarBytes    float64 `json:"sidecar_bytes"`   // integrity sidecars fetched from the CDN (hash mode)
	Offload         float64 `json:"offload"`         // peer bytes / all segment bytes
	CDNPeakGbps     float64 `json:"cdn_peak_gbps"`   // highest bucket's CDN egress
	CDNOverCapS     float64 `json:"cdn_over_capacity_s"`
	CostUSD         float64 `json:"cost_usd"`          // CDN egress (segments + sidecars) × price
	CostCDNOnlyUSD  float64 `json:"cost_cdn_only_usd"` // the same bytes all from the CDN
	RebufferRatio   float64 `json:"rebuffer_ratio"`    // stall time / play time, over everyone
	StartupMeanS    float64 `json:"startup_mean_s"`
	BehindLiveMeanS float64 `json:"behind_live_mean_s"` // live: distance behind the edge at the end
	MeanBitrateKbps float64 `json:"mean_bitrate_kbps"`  // per played segment
	DuplicateBytes  float64 `json:"duplicate_bytes"`    // received twice for the same segment (rejected, aborted)
	WastedBytes     float64 `json:"wasted_bytes"`       // received and never played (rejected, aborted)
	// Tampering: segments from a tampering peer (or relayed altered data)
	// received, detected by verification, accepted into a buffer.
	TamperedReceived int           `json:"tampered_received"`
	TamperedDetected int           `json:"tampered_detected"`
	TamperedAccepted int           `json:"tampered_accepted"`
	NeighboursMean   float64       `json:"neighbours_mean"` // connected neighbours at a request, mean
	ConnectAttempts  int           `json:"connect_attempts"`
	ConnectFailures  int           `json:"connect_failures"` // NAT traversal failures
	P2PTimeouts      int           `json:"p2p_timeouts"`     // p2pNotReceivingBytesTimeout hits
	P2PAborted       int           `json:"p2p_aborted"`      // P2P downloads switched to HTTP (high demand)
	Events           int64         `json:"events"`
	ByRule           Rules         `json:"by_rule"`
	Classes          []ClassResult `json:"classes"`
	Series           []Point       `json:"series"`
}

// Rules counts requests by the scheduler rule that served them (p2pml;
// cdn-only counts none).
type Rules struct {
	HighDemand int `json:"high_demand_http"` // within the high-demand window: HTTP
	Seeded     int `json:"seeded_http"`      // the random HTTP timer picked it
	Deadline   int `json:"deadline_http"`    // no peer had it before it became high-demand
	Refetched  int `json:"refetched_http"`   // peer data failed verification
	Peer       int `json:"peer"`             // from a peer
}

// ClassResult is one network class's share of the traffic.
type ClassResult struct {
	Name        string  `json:"name"`
	Mobile      bool    `json:"mobile"`
	Peers       int     `json:"peers"`
	UploadBytes float64 `json:"upload_bytes"` // served to other peers
	PeerBytes   float64 `json:"peer_bytes"`   // received from peers
	CDNBytes    float64 `json:"cdn_bytes"`
}

// Point is one bucket of the time series.
type Point struct {
	TimeS      float64 `json:"time_s"` // bucket start
	Concurrent int     `json:"concurrent"`
	CDNMbps    float64 `json:"cdn_mbps"`
	PeerMbps   float64 `json:"peer_mbps"`
	Offload    float64 `json:"offload"` // of this bucket's bytes
}

func (s *sim) finish() {
	r := &s.res
	r.Events = s.events
	for len(s.conc) < len(s.cdnB) {
		s.conc = append(s.conc, 0)
	}
	for len(s.cdnB) < len(s.conc) {
		s.cdnB = append(s.cdnB, 0)
		s.p2pB = append(s.p2pB, 0)
	}
	conc := 0
	capBits := s.sc.CDN.CapacityGbps * 1e9 * s.bucketMs / 1000
	for b := range s.conc {
		conc += int(s.conc[b])
		if conc > r.PeakConcurrent {
			r.PeakConcurrent = conc
		}
		c, p := s.cdnB[b], s.p2pB[b]
		r.CDNBytes += c / 8
		r.PeerBytes += p / 8
		pt := Point{TimeS: float64(b) * s.bucketMs / 1000, Concurrent: conc,
			CDNMbps: c / (s.bucketMs * 1000), PeerMbps: p / (s.bucketMs * 1000)}
		if c+p > 0 {
			pt.Offload = p / (c + p)
		}
		if g := pt.CDNMbps / 1000; g > r.CDNPeakGbps {
			r.CDNPeakGbps = g
		}
		if capBits > 0 && c > capBits {
			r.CDNOverCapS += s.bucketMs / 1000
		}
		r.Series = append(r.Series, pt)
	}
	if t := r.CDNBytes + r.PeerBytes; t > 0 {
		r.Offload = r.PeerBytes / t
	}
	price := s.sc.CDN.PricePerGB / 1e9
	r.CostUSD = (r.CDNBytes + r.SidecarBytes) * price
	r.CostCDNOnlyUSD = (r.CDNBytes + r.PeerBytes) * price
	if s.sumPlay > 0 {
		r.RebufferRatio = s.sumRebuf / s.sumPlay
	}
	if r.Peers > 0 {
		r.StartupMeanS = s.sumStartup / float64(r.Peers) / 1000
		r.BehindLiveMeanS = s.sumBehind / float64(r.Peers) / 1000
	}
	if s.segsPlayed > 0 {
		r.MeanBitrateKbps = s.sumBitrate / float64(s.segsPlayed)
	}
	if s.reqs > 0 {
		r.NeighboursMean = s.neighSum / float64(s.reqs)
	}
}

// SummaryColumns are the scalar results, in the order Summary gives them
// (the columns of a sweep).
var SummaryColumns = []string{"peers", "peak_concurrent", "offload", "peer_gb", "cdn_gb", "cdn_peak_gbps",
	"cdn_over_capacity_s", "cost_usd", "cost_cdn_only_usd", "rebuffer_ratio", "startup_mean_s", "behind_live_mean_s",
	"mean_bitrate_kbps", "duplicate_gb", "wasted_gb", "tampered_received", "tampered_detected", "tampered_accepted",
	"neighbours_mean", "connect_failures", "p2p_timeouts", "p2p_aborted", "events"}

// Summary returns the scalar results as strings, in SummaryColumns order.
func (r *Result) Summary() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	i := strconv.Itoa
	return []string{i(r.Peers), i(r.PeakConcurrent), f(r.Offload), f(r.PeerBytes / 1e9), f(r.CDNBytes / 1e9), f(r.CDNPeakGbps),
		f(r.CDNOverCapS), f(r.CostUSD), f(r.CostCDNOnlyUSD), f(r.RebufferRatio), f(r.StartupMeanS), f(r.BehindLiveMeanS),
		f(r.MeanBitrateKbps), f(r.DuplicateBytes / 1e9), f(r.WastedBytes / 1e9), i(r.TamperedReceived), i(r.TamperedDetected),
		i(r.TamperedAccepted), f(r.NeighboursMean), i(r.ConnectFailures), i(r.P2PTimeouts), i(r.P2PAborted), strconv.FormatInt(r.Events, 10)}
}

// WriteSeriesCSV writes the time series, one bucket a line.
func (r *Result) WriteSeriesCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "time_s,concurrent,cdn_mbps,peer_mbps,offload")
	for _, p := range r.Series {
		fmt.Fprintf(bw, "%g,%d,%.6g,%.6g,%.6g\n", p.TimeS, p.Concurrent, p.CDNMbps, p.PeerMbps, p.Offload)
	}
	return bw.Flush()
}

// WriteJSON writes the whole result (summary, classes, series) as one
// JSON object.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteSeriesJSONL writes the time series, one JSON object a line.
func (r *Result) WriteSeriesJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, p := range r.Series {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}

// WriteSVG draws the time series in abr's house style: CDN and peer
// egress (top panel, Mbit/s, stacked lines) and concurrent viewers with
// the offload share (bottom panel).
func (r *Result) WriteSVG(w io.Writer, title string) error {
	const (
		W, H        = 900.0, 560.0
		padL, padR  = 70.0, 20.0
		top, panelH = 50.0, 190.0
		gap         = 60.0
		font        = `font-family="sans-serif" font-size="12"`
		cdnC, peerC = "#d62728", "#2ca02c"
		concC, offC = "#1f77b4", "#9467bd"
	)
	bw := bufio.NewWriter(w)
	pf := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	pf(`<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" %s>`+"\n", W, H, W, H, font)
	pf(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	pf(`<text x="%g" y="24" font-size="15">%s</text>`+"\n", padL, html.EscapeString(title))
	xmax := 1.0
	if n := len(r.Series); n > 0 {
		xmax = r.Series[n-1].TimeS + 1
	}
	ymax1, cmax := 0.0, 0.0
	for _, p := range r.Series {
		ymax1 = math.Max(ymax1, p.CDNMbps+p.PeerMbps)
		cmax = math.Max(cmax, float64(p.Concurrent))
	}
	ymax1, cmax = abr.NiceMax(ymax1), abr.NiceMax(cmax)
	pw := W - padL - padR
	x := func(t float64) float64 { return padL + pw*t/xmax }
	axes := func(y0, ymax float64, label string) {
		pf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`+"\n", padL, y0, pw, panelH)
		for i := 0; i <= 4; i++ {
			y := y0 + panelH - panelH*float64(i)/4
			pf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", padL, y, padL+pw, y)
			pf(`<text x="%.1f" y="%.1f" text-anchor="end">%g</text>`+"\n", padL-4, y+4, ymax*float64(i)/4)
		}
		pf(`<text x="14" y="%.1f" transform="rotate(-90 14 %.1f)" text-anchor="middle">%s</text>`+"\n", y0+panelH/2, y0+panelH/2, label)
	}
	line := func(y0, ymax float64, color string, val func(Point) float64) {
		pf(`<polyline fill="none" stroke="%s" stroke-width="1.5" points="`, color)
		for _, p := range r.Series {
			pf("%.1f,%.1f ", x(p.TimeS), y0+panelH-panelH*math.Min(val(p)/ymax, 1))
		}
		pf(`"/>` + "\n")
	}
	y1 := top
	axes(y1, ymax1, "Mbit/s")
	line(y1, ymax1, peerC, func(p Point) float64 { return p.CDNMbps + p.PeerMbps })
	line(y1, ymax1, cdnC, func(p Point) float64 { return p.CDNMbps })
	pf(`<text x="%g" y="%g" fill="%s">CDN egress</text><text x="%g" y="%g" fill="%s">all delivery (CDN + peers); offload %.1f%%, CDN peak %.3g Gbit/s</text>`+"\n",
		padL+8, y1+16, cdnC, padL+100, y1+16, peerC, 100*r.Offload, r.CDNPeakGbps)
	y2 := top + panelH + gap
	axes(y2, cmax, "viewers")
	line(y2, cmax, concC, func(p Point) float64 { return float64(p.Concurrent) })
	line(y2, cmax, offC, func(p Point) float64 { return p.Offload * cmax })
	pf(`<text x="%g" y="%g" fill="%s">concurrent viewers</text><text x="%g" y="%g" fill="%s">offload (0–100%% of the axis)</text>`+"\n",
		padL+8, y2+16, concC, padL+160, y2+16, offC)
	for i := 0; i <= 6; i++ {
		t := xmax * float64(i) / 6
		pf(`<text x="%.1f" y="%.1f" text-anchor="middle">%.0f</text>`+"\n", x(t), y2+panelH+16, t)
	}
	pf(`<text x="%.1f" y="%.1f" text-anchor="middle">time (s)</text>`+"\n", padL+pw/2, y2+panelH+36)
	pf("</svg>\n")
	return bw.Flush()
}
