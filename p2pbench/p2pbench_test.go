package p2pbench

import (
	"context"
	"errors"
	"math"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/netns"
	"github.com/streamkit-go/streamkit/internal/testtool"
)

// TestCompareSmall runs the real swarm and the simulator on a small
// scenario (10 peers, 20 s, 2 s of the window skipped) and checks that
// both figures are computed and sane; the difference is reported, not
// asserted (BENCHMARKS.md has the full runs and their explanation).
// STREAMKIT_P2PBENCH_PEERS, _UPLINK and _SECONDS change the scenario.
func TestCompareSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real swarm for 16 s")
	}
	if !netns.Enter(t) {
		return
	}
	cfg := Config{Peers: 10, UplinkKbps: 2000, Duration: 16 * time.Second, Warmup: 6 * time.Second, JoinOver: 3 * time.Second}
	env := func(name string, p *float64) {
		if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
			*p = v
		}
	}
	n, secs := float64(cfg.Peers), cfg.Duration.Seconds()
	env("STREAMKIT_P2PBENCH_PEERS", &n)
	env("STREAMKIT_P2PBENCH_UPLINK", &cfg.UplinkKbps)
	env("STREAMKIT_P2PBENCH_SECONDS", &secs)
	if cfg.Peers = int(n); secs != cfg.Duration.Seconds() {
		cfg.Duration, cfg.Warmup = time.Duration(secs*float64(time.Second)), time.Duration(secs/3*float64(time.Second))
	}
	cfg.Logf = t.Logf
	before := runtime.NumGoroutine()
	defer testtool.CheckGoroutines(t, before)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Duration+2*time.Minute)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", r)
	m := r.Measured
	if m.HTTPBytes+m.P2PBytes == 0 {
		t.Fatalf("the players got nothing in the window: %+v", m)
	}
	if !(m.Offload > 0) || m.Offload > 1 {
		t.Errorf("measured offload %v: want in (0, 1] (the peers exchanged nothing?)", m.Offload)
	}
	if m.LinksMean <= 0 || m.FirstLinkMedianS < 0 {
		t.Errorf("peers did not connect: %.1f links a peer, first link after %.1f s", m.LinksMean, m.FirstLinkMedianS)
	}
	if len(m.SegmentBytes) == 0 || !(m.BitrateKbps > 0) || !(m.SegmentS > 0) {
		t.Errorf("rendition not measured: %d segments, %v kbit/s, %v s", len(m.SegmentBytes), m.BitrateKbps, m.SegmentS)
	}
	for name, s := range map[string]*Simulated{"simulated": r.Simulated, "simulated with measured discovery": r.SimulatedDiscovery, "simulated, latest deadline": r.SimulatedPatient} {
		if s == nil || s.Result == nil || math.IsNaN(s.Offload) || s.Offload < 0 || s.Offload > 1 {
			t.Errorf("%s offload missing or outside [0, 1]: %+v", name, s)
			continue
		}
		// (N−1)/N bounds any swarm; U/D a shaped one
		if bound := float64(cfg.Peers-1) / float64(cfg.Peers); s.OffloadAll > bound+1e-9 {
			t.Errorf("%s offload %.3f over the (N−1)/N bound %.3f", name, s.OffloadAll, bound)
		}
	}
}

func TestConfigRefused(t *testing.T) {
	for _, c := range []Config{
		{Peers: -1}, {Peers: 1001}, {UplinkKbps: -5}, {UplinkKbps: math.NaN()}, {Duration: time.Second},
		{Duration: 10 * time.Second, Warmup: 10 * time.Second}, {Duration: 10 * time.Second, JoinOver: 11 * time.Second},
		{Announce: time.Millisecond},
	} {
		if _, err := Measure(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: error %v, want ErrConfig", c, err)
		}
	}
}
