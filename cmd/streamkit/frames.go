package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	_ "github.com/streamkit-go/streamkit/ts" // registers MPEG-TS with media.Open
)

// gopInput is one video track of a file with its analysed frames.
type gopInput struct {
	Path   string
	Size   int64
	Demux  media.Demuxer
	Track  *media.Track
	Frames []gop.Frame // decode order
	// Err collects the access units that could not be analysed (their
	// frames have type "?"); commands print what they can, then fail.
	Err error
	// Warnings is the damage the reader read past in the file (the same
	// for every video stream of it), for the command to print.
	Warnings []media.Warning
}

// analysisError summarises in.Err for the command's final error line.
func (in *gopInput) analysisError() error {
	if in.Err == nil {
		return nil
	}
	n := 1
	if u, ok := in.Err.(interface{ Unwrap() []error }); ok {
		n = len(u.Unwrap())
	}
	return fmt.Errorf("%d access unit(s) could not be analysed (type \"?\"), first: %w", n, in.Err)
}

// gopLoadVideo opens path (a file, "-" for standard input or an http(s)
// URL; with initPath, a media segment read after its init segment), picks
// its video stream (the first one when stream < 0, else the one with that
// ffprobe stream index) and analyses every frame. MP4 timestamps follow
// ffprobe's reading of the edit list.
func gopLoadVideo(ctx context.Context, path, initPath string, stream int, strict bool) (*gopInput, error) {
	ins, err := gopLoadVideos(ctx, path, initPath, stream, false, strict)
	if err != nil {
		return nil, err
	}
	return ins[0], nil
}

// gopLoadVideos is gopLoadVideo returning every video stream when all is set
// and stream < 0. Damage the reader read past is returned in each
// gopInput's Warnings (the commands print it on stderr); with strict it is
// refused.
func gopLoadVideos(ctx context.Context, path, initPath string, stream int, all, strict bool) ([]*gopInput, error) {
	d, in, closeIn, err := openDemuxer(ctx, path, initPath, strict)
	if err != nil {
		return nil, err
	}
	defer closeIn()
	var out []*gopInput
	for pos, tr := range d.Tracks() {
		if tr.Kind != media.KindVideo || (stream >= 0 && tr.Index != stream) {
			continue
		}
		opts := []gop.Option{gop.WithKeepErrors()}
		if r, ok := d.(*mp4.Reader); ok {
			opts = append(opts, gop.WithTimestamps(r.FFprobeTimestamps(pos)))
		}
		frames, err := gop.ReadFrames(ctx, d, tr, opts...)
		var fe *gop.FrameError
		if err != nil && !errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, &gopInput{Path: path, Size: in.Size, Demux: d, Track: tr, Frames: frames, Err: err})
		if !all || stream >= 0 {
			break
		}
	}
	ws := media.WarningsOf(d)
	for _, in := range out {
		in.Warnings = ws
	}
	if len(out) == 0 {
		if stream >= 0 {
			return nil, fmt.Errorf("%s: no video stream with index %d", path, stream)
		}
		return nil, fmt.Errorf("%s: no video stream", path)
	}
	return out, nil
}

func init() { registerAs("frames", newFramesCmd) }

