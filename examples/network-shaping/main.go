// Command network-shaping packages streamkit's embedded sample, serves it
// on 127.0.0.1 through the shape package with a scenario of phases (a
// bandwidth drop, an outage, a lossy stretch) and origin faults, downloads
// segments with a Go client as fast as the link allows, and prints what
// the client measured second by second against the scenario, and every
// fault it met.
//
//	go run ./examples/network-shaping
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/segment"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
)

// The scenario: what one client's link does, second by second, from its
// first request. Every knob of a phase is used once.
var scenario = &shape.Scenario{
	Name: "tutorial",
	Phases: []shape.Phase{
		{DurationS: 4, Kbps: 6000, LatencyMs: 20},              // a good link
		{DurationS: 4, Kbps: 800, LatencyMs: 20, JitterMs: 10}, // the drop
		{DurationS: 2, Kbps: 0},                                // an outage: nothing moves
		{DurationS: 4, Kbps: 6000, LatencyMs: 60, Loss: 0.02},  // back, but lossy and far
		{DurationS: 2, Kbps: 6000, LatencyMs: 20},              // clean again (holds)
	},
	Faults: []shape.Fault{
		{Class: "segment", Kind: shape.FaultStatus, Status: 503, Rate: 0.10},                 // a flaky origin
		{Class: "segment", Kind: shape.FaultTruncate, AtS: []float64{3}},                     // one short body at 3 s
		{Class: "segment", Kind: shape.FaultReset, AtS: []float64{12.5}, Fraction: &resetAt}, // one RST at 12.5 s
		{Class: "playlist", Kind: shape.FaultSlowFirstByte, DelayMs: 500, Rate: 1},           // slow playlist origin
	},
}

// resetAt is how much of the body goes out before the RST. (With 0 the
// connection dies before the response starts, and Go's client, like
// browsers, silently retries an idempotent request whose reused
// connection died that way: the client would never notice.)
var resetAt = 0.3

const runFor = 16 * time.Second

