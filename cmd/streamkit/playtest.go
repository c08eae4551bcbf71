package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
)

func init() { register(newPlaytestCmd) }

func newPlaytestCmd() *cobra.Command {
	var player, src, shapeFile, playerJS, jsonOut, svgOut string
	var seed uint64
	var duration time.Duration
	cmd := &cobra.Command{
		Use:   "playtest DIR [--player hlsjs|dashjs] [--shape SCENARIO [--seed N]] [--duration 30s] [--json FILE] [--svg FILE]",
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
ends, fails, or --duration passes.`,
		Example: `  streamkit package -o out
  streamkit playtest out --player hlsjs --shape testdata/shape/outage.json --json qoe.json --svg qoe.svg
  streamkit playtest out --player dashjs --shape testdata/shape/bandwidth-drop.json --duration 60s`,
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
			shaped, err := shape.Wrap(files, shapeFile, shape.WithSeed(seed))
			if err != nil {
				return err
			}
			if src == "" {
				src = "/master.m3u8"
				if player == "dashjs" {
					src = "/manifest.mpd"
				}
			}
			if _, err := os.Stat(filepath.Join(args[0], filepath.FromSlash(src))); err != nil {
				return fmt.Errorf("playtest: no %s in %s (--src names the manifest)", src, args[0])
			}
			srv, err := playtest.Serve(playtest.Mux(files, shaped))
			if err != nil {
				return err
			}
			defer srv.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "playing http://%s%s with %s for at most %v", srv.Addr, src, player, duration)
			if shapeFile != "" {
				fmt.Fprintf(out, ", shaped by %s (seed %d)", shapeFile, seed)
			}
			fmt.Fprintln(out)
			res, err := playtest.Run(ctx, srv.URL, src, playtest.WithPlayer(player), playtest.WithDuration(duration))
			if err != nil {
				return err
			}
			printQoE(out, res)
			if svgOut != "" {
				if err := atomicfile.Write(svgOut, func(f *os.File) error { return res.WriteSVG(f) }); err != nil {
					return err
				}
			}
			if jsonOut != "" {
				b, err := json.MarshalIndent(res, "", "  ")
				if err != nil {
					return err
				}
				if jsonOut == "-" {
					_, err = out.Write(append(b, '\n'))
					return err
				}
				if err := atomicfile.WriteFile(jsonOut, append(b, '\n')); err != nil {
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
