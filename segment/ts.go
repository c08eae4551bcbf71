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

// beginTS starts an MPEG-TS rendition: ts package's writer, one program,
// PAT, PMT and SDT at the start of every segment (so each is decodable on
// its own, as HLS requires) and before every key frame (so each I-frame
// byte range is), and not repeated in between, as ffmpeg's HLS muxer
// writes them. Timestamps are the writer's: the source's, shifted by its
// edit list as ffprobe shows them, plus ts.DefaultTimeOffset; audio
// wholly before the source's time zero is left out.
func (w *renditionWriter) beginTS() error {
	switch w.td.track.Codec {
	case media.CodecH264, media.CodecHEVC, media.CodecAAC, media.CodecAC3, media.CodecEAC3, media.CodecMP3, media.CodecMP2:
	default:
		return fmt.Errorf("%w: %s in MPEG-TS", ErrCodec, w.td.track.Codec)
	}
	if w.cfg.byteRange {
		uri := path.Join(w.r.ID, w.r.ID+".ts")
		f, err := os.Create(filepath.Join(w.dir, uri))
		if err != nil {
			return err
		}
		w.single = f
		w.cw.w = f
	}
	return nil
}

// segmentTS writes segment n, samples [first, end), as MPEG-TS.
func (w *renditionWriter) segmentTS(n, first, end int) error {
	td, r, cw := w.td, w.r, &w.cw
	seg := Segment{Number: n + 1, Start: td.outPTS(first), Samples: end - first}
	if !w.video {
		seg.Start = td.outDTS(first)
	}
	var f *os.File
	if w.single == nil {
		name := fmt.Sprintf("seg_%d.ts", seg.Number)
		if w.cfg.naming == ByTime {
			name = fmt.Sprintf("seg_%d.ts", seg.Start)
		}
		seg.URI = path.Join(r.ID, name)
		var err error
		f, err = os.Create(filepath.Join(w.dir, seg.URI))
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
	if w.tw == nil || !w.video {
		var err error
		if w.tw, err = ts.NewWriter(cw, []*media.Track{&td.track}, ts.WithPSIInterval(-1), ts.WithSDTInterval(-1)); err != nil {
			if f != nil {
				f.Close()
			}
			return err
		}
	}
	w.tw.ResendTables()
	err := w.writeTSSegment(&seg, first, end)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	seg.Size = cw.n - seg.Offset
	if n+1 < len(w.starts) {
		next := td.outPTS(w.starts[n+1])
		if !w.video {
			next = td.outDTS(w.starts[n+1])
		}
		seg.Duration = next - seg.Start
	}
	r.Segments = append(r.Segments, seg)
	r.Samples += int64(seg.Samples)
	return nil
}

// finishTS sets each key frame's duration and closes the single file.
func (w *renditionWriter) finishTS() error {
	r := w.r
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
	if w.single != nil {
		f := w.single
		w.single = nil
		return f.Close()
	}
	return nil
}

// writeTSSegment writes samples [first, end), whose payloads are in
// w.pay, and records the byte range of every key frame (from the PAT
// written before it to the end of its PES packets).
func (w *renditionWriter) writeTSSegment(seg *Segment, first, end int) error {
	td, r, tw, cw := w.td, w.r, w.tw, &w.cw
	for i := first; i < end; i++ {
		s := td.samples[i]
		if !w.wants(i) {
			// Audio the source's edit list hides before its time zero
			// (AAC encoder priming): MPEG-TS has no edit list to hide it,
			// so it is left out, and the audio starts with the video as
			// in the source. The decoder starts on a real frame.
			seg.Start = td.outDTS(i) + int64(td.sampleDur(i))
			seg.Samples--
			continue
		}
		data := w.pay[i-first]
		key := w.video && s.Sync
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
