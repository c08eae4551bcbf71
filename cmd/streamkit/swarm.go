package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"github.com/streamkit-go/streamkit/swarm"
)

func init() { registerAs("swarm", newSwarmCmd) }

func newSwarmCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "swarm",
		Short: "Simulate P2P-assisted delivery: a CDN, a swarm of players, p2p-media-loader's scheduler",
		Long: `Simulate a live or VOD audience whose players fetch segments from a CDN and from
each other, with p2p-media-loader 2.x's scheduler (or cdn-only), each player
running a real abr algorithm over its own throughput trace.

  streamkit swarm run --config SCENARIO.json      one run: offload, CDN egress, QoE
  streamkit swarm sweep --config … --grid f=a,b   a grid of runs (sharded with --shard)
  streamkit swarm merge --out all.csv part*.csv   join sharded sweep outputs

Scenario files: testdata/swarm/*.json; fields in 'go doc ./swarm Scenario'.`,
	}
	cmd.AddCommand(newSwarmRunCmd(), newSwarmSweepCmd(), newSwarmMergeCmd())
	return cmd
}

// swarmScenario loads --config and applies --set and the shortcut flags.
func swarmScenario(path string, sets []string, seed int64, peers int, preset string) (*swarm.Scenario, error) {
	if path == "" {
		return nil, fmt.Errorf("swarm: --config is required")
	}
	sc, err := swarm.LoadScenario(path)
	if err != nil {
		return nil, err
	}
	if seed >= 0 {
		sets = append(sets, "seed="+strconv.FormatInt(seed, 10))
	}
	if peers > 0 {
		sets = append(sets, "audience.peers="+strconv.Itoa(peers))
	}
	if preset != "" {
		sets = append(sets, "scheduler.preset="+preset)
	}
	for _, kv := range sets {
		f, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("swarm: --set %q: want field=value", kv)
		}
		if err := sc.Set(f, v); err != nil {
			return nil, err
		}
	}
	return sc, sc.Validate()
}

