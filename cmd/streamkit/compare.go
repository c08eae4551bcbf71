package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
)

// gopCompareLine is one file of streamkit compare.
type gopCompareLine struct {
	File        string  `json:"file"`
	Size        int64   `json:"size"`
	Duration    float64 `json:"duration"`
	Bitrate     int64   `json:"bit_rate"`       // whole file, bits per second
	VideoRate   int64   `json:"video_bit_rate"` // video frames only
	Codec       string  `json:"codec"`
	Profile     string  `json:"profile"`
	Level       string  `json:"level"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	FPS         float64 `json:"fps"`
	Frames      int     `json:"frames"`
	GOPs        int     `json:"gops"`
	GOPMean     float64 `json:"gop_mean_frames"`
	GOPMin      int     `json:"gop_min_frames"`
	GOPMax      int     `json:"gop_max_frames"`
	KeyInterval float64 `json:"key_interval"`
	FixedGOP    bool    `json:"fixed_gop"`
	OpenGOPs    int     `json:"open_gops"`
	MaxB        int     `json:"max_b_frames"`
	Pyramid     bool    `json:"b_pyramid"`
	IShare      float64 `json:"i_bytes_share"`
	PShare      float64 `json:"p_bytes_share"`
	BShare      float64 `json:"b_bytes_share"`
	IMean       float64 `json:"i_mean_size"`
	PMean       float64 `json:"p_mean_size"`
	BMean       float64 `json:"b_mean_size"`
	Summary     string  `json:"summary"`
}

func gopLevelName(t *media.Track) string {
	switch {
	case t.LevelIDC <= 0:
		return ""
	case t.Codec == media.CodecH264:
		return fmt.Sprintf("%g", float64(t.LevelIDC)/10)
	case t.Codec == media.CodecHEVC:
		return fmt.Sprintf("%g", float64(t.LevelIDC)/30)
	}
	return strconv.Itoa(t.LevelIDC)
}

func gopCompareRow(in *gopInput) gopCompareLine {
	frames := gopShownFrames(in.Frames)
	rep := gop.Analyze(frames, in.Track.Timescale)
	s := rep.Summary
	t := in.Track
	r := gopCompareLine{
		File: filepath.Base(in.Path), Size: in.Size, Duration: s.Duration, Codec: string(t.Codec), Profile: t.Profile,
		Level: gopLevelName(t), Width: t.Width, Height: t.Height, Frames: s.Frames, GOPs: s.GOPs, GOPMean: s.MeanLength,
		GOPMin: s.MinLength, GOPMax: s.MaxLength, KeyInterval: s.KeyInterval, FixedGOP: s.Fixed, OpenGOPs: s.Open,
		MaxB: s.MaxBFrames, Pyramid: s.Pyramid, IMean: s.Types.I.Mean(), PMean: s.Types.P.Mean(), BMean: s.Types.B.Mean(),
		Summary: s.String(),
	}
	if !t.FrameRate.IsZero() {
		r.FPS = t.FrameRate.Float()
	} else if s.Duration > 0 {
		r.FPS = float64(s.Frames) / s.Duration
	}
	total := s.Types.Total().Bytes
	if total > 0 {
		r.IShare = float64(s.Types.I.Bytes) / float64(total)
		r.PShare = float64(s.Types.P.Bytes) / float64(total)
		r.BShare = float64(s.Types.B.Bytes) / float64(total)
	}
	if s.Duration > 0 {
		r.Bitrate = int64(math.Round(float64(in.Size) * 8 / s.Duration))
		r.VideoRate = int64(math.Round(float64(total) * 8 / s.Duration))
	}
	return r
}

func init() { registerAs("compare", newCompareCmd) }

// newCompareCmd builds the compare command; its flags are locals of this call.
func newCompareCmd() *cobra.Command {
	var asJSON, asCSV bool
	var svgOut string
	cmd := &cobra.Command{
		Use:   "compare FILE FILE...",
		Short: "Compare encodes side by side: bitrate, resolution, GOP structure, bytes per frame type",
		Long: `compare analyses the first video stream of every file and prints one row per
file: size, duration, bitrate, codec/profile/level, resolution, frame rate,
GOP summary (length, key frame interval, open GOPs, B-frames), the share of
bytes spent on I, P and B frames and their mean sizes. --svg draws a stacked
bar chart of the video bitrate split by frame type.`,
		Example: `  streamkit compare crf18.mp4 crf23.mp4 crf28.mp4
  streamkit compare --csv *.mp4 > encodes.csv
  streamkit compare --svg encodes.svg low.mp4 mid.mp4 high.mp4`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows []gopCompareLine
			var ins []*gopInput
			for _, p := range args {
				in, err := gopLoadVideo(cmd.Context(), p, "", -1, false)
				if err != nil {
					return err
				}
				ins = append(ins, in)
				rows = append(rows, gopCompareRow(in))
			}
			if svgOut != "" {
				if err := atomicfile.Write(svgOut, func(w *os.File) error { return gopWriteCompareSVG(w, rows) }); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			var err error
			switch {
			case asJSON:
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				err = enc.Encode(struct {
					Files []gopCompareLine `json:"files"`
				}{rows})
			case asCSV:
				err = gopWriteCompareCSV(w, rows)
			default:
				err = gopWriteCompareText(w, rows)
			}
			if err != nil {
				return err
			}
			return gopAnalysisError(ins...)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "rows as JSON")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "rows as CSV with a header")
	cmd.Flags().StringVar(&svgOut, "svg", "", "also write a bar chart of bitrate by frame type to this SVG file")
	return cmd
}

func gopWriteCompareText(w io.Writer, rows []gopCompareLine) error {
	fmt.Fprintf(w, "%-26s %9s %7s %9s %-18s %9s %6s %5s %8s %4s %5s %-17s %-20s\n", "file", "size", "dur(s)", "kb/s",
		"codec", "size", "fps", "GOP", "key(s)", "open", "maxB", "bytes I/P/B %", "mean size I/P/B")
	for _, r := range rows {
		codec := r.Codec + " " + r.Profile
		if r.Level != "" {
			codec += "@" + r.Level
		}
		gopLen := fmt.Sprintf("%.0f", r.GOPMean)
		if !r.FixedGOP {
			gopLen = fmt.Sprintf("%d-%d", r.GOPMin, r.GOPMax)
		}
		b := strconv.Itoa(r.MaxB)
		if r.Pyramid {
			b += "p"
		}
		fmt.Fprintf(w, "%-26s %9d %7.2f %9.0f %-18s %9s %6.3g %5s %8.3f %4d %5s %-17s %-20s\n", r.File, r.Size, r.Duration,
			float64(r.Bitrate)/1000, codec, fmt.Sprintf("%dx%d", r.Width, r.Height), r.FPS, gopLen, r.KeyInterval, r.OpenGOPs, b,
			fmt.Sprintf("%.0f/%.0f/%.0f", 100*r.IShare, 100*r.PShare, 100*r.BShare),
			fmt.Sprintf("%.0f/%.0f/%.0f", r.IMean, r.PMean, r.BMean))
	}
	_, err := fmt.Fprintln(w, "(GOP: frames, a-b when variable; maxB: longest B run, p = B-pyramid)")
	return err
}

func gopWriteCompareCSV(w io.Writer, rows []gopCompareLine) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"file", "size", "duration", "bit_rate", "video_bit_rate", "codec", "profile", "level", "width", "height",
		"fps", "frames", "gops", "gop_mean_frames", "gop_min_frames", "gop_max_frames", "key_interval", "fixed_gop", "open_gops",
		"max_b_frames", "b_pyramid", "i_bytes_share", "p_bytes_share", "b_bytes_share", "i_mean_size", "p_mean_size", "b_mean_size"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, r := range rows {
		_ = cw.Write([]string{r.File, strconv.FormatInt(r.Size, 10), f(r.Duration), strconv.FormatInt(r.Bitrate, 10),
			strconv.FormatInt(r.VideoRate, 10), r.Codec, r.Profile, r.Level, strconv.Itoa(r.Width), strconv.Itoa(r.Height),
			f(r.FPS), strconv.Itoa(r.Frames), strconv.Itoa(r.GOPs), f(r.GOPMean), strconv.Itoa(r.GOPMin), strconv.Itoa(r.GOPMax),
			f(r.KeyInterval), strconv.FormatBool(r.FixedGOP), strconv.Itoa(r.OpenGOPs), strconv.Itoa(r.MaxB),
			strconv.FormatBool(r.Pyramid), f(r.IShare), f(r.PShare), f(r.BShare), f(r.IMean), f(r.PMean), f(r.BMean)})
	}
	cw.Flush()
	return cw.Error()
}

// gopWriteCompareSVG draws one horizontal bar per file, as long as its video
// bitrate, split into the I, P and B frames' shares.
func gopWriteCompareSVG(w io.Writer, rows []gopCompareLine) error {
	const left, right, top, rowH = 220.0, 40.0, 50.0, 34.0
	width := 900.0
	height := top + rowH*float64(len(rows)) + 50
	bw := bufio.NewWriter(w)
	maxRate := 1.0
	for _, r := range rows {
		maxRate = math.Max(maxRate, float64(r.VideoRate))
	}
	scale := (width - left - right) / maxRate
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintln(bw, `<rect width="100%" height="100%" fill="white"/>`)
	fmt.Fprintf(bw, `<text x="10" y="24" font-size="15">Video bitrate by frame type</text>`+"\n")
	colours := []string{"#d62728", "#1f77b4", "#2ca02c"}
	for i, n := range []string{"I", "P", "B"} {
		fmt.Fprintf(bw, `<rect x="%.0f" y="12" width="12" height="12" fill="%s"/><text x="%.0f" y="22">%s frames</text>`+"\n",
			width-right-270+float64(i)*90, colours[i], width-right-254+float64(i)*90, n)
	}
	for i, r := range rows {
		y := top + float64(i)*rowH
		fmt.Fprintf(bw, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+17, html.EscapeString(r.File))
		x := left
		for j, share := range []float64{r.IShare, r.PShare, r.BShare} {
			wdt := share * float64(r.VideoRate) * scale
			fmt.Fprintf(bw, `<rect x="%.2f" y="%.1f" width="%.2f" height="24" fill="%s"><title>%s: %.0f%% of %.0f kb/s</title></rect>`+"\n",
				x, y+2, wdt, colours[j], []string{"I", "P", "B"}[j], 100*share, float64(r.VideoRate)/1000)
			x += wdt
		}
		fmt.Fprintf(bw, `<text x="%.1f" y="%.1f">%.0f kb/s</text>`+"\n", x+6, y+18, float64(r.VideoRate)/1000)
	}
	fmt.Fprintf(bw, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.1f" stroke="#333"/>`+"\n", left, top-4, left, top+rowH*float64(len(rows)))
	fmt.Fprintln(bw, `</svg>`)
	return bw.Flush()
}
