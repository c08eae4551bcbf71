package swarm

import (
	"context"
	"math"
	"testing"
)

// The preset's numbers are p2p-media-loader-core 2.3's
// Core.DEFAULT_STREAM_CONFIG (core.ts), one by one.
func TestP2PMLDefaults(t *testing.T) {
	d := P2PMLDefaults()
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"simultaneousHttpDownloads", float64(d.SimultaneousHTTP), 2},
		{"simultaneousP2PDownloads", float64(d.SimultaneousP2P), 3},
		{"highDemandTimeWindow", d.HighDemandS, 15},
		{"httpDownloadTimeWindow", d.HTTPWindowS, 3000},
		{"p2pDownloadTimeWindow", d.P2PWindowS, 6000},
		{"p2pNotReceivingBytesTimeoutMs", d.P2PNotReceivingMs, 2000},
		{"httpNotReceivingBytesTimeoutMs", d.HTTPNotReceivingMs, 3000},
		{"httpErrorRetries", float64(d.HTTPRetries), 3},
		{"p2pErrorRetries", float64(d.P2PRetries), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var sc Scenario
	sc.defaults()
	if sc.Scheduler != d {
		t.Errorf("a scenario's default scheduler %+v is not the preset %+v", sc.Scheduler, d)
	}
}

// isSegmentInTimeWindow: in unless position + window < startTime (the
// boundary is inside).
func TestHighDemandWindowBoundary(t *testing.T) {
	if !inTimeWindow(15, 15) || !inTimeWindow(0, 15) || inTimeWindow(15.001, 15) {
		t.Error("high-demand window boundary")
	}
}

// setIntervalLoading: random · 1000 · peers + 1000 ms.
func TestSeedingTimeout(t *testing.T) {
	if seedingTimeout(0, 10) != 1000 || seedingTimeout(0.5, 10) != 6000 || seedingTimeout(0.999, 0) != 1000 {
		t.Error("seeding timeout")
	}
}

// loadRandomThroughHttp's probability walk.
func TestSeedingPicks(t *testing.T) {
	draws := func(vals ...float64) func() float64 {
		i := 0
		return func() float64 { v := vals[i%len(vals)]; i++; return v }
	}
	// no connected peer: nothing (the function returns early)
	if n := seedingPicks(5, 0, 2, 2, draws(0)); n != 0 {
		t.Errorf("no peers: %d", n)
	}
	// 5 candidates, 1 peer: safe = min(5, 2·2) = 4, probability 4/2 = 2:
	// the first two load without a draw, then probability hits 0; the HTTP
	// slots (2) would stop it anyway
	if n := seedingPicks(5, 1, 2, 2, draws(0.99)); n != 2 {
		t.Errorf("5 candidates, 1 peer: %d, want 2", n)
	}
	// 1 candidate, 9 peers: probability 1/10: loads iff the draw ≤ 0.1
	if n := seedingPicks(1, 9, 2, 2, draws(0.1)); n != 1 {
		t.Errorf("draw 0.1 ≤ 0.1: %d", n)
	}
	if n := seedingPicks(1, 9, 2, 2, draws(0.11)); n != 0 {
		t.Errorf("draw 0.11 > 0.1: %d", n)
	}
	// 3 candidates, 1 peer, one free slot: probability 1.5 → first loads,
	// then the slot is full
	if n := seedingPicks(3, 1, 2, 1, draws(0)); n != 1 {
		t.Errorf("one free slot: %d", n)
	}
	// 3 candidates, 3 peers: probability 0.75: a draw per candidate until
	// it drops to ≤ 0 after one step
	if n := seedingPicks(3, 3, 2, 2, draws(0.5)); n != 1 {
		t.Errorf("3 candidates 3 peers: %d", n)
	}
	// frequency: 1 candidate among 19 peers loads 1/20 of the time
	hits := 0
	for i := 0; i < 20000; i++ {
		u := (float64(i) + 0.5) / 20000
		hits += seedingPicks(1, 19, 2, 2, draws(u))
	}
	if hits != 1000 {
		t.Errorf("%d of 20000 uniform draws load, want 1000", hits)
	}
}

