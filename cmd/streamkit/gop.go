package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
)

func init() { registerAs("gop", newGOPCmd) }

// newGOPCmd builds the gop command; its flags are locals of this call.
func newGOPCmd() *cobra.Command {
	var asJSON, strict bool
	var svgOut string
	var stream int
	var initPath string
	cmd := &cobra.Command{
		Use:   "gop [--init INIT.mp4] FILE|-|URL",
		Short: "GOP report: length, open/closed, pattern, B-pyramid, bytes per frame type",
		Long: `gop groups the video frames of FILE into GOPs at every key frame (as
ffprobe marks them) and reports, per GOP: start time, length in frames and
seconds, closed or open (and why: IDR, CRA with RASL pictures, recovery-point
I frame with leading B-frames), the frame-type pattern in presentation order,
B-frame runs, reference B-frames (pyramid), reorder depth from PTS/DTS and
bytes per type; then a summary (GOP length min/mean/max, fixed or scene-cut
driven, I/P/B counts and mean sizes, key frame interval). --svg draws frame
sizes over time coloured by type with the GOP boundaries.`,
		Example: `  streamkit gop movie.mp4
  streamkit gop --json movie.mp4
  streamkit gop --svg bitrate.svg segment.ts`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := gopLoadVideo(cmd.Context(), args[0], initPath, stream, strict)
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), args[0], in.Warnings)
			frames := gopShownFrames(in.Frames)
			rep := gop.Analyze(frames, in.Track.Timescale)
			if svgOut != "" {
				title := fmt.Sprintf("%s — %s %dx%d, %d frames, %d GOPs", filepath.Base(in.Path), in.Track.Codec,
					in.Track.Width, in.Track.Height, len(frames), len(rep.GOPs))
				if err := atomicfile.Write(svgOut, func(w *os.File) error {
					return gop.WriteSVG(w, frames, in.Track.Timescale, title)
				}); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					File   string `json:"file"`
					Stream int    `json:"stream_index"`
					Codec  string `json:"codec"`
					*gop.Report
					Warnings []media.Warning `json:"streamkit_warnings,omitempty"`
				}{in.Path, in.Track.Index, string(in.Track.Codec), rep, in.Warnings}); err != nil {
					return err
				}
			} else if err := gopWriteText(w, in, rep); err != nil {
				return err
			}
			return gopAnalysisError(in)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "report as JSON")
	cmd.Flags().StringVar(&svgOut, "svg", "", "also write frame sizes over time with GOP boundaries to this SVG file")
	cmd.Flags().IntVar(&stream, "stream", -1, "video stream index (default: the first video stream)")
	cmd.Flags().StringVar(&initPath, "init", "", "init segment (ftyp+moov) for a CMAF/fMP4 media segment")
	addStrictFlag(cmd, &strict)
	return cmd
}

// gopShownFrames drops the frames an edit list hides.
func gopShownFrames(frames []gop.Frame) []gop.Frame {
	out := make([]gop.Frame, 0, len(frames))
	for _, f := range frames {
		if !f.Discarded {
			out = append(out, f)
		}
	}
	gop.SetDisplayOrder(out)
	return out
}

func gopWriteText(w io.Writer, in *gopInput, rep *gop.Report) error {
	t := in.Track
	fmt.Fprintf(w, "%s: stream %d, %s %s %dx%d", in.Path, t.Index, t.Codec, t.Profile, t.Width, t.Height)
	if !t.FrameRate.IsZero() {
		fmt.Fprintf(w, ", %.3g fps", t.FrameRate.Float())
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%4s %9s %6s %7s %-7s %-6s %-44s %s\n", "GOP", "start(s)", "length", "dur(s)", "key", "closed", "pattern (presentation order)", "bytes I/P/B")
	for _, g := range rep.GOPs {
		closed := "open"
		if g.Closed {
			closed = "closed"
		}
		if g.Partial {
			closed = "-"
		}
		pat := g.Pattern
		if len(pat) > 44 {
			pat = pat[:41] + "..."
		}
		fmt.Fprintf(w, "%4d %9.3f %6d %7.3f %-7s %-6s %-44s %d/%d/%d\n", g.Index, g.Start, g.Span, g.Duration,
			g.Key.String()+gopRAPTag(g.RAP), closed, pat, g.Types.I.Bytes, g.Types.P.Bytes, g.Types.B.Bytes)
		var notes []string
		notes = append(notes, g.Reason)
		if g.Frames != g.Span {
			notes = append(notes, fmt.Sprintf("%d frames between key frames in decode order", g.Frames))
		}
		if len(g.BRuns) > 0 {
			notes = append(notes, fmt.Sprintf("B runs %s", gopRuns(g.BRuns)))
		}
		if g.ReferenceB > 0 {
			notes = append(notes, fmt.Sprintf("%d reference B (pyramid)", g.ReferenceB))
		}
		if g.ReorderDepth > 0 {
			notes = append(notes, fmt.Sprintf("reorder depth %d", g.ReorderDepth))
		}
		fmt.Fprintf(w, "%4s %s\n", "", strings.Join(notes, "; "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Summary:", rep.Summary.String())
	_, err := fmt.Fprintf(w, "Key frame interval: %.3f s (GOP %d-%d frames, mean %.2f)\n",
		rep.Summary.KeyInterval, rep.Summary.MinLength, rep.Summary.MaxLength, rep.Summary.MeanLength)
	return err
}

func gopRAPTag(r gop.RAP) string {
	switch r {
	case gop.RAPIDR:
		return "/IDR"
	case gop.RAPCRA:
		return "/CRA"
	case gop.RAPBLA:
		return "/BLA"
	case gop.RAPRecovery:
		return "/RP"
	}
	return ""
}

func gopRuns(v []int) string {
	// Collapse runs of equal values: 3 3 3 2 -> 3x3 2.
	var parts []string
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j] == v[i] {
			j++
		}
		if j-i > 1 {
			parts = append(parts, fmt.Sprintf("%dx%d", v[i], j-i))
		} else {
			parts = append(parts, fmt.Sprint(v[i]))
		}
		i = j
	}
	return strings.Join(parts, " ")
}

// demoGOPSummary returns the one-line GOP summary of the first video track
// of an input (gop.Summary.String), for `streamkit demo`:
//
//	r, size, _ := sample.Open(sample.Video360)
//	line, err := demoGOPSummary(ctx, r, size)
func demoGOPSummary(ctx context.Context, r io.ReaderAt, size int64) (string, error) {
	d, err := media.Open(r, size)
	if err != nil {
		return "", err
	}
	for _, t := range d.Tracks() {
		if t.Kind != media.KindVideo {
			continue
		}
		rep, _, err := gop.AnalyzeTrack(ctx, d, t)
		if err != nil {
			return "", err
		}
		return rep.Summary.String(), nil
	}
	return "", fmt.Errorf("no video track")
}
