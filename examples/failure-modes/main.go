// Command failure-modes plays streamkit's embedded sample in real players
// — hls.js and dash.js in headless Chromium — over a network that fails,
// and prints what each viewer got: startup time, stalls, the bitrate each
// player chose and why the numbers look the way they do.
//
//	go run ./examples/failure-modes
//
// It needs Chromium (apt-get install chromium) and the player libraries
// (npm install --prefix ~/.cache/streamkit/playerjs hls.js@1.7.4 dashjs@5.2.1).
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/segment"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
)

// The sample is 8 s long, so the failures come early: a thin link that is
// enough to start but not to fill the buffer, then nothing at all.
var outage = &shape.Scenario{
	Name: "outage",
	Phases: []shape.Phase{
		{DurationS: 2.5, Kbps: 450, LatencyMs: 20},
		{DurationS: 8, Kbps: 0},
		{DurationS: 30, Kbps: 4000, LatencyMs: 20},
	},
}

// A short good start, then a link that only fits the lowest rendition,
// and a flaky origin: 20 % of segment requests fail with 503.
var dropAnd5xx = &shape.Scenario{
	Name: "drop + 5xx",
	Phases: []shape.Phase{
		{DurationS: 1.5, Kbps: 600, LatencyMs: 20},
		{DurationS: 30, Kbps: 180, LatencyMs: 40, JitterMs: 10},
	},
	Faults: []shape.Fault{{Class: "segment", Kind: shape.FaultStatus, Status: 503, Rate: 0.2}},
}

func main() {
	log.SetFlags(0)
	if _, err := playtest.FindChromium(); err != nil {
		log.Fatalf("%v\nthis tutorial plays the stream in real players; install Chromium first", err)
	}
	dir := filepath.Join(os.TempDir(), "streamkit-failure-modes")
	packageSample(dir)
	files, err := serve.Handler(dir)
	if err != nil {
		log.Fatalf("%v\ninstall the players: npm install --prefix ~/.cache/streamkit/playerjs hls.js@1.7.4 dashjs@5.2.1", err)
	}
	fmt.Println("the sample: 8 s, renditions 240p/360p/480p (about 110, 200 and 320 kbit/s with audio), 2 s segments")
	for _, sc := range []*shape.Scenario{outage, dropAnd5xx} {
		fmt.Printf("\n== %s:", sc.Name)
		for _, p := range sc.Phases {
			fmt.Printf(" %.1f s at %.0f kbit/s;", p.DurationS, p.Kbps)
		}
		for _, f := range sc.Faults {
			fmt.Printf(" %.0f%% of %s requests get %d;", f.Rate*100, f.Class, f.Status)
		}
		fmt.Println()
		for _, c := range []struct{ player, src string }{{"hlsjs", "/master.m3u8"}, {"dashjs", "/manifest.mpd"}} {
			s, err := shape.New(sc, shape.WithSeed(1))
			if err != nil {
				log.Fatal(err)
			}
			srv, err := playtest.Serve(playtest.Mux(files, s.Handler(files)))
			if err != nil {
				log.Fatal(err)
			}
			r, err := playtest.Run(context.Background(), srv.URL, c.src, playtest.WithPlayer(c.player), playtest.WithDuration(40*time.Second))
			srv.Close()
			if err != nil {
				log.Fatal(err)
			}
			report(r)
			explain(sc, r)
			// the simulator's preset of the same player over the same
			// scenario and segment sizes: what `abr` predicted
			sim, err := playtest.Simulate(filepath.Join(dir, filepath.FromSlash(c.src)), c.player, sc)
			if err != nil {
				log.Fatal(err)
			}
			if err := playtest.Compare(sc.Name, r, sim).WriteText(os.Stdout); err != nil {
				log.Fatal(err)
			}
		}
	}
	fmt.Println("\nTry the same with any presentation: streamkit playtest DIR --player hlsjs --shape FILE --json qoe.json")
}

