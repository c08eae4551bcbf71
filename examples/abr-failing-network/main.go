// Command abr-failing-network shows how ABR algorithms ride out a network
// that degrades, collapses, drops out completely and then recovers.
//
//	go run ./examples/abr-failing-network
//
// It builds the trace and the video ladder in code (no files needed), runs
// six algorithms through streamkit's ABR simulator, and explains what each
// one did when the network failed, and why.
package main

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamkit-go/streamkit/abr"
)

// phase is one stretch of the failing network.
type phase struct {
	name      string
	seconds   float64
	kbps      float64
	latencyMs float64
}

var network = []phase{
	{"good LTE", 40, 6000, 40},
	{"congested cell", 20, 1500, 80},
	{"collapse", 15, 250, 300},
	{"outage (tunnel)", 8, 0, 0},
	{"recovery", 37, 3000, 50},
}

// failingTrace turns the phases into 1 s periods with a little jitter, as a
// real measurement would have.
func failingTrace() *abr.Trace {
	t := &abr.Trace{Name: "failing-network"}
	k := 0
	for _, p := range network {
		for s := 0.0; s < p.seconds; s++ {
			j := 1 + 0.15*math.Sin(float64(k)*1.7)
			t.Periods = append(t.Periods, abr.Period{DurationMs: 1000, Kbps: math.Round(p.kbps * j), LatencyMs: p.latencyMs})
			k++
		}
	}
	return t
}

// ladder is a 5-level, 2 s-segment VBR ladder of a 2-minute video.
func ladder() *abr.Ladder {
	l := &abr.Ladder{SegmentMs: 2000, Kbps: []float64{300, 750, 1500, 3000, 5000}}
	for i := 0; i < 60; i++ {
		v := 1 + 0.25*math.Sin(float64(i)*0.9) // scene complexity
		row := make([]float64, len(l.Kbps))
		for q, b := range l.Kbps {
			row[q] = math.Round(b * 2000 * v)
		}
		l.Sizes = append(l.Sizes, row)
	}
	return l
}

func phaseAt(ms float64) int {
	t := 0.0
	for i, p := range network {
		t += p.seconds * 1000
		if ms < t {
			return i
		}
	}
	return len(network) - 1
}

type result struct {
	name  string
	m     abr.Metrics
	recs  []abr.SegmentRecord
	noAbd abr.Metrics
}

// phaseStats is what one algorithm did in each phase of the network.
type phaseStats struct {
	meanKbps []float64 // mean requested bitrate of completed downloads, NaN if none
	stallMs  []float64
	abandons []int
}

func byPhase(recs []abr.SegmentRecord) phaseStats {
	st := phaseStats{make([]float64, len(network)), make([]float64, len(network)), make([]int, len(network))}
	n := make([]float64, len(network))
	for _, rec := range recs {
		ph := phaseAt(rec.StartMs)
		if rec.Abandoned {
			st.abandons[ph]++
			continue
		}
		st.meanKbps[ph] += rec.BitrateKbps
		n[ph]++
		st.stallMs[ph] += rec.RebufMs
	}
	for i := range n {
		st.meanKbps[i] /= n[i] // 0/0 = NaN: no download in that phase
	}
	return st
}

func run(name string, man abr.Manifest, tr *abr.Trace, noAbandon bool) (abr.Metrics, []abr.SegmentRecord, error) {
	alg, err := abr.New(name)
	if err != nil {
		return abr.Metrics{}, nil, err
	}
	var recs []abr.SegmentRecord
	s, err := abr.NewSession(man, tr, alg, abr.WithPlayerDefaults(), abr.WithBuffer(20000),
		abr.WithAbandonment(!noAbandon), abr.WithOnSegment(func(r *abr.SegmentRecord) { recs = append(recs, *r) }))
	if err != nil {
		return abr.Metrics{}, nil, err
	}
	m, err := s.Run()
	return m, recs, err
}

