package gop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/streamkit-go/streamkit/media"
)

// FFprobeFrame is one video frame in ffprobe's -show_frames JSON schema
// (ffprobe -show_frames -of json), the one definition of that schema in
// streamkit: `streamkit frames --json` writes it (FFprobeFrames,
// WriteFFprobeFrames) and the conformance tests read ffprobe's own output
// into it (ReadFFprobeFrames). Numbers ffprobe prints as strings (pkt_pos,
// pkt_size, *_time) are strings here too; fields ffprobe lacks for a frame
// are nil or empty and omitted. Timestamps are on the presentation
// timeline, like Frame's. The fields after the marked line are streamkit's
// extras, not ffprobe's.
type FFprobeFrame struct {
	MediaType               string  `json:"media_type"`
	StreamIndex             int     `json:"stream_index"`
	KeyFrame                int     `json:"key_frame"`
	PTS                     *int64  `json:"pts,omitempty"` // nil: ffprobe printed N/A
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

// ffTime is ffprobe's *_time: v in timescale ts, 6 decimals.
func ffTime(v int64, ts uint32) string {
	if ts == 0 {
		return "N/A"
	}
	return strconv.FormatFloat(float64(v)/float64(ts), 'f', 6, 64)
}

// FFprobeFrames turns the frames of track t (decode order, as ReadFrames
// returns them) into ffprobe rows in presentation order, without the frames
// an edit list hides unless all is set. As in ffprobe, pkt_dts is the
// decode timestamp of the packet whose decoding released the frame: decode
// index + the reorder delay, absent for the frames flushed at the end. It
// sets the frames' Display fields.
func FFprobeFrames(t *media.Track, frames []Frame, all bool) []FFprobeFrame {
	ts := t.Timescale
	var shown []Frame
	for _, f := range frames {
		if all || !f.Discarded {
			shown = append(shown, f)
		}
	}
	SetDisplayOrder(shown)
	ordered := PresentationOrder(shown)
	// libavcodec delays output by has_b_frames: the SPS's declared
	// reorder depth, raised when the stream needs more.
	delay := 0
	for i := range shown {
		delay = max(delay, i-shown[i].Display, shown[i].ReorderFrames)
	}
	rows := make([]FFprobeFrame, 0, len(ordered))
	for k, f := range ordered {
		pts := f.PTS
		r := FFprobeFrame{
			MediaType: "video", StreamIndex: t.Index, PTS: &pts, PTSTime: ffTime(f.PTS, ts),
			BestEffortTimestamp: f.PTS, BestEffortTimestampTime: ffTime(f.PTS, ts),
			PktSize: strconv.Itoa(f.Size), Width: t.Width, Height: t.Height, PixFmt: t.PixelFormat,
			PictType: f.Type.String(), DisplayIndex: k, DecodeIndex: f.Index, DTS: f.DTS, DTSTime: ffTime(f.DTS, ts),
			Reference: b2i(f.Reference), Leading: f.Leading.String(), TemporalID: f.TemporalID,
			NALUnitType: f.NALType, Structure: f.Structure.String(), Discarded: b2i(f.Discarded),
		}
		if f.Key {
			r.KeyFrame = 1
		}
		if f.RAP != RAPNone {
			r.RAP = f.RAP.String()
		}
		if k+delay < len(shown) {
			d := shown[k+delay].DTS
			s := ffTime(d, ts)
			r.PktDTS, r.PktDTSTime = &d, &s
		}
		if f.Duration > 0 {
			d := f.Duration
			s := ffTime(d, ts)
			r.PktDuration, r.PktDurationTime = &d, &s
		}
		if f.Pos >= 0 {
			r.PktPos = strconv.FormatInt(f.Pos, 10)
		}
		r.InterlacedFrame = b2i(f.Interlaced)
		r.TopFieldFirst = b2i(f.TopFieldFirst)
		if f.RecoveryFrameCnt >= 0 {
			c := f.RecoveryFrameCnt
			r.RecoveryFrameCnt = &c
		}
		rows = append(rows, r)
	}
	return rows
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WriteFFprobeFrames writes rows as ffprobe's {"frames": [...]} document,
// laid out as ffprobe lays it out. It appends the fields by hand rather
// than through encoding/json: the reflection-based encoder took most of
// `streamkit frames`' CPU time on long files. FFprobeFrame's json tags
// are the same schema (TestFFprobeFramesRoundTrip holds them together).
func WriteFFprobeFrames(w io.Writer, rows []FFprobeFrame) error {
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
		if r.PTS != nil {
			num("pts", *r.PTS)
			str("pts_time", r.PTSTime)
		}
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

// ReadFFprobeFrames reads the frames of an ffprobe -show_frames -of json
// document (all of them: audio frames come back with their media_type).
func ReadFFprobeFrames(r io.Reader) ([]FFprobeFrame, error) {
	var doc struct {
		Frames []FFprobeFrame `json:"frames"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("gop: ffprobe frames JSON: %w", err)
	}
	return doc.Frames, nil
}
