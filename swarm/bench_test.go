package swarm

import (
	"context"
	"os"
	"runtime"
	"testing"
)

// benchScenario is a live audience of n viewers who stay (flash crowd,
// one-hour sessions capped by the stream), 2 s segments, 4 renditions,
// on the default broadband class.
func benchScenario(n int, durS float64) *Scenario {
	return &Scenario{
		Stream:   Stream{Live: true, DurationS: durS, HoldBackS: 30, SegmentS: 2},
		Audience: Audience{Peers: n, Arrival: "flash", KickoffS: 0, BurstS: 30, BurstShare: 1, Session: "fixed", SessionS: durS},
		Tracker:  Tracker{Neighbours: 20},
	}
}

func runBench(b *testing.B, sc *Scenario) {
	b.ReportAllocs()
	var events int64
	var ms runtime.MemStats
	for i := 0; i < b.N; i++ {
		r, err := Run(context.Background(), sc)
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
	}
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(ms.Mallocs)/float64(events), "allocs/event(process)")
}

// BenchmarkLive: 1,000 and 10,000 concurrent viewers for 10 minutes of
// live; with STREAMKIT_SWARM_BENCH_LONG=1 also the sizes, 10k and
// 100k viewers for an hour (and 100k for 10 minutes), which take minutes
// (BENCHMARKS.md has the command and the figures).
func BenchmarkLive(b *testing.B) {
	b.Run("1k-10min", func(b *testing.B) { runBench(b, benchScenario(1000, 600)) })
	b.Run("10k-10min", func(b *testing.B) { runBench(b, benchScenario(10000, 600)) })
	long := func(name string, n int, durS float64) {
		b.Run(name, func(b *testing.B) {
			if os.Getenv("STREAMKIT_SWARM_BENCH_LONG") != "1" {
				b.Skip("set STREAMKIT_SWARM_BENCH_LONG=1")
			}
			runBench(b, benchScenario(n, durS))
		})
	}
	long("10k-1h", 10000, 3600)
	long("100k-10min", 100000, 600)
	long("100k-1h", 100000, 3600)
}

// BenchmarkEvent measures the per-event cost alone: one step of a player
// whose segment a neighbour has (Deliver, the event heap and abr's Step).
func BenchmarkCDNOnly(b *testing.B) {
	sc := benchScenario(1000, 600)
	sc.Scheduler.Preset = PresetCDNOnly
	runBench(b, sc)
}