// downloadSegment's weighted choice with the 10 % floor.
func TestChoosePeer(t *testing.T) {
	if choosePeer([]float64{5}, 0.9) != 0 {
		t.Error("one peer")
	}
	// nobody measured: uniform
	if choosePeer([]float64{0, 0, 0, 0}, 0.6) != 2 {
		t.Error("uniform among unmeasured")
	}
	// one proven peer at 1000, one unproven: base 100, weights 1000 : 100
	bw := []float64{1000, 0}
	if choosePeer(bw, 1000.0/1100-1e-9) != 0 || choosePeer(bw, 1000.0/1100+1e-9) != 1 {
		t.Error("10 % floor")
	}
	// twenty unproven peers would outweigh the proven one (20·100 > 1000):
	// their weight drops to 1000/20 = 50 each, so the proven peer keeps half
	bw = make([]float64, 21)
	bw[0] = 1000
	if choosePeer(bw, 0.5-1e-9) != 0 || choosePeer(bw, 0.5+1e-9) == 0 {
		t.Error("adjusted base speed")
	}
	// a slow measured peer (≤ 10 % of the fastest) counts as unproven
	bw = []float64{1000, 50}
	if choosePeer(bw, 1000.0/1100+1e-9) != 1 {
		t.Error("slow peer floored at 100")
	}
	// the floor never drops below 1 (max(1, 0.1·max))
	bw = []float64{5, 0}
	if choosePeer(bw, 5.0/6-1e-9) != 0 || choosePeer(bw, 5.0/6+1e-9) != 1 {
		t.Error("floor of 1")
	}
}

func rulesScenario() *Scenario {
	return &Scenario{
		Stream:   Stream{Live: true, DurationS: 240, HoldBackS: 30},
		Audience: Audience{Peers: 120, Arrival: "flash", KickoffS: 2, BurstS: 20, SessionS: 600},
		Classes:  []Class{{Name: "cable", Share: 1, DownKbps: 40000, LatencyMs: 20, UpMedianKbps: 20000}},
	}
}

// Rule 1: with a hold-back inside the high-demand window every request is
// high-demand, so everything comes over HTTP, as p2p-media-loader does
// with hls.js's default live sync (3 segments).
func TestRuleHighDemandIsHTTP(t *testing.T) {
	sc := rulesScenario()
	sc.Stream.HoldBackS = 12
	r, err := Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Offload != 0 || r.ByRule.Peer != 0 || r.ByRule.HighDemand == 0 {
		t.Errorf("hold-back 12 s: offload %v, %+v", r.Offload, r.ByRule)
	}
	sc.Stream.HoldBackS = 30
	r, _ = Run(context.Background(), sc)
	if !(r.Offload > 0.3) {
		t.Errorf("hold-back 30 s: offload %v, %+v", r.Offload, r.ByRule)
	}
	// a wider high-demand window takes it back
	sc.Scheduler.HighDemandS = 40
	r, _ = Run(context.Background(), sc)
	if r.Offload != 0 {
		t.Errorf("high-demand window 40 s over a 30 s hold-back: offload %v", r.Offload)
	}
}

// Rule 3: without the seeding timer every segment waits for its deadline
// in the first neighbourhoods to need it; with it, some are seeded.
func TestRuleSeedingTimer(t *testing.T) {
	sc := rulesScenario()
	r, _ := Run(context.Background(), sc)
	if r.ByRule.Seeded == 0 {
		t.Fatalf("no seeding: %+v", r.ByRule)
	}
	sc.Scheduler.DisableRandomHTTP = true
	r2, _ := Run(context.Background(), sc)
	if r2.ByRule.Seeded != 0 || !(r2.ByRule.Deadline > r.ByRule.Deadline) {
		t.Errorf("seeding off: %+v (on: %+v)", r2.ByRule, r.ByRule)
	}
}

