package manifest_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/manifest"
	"github.com/streamkit-go/streamkit/media"
	_ "github.com/streamkit-go/streamkit/mp4" // media.Open reads MP4
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/segment"
)

// packageSample cuts the embedded sample ladder into CMAF segments of
// about target in dir, as `streamkit package` does.
func packageSample(dir string, target time.Duration) (*segment.Presentation, error) {
	var inputs []segment.Input
	for _, name := range append(sample.Videos(), sample.Audio) {
		r, size, err := sample.Open(name)
		if err != nil {
			return nil, err
		}
		d, err := media.Open(r, size)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, segment.Input{Name: name, Demuxer: d})
	}
	return segment.Cut(context.Background(), dir, inputs, segment.WithTargetDuration(target))
}

// Simulate players on a packaged presentation: one call loads master.m3u8
// (and the sizes of the segments it points at) as the simulator's input.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "manifest-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p, err := packageSample(dir, 2*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	master, err := hls.Write(dir, p) // what `streamkit package` writes
	if err != nil {
		log.Fatal(err)
	}

	m, err := manifest.Load(master)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d segments of %.0f s, %d levels\n", filepath.Base(master), m.NumSegments(), m.SegmentDuration()/1000, len(m.Bitrates()))

	alg, err := abr.New("bola")
	if err != nil {
		log.Fatal(err)
	}
	trace := &abr.Trace{Name: "fast", Periods: []abr.Period{{DurationMs: 1000, Kbps: 5000, LatencyMs: 20}}}
	var levels []int
	s, err := abr.NewSession(m, trace, alg, abr.WithOnSegment(func(r *abr.SegmentRecord) { levels = append(levels, r.Quality) }))
	if err != nil {
		log.Fatal(err)
	}
	met, err := s.Run()
	if err != nil {
		log.Fatal(err)
	}
	// BOLA decides from the buffer: it starts low and climbs as it fills.
	fmt.Printf("bola over 5 Mbit/s: levels %v, %d stalls\n", levels, met.RebufferEvents)
	// Output:
	// master.m3u8: 4 segments of 2 s, 3 levels
	// bola over 5 Mbit/s: levels [0 0 2 2], 0 stalls
}
