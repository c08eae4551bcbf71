package swarm

import (
	"context"
	"testing"
)

func TestQuickRun(t *testing.T) {
	sc := &Scenario{Name: "q", Stream: Stream{Live: true, DurationS: 600, HoldBackS: 30}, Audience: Audience{Peers: 500, Arrival: "flash", KickoffS: 10, SessionS: 3000}}
	r, err := Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v timeouts %d aborted %d connfail %d/%d", r.ByRule, r.P2PTimeouts, r.P2PAborted, r.ConnectFailures, r.ConnectAttempts)
	t.Logf("offload %.3f peers %d peak %d rebuf %.4f bitrate %.0f behind %.1f neigh %.1f events %d", r.Offload, r.Peers, r.PeakConcurrent, r.RebufferRatio, r.MeanBitrateKbps, r.BehindLiveMeanS, r.NeighboursMean, r.Events)
}