func main() {
	log.SetFlags(0)
	dir := filepath.Join(os.TempDir(), "streamkit-network-shaping")
	master := packageSample(dir)

	// 1. The origin: serve.Handler (what `streamkit serve` runs), wrapped
	//    by the shaper. Every client gets its own link, keyed here by the
	//    X-Streamkit-Client header our client sends.
	files, err := serve.Handler(dir)
	if files == nil {
		log.Fatal(err) // (a missing hls.js only matters to the player page)
	}
	var faults []shape.Event
	s, err := shape.New(scenario, shape.WithSeed(7), shape.WithObserver(func(e shape.Event) {
		if e.Fault != "" {
			faults = append(faults, e) // (one client, requests one at a time: no lock needed)
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	// (playtest.Serve: 127.0.0.1, a free port, timeouts and a connection
	// limit, as every server needs)
	srv, err := playtest.Serve(s.Handler(files))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	base := srv.URL + "/"
	fmt.Printf("serving %s on %s through the shaper (seed 7)\n\n", dir, base)

	// 2. The client: fetch the multivariant playlist, then the top
	//    rendition's segments in a loop, back to back, for 16 s, measuring
	//    the bytes that arrive in each second.
	media, segs := topRendition(master)
	client := &http.Client{Timeout: 10 * time.Second}
	bins := make([]float64, int(runFor/time.Second))
	start := time.Now()
	var seen []string
	get := func(path string) {
		t := time.Since(start)
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set(shape.DefaultClientHeader, "tutorial")
		resp, err := client.Do(req)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%5.1f s  %-28s no response: %v", t.Seconds(), path, short(err)))
			return
		}
		defer resp.Body.Close()
		buf := make([]byte, 16<<10)
		var n int64
		for {
			m, err := resp.Body.Read(buf)
			n += int64(m)
			if i := int(time.Since(start) / time.Second); i < len(bins) {
				bins[i] += float64(m)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				what := "body cut short (truncated)"
				if errors.Is(err, syscall.ECONNRESET) {
					what = "connection reset (RST)"
				}
				seen = append(seen, fmt.Sprintf("%5.1f s  %-28s %s after %d of %s bytes", t.Seconds(), path, what, n, resp.Header.Get("Content-Length")))
				return
			}
		}
		if resp.StatusCode != 200 {
			seen = append(seen, fmt.Sprintf("%5.1f s  %-28s HTTP %d", t.Seconds(), path, resp.StatusCode))
		}
		if strings.HasSuffix(path, ".m3u8") {
			seen = append(seen, fmt.Sprintf("%5.1f s  %-28s playlist in %v (latency + the 500 ms slow first byte)", t.Seconds(), path, time.Since(start.Add(t)).Round(10*time.Millisecond)))
		}
	}
	get(filepath.Base(master))
	get(media)
	for i := 0; time.Since(start) < runFor && i < 1000; i++ {
		get(segs[i%len(segs)])
	}

	// 3. What the client measured, against the scenario.
	fmt.Println("second  scenario      measured")
	for i, b := range bins {
		ph := phaseAt(float64(i) + 0.5)
		note := ""
		switch {
		case ph.Kbps == 0:
			note = "outage: no byte moves, the request in flight waits"
		case ph.Loss > 0:
			mathis := 1460 * 8 / (ph.LatencyMs / 1000) * math.Sqrt(1.5/ph.Loss) / 1000
			note = fmt.Sprintf("%.0f%% loss at %.0f ms RTT: long TCP flows average %.0f kbit/s (Mathis), short ones less", ph.Loss*100, ph.LatencyMs, mathis)
		}
		fmt.Printf("%4d   %5.0f kbit/s %6.0f kbit/s  %-22s %s\n", i, ph.Kbps, b*8/1000, bar(b*8/1000, 6000), note)
	}
	fmt.Println("\n(the measured rate dips below the scenario where requests wait for their")
	fmt.Println("latency, a 503 or a slow first byte: the link idles while nothing is in flight)")

	fmt.Println("\nwhat the client saw:")
	for _, l := range seen {
		fmt.Println("  " + l)
	}
	fmt.Printf("\nwhat the shaper injected (%d faults):\n", len(faults))
	for _, e := range faults {
		fmt.Printf("  %5.1f s  %-9s %-28s %-16s %d body bytes sent\n", e.Start.Seconds(), e.Class, e.Path, e.Fault, e.Bytes)
	}
	fmt.Println("\nServe your own presentation the same way:")
	fmt.Printf("  go run ./cmd/streamkit serve %s --shape testdata/shape/bandwidth-drop.json --seed 7\n", dir)
}

func phaseAt(t float64) shape.Phase {
	for _, p := range scenario.Phases {
		if t < p.DurationS {
			return p
		}
		t -= p.DurationS
	}
	return scenario.Phases[len(scenario.Phases)-1]
}

func bar(v, full float64) string {
	n := int(math.Round(20 * v / full))
	return strings.Repeat("#", min(max(n, 0), 22))
}

func short(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// packageSample cuts the embedded sample into 2 s CMAF segments and
// writes HLS and DASH manifests, as examples/package-ladder explains.
func packageSample(dir string) string {
	if err := os.RemoveAll(dir); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	inputs, err := segment.SampleInputs()
	if err != nil {
		log.Fatal(err)
	}
	p, err := segment.Cut(context.Background(), dir, inputs, segment.WithTargetDuration(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	master, err := hls.Write(dir, p)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := dash.Write(dir, p); err != nil {
		log.Fatal(err)
	}
	return master
}

// topRendition returns the media playlist of the highest rendition and
// its segment paths (relative to the server root).
func topRendition(master string) (string, []string) {
	dir := filepath.Dir(master)
	ents, err := filepath.Glob(filepath.Join(dir, "video_480p", "seg_*.m4s"))
	if err != nil || len(ents) == 0 {
		log.Fatalf("no 480p segments in %s", dir)
	}
	var segs []string
	for _, e := range ents {
		rel, _ := filepath.Rel(dir, e)
		segs = append(segs, filepath.ToSlash(rel))
	}
	return "video_480p.m3u8", segs
}