func newSwarmRunCmd() *cobra.Command {
	var (
		config, out, svg, preset string
		sets                     []string
		seed                     int64
		peers                    int
	)
	cmd := &cobra.Command{
		Use:   "run --config SCENARIO.json",
		Short: "Run one scenario and print offload, CDN egress, cost and QoE",
		Long: `Run one scenario. Flags override the file's fields: --set takes any field by
its JSON path (repeatable), --seed, --peers and --preset are shortcuts.
--out writes the whole result as JSON (.json) or the time series as CSV
(.csv) or JSON lines (.jsonl); --svg draws the time series. The same
scenario and seed give the same result, bit for bit.`,
		Example: `  streamkit swarm run --config testdata/swarm/football-final.json --peers 2000 --svg final.svg
  streamkit swarm run --config testdata/swarm/football-final.json --set stream.hold_back_s=12 --set tracker.neighbours=30
  streamkit swarm run --config testdata/swarm/mobile-heavy.json --preset cdn-only --out series.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := swarmScenario(config, sets, seed, peers, preset)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			r, err := swarm.Run(ctx, sc)
			if err != nil {
				return err
			}
			if out != "" {
				if err := atomicfile.Write(out, func(f *os.File) error {
					switch {
					case strings.HasSuffix(out, ".csv"):
						return r.WriteSeriesCSV(f)
					case strings.HasSuffix(out, ".jsonl"):
						return r.WriteSeriesJSONL(f)
					}
					return r.WriteJSON(f)
				}); err != nil {
					return err
				}
			}
			if svg != "" {
				if err := atomicfile.Write(svg, func(f *os.File) error { return r.WriteSVG(f, sc.Name) }); err != nil {
					return err
				}
			}
			return swarmPrint(cmd.OutOrStdout(), sc, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "scenario file (JSON, strict)")
	f.StringArrayVar(&sets, "set", nil, "override a field, e.g. audience.peers=5000 (repeatable)")
	f.Int64Var(&seed, "seed", -1, "random seed (overrides the file's)")
	f.IntVar(&peers, "peers", 0, "viewers arriving (audience.peers)")
	f.StringVar(&preset, "preset", "", "scheduler: p2pml or cdn-only")
	f.StringVar(&out, "out", "", "write the result: .json (everything), .csv or .jsonl (time series)")
	f.StringVar(&svg, "svg", "", "write the time series as SVG")
	return cmd
}

func swarmPrint(w io.Writer, sc *swarm.Scenario, r *swarm.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", sc.Name)
	fmt.Fprintf(tw, "viewers\t%d (peak %d at once)\n", r.Peers, r.PeakConcurrent)
	fmt.Fprintf(tw, "offload\t%.1f %% (%.1f GB from peers, %.1f GB from the CDN)\n", 100*r.Offload, r.PeerBytes/1e9, r.CDNBytes/1e9)
	fmt.Fprintf(tw, "CDN egress peak\t%.2f Gbit/s (%.0f s over capacity)\n", r.CDNPeakGbps, r.CDNOverCapS)
	fmt.Fprintf(tw, "CDN cost\t$%.2f (cdn-only: $%.2f)\n", r.CostUSD, r.CostCDNOnlyUSD)
	fmt.Fprintf(tw, "rebuffer ratio\t%.4f %%\n", 100*r.RebufferRatio)
	fmt.Fprintf(tw, "startup\t%.2f s mean\n", r.StartupMeanS)
	if sc.Stream.Live {
		fmt.Fprintf(tw, "behind live edge\t%.1f s mean\n", r.BehindLiveMeanS)
	}
	fmt.Fprintf(tw, "mean bitrate\t%.0f kbit/s\n", r.MeanBitrateKbps)
	fmt.Fprintf(tw, "neighbours\t%.1f connected per request (%d of %d connection attempts failed NAT traversal)\n", r.NeighboursMean, r.ConnectFailures, r.ConnectAttempts)
	fmt.Fprintf(tw, "requests by rule\t%d high-demand HTTP, %d seeded HTTP, %d deadline HTTP, %d refetched, %d from peers\n",
		r.ByRule.HighDemand, r.ByRule.Seeded, r.ByRule.Deadline, r.ByRule.Refetched, r.ByRule.Peer)
	fmt.Fprintf(tw, "P2P\t%d timeouts, %d aborted for HTTP; %.2f GB duplicate, %.2f GB wasted\n", r.P2PTimeouts, r.P2PAborted, r.DuplicateBytes/1e9, r.WastedBytes/1e9)
	fmt.Fprintf(tw, "tampered segments\t%d received, %d detected, %d accepted (integrity %s)\n", r.TamperedReceived, r.TamperedDetected, r.TamperedAccepted, sc.Integrity.Mode)
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "class %s\t%d viewers, uploaded %.1f GB, received %.1f GB from peers and %.1f GB from the CDN\n", c.Name, c.Peers, c.UploadBytes/1e9, c.PeerBytes/1e9, c.CDNBytes/1e9)
	}
	fmt.Fprintf(tw, "events\t%d\n", r.Events)
	return tw.Flush()
}

func newSwarmSweepCmd() *cobra.Command {
	var (
		config, out, shard string
		sets, grid         []string
		workers            int
		seed               int64
	)
	cmd := &cobra.Command{
		Use:   "sweep --config SCENARIO.json --grid field=v1,v2 … --out F.csv",
		Short: "Run a scenario over a grid of field values, in parallel or as shards",
		Long: `Run the scenario at every point of the grid (the product of the --grid axes),
one row per point with the scalar results. The table is the same for any
--workers; --shard i/n runs points k with k mod n = i, and 'streamkit swarm
merge' joins the shards into the unsharded table. That is how a large sweep
runs as a Kubernetes Indexed Job or a Slurm array (swarm/README.md).`,
		Example: `  streamkit swarm sweep --config testdata/swarm/football-final.json --set audience.peers=2000 \
      --grid stream.hold_back_s=12,20,30,40 --grid tracker.neighbours=5,10,20 --workers 2 --out grid.csv
  streamkit swarm sweep ... --shard 3/8 --out part3.csv     # then: streamkit swarm merge --out all.csv part*.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := swarmScenario(config, sets, seed, 0, "")
			if err != nil {
				return err
			}
			var axes []swarm.Axis
			for _, g := range grid {
				ax, err := swarm.ParseAxis(g)
				if err != nil {
					return err
				}
				axes = append(axes, ax)
			}
			o := []abr.SweepOption{abr.WithWorkers(workers)}
			if shard != "" {
				i, n, err := parseShard(shard)
				if err != nil {
					return fmt.Errorf("swarm sweep: %w", err)
				}
				o = append(o, abr.WithShard(i, n))
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			t, err := swarm.Sweep(ctx, sc, axes, o...)
			if err != nil {
				return err
			}
			return abrWriteTable(cmd.OutOrStdout(), out, t)
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "scenario file (JSON, strict)")
	f.StringArrayVar(&sets, "set", nil, "override a field for every point, e.g. audience.peers=5000 (repeatable)")
	f.StringArrayVar(&grid, "grid", nil, "an axis, field=v1,v2,… (repeatable)")
	f.IntVar(&workers, "workers", 1, "points run in parallel")
	f.StringVar(&shard, "shard", "", shardFlagHelp)
	f.Int64Var(&seed, "seed", -1, "random seed (overrides the file's)")
	f.StringVar(&out, "out", "", "output file (.csv or .jsonl); stdout when empty")
	return cmd
}

func newSwarmMergeCmd() *cobra.Command {
	return newMergeCmd("Merge the CSV outputs of sharded swarm sweeps into the unsharded result")
}
