package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
)

func init() { registerAs("playtest", newPlaytestCmd) }

func newPlaytestCmd() *cobra.Command {
	var player, src, shapeFile, playerJS, jsonOut, svgOut string
	var seed uint64
	var compareSim bool
	var calibrate, realFrom string
	var duration time.Duration
	var runs int
	var simProcessing, simAlign bool
	cmd := &cobra.Command{
		Use:   "playtest DIR [--player hlsjs|dashjs] [--shape SCENARIO [--seed N] [--compare-sim]] [--duration 30s] [--json FILE] [--svg FILE] | playtest DIR --calibrate SETDIR",
		Short: "Play a packaged stream in headless Chromium with hls.js or dash.js and record QoE",
		Long: `playtest serves DIR on 127.0.0.1 (through the --shape scenario when given),
plays it in headless Chromium with hls.js or dash.js, and reports what the
viewer got: startup time, stalls (count and duration), the played bitrate
timeline and its switches, the time-weighted mean played bitrate, dropped
frames, live latency and the player's errors. --json writes the whole
record, with the player state every half second; --svg draws it as a
timeline like 'streamkit abr run --svg'.

Chromium comes from $` + playtest.EnvChromium + ` or PATH (Debian: apt-get install
chromium); the player libraries from the cache 'streamkit serve' uses:

  npm install --prefix ~/.cache/streamkit/playerjs hls.js@1.7.4 dashjs@5.2.1

The scenario's timeline starts with the player's first manifest request; the
page and the player libraries are not shaped. The run ends when playback
ends, fails, or --duration passes.

--compare-sim also runs the simulator's preset of the player ('abr run --algo
hlsjs|dashjs') over the same scenario, the same ladder and the same segment
sizes (video plus the audio fetched beside it), with the player's own buffer
targets and playback starting after the first segment, and prints the
simulator's prediction beside what the player did: mean played bitrate, stall
time, switch count (goals: within 10 %, 1 s, 2), stall count and startup.
Jitter, loss and faults reach only the real player; they are named when a
scenario has them.

--calibrate SETDIR runs every *.json scenario of SETDIR with hls.js and then
dash.js, compares each run with its preset, and ends with the "presets vs
real players" table in Markdown (the calibration set and the ladder it is
made for: playtest/testdata/calibration). With --real FILE (the --json of an
earlier --calibrate run) the recorded real runs are compared with the presets
as they are now, without a browser.`,
		Example: `  streamkit package -o out
  streamkit playtest out --player hlsjs --shape testdata/shape/outage.json --json qoe.json --svg qoe.svg
  streamkit playtest out --player dashjs --shape testdata/shape/bandwidth-drop.json --duration 60s
  streamkit playtest out --player hlsjs --shape testdata/shape/outage.json --compare-sim --duration 60s
  playtest/testdata/calibration/gen.sh /tmp/cal && streamkit playtest /tmp/cal --calibrate playtest/testdata/calibration`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if player != "hlsjs" && player != "dashjs" {
				return fmt.Errorf("playtest: --player must be hlsjs or dashjs, got %q", player)
			}
			if fi, err := os.Stat(args[0]); err != nil {
				return err
			} else if !fi.IsDir() {
				return fmt.Errorf("playtest: %s is not a directory", args[0])
			}
			if compareSim && shapeFile == "" {
				return errors.New("playtest: --compare-sim needs --shape (an unshaped loopback link has no rate to simulate)")
			}
			if calibrate != "" && (shapeFile != "" || src != "") {
				return errors.New("playtest: --calibrate runs every scenario of its set with both players; leave out --shape and --src")
			}
			if _, err := playtest.FindChromium(); err != nil {
				return err
			}
			var opts []serve.Option
			if playerJS != "" {
				opts = append(opts, serve.WithPlayerJS(playerJS))
			}
			files, err := serve.Handler(args[0], opts...)
			if err != nil {
				return err // without hls.js/dash.js there is nothing to play with
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			out := cmd.OutOrStdout()
			pt := playtestRun{dir: args[0], files: files, seed: seed, duration: duration, out: out, processing: simProcessing, align: simAlign}
			if calibrate != "" {
				if !cmd.Flags().Changed("duration") {
					pt.duration = 120 * time.Second // each run ends when playback does
				}
				if cmd.Flags().Changed("player") {
					pt.only = player
				}
				if runs < 1 || runs > 20 {
					return fmt.Errorf("playtest: --runs must be 1 to 20, got %d", runs)
				}
				return pt.calibrate(ctx, calibrate, jsonOut, realFrom, runs)
			}
			res, cmp, err := pt.run(ctx, player, src, shapeFile, compareSim)
			if err != nil {
				return err
			}
			if svgOut != "" {
				if err := atomicfile.Write(svgOut, func(f *os.File) error { return res.WriteSVG(f) }); err != nil {
					return err
				}
			}
			if jsonOut != "" {
				var v any = res
				if cmp != nil {
					v = cmp
				}
				if err := writeJSON(out, jsonOut, v); err != nil {
					return err
				}
			}
			if len(res.Fatal) > 0 {
				return errors.New("playtest: the player failed: " + res.Fatal[0])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&player, "player", "hlsjs", "player: hlsjs or dashjs")
	f.StringVar(&src, "src", "", "manifest path on the server (default /master.m3u8, or /manifest.mpd for dashjs)")
	f.StringVar(&shapeFile, "shape", "", "shaping scenario JSON (see testdata/shape) or a trace file abr reads")
	f.Uint64Var(&seed, "seed", 1, "seed of the shaper's random draws")
	f.DurationVar(&duration, "duration", 30*time.Second, "watch at most this long")
	f.StringVar(&playerJS, "player-js", "", "directory with the hls.js and dashjs npm packages")
	f.StringVar(&jsonOut, "json", "", "write the QoE record as JSON to FILE (- for stdout)")
	f.StringVar(&svgOut, "svg", "", "draw the run as an SVG timeline (played bitrate; buffer with stalls shaded)")
	f.BoolVar(&compareSim, "compare-sim", false, "also run the simulator's preset of the player (abr hlsjs/dashjs) over the --shape scenario and the same segment sizes, and print the differences")
	f.StringVar(&realFrom, "real", "", "with --calibrate: take the real players' runs from this --json of an earlier --calibrate run and only re-run the simulator (no browser)")
	f.BoolVar(&simProcessing, "sim-processing", false, "with --compare-sim or --calibrate: give the hlsjs preset hls.js's own per-fragment processing time measured in the run (parse after the last byte, which hls.js counts in its bandwidth sample: the median, and the first fragment's own, which includes the transmuxer and SourceBuffer set-up; it depends on the machine's load)")
	f.BoolVar(&simAlign, "sim-align", false, "with --compare-sim or --calibrate: start the simulator where the player requested its first media segment on the scenario's clock (from the shaper's log), not at the scenario's start")
	f.IntVar(&runs, "runs", 3, "with --calibrate: play every scenario this many times with each player; the table compares each preset with the players' median and shows their spread")
	f.StringVar(&calibrate, "calibrate", "", "run every scenario (*.json) in this directory with hls.js and dash.js, compare each with its preset, and print the presets-vs-players table (see playtest/testdata/calibration)")
	return cmd
}

func printQoE(w interface{ Write([]byte) (int, error) }, r *playtest.Result) {
	fmt.Fprintf(w, "%s: ", r.Engine)
	if r.StartupS < 0 {
		fmt.Fprintln(w, "never started")
	} else {
		fmt.Fprintf(w, "startup %.2f s, %d stalls (%.2f s), mean played %.0f kbit/s, %d switches, %d/%d frames dropped, played to %.1f s",
			r.StartupS, r.StallCount, r.StallS, r.MeanKbps, r.Switches, r.DroppedFrames, r.TotalFrames, r.PositionS)
		if r.Ended {
			fmt.Fprint(w, " (ended)")
		}
		fmt.Fprintln(w)
	}
	for _, s := range r.Stalls {
		fmt.Fprintf(w, "  stall at %6.2f s for %.2f s (position %.2f s)\n", s.AtS, s.DurationS, s.PositionS)
	}
	for _, b := range r.Bitrate {
		fmt.Fprintf(w, "  at %6.2f s playing %5.0f kbit/s (level %d, %dp) from position %.2f s\n", b.TS, b.Kbps, b.Level, b.Height, b.PositionS)
	}
	for _, e := range r.Errors {
		fmt.Fprintln(w, "  player error:", e)
	}
	for _, e := range r.Fatal {
		fmt.Fprintln(w, "  FATAL:", e)
	}
}

// playtestRun is one playtest command's server-side state: the files to
// serve, and how every run is shaped and bounded.
type playtestRun struct {
	dir      string
	files    http.Handler
	seed     uint64
	duration time.Duration
	out      io.Writer
	// processing gives the hlsjs preset the player's measured
	// per-fragment processing time (--sim-processing)
	processing bool
	only       string // --calibrate with --player: that player only
	// align starts the simulation where the player requested its first
	// segment (--sim-align)
	align bool
}

// run plays src (default: the player's manifest) through shapeFile and,
// with compare, simulates the player's preset over the same scenario.
func (p *playtestRun) run(ctx context.Context, player, src, shapeFile string, compare bool) (*playtest.Result, *playtest.Comparison, error) {
	if src == "" {
		src = "/master.m3u8"
		if player == "dashjs" {
			src = "/manifest.mpd"
		}
	}
	manifestPath := filepath.Join(p.dir, filepath.FromSlash(src))
	if _, err := os.Stat(manifestPath); err != nil {
		return nil, nil, fmt.Errorf("playtest: no %s in %s (--src names the manifest)", src, p.dir)
	}
	var sc *shape.Scenario
	var log playtest.DownloadLog
	shaped := p.files
	if shapeFile != "" {
		var err error
		if sc, err = shape.LoadScenario(shapeFile); err != nil {
			return nil, nil, err
		}
		s, err := shape.New(sc, shape.WithSeed(p.seed), shape.WithObserver(log.Observe))
		if err != nil {
			return nil, nil, err
		}
		shaped = s.Handler(p.files)
	}
	srv, err := playtest.Serve(playtest.Mux(p.files, shaped))
	if err != nil {
		return nil, nil, err
	}
	defer srv.Close()
	fmt.Fprintf(p.out, "playing http://%s%s with %s for at most %v", srv.Addr, src, player, p.duration)
	if shapeFile != "" {
		fmt.Fprintf(p.out, ", shaped by %s (seed %d)", shapeFile, p.seed)
	}
	fmt.Fprintln(p.out)
	res, err := playtest.Run(ctx, srv.URL, src, playtest.WithPlayer(player), playtest.WithDuration(p.duration))
	if err != nil {
		return nil, nil, err
	}
	if sc != nil {
		// What the link delivered, against the scenario: on a loaded
		// machine a calibration run is only worth comparing when the
		// player got the scenario's link.
		res.Downloads = log.Downloads()
		res.Link = playtest.CheckLink(sc, res.Downloads)
	}
	printQoE(p.out, res)
	if l := res.Link; l != nil {
		fmt.Fprintf(p.out, "  link: delivered/scenario rate %.2f median (%.2f-%.2f) over %d busy seconds, %.2f (%.2f-%.2f) over %d busy periods, %d requests\n",
			l.MedianRatio, l.MinRatio, l.MaxRatio, l.BusyBins, l.PeriodMedianRatio, l.PeriodMinRatio, l.PeriodMaxRatio, l.BusyPeriods, len(res.Downloads))
	}
	if !compare {
		return res, nil, nil
	}
	var opts []playtest.SimOption
	if !res.Ended {
		opts = append(opts, playtest.SimUntil(res.PositionS)) // compare the part the player played
	}
	if p.processing {
		opts = append(opts, playtest.SimProcessing(playtest.Processing(res)), playtest.SimFirstProcessing(playtest.FirstProcessing(res)))
	}
	if p.align {
		opts = append(opts, playtest.SimOffset(playtest.FirstSegmentS(res)))
	}
	sim, err := playtest.Simulate(manifestPath, player, sc, opts...)
	if err != nil {
		return nil, nil, err
	}
	cmp := playtest.Compare(sc.Name, res, sim)
	if err := cmp.WriteText(p.out); err != nil {
		return nil, nil, err
	}
	return res, cmp, nil
}

// calibrate runs every scenario of set with both players and prints the
// presets-vs-players table.
func (p *playtestRun) calibrate(ctx context.Context, set, jsonOut, realFrom string, runs int) error {
	scenarios, err := filepath.Glob(filepath.Join(set, "*.json"))
	if err != nil {
		return err
	}
	if len(scenarios) == 0 {
		return fmt.Errorf("playtest: no *.json scenario in %s", set)
	}
	sort.Strings(scenarios)
	var all []*playtest.Comparison
	if realFrom != "" {
		if all, err = p.resimulate(set, scenarios, realFrom); err != nil {
			return err
		}
	}
	// Run r of every cell before run r+1 of any: a spell of load on the
	// shared machine then spreads over the cells instead of landing on
	// all the runs of one.
	for r := 0; r < runs && realFrom == ""; r++ {
		for _, sc := range scenarios {
			for _, player := range playtest.Players {
				if p.only != "" && player != p.only {
					continue
				}
				fmt.Fprintf(p.out, "run %d of %d: ", r+1, runs)
				_, cmp, err := p.run(ctx, player, "", sc, true)
				if err != nil {
					return fmt.Errorf("%s with %s: %w", filepath.Base(sc), player, err)
				}
				all = append(all, cmp)
				fmt.Fprintln(p.out)
			}
		}
	}
	cells := playtest.Aggregate(all)
	met := 0
	for _, c := range cells {
		if c.Met() {
			met++
		}
	}
	fmt.Fprintf(p.out, "presets vs real players: %d of %d cells within every goal against the players' median (mean played bitrate %.0f %%, stall time %g s, switches %d)\n\n",
		met, len(cells), playtest.GoalMeanRel*100, playtest.GoalStallS, playtest.GoalSwitches)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range all {
		for _, l := range c.Real.LoadAvg {
			lo, hi = math.Min(lo, l), math.Max(hi, l)
		}
	}
	if lo <= hi {
		fmt.Fprintf(p.out, "1-minute load average during the real runs: %.1f-%.1f\n\n", lo, hi)
	}
	if err := playtest.WriteMarkdown(p.out, all); err != nil {
		return err
	}
	if jsonOut != "" {
		return writeJSON(p.out, jsonOut, all)
	}
	return nil
}

// resimulate compares the real runs recorded by an earlier --calibrate
// --json with the presets as they are now: a preset can be changed and
// checked against the players without a browser.
func (p *playtestRun) resimulate(set string, scenarios []string, realFrom string) ([]*playtest.Comparison, error) {
	data, err := os.ReadFile(realFrom)
	if err != nil {
		return nil, err
	}
	var recorded []*playtest.Comparison
	if err := json.Unmarshal(data, &recorded); err != nil {
		return nil, fmt.Errorf("playtest: %s: %w (want the --json of a --calibrate run)", realFrom, err)
	}
	byName := map[string]*shape.Scenario{}
	for _, f := range scenarios {
		sc, err := shape.LoadScenario(f)
		if err != nil {
			return nil, err
		}
		byName[sc.Name] = sc
	}
	var out []*playtest.Comparison
	for _, r := range recorded {
		sc := byName[r.Scenario]
		if sc == nil || r.Real == nil {
			return nil, fmt.Errorf("playtest: %s: run %q is not a scenario of %s", realFrom, r.Scenario, set)
		}
		man := "master.m3u8"
		if r.Real.Player == "dashjs" {
			man = "manifest.mpd"
		}
		var opts []playtest.SimOption
		if !r.Real.Ended {
			opts = append(opts, playtest.SimUntil(r.Real.PositionS))
		}
		if p.processing {
			opts = append(opts, playtest.SimProcessing(playtest.Processing(r.Real)), playtest.SimFirstProcessing(playtest.FirstProcessing(r.Real)))
		}
		if p.align {
			opts = append(opts, playtest.SimOffset(playtest.FirstSegmentS(r.Real)))
		}
		sim, err := playtest.Simulate(filepath.Join(p.dir, man), r.Real.Player, sc, opts...)
		if err != nil {
			return nil, err
		}
		if len(r.Real.Downloads) > 0 {
			r.Real.Link = playtest.CheckLink(sc, r.Real.Downloads) // as the check is now
		}
		c := playtest.Compare(sc.Name, r.Real, sim)
		if l := r.Real.Link; l != nil {
			fmt.Fprintf(p.out, "%s, %s: link delivered/scenario rate %.2f (%.2f-%.2f) over %d busy periods\n",
				sc.Name, r.Real.Engine, l.PeriodMedianRatio, l.PeriodMinRatio, l.PeriodMaxRatio, l.BusyPeriods)
		}
		if err := c.WriteText(p.out); err != nil {
			return nil, err
		}
		fmt.Fprintln(p.out)
		out = append(out, c)
	}
	return out, nil
}

// writeJSON writes v indented to path, or to out when path is "-".
func writeJSON(out io.Writer, path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if path == "-" {
		_, err = out.Write(append(b, '\n'))
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}