// newFramesCmd builds the frames command; its flags are locals of this call.
func newFramesCmd() *cobra.Command {
	var asJSON, asCSV, all, strict bool
	var stream int
	var initPath string
	cmd := &cobra.Command{
		Use:   "frames [--init INIT.mp4] FILE|-|URL",
		Short: "List every video frame: type (I/P/B), key frame, timestamps, size",
		Long: `frames reads the headers of every video access unit (H.264, HEVC, AV1,
MPEG-2, MPEG-4 Part 2) and prints one line per frame in presentation order,
as ffprobe -show_frames does, without decoding. With --json the output uses
ffprobe's -show_frames JSON schema (same names and value types); fields
ffprobe does not have (decode_index, dts, rap, reference, leading,
temporal_id, nal_unit_type, structure) are extras.`,
		Example: `  streamkit frames movie.mp4
  streamkit frames --json movie.mp4 > frames.json
  streamkit frames --csv segment.ts`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ins, err := gopLoadVideos(cmd.Context(), args[0], initPath, stream, true, strict)
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), args[0], ins[0].Warnings)
			var rows []gop.FFprobeFrame
			for _, in := range ins {
				rows = append(rows, gop.FFprobeFrames(in.Track, in.Frames, all)...)
			}
			w := cmd.OutOrStdout()
			switch {
			case asJSON:
				if err := gop.WriteFFprobeFrames(w, rows); err != nil {
					return err
				}
				return gopAnalysisError(ins...)
			case asCSV:
				if err := gopWriteFramesCSV(w, rows); err != nil {
					return err
				}
				return gopAnalysisError(ins...)
			}
			for _, in := range ins {
				if err := gopWriteFramesText(w, in, gop.FFprobeFrames(in.Track, in.Frames, all)); err != nil {
					return err
				}
			}
			return gopAnalysisError(ins...)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "ffprobe -show_frames -of json schema")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "CSV with a header row")
	cmd.Flags().BoolVar(&all, "all", false, "also list frames an edit list hides (ffprobe does not)")
	cmd.Flags().IntVar(&stream, "stream", -1, "video stream index (default: the first video stream)")
	cmd.Flags().StringVar(&initPath, "init", "", "init segment (ftyp+moov) for a CMAF/fMP4 media segment")
	addStrictFlag(cmd, &strict)
	return cmd
}

// gopAnalysisError returns the first input's analysis error, naming
// the file.
func gopAnalysisError(ins ...*gopInput) error {
	for _, in := range ins {
		if err := in.analysisError(); err != nil {
			return fmt.Errorf("%s: %w", in.Path, err)
		}
	}
	return nil
}

func gopWriteFramesCSV(w io.Writer, rows []gop.FFprobeFrame) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"stream_index", "display_index", "decode_index", "pts", "pts_time", "dts", "dts_time", "pict_type", "key_frame",
		"pkt_size", "pkt_pos", "rap", "reference", "leading", "temporal_id", "nal_unit_type", "structure"})
	for _, r := range rows {
		_ = cw.Write([]string{strconv.Itoa(r.StreamIndex), strconv.Itoa(r.DisplayIndex), strconv.FormatInt(r.DecodeIndex, 10), strconv.FormatInt(*r.PTS, 10), r.PTSTime,
			strconv.FormatInt(r.DTS, 10), r.DTSTime, r.PictType, strconv.Itoa(r.KeyFrame), r.PktSize, r.PktPos, r.RAP,
			strconv.Itoa(r.Reference), r.Leading, strconv.Itoa(r.TemporalID), strconv.Itoa(r.NALUnitType), r.Structure})
	}
	cw.Flush()
	return cw.Error()
}

func gopWriteFramesText(w io.Writer, in *gopInput, rows []gop.FFprobeFrame) error {
	fmt.Fprintf(w, "%s: stream %d, %s %dx%d, %d frames (presentation order)\n", in.Path, in.Track.Index,
		in.Track.Codec, in.Track.Width, in.Track.Height, len(rows))
	fmt.Fprintf(w, "%7s %7s %12s %12s %-4s %-3s %8s  %s\n", "display", "decode", "pts_time", "dts_time", "type", "key", "size", "notes")
	for _, r := range rows {
		key := ""
		if r.KeyFrame == 1 {
			key = "key"
		}
		notes := r.RAP
		if r.Leading != "" {
			notes += " leading(" + r.Leading + ")"
		}
		if r.Reference == 1 && r.PictType == "B" {
			notes += " ref-B"
		}
		if r.Structure != "frame" {
			notes += " " + r.Structure
		}
		if _, err := fmt.Fprintf(w, "%7d %7d %12s %12s %-4s %-3s %8s  %s\n", r.DisplayIndex, r.DecodeIndex, r.PTSTime, r.DTSTime,
			r.PictType, key, r.PktSize, notes); err != nil {
			return err
		}
	}
	return nil
}
