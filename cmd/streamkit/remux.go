package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/remux"
)

// remuxMemLimit is the soft memory limit of "streamkit remux" (GOMEMLIMIT
// overrides it).
const remuxMemLimit = 40 << 20

// progressMin is the input size from which remux shows a progress bar
// (on a terminal only).
const progressMin = 64 << 20

func init() { registerAs("remux", newRemuxCmd) }

// newRemuxCmd builds the remux command; its flags are locals of this call.
func newRemuxCmd() *cobra.Command {
	var to string
	var faststart, force, strict bool
	var initPath string
	var frag time.Duration
	cmd := &cobra.Command{
		Use:   "remux [--init INIT.mp4] IN OUT",
		Short: "Convert between MP4, fragmented MP4, CMAF and MPEG-TS without re-encoding",
		Long: `remux copies the audio and video samples of IN into OUT in another container.

Output forms (--to, else inferred from OUT):
  mp4    progressive MP4, moov first (.mp4 .m4v .m4a .mov); fMP4 input is defragmented
  fmp4   fragmented MP4 in one file (.m4s .fmp4)
  cmaf   a directory of CMAF tracks: OUT/trackN/init.mp4 and seg_K.m4s (no extension)
  ts     MPEG-TS (.ts .m2ts)

--faststart with an MP4 input and MP4 output moves the moov box in front of
the media data without rebuilding anything else. OUT is written to a
temporary file (.OUT.streamkit-tmp-PID-…) and renamed; nothing is left
behind on error or Ctrl-C, and temporaries of killed runs are removed by
the next run. An existing OUT is replaced only with --force.`,
		Example: `  streamkit remux in.mp4 out.ts
  streamkit remux in.ts out.mp4
  streamkit remux --to fmp4 --frag-duration 4s in.mp4 out.mp4
  streamkit remux --faststart moov_at_end.mp4 web.mp4
  streamkit remux in.mp4 cmaf_out/`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, out := args[0], args[1]
			if _, err := os.Stat(out); err == nil && !force {
				return fmt.Errorf("remux: %s exists (use --force to replace it)", out)
			}
			var opts []remux.Option
			if to != "" {
				f, err := remux.ParseFormat(to)
				if err != nil {
					return err
				}
				opts = append(opts, remux.To(f))
			} else if faststart {
				opts = append(opts, remux.To(remux.MP4))
			}
			if faststart {
				opts = append(opts, remux.WithFaststart())
			}
			if frag > 0 {
				opts = append(opts, remux.WithFragmentDuration(frag))
			}
			if initPath != "" {
				opts = append(opts, remux.WithInitFile(initPath))
			}
			opts = append(opts, remux.WithStrict(strict), remux.WithWarnings(func(ws []media.Warning) {
				printWarnings(cmd.ErrOrStderr(), in, ws)
			}))
			if st, err := os.Stat(in); err == nil && st.Size() >= progressMin && term.IsTerminal(int(os.Stderr.Fd())) {
				bar := progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(os.Stderr),
					progressbar.OptionSetDescription("remux"), progressbar.OptionShowBytes(true),
					progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
				opts = append(opts, remux.WithProgress(func(done, total int64) {
					if total > 0 {
						bar.ChangeMax64(total)
					}
					_ = bar.Set64(done)
				}))
				defer bar.Finish()
			}
			if os.Getenv("GOMEMLIMIT") == "" {
				// The remux streams samples; what stays in memory is the
				// sample tables (a few bytes per sample). A soft limit
				// makes the collector keep the heap near that instead of
				// letting it double between cycles.
				debug.SetMemoryLimit(remuxMemLimit)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if err := remux.Remux(ctx, in, out, opts...); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("remux: interrupted; %s not written", out)
				}
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "output form: mp4, fmp4, cmaf or ts (default: from OUT's extension)")
	cmd.Flags().BoolVar(&faststart, "faststart", false, "MP4 to MP4: move moov before mdat, keeping every other box")
	cmd.Flags().BoolVar(&force, "force", false, "replace OUT if it exists")
	cmd.Flags().StringVar(&initPath, "init", "", "init segment (ftyp+moov) when IN is a CMAF/fMP4 media segment")
	addStrictFlag(cmd, &strict)
	cmd.Flags().DurationVar(&frag, "frag-duration", 2*time.Second, "target fragment duration for fmp4 and cmaf")
	return cmd
}