// explain says in words what the numbers of one run show.
func explain(sc *shape.Scenario, r *playtest.Result) {
	first := sc.Phases[0]
	end := first.DurationS // when the first phase ends
	say := func(format string, a ...any) { fmt.Printf("    -> "+format+"\n", a...) }
	outEnd := end + sc.Phases[1].DurationS
	switch {
	case r.StartupS < 0:
		say("never started: the player gave up (see its errors)")
		return
	case sc.Phases[1].Kbps == 0 && r.StartupS >= outEnd:
		say("started only at %.1f s, after the outage: the first %.1f s at %.0f kbit/s did not carry what it wanted before playing (a player that probes a high rendition first needs more), so the outage shows as startup delay, not as a stall", r.StartupS, end, first.Kbps)
		return
	default:
		say("started at %.1f s", r.StartupS)
	}
	if sc.Phases[1].Kbps == 0 {
		for _, st := range r.Stalls {
			if st.AtS < outEnd {
				// playing since startup, it was at end-startup when the
				// outage began, and had buffered up to where it stalled
				say("ran dry %.1f s into the outage (it had %.1f s buffered when the link went) and waited %.1f s, until %.1f s after the link came back (the next segment's download)",
					st.AtS-end, st.PositionS-max(0, end-r.StartupS), st.DurationS, st.AtS+st.DurationS-outEnd)
			}
		}
		if r.StallCount == 0 {
			say("rode out the outage on its buffer: no stall")
		}
		return
	}
	if n := len(r.Bitrate); n > 0 {
		top, last := r.Bitrate[0].Kbps, r.Bitrate[n-1].Kbps
		for _, b := range r.Bitrate {
			top = max(top, b.Kbps)
		}
		if last < top {
			say("stepped down from %.0f to %.0f kbit/s after the drop to %.0f kbit/s", top, last, sc.Phases[1].Kbps)
		} else {
			say("stayed at %.0f kbit/s: it had buffered enough of the 8 s before the drop, or kept its choice and stalled instead", top)
		}
	}
	retries := 0
	for _, e := range r.Errors {
		if len(e) >= 3 && e[len(e)-3:] == "503" {
			retries++
		}
	}
	if retries > 0 {
		say("%d requests answered 503 and retried: the retries cost buffer, not throughput estimate", retries)
	}
	if r.StallCount > 0 {
		say("%d stalls, %.1f s in all: a rendition above the link, or a retry too many", r.StallCount, r.StallS)
	}
}

func report(r *playtest.Result) {
	fmt.Printf("  %-14s startup %5.2f s, %d stalls %5.2f s, mean played %4.0f kbit/s, %d switches, %d/%d frames dropped",
		r.Engine, r.StartupS, r.StallCount, r.StallS, r.MeanKbps, r.Switches, r.DroppedFrames, r.TotalFrames)
	if !r.Ended {
		fmt.Print(", did not finish")
	}
	fmt.Println()
	for _, s := range r.Stalls {
		fmt.Printf("      stall at %5.2f s for %.2f s at position %.2f s\n", s.AtS, s.DurationS, s.PositionS)
	}
	for _, b := range r.Bitrate {
		fmt.Printf("      %5.2f s: playing %3.0f kbit/s (%dp) from position %.2f s\n", b.TS, b.Kbps, b.Height, b.PositionS)
	}
	n := len(r.Errors)
	if n > 0 {
		fmt.Printf("      %d player errors, first: %s\n", n, r.Errors[0])
	}
	for _, f := range r.Fatal {
		fmt.Println("      FATAL:", f)
	}
}

// packageSample cuts the embedded sample into 2 s CMAF segments with HLS
// and DASH manifests, as examples/package-ladder explains.
func packageSample(dir string) {
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
	if _, err := hls.Write(dir, p); err != nil {
		log.Fatal(err)
	}
	if _, err := dash.Write(dir, p); err != nil {
		log.Fatal(err)
	}
}
