package main

import (
	"context"
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/abr"
)

type abrSweepFlags struct {
	model, traces, args, videoSizes, algos, out, svg, shard, qoe string
	grid                                                         []string
	workers                                                      int
	quiet                                                        bool
}

func newAbrSweepCmd() *cobra.Command {
	var abrSweepF abrSweepFlags
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Run traces × algorithms × parameters in parallel and summarise",
		Long: `Run a simulator over every trace of a directory (or glob), for each algorithm
and each point of a parameter grid, on --workers parallel sessions. Results are
the same whatever --workers is; --shard i/n runs a deterministic part that
'streamkit abr merge' puts back together. On a batch system, --shard auto
takes i from the Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or Slurm job
array (SLURM_ARRAY_TASK_ID) and n from STREAMKIT_SHARDS or
SLURM_ARRAY_TASK_COUNT (see examples/abr-sweep-batch).

Sabre model: one row per trace (and algorithm/grid point when --algos/--grid
are given) with a column per Sabre metric, named as Sabre prints it. The
movie (-m in --args) may also be a packaged .m3u8 or .mpd, as for 'abr run'.
Pensieve model: columns trace,algo,qoe_sum,avg_bitrate_kbps,rebuf_s over
chunks 1..47, algorithm state fresh for every trace.`,
		Example: `  streamkit abr sweep --model sabre --traces ../shared/abr/sabre/4Glogs \
      --args "-m ../shared/abr/sabre/bbb4k.json -b 25 -a bola" --workers 2 --out 4g.csv
  streamkit abr sweep --model sabre --traces ../shared/abr/sabre/4Glogs \
      --args "-m ../shared/abr/sabre/bbb4k.json" --algos bola,bolae,throughput --grid -b=10,25 --out grid.csv --svg qoe.svg
  streamkit abr sweep --model pensieve --traces ../shared/abr/pensieve/cooked_3gp \
      --video-sizes ../shared/abr/pensieve/video_sizes --algos bb,robustmpc --out pensieve.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return abrRunSweep(cmd, &abrSweepF) },
	}
	f := cmd.Flags()
	f.StringVar(&abrSweepF.model, "model", "sabre", "simulator model: sabre or pensieve")
	f.StringVar(&abrSweepF.traces, "traces", "", "trace directory or glob (required)")
	f.StringVar(&abrSweepF.args, "args", "", "Sabre options other than -n, e.g. \"-m bbb.json -b 25 -a bola\", split and quoted as a shell would (sabre model)")
	f.StringVar(&abrSweepF.videoSizes, "video-sizes", "", "directory of video_size_N files (pensieve model)")
	f.StringVar(&abrSweepF.algos, "algos", "", "comma-separated algorithms (pensieve: bb,robustmpc; sabre: overrides -a)")
	f.StringArrayVar(&abrSweepF.grid, "grid", nil, "sabre parameter axis, e.g. -b=10,25 (repeatable)")
	f.StringVar(&abrSweepF.qoe, "qoe", "linear", "pensieve QoE: linear, log or hd")
	f.IntVar(&abrSweepF.workers, "workers", 1, "parallel sessions")
	f.StringVar(&abrSweepF.shard, "shard", "", shardFlagHelp)
	f.StringVar(&abrSweepF.out, "out", "", "output file (.csv or .jsonl); stdout when empty")
	f.StringVar(&abrSweepF.svg, "svg", "", "write the per-algorithm CDF of the main QoE metric as SVG")
	f.BoolVar(&abrSweepF.quiet, "quiet", false, "no summary table")
	return cmd
}

func newAbrMergeCmd() *cobra.Command {
	return newMergeCmd("Merge the CSV outputs of sharded sweeps into the unsharded result")
}

// newMergeCmd builds a "merge" command (abr's and swarm's: one merge).
func newMergeCmd(short string) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge --out F.csv PART.csv...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return mergeTableFiles(cmd.OutOrStdout(), out, args)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file (.csv or .jsonl); stdout when empty")
	return cmd
}

// parseShard parses --shard i/n, auto/n or auto (abr.ParseShard: the index
// from a Kubernetes Indexed Job's or a Slurm job array's environment).
func parseShard(s string) (i, n int, err error) { return abr.ParseShard(s, os.Getenv) }

// shardFlagHelp is the --shard help of the sweeps.
const shardFlagHelp = "run only shard i of n: i/n (0-based), or auto/n or auto, the index from $JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or $SLURM_ARRAY_TASK_ID (Slurm array), the count from $STREAMKIT_SHARDS or $SLURM_ARRAY_TASK_COUNT"

// mergeTableFiles merges the CSV tables of sharded sweeps (abr's and
// swarm's) into out.
func mergeTableFiles(stdout io.Writer, out string, paths []string) error {
	var parts []*abr.Table
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		t, err := abr.ReadTableCSV(f, p)
		f.Close()
		if err != nil {
			return err
		}
		parts = append(parts, t)
	}
	t, err := abr.MergeTables(parts)
	if err != nil {
		return err
	}
	return abrWriteTable(stdout, out, t)
}

func abrRunSweep(cmd *cobra.Command, sf *abrSweepFlags) error {
	if sf.traces == "" {
		return fmt.Errorf("sweep: --traces is required")
	}
	files, err := abr.TraceFiles(sf.traces)
	if err != nil {
		return err
	}
	o := []abr.SweepOption{abr.WithWorkers(sf.workers)}
	shard, shards := 0, 0
	if sf.shard != "" {
		if shard, shards, err = parseShard(sf.shard); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		o = append(o, abr.WithShard(shard, shards))
	}
	var algos []string
	for _, a := range strings.Split(sf.algos, ",") {
		if a = strings.TrimSpace(a); a != "" {
			algos = append(algos, a)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if abrIsTTY(os.Stderr) {
		n := len(files)
		if shards > 1 {
			n = (len(files) - shard + shards - 1) / shards
		}
		bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("traces"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		o = append(o, abr.WithSweepProgress(func(done, total int) { bar.Set(done) }))
		defer bar.Finish()
	}
	var t *abr.Table
	var metrics []string
	var cdfMetric string
	switch sf.model {
	case "sabre":
		var grid []abr.GridAxis
		for _, g := range sf.grid {
			ax, err := abr.ParseGrid(g)
			if err != nil {
				return err
			}
			grid = append(grid, ax)
		}
		sabreArgs, aerr := splitArgs(sf.args)
		if aerr != nil {
			return fmt.Errorf("sweep: --args: %w", aerr)
		}
		t, err = abr.SweepSabre(ctx, sabreArgs, files, algos, grid, o...)
		metrics = []string{"time average played bitrate", "rebuffer ratio", "total bitrate change", "time average score"}
		cdfMetric = "time average score"
	case "pensieve":
		if sf.videoSizes == "" {
			return fmt.Errorf("sweep: --video-sizes is required with --model pensieve")
		}
		if len(algos) == 0 {
			algos = []string{"bb", "robustmpc"}
		}
		vs, err2 := abr.LoadVideoSizes(sf.videoSizes, nil)
		if err2 != nil {
			return err2
		}
		q, err2 := abr.ParseQoE(sf.qoe)
		if err2 != nil {
			return err2
		}
		t, err = abr.SweepPensieve(ctx, files, vs, algos, q, o...)
		metrics = []string{"qoe_sum", "avg_bitrate_kbps", "rebuf_s"}
		cdfMetric = "qoe_sum"
	default:
		return fmt.Errorf("sweep: unknown --model %q (want sabre or pensieve)", sf.model)
	}
	if err != nil {
		return err
	}
	if err := abrWriteTable(cmd.OutOrStdout(), sf.out, t); err != nil {
		return err
	}
	if sf.svg != "" {
		if err := atomicfile.Write(sf.svg, func(f *os.File) error {
			return abr.WriteCDFSVG(f, fmt.Sprintf("%s over %d traces (%s)", cdfMetric, len(files), filepath.Base(sf.traces)), cdfMetric, t.Column(cdfMetric))
		}); err != nil {
			return err
		}
	}
	if !sf.quiet && sf.out != "" {
		return abr.WriteSummary(cmd.OutOrStdout(), t.Summarize(metrics))
	}
	return nil
}

func abrWriteTable(stdout io.Writer, path string, t *abr.Table) error {
	write := func(w io.Writer) error {
		if strings.HasSuffix(path, ".jsonl") {
			return t.WriteJSONL(w)
		}
		return t.WriteCSV(w)
	}
	if path == "" || path == "-" {
		return write(stdout)
	}
	return atomicfile.Write(path, func(f *os.File) error { return write(f) })
}

func abrIsTTY(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// splitArgs splits --args the way a POSIX shell splits words, so that the
// Sabre command line a script already has can be pasted in as it is,
// including quoted paths with spaces: 'single quotes' keep everything,
// "double quotes" honour \" \\ \$ and \` escapes, and a backslash outside
// quotes escapes the next character. (No expansion of variables or globs.)
func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("trailing backslash at byte %d", i)
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' quote at byte %d", i)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			start := i
			for i++; ; i++ {
				if i == len(s) {
					return nil, fmt.Errorf("unterminated \" quote at byte %d", start)
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
