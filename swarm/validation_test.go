package swarm

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/abr"
)

func withSegmentHook(fn func(g int32, q int, p2p bool, bits float64)) Option {
	return func(c *runConfig) { c.onSeg = fn }
}

func testTraces(t *testing.T, n int) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/abr/sabre/4Glogs/*.json")
	if err != nil || len(files) == 0 {
		t.Skip("no traces in ../testdata/abr/sabre/4Glogs")
	}
	if len(files) > n {
		files = files[:n]
	}
	return files
}

// cdn-only: offload 0, and every player's metrics equal those of a plain
// abr session over the same trace and segments, exactly (==, not ≈), for
// several algorithms, with a CDN RTT (an abr request latency) and a
// startup threshold.
func TestCDNOnlyEqualsABRSessions(t *testing.T) {
	traces := testTraces(t, 6)
	lad, err := abr.LoadSabreManifest("../testdata/abr/sabre/bbb.json")
	if err != nil {
		t.Skip(err)
	}
	for _, algo := range []string{"throughput", "bola", "bolae", "dynamic", "bba", "dashjs", "hlsjs"} {
		for _, live := range []bool{false, true} {
			sc := &Scenario{
				Stream:    Stream{Live: live, DurationS: 300, HoldBackS: 9},
				Audience:  Audience{Peers: 40, Arrival: "poisson", ArriveS: 120, Session: "lognormal", SessionS: 120},
				Classes:   []Class{{Name: "4g", Share: 1, Traces: traces, LatencyMs: 20, UpMedianKbps: 5000}},
				CDN:       CDN{RTTMs: 30},
				Scheduler: Scheduler{Preset: PresetCDNOnly},
				ABR:       ABR{Algorithm: algo, BufferS: 20, StartupS: 4},
			}
			var peers []PeerResult
			r, err := Run(context.Background(), sc, WithManifest(lad), WithPeerResults(func(p PeerResult) { peers = append(peers, p) }))
			if err != nil {
				t.Fatal(algo, err)
			}
			if r.Offload != 0 || r.PeerBytes != 0 {
				t.Errorf("%s: cdn-only offload %v, peer bytes %v", algo, r.Offload, r.PeerBytes)
			}
			if len(peers) < 30 {
				t.Fatalf("%s: %d players", algo, len(peers))
			}
			for _, p := range peers {
				m := &abr.Ladder{SegmentMs: lad.SegmentMs, Kbps: lad.Kbps}
				for i := 0; i < p.Metrics.Segments; i++ {
					m.Sizes = append(m.Sizes, lad.Sizes[(p.FirstSeg+i)%len(lad.Sizes)])
				}
				a, _ := abr.New(algo)
				buf := 20000.0
				if live {
					buf = 9000
				}
				s, err := abr.NewSession(m, p.Trace, a, abr.WithBuffer(buf), abr.WithRequestLatency(30), abr.WithStartup(4000))
				if err != nil {
					t.Fatal(err)
				}
				want, err := s.Run()
				if err != nil {
					t.Fatal(err)
				}
				if want != p.Metrics {
					t.Fatalf("%s live=%v peer %d: swarm player differs from its abr session:\n%+v\n%+v", algo, live, p.ID, p.Metrics, want)
				}
			}
		}
	}
}

// Unlimited uplinks, everyone connected, one rendition: every segment
// crosses HTTP at least once, so its offload is at most (N−1)/N, and it
// tends to that bound: here a VOD title watched by N viewers who arrive
// over a minute, so that each segment is first needed by one viewer,
// fetched over HTTP, and served by peers to everyone after. Counted: the
// segments after the first 15 s (high-demand: HTTP for every viewer) and
// before the first viewers leave (churn: what only they held is fetched
// again).
// (A live audience that joined in the same second hits the high-demand
// deadline together: see the tutorial.)
func TestOffloadTendsToNMinus1OverN(t *testing.T) {
	for _, N := range []int{10, 40} {
		sc := &Scenario{
			Stream:   Stream{DurationS: 300, LadderKbps: []float64{3000}},
			Audience: Audience{Peers: N, Arrival: "poisson", ArriveS: 60, Session: "fixed", SessionS: 300},
			Classes:  []Class{{Name: "fiber", Share: 1, DownKbps: 100000, LatencyMs: 10, UpUnlimited: true}},
			Tracker:  Tracker{EveryoneConnected: true},
			ABR:      ABR{BufferS: 30},
		}
		type acc struct{ cdn, peer float64 }
		segs := map[int32]*acc{}
		r, err := Run(context.Background(), sc, withSegmentHook(func(g int32, q int, p2p bool, bits float64) {
			a := segs[g]
			if a == nil {
				a = &acc{}
				segs[g] = a
			}
			if p2p {
				a.peer += bits
			} else {
				a.cdn += bits
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		bound := float64(N-1) / float64(N)
		sum, n := 0.0, 0
		for g, a := range segs {
			if a.cdn == 0 {
				t.Fatalf("segment %d never crossed HTTP", g)
			}
			off := a.peer / (a.cdn + a.peer)
			if off > bound+1e-12 {
				t.Fatalf("segment %d: offload %v above (N−1)/N = %v", g, off, bound)
			}
			// the first 15 s of every viewer are high-demand: HTTP for all
			if g >= 10 && g < 110 {
				sum += off
				n++
			}
		}
		mean := sum / float64(n)
		t.Logf("N=%d: mean per-segment offload %.4f over %d segments, bound %.4f; %+v", N, mean, n, bound, r.ByRule)
		if mean < bound-0.02 {
			t.Errorf("N=%d: mean per-segment offload %v, want within 0.02 of %v", N, mean, bound)
		}
	}
}

// With total upload capacity U below the demand D, offload ≤ U/D.
func TestOffloadBoundedByUploadCapacity(t *testing.T) {
	for _, up := range []float64{300, 1000, 2000} {
		sc := &Scenario{
			Stream:   Stream{Live: true, DurationS: 600, HoldBackS: 30},
			Audience: Audience{Peers: 200, Arrival: "flash", KickoffS: 5, Session: "exponential", SessionS: 400},
			Classes:  []Class{{Name: "dsl", Share: 1, DownKbps: 20000, LatencyMs: 20, UpMedianKbps: up, UpSigma: 0.3}},
			Tracker:  Tracker{Neighbours: 15},
		}
		var U, D float64
		r, err := Run(context.Background(), sc, WithPeerResults(func(p PeerResult) {
			U += p.UpKbps * (p.LeaveMs - p.JoinMs) // bits
			D += p.PeerBits + p.CDNBits
		}))
		if err != nil {
			t.Fatal(err)
		}
		// seeded segments a player never used are CDN bytes too
		D = (r.PeerBytes + r.CDNBytes) * 8
		t.Logf("up %v kbps: offload %.4f, U/D %.4f", up, r.Offload, U/D)
		if !(U < D) {
			t.Fatalf("up %v: U %v not below D %v: choose a smaller uplink", up, U, D)
		}
		if r.Offload > U/D {
			t.Errorf("up %v kbps: offload %v above U/D = %v", up, r.Offload, U/D)
		}
		if up >= 1000 && r.Offload == 0 {
			t.Errorf("up %v kbps: no offload at all", up)
		}
	}
}

// With verification on, no tampered segment is accepted, whatever the
// share of tampering peers; without it they are.
func TestVerificationAcceptsNoTampering(t *testing.T) {
	for _, share := range []float64{0.02, 0.3, 1} {
		for _, mode := range []string{IntegrityNone, IntegrityHash, IntegritySigned} {
			sc := &Scenario{
				Seed:      7,
				Stream:    Stream{Live: true, DurationS: 300, HoldBackS: 30},
				Audience:  Audience{Peers: 150, Arrival: "flash", KickoffS: 5, SessionS: 600},
				Classes:   []Class{{Name: "cable", Share: 1, DownKbps: 30000, LatencyMs: 20, UpMedianKbps: 10000}},
				Integrity: Integrity{Mode: mode, TamperShare: share},
			}
			r, err := Run(context.Background(), sc)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s share %v: received %d detected %d accepted %d offload %.3f", mode, share, r.TamperedReceived, r.TamperedDetected, r.TamperedAccepted, r.Offload)
			if r.TamperedReceived == 0 {
				t.Fatalf("%s share %v: no tampered segment reached anyone: the test proves nothing", mode, share)
			}
			if mode == IntegrityNone {
				if r.TamperedAccepted != r.TamperedReceived || r.TamperedDetected != 0 {
					t.Errorf("none: accepted %d of %d, detected %d", r.TamperedAccepted, r.TamperedReceived, r.TamperedDetected)
				}
				continue
			}
			if r.TamperedAccepted != 0 || r.TamperedDetected != r.TamperedReceived {
				t.Errorf("%s share %v: accepted %d, detected %d of %d", mode, share, r.TamperedAccepted, r.TamperedDetected, r.TamperedReceived)
			}
			if mode == IntegrityHash && r.SidecarBytes == 0 {
				t.Errorf("hash mode fetched no sidecar")
			}
		}
	}
}

// Same seed, same result; another seed, another result.
func TestDeterministic(t *testing.T) {
	sc := &Scenario{Stream: Stream{Live: true, DurationS: 200, HoldBackS: 24}, Audience: Audience{Peers: 120, Arrival: "flash", KickoffS: 5}}
	a, err := Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(context.Background(), sc)
	if a.Offload != b.Offload || a.Events != b.Events || a.CDNBytes != b.CDNBytes || len(a.Series) != len(b.Series) {
		t.Fatalf("two runs differ: %v %v", a.Summary(), b.Summary())
	}
	sc.Seed = 99
	c, _ := Run(context.Background(), sc)
	if c.CDNBytes == a.CDNBytes && c.Events == a.Events {
		t.Errorf("seed changes nothing")
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

var _ = math.Inf

// A sweep gives the same table for any number of workers, and its shards
// merge into it.
func TestSweepWorkersAndShards(t *testing.T) {
	sc := &Scenario{Name: "s", Stream: Stream{Live: true, DurationS: 120, HoldBackS: 24}, Audience: Audience{Peers: 60, Arrival: "flash"}}
	grid := []Axis{{Field: "tracker.neighbours", Values: []string{"4", "12"}}, {Field: "scheduler.preset", Values: []string{"p2pml", "cdn-only"}}}
	ctx := context.Background()
	one, err := Sweep(ctx, sc, grid, abr.WithWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	four, _ := Sweep(ctx, sc, grid, abr.WithWorkers(4))
	var parts []*abr.Table
	for i := 0; i < 3; i++ {
		p, err := Sweep(ctx, sc, grid, abr.WithWorkers(2), abr.WithShard(i, 3))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	merged, err := abr.MergeTables(parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Rows) != 4 || fmt.Sprint(one.Rows) != fmt.Sprint(four.Rows) || fmt.Sprint(one.Rows) != fmt.Sprint(merged.Rows) {
		t.Fatalf("tables differ:\n%v\n%v\n%v", one.Rows, four.Rows, merged.Rows)
	}
	if _, err := Sweep(ctx, sc, []Axis{{Field: "audience.nobody", Values: []string{"1"}}}); err == nil {
		t.Error("a bad grid field ran")
	}
}
