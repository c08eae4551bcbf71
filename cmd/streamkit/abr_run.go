package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"github.com/streamkit-go/streamkit/manifest"
)

func newAbrRunCmd() *cobra.Command {
	var abrRunF struct {
		trace, manifest, algo, log, svg string
		buffer, startup, latency, gp    float64
		noAbandon                       bool
	}
	cmd := &cobra.Command{
		Use:   "run --trace FILE --manifest FILE|DIR [--algo NAME]",
		Short: "Run one session with streamkit's default player model and print a readable report",
		Long: `Run one session in the segment-level player model (Sabre's network and buffer
semantics) with streamkit's defaults: a 30 s buffer cap, playback starting once
--startup seconds are buffered, and an optional fixed per-request latency on top
of the trace's own. Traces may be Sabre JSON, Pensieve cooked text, Mahimahi
packet-delivery files or CSV (time_s,kbps[,latency_ms]); the manifest a Sabre
movie JSON, a directory of Pensieve video_size_N files, or what 'streamkit
package' wrote: an HLS multivariant playlist (.m3u8) or a DASH MPD (.mpd), with
the segment sizes read from the files or byte ranges on disk.

Algorithms: ` + strings.Join(abr.Names(), ", "),
		Example: `  streamkit abr run --trace ../shared/abr/sabre/3Glogs/report.2010-09-13_1046CEST.json \
      --manifest ../shared/abr/sabre/bbb.json --algo dashjs --startup 6 --latency 40 --svg session.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if abrRunF.trace == "" || abrRunF.manifest == "" {
				return fmt.Errorf("run: --trace and --manifest are required")
			}
			// A packaged HLS multivariant playlist or DASH MPD works too:
			// segment sizes come from the files or byte ranges on disk.
			// (Importing manifest also registers those formats with
			// abr.LoadManifest, which `abr sabre -m` and sweeps use.)
			man, err := manifest.Load(abrRunF.manifest)
			if err != nil {
				return err
			}
			t, err := abr.LoadTrace(abrRunF.trace, 0)
			if err != nil {
				return err
			}
			alg, err := abr.New(abrRunF.algo)
			if err != nil {
				return err
			}
			// Records are kept only for the SVG timeline; the --log file is
			// written as the session runs, so a movie of millions of
			// segments needs no memory per segment.
			var recs []abr.SegmentRecord
			var logw *abr.SegmentWriter
			var logErr error
			s, err := abr.NewSession(man, t, alg, abr.WithPlayerDefaults(),
				abr.WithBuffer(abrRunF.buffer*1000), abr.WithStartup(abrRunF.startup*1000),
				abr.WithRequestLatency(abrRunF.latency), abr.WithGammaP(abrRunF.gp),
				abr.WithAbandonment(!abrRunF.noAbandon))
			if err != nil {
				return err
			}
			if abrRunF.log != "" || abrRunF.svg != "" {
				s.SetOnSegment(func(r *abr.SegmentRecord) {
					if logw != nil && logErr == nil {
						logErr = logw.Write(r)
					}
					if abrRunF.svg != "" {
						recs = append(recs, *r)
					}
				})
			}
			var m abr.Metrics
			run := func() error {
				var err error
				if m, err = s.Run(); err != nil {
					return err
				}
				return logErr
			}
			if abrRunF.log != "" {
				err = atomicfile.Write(abrRunF.log, func(f *os.File) error {
					logw = abr.NewSegmentWriter(f, strings.HasSuffix(abrRunF.log, ".jsonl"))
					if err := run(); err != nil {
						return err
					}
					return logw.Flush()
				})
			} else {
				err = run()
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "trace                %s (%d periods)\nmanifest             %s (%d segments, %d levels %g-%g kbit/s)\nalgorithm            %s\n",
				filepath.Base(abrRunF.trace), len(t.Periods), filepath.Base(abrRunF.manifest), man.NumSegments(), len(man.Bitrates()),
				man.Bitrates()[0], man.Bitrates()[len(man.Bitrates())-1], abrRunF.algo)
			if err := m.WriteReport(out); err != nil {
				return err
			}
			if abrRunF.svg != "" {
				tl := abr.Timeline{Title: fmt.Sprintf("%s, %s, %s", filepath.Base(abrRunF.trace), filepath.Base(abrRunF.manifest), abrRunF.algo),
					Trace: t, Bitrates: man.Bitrates(), Records: recs, Metrics: m}
				return atomicfile.Write(abrRunF.svg, func(f *os.File) error { return tl.WriteSVG(f) })
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&abrRunF.trace, "trace", "", "network trace (Sabre JSON, cooked, Mahimahi or CSV)")
	f.StringVar(&abrRunF.manifest, "manifest", "", "Sabre movie JSON, a video_size_N directory, or a packaged HLS .m3u8 / DASH .mpd")
	f.StringVar(&abrRunF.algo, "algo", "dashjs", "algorithm")
	f.Float64Var(&abrRunF.buffer, "buffer", abr.PlayerBufferMs/1000, "buffer cap, seconds")
	f.Float64Var(&abrRunF.startup, "startup", abr.PlayerStartupMs/1000, "buffered seconds before playback starts (0 = after the first segment)")
	f.Float64Var(&abrRunF.latency, "latency", 0, "extra per-request latency, ms")
	f.Float64Var(&abrRunF.gp, "gp", 5, "BOLA gamma_p and score rebuffer weight")
	f.BoolVar(&abrRunF.noAbandon, "no-abandon", false, "disable abandonment")
	f.StringVar(&abrRunF.log, "log", "", "per-segment log (.csv or .jsonl)")
	f.StringVar(&abrRunF.svg, "svg", "", "session timeline SVG")
	return cmd
}

func newAbrPensieveCmd() *cobra.Command {
	var abrPensF struct {
		trace, videoSizes, algo, qoe string
	}
	cmd := &cobra.Command{
		Use:   "pensieve --trace FILE --video-sizes DIR [--algo bb|robustmpc]",
		Short: "Run one trace through Pensieve's fixed environment (BB or robustMPC) and print per-chunk rewards",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if abrPensF.trace == "" || abrPensF.videoSizes == "" {
				return fmt.Errorf("pensieve: --trace and --video-sizes are required")
			}
			vs, err := abr.LoadVideoSizes(abrPensF.videoSizes, nil)
			if err != nil {
				return err
			}
			f, err := os.Open(abrPensF.trace)
			if err != nil {
				return err
			}
			c, err := abr.ReadCookedTrace(f, abrPensF.trace)
			f.Close()
			if err != nil {
				return err
			}
			pol, err := abr.NewPensievePolicy(abrPensF.algo)
			if err != nil {
				return err
			}
			q, err := abr.ParseQoE(abrPensF.qoe)
			if err != nil {
				return err
			}
			e, err := abr.NewPensieveSession(c, vs, pol, q)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintln(out, "chunk,level,bitrate_kbps,delay_ms,buffer_s,rebuf_s,reward")
			var r abr.ChunkResult
			for !e.Done() {
				if err := e.Step(&r); err != nil {
					return err
				}
				fmt.Fprintf(out, "%d,%d,%g,%.3f,%.3f,%.6f,%.6f\n", r.Chunk, r.Quality, vs.Kbps[r.Quality], r.DelayMs, r.BufferS, r.RebufS, r.Reward)
			}
			res := e.Result(false)
			fmt.Fprintf(out, "qoe_sum_chunks1_47: %f\nqoe_mean_chunks1_47: %f\nqoe_mean_all48: %f\navg_bitrate_kbps: %.2f\nrebuf_s_chunks1_47: %f\n",
				res.QoESum, res.QoEMean, res.QoEMeanAll48, res.AvgBitrate, res.RebufS)
			return nil
		},
	}
	p := cmd.Flags()
	p.StringVar(&abrPensF.trace, "trace", "", "Pensieve cooked trace")
	p.StringVar(&abrPensF.videoSizes, "video-sizes", "", "directory of video_size_N files")
	p.StringVar(&abrPensF.algo, "algo", "robustmpc", "bb, robustmpc or robustmpc-exhaustive")
	p.StringVar(&abrPensF.qoe, "qoe", "linear", "linear, log or hd")
	return cmd
}