func main() {
	man, tr := ladder(), failingTrace()
	fmt.Println("A 2-minute video (5 levels, 300-5000 kbit/s, 2 s segments, 20 s buffer, playback")
	fmt.Println("starts at 4 s buffered) over a network that fails in stages:")
	t := 0.0
	for _, p := range network {
		fmt.Printf("  %5.0f-%3.0f s  %-16s %5.0f kbit/s  %3.0f ms latency\n", t, t+p.seconds, p.name, p.kbps, p.latencyMs)
		t += p.seconds
	}
	fmt.Println()

	var results []result
	for _, name := range []string{"throughput", "bola", "bolae", "dynamic", "bba", "robustmpc", "dashjs", "hlsjs"} {
		m, recs, err := run(name, man, tr, false)
		if err != nil {
			log.Fatal(err)
		}
		noAbd, _, err := run(name, man, tr, true)
		if err != nil {
			log.Fatal(err)
		}
		results = append(results, result{name, m, recs, noAbd})
	}

	fmt.Printf("%-11s %8s %9s %7s %9s %9s %10s   %s\n", "algorithm", "kbit/s", "stall s", "stalls", "switches", "abandons", "startup s", "stall s without abandonment")
	for _, r := range results {
		fmt.Printf("%-11s %8.0f %9.2f %7d %9d %9d %10.2f   %.2f\n", r.name, r.m.AverageBitrateKbps, r.m.RebufferMs/1000,
			r.m.RebufferEvents, r.m.Switches, r.m.AbandonedDownloads, r.m.StartupMs/1000, r.noAbd.RebufferMs/1000)
	}
	fmt.Println()

	fmt.Println("What each algorithm did, phase by phase (mean requested bitrate, stalls, abandonments):")
	phases := make([]phaseStats, len(results))
	for k, r := range results {
		st := byPhase(r.recs)
		phases[k] = st
		var parts []string
		for i, p := range network {
			mean := "  -  "
			if !math.IsNaN(st.meanKbps[i]) {
				mean = fmt.Sprintf("%5.0f", st.meanKbps[i])
			}
			s := fmt.Sprintf("%s %s", strings.Fields(p.name)[0], mean)
			if st.stallMs[i] > 0 {
				s += fmt.Sprintf(" stall %.1fs", st.stallMs[i]/1000)
			}
			if st.abandons[i] > 0 {
				s += fmt.Sprintf(" aband %d", st.abandons[i])
			}
			parts = append(parts, s)
		}
		fmt.Printf("  %-11s %s\n", r.name, strings.Join(parts, " | "))
	}
	fmt.Println()

	best, worst := results[0], results[0]
	for _, r := range results {
		if r.m.RebufferMs < best.m.RebufferMs {
			best = r
		}
		if r.m.RebufferMs > worst.m.RebufferMs {
			worst = r
		}
	}
	fmt.Println("Why:")
	fmt.Println("- The 8 s outage cannot be hidden by any algorithm unless the buffer holds more than 8 s")
	fmt.Println("  when it starts; what differs is how much buffer each one still has after the collapse.")
	fmt.Println("- Throughput rules (throughput, dashjs's start, hlsjs) react to measured rates, so they step")
	fmt.Println("  down one or two segments after the drop; a high-bitrate segment already in flight at 250")
	fmt.Println("  kbit/s would take tens of seconds, which is what abandonment is for.")
	fmt.Println("- Buffer rules (bola, bolae) keep the quality up while the buffer is full and only come down")
	fmt.Println("  as it drains; they spend buffer to keep quality, which hurts when the outage follows.")
	fmt.Println("- bba (BBA-0) looks at nothing but the buffer: lowest quality below a 5 s reservoir, highest")
	fmt.Println("  above 15 s, a straight line between, and it moves only when that line crosses the next level.")
	fmt.Println("- robustmpc plans 5 segments ahead (bitrate minus stalls minus switches) on the harmonic mean")
	fmt.Println("  of the last 5 measured rates, divided by 1 + its largest recent prediction error: right after")
	fmt.Println("  a drop that error is large, so it plans on a pessimistic rate exactly when the network changes.")
	for _, r := range results {
		switch d := r.noAbd.RebufferMs - r.m.RebufferMs; {
		case d > 500:
			fmt.Printf("- Abandonment saved %s %.1f s of stalling (%d download(s) abandoned).\n", r.name, d/1000, r.m.AbandonedDownloads)
		case d < -500:
			fmt.Printf("- Abandonment cost %s %.1f s of extra stalling: %d downloads were abandoned, and after each\n"+
				"  one the algorithm is asked again (Sabre's model, MODELS.md §2.11) and may pick the same level,\n"+
				"  so the partial downloads are wasted time while the buffer drains.\n", r.name, -d/1000, r.m.AbandonedDownloads)
		}
	}
	// who was slow to come back up after the outage, and why
	last := network[len(network)-1]
	var slow []string
	for k, r := range results {
		if mean := phases[k].meanKbps[len(network)-1]; mean < 0.4*last.kbps { // (false for NaN)
			slow = append(slow, fmt.Sprintf("%s %.0f", r.name, mean))
		}
	}
	if len(slow) > 0 {
		fmt.Printf("- In the %s at %.0f kbit/s some stayed low (mean kbit/s: %s).\n", last.name, last.kbps, strings.Join(slow, ", "))
		fmt.Println("  Their throughput estimates are EWMAs that weigh each sample by its download time: the")
		fmt.Println("  download stuck in the outage counts for seconds, each quick download of the recovery for a")
		fmt.Println("  fraction of one, so the estimate climbs back slowly (see estimate_kbps in `streamkit abr run")
		fmt.Println("  --log`).")
	}
	fmt.Printf("- Least stalling: %s (%.1f s); most: %s (%.1f s).\n", best.name, best.m.RebufferMs/1000, worst.name, worst.m.RebufferMs/1000)

	out := filepath.Join(os.TempDir(), "abr-failing-network-"+best.name+".svg")
	f, err := os.Create(out)
	if err != nil {
		log.Fatal(err)
	}
	tl := abr.Timeline{Title: "failing network, " + best.name, Trace: tr, Bitrates: man.Kbps, Records: best.recs, Metrics: best.m}
	if err := tl.WriteSVG(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nTimeline of %s (bandwidth, chosen bitrate, buffer, stalls): %s\n", best.name, out)
}
