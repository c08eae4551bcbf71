package latency_test

import (
	"fmt"
	"os"
	"time"

	"github.com/streamkit-go/streamkit/latency"
)

// A frame's five instants give its stage budget; Summarize averages the
// stages over frames, and the means add up to the measured total.
func ExampleSummarize() {
	capture := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	f := latency.Frame{
		Capture:   capture,
		Arrived:   capture.Add(8 * time.Millisecond),
		Published: capture.Add(120 * time.Millisecond),
		Fetched:   capture.Add(125 * time.Millisecond),
		Displayed: capture.Add(780 * time.Millisecond),
	}
	for _, st := range f.Budget().Stages() {
		fmt.Printf("%-15s %v\n", st.Name, st.D)
	}
	s := latency.Summarize([]latency.Frame{f}, 0)
	fmt.Println("total", f.Total(), "sum", s.Budget.Sum(), s.Check())
	// Output:
	// encoder+ingest  8ms
	// packaging       112ms
	// delivery        5ms
	// player buffer   655ms
	// total 780ms sum 780ms <nil>
}

// WriteTable prints the comparison of the modes Run measured.
func ExampleWriteTable() {
	c := time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)
	f := latency.Frame{Capture: c, Arrived: c.Add(10 * time.Millisecond), Published: c.Add(120 * time.Millisecond),
		Fetched: c.Add(130 * time.Millisecond), Displayed: c.Add(900 * time.Millisecond)}
	res := []latency.Result{{Mode: latency.LLHLS, Frames: []latency.Frame{f}, Summary: latency.Summarize([]latency.Frame{f}, 0),
		Stalls: 1, PlayerTarget: 1600 * time.Millisecond, Fetches: map[string]int{"part": 40, "segment": 2}}}
	latency.WriteTable(os.Stdout, res)
	// Output:
	//    mode  segment   part  frames  readable  median ms  p95 ms  mean ms  encoder+ingest  packaging  delivery  player buffer  stages sum
	//   LL-HLS       1s  200ms       1    100.0%        900     900      900              10        110        10            770         900
	// LL-HLS: stalls 1; hls.js's target latency at the end 1.6s; fetched 40 parts, 0 segments in progress (chunked), 2 complete segments
}
