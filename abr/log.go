package abr

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
)

// SetOnSegment sets the per-download callback (see WithOnSegment).
func (s *Session) SetOnSegment(f func(*SegmentRecord)) { s.opt.OnSegment = f }

// SegmentCSVHeader is the header of WriteSegmentCSV.
var SegmentCSVHeader = []string{"index", "quality", "bitrate_kbps", "size_bits", "downloaded_bits", "start_ms", "time_ms",
	"ttfb_ms", "wait_ms", "delay_ms", "buffer_before_ms", "buffer_after_ms", "rebuffer_ms", "abandoned", "abandon_to",
	"throughput_kbps", "estimate_kbps"}

// WriteSegmentCSV writes per-segment records as CSV with a header line.
func WriteSegmentCSV(w io.Writer, recs []SegmentRecord) error {
	return writeSegments(NewSegmentWriter(w, false), recs)
}

// WriteSegmentJSONL writes one JSON object per record.
func WriteSegmentJSONL(w io.Writer, recs []SegmentRecord) error {
	return writeSegments(NewSegmentWriter(w, true), recs)
}

func writeSegments(sw *SegmentWriter, recs []SegmentRecord) error {
	for i := range recs {
		if err := sw.Write(&recs[i]); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// SegmentWriter writes per-segment records as they are made (from
// WithOnSegment), so a log of a session of millions of segments needs no
// memory per segment: CSV with SegmentCSVHeader, or JSON Lines.
type SegmentWriter struct {
	bw     *bufio.Writer
	enc    *json.Encoder // JSON Lines when not nil
	b      []byte
	header bool
	err    error
}

// NewSegmentWriter returns a writer of CSV records (JSON Lines with jsonl)
// to w. Call Flush at the end.
func NewSegmentWriter(w io.Writer, jsonl bool) *SegmentWriter {
	sw := &SegmentWriter{bw: bufio.NewWriterSize(w, 64<<10)}
	if jsonl {
		sw.enc = json.NewEncoder(sw.bw)
	}
	return sw
}

// Write writes one record. After an error every call returns it.
func (sw *SegmentWriter) Write(r *SegmentRecord) error {
	if sw.err != nil {
		return sw.err
	}
	if sw.enc != nil {
		sw.err = sw.enc.Encode(r)
		return sw.err
	}
	b := sw.b[:0]
	if !sw.header {
		for i, h := range SegmentCSVHeader {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, h...)
		}
		b = append(b, '\n')
		sw.header = true
	}
	b = strconv.AppendInt(b, int64(r.Index), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Quality), 10)
	for _, v := range [...]float64{r.BitrateKbps, r.SizeBits, r.Downloaded, r.StartMs, r.TimeMs, r.TTFBMs, r.WaitMs,
		r.DelayMs, r.BufferBefore, r.BufferAfter, r.RebufMs} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	b = append(b, ',')
	b = strconv.AppendBool(b, r.Abandoned)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.AbandonTo), 10)
	for _, v := range [...]float64{r.ThroughputKb, r.EstimateKbps} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	b = append(b, '\n')
	sw.b = b
	_, sw.err = sw.bw.Write(b)
	return sw.err
}

// Flush writes what is buffered (and the CSV header of an empty log).
func (sw *SegmentWriter) Flush() error {
	if sw.err == nil && sw.enc == nil && !sw.header {
		for i, h := range SegmentCSVHeader {
			if i > 0 {
				sw.bw.WriteByte(',')
			}
			sw.bw.WriteString(h)
		}
		sw.bw.WriteByte('\n')
		sw.header = true
	}
	if sw.err != nil {
		return sw.err
	}
	sw.err = sw.bw.Flush()
	return sw.err
}