// Rule 5: uplinks slower than one 64 KiB message per 2 s time out.
func TestRuleNotReceivingBytesTimeout(t *testing.T) {
	sc := rulesScenario()
	sc.Stream.LadderKbps = []float64{300} // 600 kbit segments: 3 s at 200 kbit/s
	sc.Classes[0].UpMedianKbps = 200      // < 8·65535 bits / 2 s = 262 kbit/s
	r, _ := Run(context.Background(), sc)
	if r.P2PTimeouts == 0 || r.ByRule.Peer != 0 {
		t.Errorf("200 kbit/s uplinks: %d timeouts, %d peer segments", r.P2PTimeouts, r.ByRule.Peer)
	}
	// a segment smaller than one message is one message: 200 kbit at
	// 200 kbit/s arrives whole after 1 s, within the 2 s
	small := rulesScenario()
	small.Stream.LadderKbps = []float64{100}
	small.Classes[0].UpMedianKbps = 200
	if rs, _ := Run(context.Background(), small); rs.ByRule.Peer == 0 {
		t.Errorf("200 kbit segments at 200 kbit/s: no peer segment (%d timeouts, %+v)", rs.P2PTimeouts, rs.ByRule)
	}
	sc.Scheduler.P2PNotReceivingMs = 20000 // 26 kbit/s suffices
	r, _ = Run(context.Background(), sc)
	if r.ByRule.Peer == 0 {
		t.Errorf("20 s timeout: no peer segment (%+v)", r.ByRule)
	}
}

// Rule 6: P2P downloads still running when the segment becomes high-demand
// are aborted (their bytes wasted) for HTTP.
func TestRuleAbortForHTTP(t *testing.T) {
	sc := rulesScenario()
	sc.Classes[0].UpMedianKbps = 2000 // 6 Mbit/s segments take 3 s and queue
	r, _ := Run(context.Background(), sc)
	if r.P2PAborted == 0 || r.WastedBytes == 0 {
		t.Errorf("slow uplinks: %d aborted, %v wasted bytes", r.P2PAborted, r.WastedBytes)
	}
}

// Rule 7: a failed validation drops the connection (fewer neighbours) and
// refetches over HTTP.
func TestRuleValidationDropsPeer(t *testing.T) {
	sc := rulesScenario()
	sc.Integrity = Integrity{Mode: IntegritySigned, TamperShare: 0.2}
	r, _ := Run(context.Background(), sc)
	sc.Integrity.TamperShare = 0
	clean, _ := Run(context.Background(), sc)
	if r.ByRule.Refetched != r.TamperedDetected || r.TamperedDetected == 0 {
		t.Errorf("refetched %d, detected %d", r.ByRule.Refetched, r.TamperedDetected)
	}
	if !(r.NeighboursMean < clean.NeighboursMean) {
		t.Errorf("dropping tampering peers should thin the neighbourhood: %v vs %v", r.NeighboursMean, clean.NeighboursMean)
	}
	if math.IsNaN(r.Offload) {
		t.Error("NaN offload")
	}
}

// One swarm per rendition: peers on another rendition are no sources.
func TestRuleSwarmPerRendition(t *testing.T) {
	sc := rulesScenario()
	sc.Stream.LadderKbps = []float64{1000, 1001} // the ABR picks the top one; force a split by hand below
	r, _ := Run(context.Background(), sc)
	if r.Offload == 0 {
		t.Fatal("no offload")
	}
	// holders of another quality never serve: with each peer on its own
	// rendition no one could; check holders directly
	s := &sim{sc: *sc}
	s.sc.defaults()
	s.w, s.live = 8, false
	s.classes = []classRT{{Class: s.sc.Classes[0]}}
	s.n = 2
	s.peers = []peer{{alive: true, swarm: 0, leave: math.Inf(1)}, {alive: true, swarm: 1, leave: math.Inf(1)}}
	s.initHot(2)
	for id := int32(0); id < 2; id++ {
		s.ph = append(s.ph, peerHot{leave: math.Inf(1), rb: -1})
		s.allocRing(id)
		setBit(s.aliveB, id)
	}
	s.put(1, 3, 1, false, 0, 10)
	s.peers[0].nb = []neighbour{{j: 1}}
	if have, _ := s.holders(0, 3, 0, 0); !math.IsInf(have, 1) {
		t.Errorf("a quality-1 holder serves quality 0 at %v", have)
	}
	if have, _ := s.holders(0, 3, 1, 0); !(have >= 10) || math.IsInf(have, 1) {
		t.Errorf("the quality-1 holder: %v", have)
	}
}
