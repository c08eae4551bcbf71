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
	bw := bufio.NewWriter(w)
	for i, h := range SegmentCSVHeader {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString(h)
	}
	bw.WriteByte('\n')
	var b []byte
	for i := range recs {
		r := &recs[i]
		b = b[:0]
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
		bw.Write(b)
	}
	return bw.Flush()
}

// WriteSegmentJSONL writes one JSON object per record.
func WriteSegmentJSONL(w io.Writer, recs []SegmentRecord) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}
