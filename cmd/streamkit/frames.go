package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
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

// gopLoadVideo opens path, picks its video stream (the first one when
// stream < 0, else the one with that ffprobe stream index) and analyses
// every frame. MP4 timestamps follow ffprobe's reading of the edit list.
func gopLoadVideo(ctx context.Context, path string, stream int) (*gopInput, error) {
	ins, err := gopLoadVideos(ctx, path, stream, false)
	if err != nil {
		return nil, err
	}
	return ins[0], nil
}

// gopLoadVideos is gopLoadVideo returning every video stream when all is set
// and stream < 0.
func gopLoadVideos(ctx context.Context, path string, stream int, all bool) ([]*gopInput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d, err := media.Open(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []*gopInput
	for pos, tr := range d.Tracks() {
		if tr.Kind != media.KindVideo || (stream >= 0 && tr.Index != stream) {
			continue
		}
		opts := []gop.Option{gop.WithKeepErrors()}
		if r, ok := d.(*mp4.Reader); ok {
			opts = append(opts, gop.WithTimestamps(gopFFprobeTimeline(r, pos, tr)))
		}
		frames, err := gop.ReadFrames(ctx, d, tr, opts...)
		var fe *gop.FrameError
		if err != nil && !errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, &gopInput{Path: path, Size: st.Size(), Demux: d, Track: tr, Frames: frames, Err: err})
		if !all || stream >= 0 {
			break
		}
	}
	if len(out) == 0 {
		if stream >= 0 {
			return nil, fmt.Errorf("%s: no video stream with index %d", path, stream)
		}
		return nil, fmt.Errorf("%s: no video stream", path)
	}
	return out, nil
}

// gopFFprobeTimeline maps MP4 samples to the timestamps ffprobe gives them
// after libavformat's edit-list re-indexing (mp4.Reader.FFprobePackets).
func gopFFprobeTimeline(r *mp4.Reader, pos int, t *media.Track) func(*media.Sample) (int64, int64, bool) {
	type ts struct {
		pts, dts int64
		shown    bool
	}
	m := map[int64]ts{}
	for _, p := range r.FFprobePackets(pos) {
		m[p.Sample.Index] = ts{p.PTS, p.DTS, !p.Discard}
	}
	shift := mp4.EditShift(t)
	return func(s *media.Sample) (int64, int64, bool) {
		if v, ok := m[s.Index]; ok {
			return v.pts, v.dts, v.shown
		}
		return s.PTS + shift, s.DTS + shift, false
	}
}

func init() { register(newFramesCmd) }

