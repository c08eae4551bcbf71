package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/streamkit-go/streamkit/gop"
)

func init() { registerAs("align", newAlignCmd) }

// newAlignCmd builds the align command; its flags are locals of this call.
func newAlignCmd() *cobra.Command {
	var segment, tolerance time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "align RENDITION RENDITION...",
		Short: "Check that the renditions of a ladder have key frames at the same times",
		Long: `align reads the video frames of every rendition and checks that their
random-access points line up where segments would be cut, so a player can
switch renditions at every segment boundary. With --segment, boundaries are
every multiple of the segment duration (a packager cuts at the first key frame
at or after each); without it, every key frame of every rendition must exist
in all of them. Each misaligned boundary is reported with the renditions
involved, their timestamps and the reason: missing keyframe, non-IDR I frame,
open-GOP leading pictures or frame-rate mismatch. The exit status is 1 when
any boundary is misaligned.`,
		Example: `  streamkit align video_240.mp4 video_360.mp4 video_480.mp4
  streamkit align --segment 4s low.mp4 mid.mp4 high.mp4`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rends []gop.Rendition
			for _, p := range args {
				in, err := gopLoadVideo(cmd.Context(), p, "", -1, false)
				if err != nil {
					return err
				}
				if err := gopAnalysisError(in); err != nil {
					return err
				}
				rends = append(rends, gop.Rendition{Name: filepath.Base(p), Frames: in.Frames, Timescale: in.Track.Timescale})
			}
			rep := gop.CheckAlignment(rends, gop.WithSegment(segment), gop.WithTolerance(tolerance))
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				gopWriteAlignText(w, rep)
			}
			if !rep.Aligned() {
				return fmt.Errorf("%d of %d segment boundaries misaligned", len(rep.Misaligned), rep.Checked)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&segment, "segment", 0, "target segment duration (e.g. 4s); 0 checks every key frame")
	cmd.Flags().DurationVar(&tolerance, "tolerance", 0, "timestamps closer than this are the same instant (default: half a frame)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "report as JSON")
	return cmd
}

func gopWriteAlignText(w io.Writer, rep *gop.AlignmentReport) {
	what := "every key frame"
	if rep.Segment > 0 {
		what = fmt.Sprintf("every %.3g s segment boundary", rep.Segment)
	}
	fmt.Fprintf(w, "%d renditions, %s checked (%d boundaries)\n", len(rep.Renditions), what, rep.Checked)
	if rep.Aligned() {
		fmt.Fprintln(w, "aligned: every rendition starts a closed GOP at every boundary")
		return
	}
	odd := map[string]int{}
	for _, b := range rep.Misaligned {
		for _, o := range b.Odd {
			odd[o]++
		}
		if rep.Segment > 0 && b.Nominal != b.Time {
			fmt.Fprintf(w, "MISALIGNED at %.3f s (segment boundary %.3f s), odd one out: %s\n", b.Time, b.Nominal, strings.Join(b.Odd, ", "))
		} else {
			fmt.Fprintf(w, "MISALIGNED at %.3f s, odd one out: %s\n", b.Time, strings.Join(b.Odd, ", "))
		}
		for _, c := range b.Cuts {
			if c.Problem == gop.ProblemNone {
				fmt.Fprintf(w, "  ok   %-28s key frame at %.3f s\n", c.Rendition, c.At)
				continue
			}
			fmt.Fprintf(w, "  FAIL %-28s %s: %s\n", c.Rendition, c.Problem, c.Detail)
		}
	}
	for _, name := range rep.Renditions {
		if n := odd[name]; n > 0 {
			fmt.Fprintf(w, "%s is the odd one out at %d of %d boundaries\n", name, n, rep.Checked)
		}
	}
}
