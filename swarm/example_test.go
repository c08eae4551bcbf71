package swarm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/streamkit-go/streamkit/swarm"
)

// A small live audience arriving at kick-off, first over the CDN only,
// then with p2p-media-loader's scheduler.
func Example() {
	sc := &swarm.Scenario{
		Stream:   swarm.Stream{Live: true, DurationS: 300, HoldBackS: 30},
		Audience: swarm.Audience{Peers: 200, Arrival: "flash", KickoffS: 10, SessionS: 600},
		Classes:  []swarm.Class{{Name: "cable", Share: 1, DownKbps: 30000, LatencyMs: 20, UpMedianKbps: 10000}},
	}
	for _, preset := range []string{swarm.PresetCDNOnly, swarm.PresetP2PML} {
		sc.Scheduler.Preset = preset
		r, err := swarm.Run(context.Background(), sc)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-8s offload %2.0f %%, rebuffering %.2f %%\n", preset, 100*r.Offload, 100*r.RebufferRatio)
	}
	// Output:
	// cdn-only offload  0 %, rebuffering 0.00 %
	// p2pml    offload 49 %, rebuffering 0.00 %
}
