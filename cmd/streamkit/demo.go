package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/manifest"
	"github.com/streamkit-go/streamkit/probe"
	"github.com/streamkit-go/streamkit/sample"
)

func init() { registerAs("demo", newDemoCmd) }

// newDemoCmd builds the demo command; its flags are locals of this call.
func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Tour streamkit on the sample embedded in the binary",
		Long: `demo runs the main jobs on the small ladder embedded in the binary:
it probes one rendition (what ffprobe would say), reports its GOP structure,
packages the whole ladder into HLS and DASH from one set of CMAF segments,
simulates ABR players on that packaged ladder over a throughput trace that
collapses mid-session, plays the ladder as a Low-Latency HLS live stream
(parts, a blocking playlist reload), and compares ABR algorithms over real
3G/4G traces.`,
		Example: "  streamkit demo",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout())
		},
	}
	return cmd
}

func runDemo(ctx context.Context, w io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	name := sample.Video360
	r, size, err := sample.Open(name)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "== 1. probe %s (like ffprobe -show_format -show_streams)\n\n", name)
	res, err := probe.Reader(ctx, r, size, name)
	if err != nil {
		return err
	}
	if err := res.WriteText(w); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n== 2. GOP structure of %s (from the bitstream, no decoding)\n\n", name)
	summary, err := demoGOPSummary(ctx, r, size)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, summary)

	dir, err := os.MkdirTemp("", "streamkit-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "ladder")
	fmt.Fprintf(w, "\n== 3. package the ladder (%s) into HLS and DASH\n\n", strings.Join(sample.Names(), ", "))
	p, err := packageSample(ctx, out, packageOptions{Segment: 2 * time.Second})
	if err != nil {
		return err
	}
	for _, f := range []string{p.Multivariant, p.MPD} {
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(w, "wrote %s\n", rel)
	}
	man, err := manifest.Load(p.Multivariant)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "the ABR simulator reads it back: %d segments of %.1f s, bitrates %v kbit/s\n",
		man.NumSegments(), man.SegmentDuration()/1000, roundAll(man.Bitrates()))

	fmt.Fprintf(w, "\n== 4. ABR on the packaged ladder: 3 Mbit/s for 4 s, then 300 kbit/s\n\n")
	trace, err := abr.ReadCSVTrace(strings.NewReader("time_s,kbps\n0,3000\n4,300\n8,300\n"), "collapse", 20)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-12s %12s %14s %10s\n", "algorithm", "rebuffer s", "avg kbit/s", "switches")
	for _, name := range []string{"throughput", "bola", "dynamic"} {
		alg, err := abr.New(name)
		if err != nil {
			return err
		}
		s, err := abr.NewSession(man, trace, alg, abr.WithPlayerDefaults(), abr.WithBuffer(8000))
		if err != nil {
			return err
		}
		m, err := s.Run()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-12s %12.3f %14.1f %10d\n", name, m.RebufferMs/1000, m.TimeAverageBitrate, m.Switches)
	}

	fmt.Fprintf(w, "\n== 5. the ladder live: Low-Latency HLS parts and a blocking reload\n\n")
	if err := demoLive(w); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n== 6. ABR algorithms over throughput traces (Sabre model)\n\n")
	return compareDemo(w)
}

func roundAll(v []float64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x + 0.5)
	}
	return out
}
