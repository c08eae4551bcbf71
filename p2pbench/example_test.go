package p2pbench_test

import (
	"context"
	"fmt"
	"time"

	"github.com/streamkit-go/streamkit/p2pbench"
)

// Run starts the live origin, the tracker and 50 Go peers with 200 kbit/s
// uplinks on 127.0.0.1, measures the offload for 90 s, simulates the same
// scenario and prints both.
func ExampleRun() {
	r, err := p2pbench.Run(context.Background(), p2pbench.Config{Peers: 50, UplinkKbps: 200, Duration: 90 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(r)
	fmt.Printf("measured − simulated: %+.1f points\n", r.DiffPoints())
}
