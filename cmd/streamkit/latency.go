package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"github.com/streamkit-go/streamkit/latency"
	"github.com/streamkit-go/streamkit/serve"
)

func init() { registerAs("latency", newLatencyCmd) }

func newLatencyCmd() *cobra.Command {
	var (
		encoder, svgOut, ingestKind, playerJS, modes string
		duration, warmup, dashDelay                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "latency [--encoder CMD] [--modes hls,ll-hls,ll-dash] [--svg FILE]",
		Short: "Measure glass-to-glass latency of plain HLS, LL-HLS and LL-DASH, stage by stage",
		Long: `latency runs the whole experiment on this machine: 'streamkit clock'
frames (the capture time in the pixels) → an encoder command → the
ingest → the live packager and origin → the live player page in headless
Chromium, which reads the capture time back from every displayed frame.
For each mode (plain HLS with 2 s segments and hls.js, LL-HLS with 1 s
segments and 200 ms parts and hls.js, LL-DASH with dash.js) it prints
glass-to-glass latency and its stage budget:

  encoder+ingest  capture → ingest arrival (encoder buffering, muxer)
  packaging       arrival → part (plain HLS: segment) published
  delivery        published → the player's fetch completed
  player buffer   fetched → displayed (hold-back, buffer, decoder)

The default encoder is ffmpeg with libx264 -tune zerolatency publishing
RTMP to the ingest ({url}); any command reading Y4M on stdin can be
given, with {url}, {fps} and {format} replaced. --ingest pipe has the
encoder write MPEG-TS to stdout instead ({url} is "-").`,
		Example: `  streamkit latency
  streamkit latency --modes ll-hls --duration 30s --svg latency.svg
  streamkit latency --encoder 'ffmpeg -loglevel error -f yuv4mpegpipe -i - -c:v libx264 -g {fps} -f {format} {url}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ms []latency.Mode
			for _, m := range strings.Split(modes, ",") {
				switch strings.ToLower(strings.TrimSpace(m)) {
				case "hls":
					ms = append(ms, latency.PlainHLS)
				case "ll-hls", "llhls":
					ms = append(ms, latency.LLHLS)
				case "ll-dash", "lldash":
					m := latency.LLDASH
					m.Delay = dashDelay
					ms = append(ms, m)
				default:
					return fmt.Errorf("latency: --modes: unknown mode %q (hls, ll-hls, ll-dash)", m)
				}
			}
			opts := []latency.Option{latency.WithDuration(duration), latency.WithWarmup(warmup), latency.WithLog(cmd.ErrOrStderr())}
			if encoder != "" {
				opts = append(opts, latency.WithEncoder(strings.Fields(encoder)))
			}
			switch ingestKind {
			case "rtmp":
				opts = append(opts, latency.WithIngest(latency.RTMPIngest))
			case "pipe":
				opts = append(opts, latency.WithIngest(latency.PipeIngest))
			default:
				return fmt.Errorf("latency: --ingest %q: rtmp or pipe", ingestKind)
			}
			if playerJS != "" {
				js, err := serve.FindPlayerJS(playerJS)
				if err != nil {
					return fmt.Errorf("latency: %w", err)
				}
				opts = append(opts, latency.WithPlayerJS(js))
			}
			if duration <= 0 || warmup < 0 {
				return fmt.Errorf("latency: --duration must be positive and --warmup not negative")
			}
			res, err := latency.Run(cmd.Context(), ms, opts...)
			if err != nil {
				return err
			}
			if err := latency.WriteTable(cmd.OutOrStdout(), res); err != nil {
				return err
			}
			if svgOut != "" {
				var buf bytes.Buffer
				if err := latency.WriteSVG(&buf, res); err != nil {
					return err
				}
				if err := atomicfile.WriteFile(svgOut, buf.Bytes()); err != nil {
					return fmt.Errorf("latency: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", svgOut)
			}
			for _, r := range res {
				if r.Err != nil {
					return fmt.Errorf("latency: %s not measured: %v", r.Mode.Name, oneLine(r.Err))
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&encoder, "encoder", "", "encoder command (Y4M on stdin; {url}, {fps}, {format} replaced); default ffmpeg libx264 zerolatency")
	f.StringVar(&modes, "modes", "hls,ll-hls,ll-dash", "modes to measure, comma-separated")
	f.StringVar(&svgOut, "svg", "latency.svg", "write the latency-over-time chart with the stage budgets here (empty: none)")
	f.StringVar(&ingestKind, "ingest", "rtmp", "how the encoder reaches the packager: rtmp (package ingest) or pipe (MPEG-TS on stdout)")
	f.StringVar(&playerJS, "player-js", "", "directory with hls.js and dash.js (an npm prefix; default $"+serve.EnvPlayerJS+" or ~/.cache/streamkit/playerjs)")
	f.DurationVar(&duration, "duration", 20*time.Second, "how long each mode is measured")
	f.DurationVar(&dashDelay, "dash-delay", 0, "dash.js target live delay for LL-DASH (default: the MPD's ServiceDescription target, three parts + 400 ms: 1 s)")
	f.DurationVar(&warmup, "warmup", 10*time.Second, "how long after the player starts measuring begins")
	return cmd
}
