package segment

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// countingWriter counts what reaches the file.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeTSRendition writes the segments of one track as MPEG-TS with the
// ts package's writer: one program, PAT, PMT and SDT at the start of every
// segment (so each is decodable on its own, as HLS requires) and before
// every key frame (so each I-frame byte range is), and not repeated in
// between, as ffmpeg's HLS muxer writes them. Timestamps are the
// writer's: the source's, shifted by its edit list as ffprobe shows them,
// plus ts.DefaultTimeOffset; audio wholly before the source's time zero
// is left out.
func writeTSRendition(dir string, r *Rendition, td *trackData, starts []int, cfg *config) error {
	switch td.track.Codec {
	case media.CodecH264, media.CodecHEVC, media.CodecAAC, media.CodecAC3, media.CodecEAC3, media.CodecMP3, media.CodecMP2:
	default:
		return fmt.Errorf("%w: %s in MPEG-TS", ErrCodec, td.track.Codec)
	}
	video := td.track.Kind == media.KindVideo
	var tw *ts.Writer
	var single *os.File
	cw := &countingWriter{}
	if cfg.byteRange {
		uri := path.Join(r.ID, r.ID+".ts")
		f, err := os.Create(filepath.Join(dir, uri))
		if err != nil {
			return err
		}
		defer f.Close()
		single = f
		cw.w = f
	}
	for n, first := range starts {
		end := len(td.samples)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		seg := Segment{Number: n + 1, Start: td.outPTS(first), Samples: end - first}
		if !video {
			seg.Start = td.outDTS(first)
		}
		var f *os.File
		if single == nil {
			name := fmt.Sprintf("seg_%d.ts", seg.Number)
			if cfg.naming == ByTime {
				name = fmt.Sprintf("seg_%d.ts", seg.Start)
			}
			seg.URI = path.Join(r.ID, name)
			var err error
			f, err = os.Create(filepath.Join(dir, seg.URI))
			if err != nil {
				return err
			}
			cw.w, cw.n = f, 0
		} else {
			seg.URI = path.Join(r.ID, r.ID+".ts")
		}
		seg.Offset = cw.n
		// Video segments start at key frames, before which the writer
		// puts PAT and PMT: one writer serves the whole rendition and
		// keeps continuity counters running. Audio gets a new writer per
		// segment so that each starts with PAT and PMT. As in ffmpeg's
		// HLS muxer, the tables are written once per segment (and before
		// key frames), not every 100 ms: a client reads a segment from
		// its start, and the repeats would cost 5 % of a 64 kbit/s audio
		// rendition.
		if tw == nil || !video {
			var err error
			if tw, err = ts.NewWriter(cw, []*media.Track{&td.track}, ts.WithPSIInterval(-1), ts.WithSDTInterval(-1)); err != nil {
				return err
			}
		}
		tw.ResendTables()
		err := writeTSSegment(tw, cw, r, td, &seg, first, end)
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return err
		}
		seg.Size = cw.n - seg.Offset
		if n+1 < len(starts) {
			next := td.outPTS(starts[n+1])
			if !video {
				next = td.outDTS(starts[n+1])
			}
			seg.Duration = next - seg.Start
		}
		r.Segments = append(r.Segments, seg)
		r.Samples += int64(seg.Samples)
	}
	// Each key frame is shown until the next one.
	if len(r.IFrames) > 0 {
		last := &r.Segments[len(r.Segments)-1]
		endT := last.Start + last.Duration
		for i := range r.IFrames {
			next := endT
			if i+1 < len(r.IFrames) {
				next = r.IFrames[i+1].Start
			}
			r.IFrames[i].Duration = next - r.IFrames[i].Start
		}
	}
	if single != nil {
		return single.Close()
	}
	return nil
}

// writeTSSegment writes samples [first, end) with tw and records the byte
// range of every key frame (from the PAT written before it to the end of
// its PES packets).
func writeTSSegment(tw *ts.Writer, cw *countingWriter, r *Rendition, td *trackData, seg *Segment, first, end int) error {
	video := td.track.Kind == media.KindVideo
	var scratch []byte // WriteSample copies the payload into packets
	for i := first; i < end; i++ {
		s := td.samples[i]
		if !video && td.outDTS(i)+int64(td.sampleDur(i)) <= td.presOffset {
			// Audio the source's edit list hides before its time zero
			// (AAC encoder priming): MPEG-TS has no edit list to hide it,
			// so it is left out, and the audio starts with the video as
			// in the source. The decoder starts on a real frame.
			seg.Start = td.outDTS(i) + int64(td.sampleDur(i))
			seg.Samples--
			continue
		}
		data, err := td.readPayload(i, scratch)
		if err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
		key := video && s.Sync
		var keyOff int64
		if key {
			if err := tw.Flush(); err != nil {
				return err
			}
			keyOff = cw.n
			// Every I-frame range starts with the tables (the writer
			// repeats them only after non-key frames, as ffmpeg does).
			tw.ResendTables()
		}
		if err := tw.WriteSample(&s, data); err != nil {
			return err
		}
		if cap(data) > cap(scratch) {
			scratch = data[:0]
		}
		if key {
			if err := tw.Flush(); err != nil {
				return err
			}
			r.IFrames = append(r.IFrames, IFrame{
				Range: Range{URI: seg.URI, Offset: keyOff, Size: cw.n - keyOff},
				Start: td.outPTS(i),
			})
		}
		seg.Duration += int64(td.sampleDur(i))
	}
	return tw.Flush()
}