// newFramesCmd builds the frames command; its flags are locals of this call.
func newFramesCmd() *cobra.Command {
	var asJSON, asCSV, all bool
	var stream int
	cmd := &cobra.Command{
		Use:   "frames FILE",
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
			ins, err := gopLoadVideos(cmd.Context(), args[0], stream, true)
			if err != nil {
				return err
			}
			var rows []gopFrameRow
			for _, in := range ins {
				rows = append(rows, gopFrameRows(in, all)...)
			}
			w := cmd.OutOrStdout()
			switch {
			case asJSON:
				if err := gopWriteFramesJSON(w, rows); err != nil {
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
				if err := gopWriteFramesText(w, in, gopFrameRows(in, all)); err != nil {
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
	return cmd
}

// gopFrameRow is one frame in ffprobe's -show_frames JSON schema. Numbers
// ffprobe prints as strings (pkt_pos, pkt_size, *_time) are strings here
// too; fields it lacks for a frame are omitted.
type gopFrameRow struct {
	MediaType               string  `json:"media_type"`
	StreamIndex             int     `json:"stream_index"`
	KeyFrame                int     `json:"key_frame"`
	PTS                     int64   `json:"pts"`
	PTSTime                 string  `json:"pts_time"`
	PktDTS                  *int64  `json:"pkt_dts,omitempty"`
	PktDTSTime              *string `json:"pkt_dts_time,omitempty"`
	BestEffortTimestamp     int64   `json:"best_effort_timestamp"`
	BestEffortTimestampTime string  `json:"best_effort_timestamp_time"`
	PktDuration             *int64  `json:"pkt_duration,omitempty"`
	PktDurationTime         *string `json:"pkt_duration_time,omitempty"`
	PktPos                  string  `json:"pkt_pos,omitempty"`
	PktSize                 string  `json:"pkt_size"`
	Width                   int     `json:"width,omitempty"`
	Height                  int     `json:"height,omitempty"`
	PixFmt                  string  `json:"pix_fmt,omitempty"`
	PictType                string  `json:"pict_type"`
	InterlacedFrame         int     `json:"interlaced_frame"`
	TopFieldFirst           int     `json:"top_field_first"`
	// Extras (not in ffprobe's schema).
	DisplayIndex     int    `json:"display_index"`
	DecodeIndex      int64  `json:"decode_index"`
	DTS              int64  `json:"dts"`
	DTSTime          string `json:"dts_time"`
	RAP              string `json:"rap,omitempty"`
	Reference        int    `json:"reference"`
	Leading          string `json:"leading,omitempty"`
	TemporalID       int    `json:"temporal_id"`
	NALUnitType      int    `json:"nal_unit_type"`
	Structure        string `json:"structure"`
	RecoveryFrameCnt *int   `json:"recovery_frame_cnt,omitempty"`
	Discarded        int    `json:"discarded,omitempty"`
}

func gopFFTime(v int64, ts uint32) string {
	if ts == 0 {
		return "N/A"
	}
	return strconv.FormatFloat(float64(v)/float64(ts), 'f', 6, 64)
}

// gopFrameRows turns frames into ffprobe rows in presentation order. As in
// ffprobe, pkt_dts is the decode timestamp of the packet whose decoding
// released the frame: decode index + the reorder delay, absent for the
// frames flushed at the end.
func gopFrameRows(in *gopInput, all bool) []gopFrameRow {
	ts := in.Track.Timescale
	var shown []gop.Frame
	for _, f := range in.Frames {
		if all || !f.Discarded {
			shown = append(shown, f)
		}
	}
	gop.SetDisplayOrder(shown)
	ordered := gop.PresentationOrder(shown)
	// libavcodec delays output by has_b_frames: the SPS's declared
	// reorder depth, raised when the stream needs more.
	delay := 0
	for i := range shown {
		delay = max(delay, i-shown[i].Display, shown[i].ReorderFrames)
	}
	rows := make([]gopFrameRow, 0, len(ordered))
	for k, f := range ordered {
		r := gopFrameRow{
			MediaType: "video", StreamIndex: in.Track.Index, PTS: f.PTS, PTSTime: gopFFTime(f.PTS, ts),
			BestEffortTimestamp: f.PTS, BestEffortTimestampTime: gopFFTime(f.PTS, ts),
			PktSize: strconv.Itoa(f.Size), Width: in.Track.Width, Height: in.Track.Height, PixFmt: in.Track.PixelFormat,
			PictType: f.Type.String(), DisplayIndex: k, DecodeIndex: f.Index, DTS: f.DTS, DTSTime: gopFFTime(f.DTS, ts),
			Reference: gopB2I(f.Reference), Leading: f.Leading.String(), TemporalID: f.TemporalID,
			NALUnitType: f.NALType, Structure: f.Structure.String(), Discarded: gopB2I(f.Discarded),
		}
		if f.Key {
			r.KeyFrame = 1
		}
		if f.RAP != gop.RAPNone {
			r.RAP = f.RAP.String()
		}
		if k+delay < len(shown) {
			d := shown[k+delay].DTS
			s := gopFFTime(d, ts)
			r.PktDTS, r.PktDTSTime = &d, &s
		}
		if f.Duration > 0 {
			d := f.Duration
			s := gopFFTime(d, ts)
			r.PktDuration, r.PktDurationTime = &d, &s
		}
		if f.Pos >= 0 {
			r.PktPos = strconv.FormatInt(f.Pos, 10)
		}
		r.InterlacedFrame = gopB2I(f.Interlaced)
		r.TopFieldFirst = gopB2I(f.TopFieldFirst)
		if f.RecoveryFrameCnt >= 0 {
			c := f.RecoveryFrameCnt
			r.RecoveryFrameCnt = &c
		}
		rows = append(rows, r)
	}
	return rows
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

func gopB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

// gopWriteFramesJSON writes rows as ffprobe's {"frames": [...]} document.
// It appends the fields by hand rather than through encoding/json: the
// reflection-based encoder took most of the command's CPU time on long
// files. gopFrameRow's json tags document the same schema.
func gopWriteFramesJSON(w io.Writer, rows []gopFrameRow) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n    \"frames\": [")
	var b []byte
	for i, r := range rows {
		b = b[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n        {"...)
		first := true
		key := func(k string) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, "\n            \""...)
			b = append(b, k...)
			b = append(b, "\": "...)
		}
		str := func(k, v string) { key(k); b = strconv.AppendQuote(b, v) }
		num := func(k string, v int64) { key(k); b = strconv.AppendInt(b, v, 10) }
		str("media_type", r.MediaType)
		num("stream_index", int64(r.StreamIndex))
		num("key_frame", int64(r.KeyFrame))
		num("pts", r.PTS)
		str("pts_time", r.PTSTime)
		if r.PktDTS != nil {
			num("pkt_dts", *r.PktDTS)
			str("pkt_dts_time", *r.PktDTSTime)
		}
		num("best_effort_timestamp", r.BestEffortTimestamp)
		str("best_effort_timestamp_time", r.BestEffortTimestampTime)
		if r.PktDuration != nil {
			num("pkt_duration", *r.PktDuration)
			str("pkt_duration_time", *r.PktDurationTime)
		}
		if r.PktPos != "" {
			str("pkt_pos", r.PktPos)
		}
		str("pkt_size", r.PktSize)
		if r.Width != 0 {
			num("width", int64(r.Width))
			num("height", int64(r.Height))
		}
		if r.PixFmt != "" {
			str("pix_fmt", r.PixFmt)
		}
		str("pict_type", r.PictType)
		num("interlaced_frame", int64(r.InterlacedFrame))
		num("top_field_first", int64(r.TopFieldFirst))
		num("display_index", int64(r.DisplayIndex))
		num("decode_index", r.DecodeIndex)
		num("dts", r.DTS)
		str("dts_time", r.DTSTime)
		if r.RAP != "" {
			str("rap", r.RAP)
		}
		num("reference", int64(r.Reference))
		if r.Leading != "" {
			str("leading", r.Leading)
		}
		num("temporal_id", int64(r.TemporalID))
		num("nal_unit_type", int64(r.NALUnitType))
		str("structure", r.Structure)
		if r.RecoveryFrameCnt != nil {
			num("recovery_frame_cnt", int64(*r.RecoveryFrameCnt))
		}
		if r.Discarded != 0 {
			num("discarded", int64(r.Discarded))
		}
		b = append(b, "\n        }"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	bw.WriteString("\n    ]\n}\n")
	return bw.Flush()
}

func gopWriteFramesCSV(w io.Writer, rows []gopFrameRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"stream_index", "display_index", "decode_index", "pts", "pts_time", "dts", "dts_time", "pict_type", "key_frame",
		"pkt_size", "pkt_pos", "rap", "reference", "leading", "temporal_id", "nal_unit_type", "structure"})
	for _, r := range rows {
		_ = cw.Write([]string{strconv.Itoa(r.StreamIndex), strconv.Itoa(r.DisplayIndex), strconv.FormatInt(r.DecodeIndex, 10), strconv.FormatInt(r.PTS, 10), r.PTSTime,
			strconv.FormatInt(r.DTS, 10), r.DTSTime, r.PictType, strconv.Itoa(r.KeyFrame), r.PktSize, r.PktPos, r.RAP,
			strconv.Itoa(r.Reference), r.Leading, strconv.Itoa(r.TemporalID), strconv.Itoa(r.NALUnitType), r.Structure})
	}
	cw.Flush()
	return cw.Error()
}

func gopWriteFramesText(w io.Writer, in *gopInput, rows []gopFrameRow) error {
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
