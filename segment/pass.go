package segment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/ts"
)

// One pass per input.
//
// Cut reads each input once. The renditions of one input (its video and,
// often, its audio) are written together, segment by segment: the
// payloads of segment n of every one of them lie in one stretch of the
// file (an MP4 muxer interleaves the tracks' chunks, a TS spool holds
// them in demux order), which is read with one ReadAt into one arena, and
// every payload is taken from the arena in place. The GOP analysis of a
// video track (gop.Collector) runs on those same payloads as they pass,
// so it costs no read of its own, and the alignment check of several
// renditions runs after the pass on the frames it gathered. Writing each
// rendition in its own pass, after an analysis pass, read a 1080p file
// three times (1,081 one-megabyte preads for 372 MB); a TS input was even
// demuxed twice.

// maxArena bounds the buffer preallocated for one segment's payloads.
const maxArena = 256 << 20

// spanSlack is how many bytes beyond the payloads a segment's stretch of
// the file may hold (other segments' chunks at its edges, tracks not
// packaged) and still be read in one piece; a stretch with more gaps
// (a file whose tracks are not interleaved) is read sample by sample
// through the read-ahead window instead.
const spanSlack = 1 << 20

// renditionWriter writes one rendition, one segment at a time.
type renditionWriter struct {
	dir    string
	td     *trackData
	cfg    *config
	r      *Rendition
	starts []int
	video  bool
	// pay holds the payloads of the current segment, by sample index
	// minus the segment's first.
	pay [][]byte
	// col gathers the frames of a video track (nil once it failed).
	col    *gop.Collector
	colErr error

	// CMAF
	fr      *mp4.Fragmenter
	init    []byte
	body    *os.File
	bodyOff int64
	buf     bytes.Buffer
	// MPEG-TS
	tw     *ts.Writer
	single *os.File
	cw     countingWriter
}

// bounds returns the samples [first, end) of segment n.
func (w *renditionWriter) bounds(n int) (first, end int) {
	first, end = w.starts[n], len(w.td.samples)
	if n+1 < len(w.starts) {
		end = w.starts[n+1]
	}
	return first, end
}

// wants reports whether the payload of sample i is written: MPEG-TS
// leaves out audio that the source hides before its time zero.
func (w *renditionWriter) wants(i int) bool {
	td := w.td
	return w.cfg.format != TS || w.video || td.outDTS(i)+int64(td.sampleDur(i)) > td.presOffset
}

// begin cuts the track and writes what precedes the segments.
func (w *renditionWriter) begin(id string, cuts []float64) error {
	td := w.td
	starts, err := splitAt(td, cuts)
	if err != nil {
		return err
	}
	w.starts = starts
	if err := os.MkdirAll(filepath.Join(w.dir, id), 0o755); err != nil {
		return err
	}
	w.video = td.track.Kind == media.KindVideo
	w.r = &Rendition{ID: id, Source: td.in.Name, Track: td.track, Timescale: td.track.Timescale, ByteRange: w.cfg.byteRange}
	w.r.PresentationTimeOffset = td.presOffset
	if w.video {
		// A codec the analyser does not know only costs the
		// independence claim (or, with several renditions, fails the
		// alignment check after the pass, as it did before it).
		w.col, w.colErr = gop.NewCollector(&td.track)
	}
	if w.cfg.format == TS {
		return w.beginTS()
	}
	fr, err := mp4.NewCMAFFragmenter(&td.track, mp4.WithPresentationOffset(td.presOffset))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCodec, err)
	}
	if fr.NeedsConfiguration(td.track.ID) {
		// AC-3/E-AC-3 from MPEG-TS: the first syncframe gives dac3/dec3
		// (selectTracks has dropped the bytes before it, if any).
		data, err := td.readPayload(0, nil)
		if err != nil {
			return fmt.Errorf("sample 0: %w", err)
		}
		if err := fr.Configure(td.track.ID, data); err != nil {
			return fmt.Errorf("%w: %w", ErrCodec, err)
		}
	}
	var initBuf bytes.Buffer
	if err := fr.WriteInit(&initBuf); err != nil {
		return fmt.Errorf("%w: %w", ErrCodec, err)
	}
	w.fr, w.init = fr, initBuf.Bytes()
	// In byte-range mode the segments go to a body file first: the sidx
	// in front of them needs their sizes.
	if w.cfg.byteRange {
		w.body, err = os.CreateTemp(filepath.Join(w.dir, id), ".body-*")
		return err
	}
	w.r.Init = &Range{URI: path.Join(id, "init.mp4"), Size: int64(len(w.init))}
	return os.WriteFile(filepath.Join(w.dir, w.r.Init.URI), w.init, 0o644)
}

// analyse feeds the payloads of samples [first, end) to the GOP
// analysis. The first failure stops it, as gop.ReadFrames stops.
func (w *renditionWriter) analyse(first, end int) {
	if w.col == nil || w.colErr != nil {
		return
	}
	for i := first; i < end; i++ {
		if err := w.col.Add(&w.td.samples[i], w.pay[i-first]); err != nil {
			w.colErr = err
			return
		}
	}
}

// segment writes segment n, whose payloads are in w.pay.
func (w *renditionWriter) segment(n int) error {
	first, end := w.bounds(n)
	w.analyse(first, end)
	if w.cfg.format == TS {
		return w.segmentTS(n, first, end)
	}
	td, r := w.td, w.r
	w.buf.Reset()
	seg := Segment{Number: n + 1, Start: td.outPTS(first), Samples: end - first}
	if !w.video {
		seg.Start = td.outDTS(first)
	}
	// One fragment per GOP for video (so each key frame has its own
	// moof for I-frame playlists), one per segment for audio.
	var groups [][]mp4.FragmentSample
	var keys []int
	for i := first; i < end; i++ {
		s := td.samples[i]
		if i == first || w.video && s.Sync {
			groups = append(groups, nil)
			keys = append(keys, i)
		}
		data := w.pay[i-first]
		if ls := td.track.Config.NALLengthSize; ls > 0 && (td.track.Codec == media.CodecH264 || td.track.Codec == media.CodecHEVC) {
			// The rule remux's MPEG-TS writer applies: a NAL length
			// that overruns its sample is refused, not packaged into
			// a segment a decoder will choke on.
			if err := gop.SplitNALUnits(data, ls, func([]byte, int) error { return nil }); err != nil {
				return fmt.Errorf("track %d sample %d at byte %d: %w", s.TrackID, s.Index, s.Pos, err)
			}
		}
		fs := mp4.FragmentSample{Sample: s, Data: data}
		fs.DTS, fs.PTS, fs.Duration = td.outDTS(i), td.outPTS(i), td.sampleDur(i)
		if !w.video {
			fs.PTS = fs.DTS
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], fs)
		seg.Duration += int64(fs.Duration)
	}
	var next map[int]int64
	if end < len(td.samples) {
		next = map[int]int64{td.track.ID: td.outDTS(end)}
	}
	frags, err := w.fr.WriteSegment(&w.buf, groups, next)
	if err != nil {
		return err
	}
	if n+1 < len(w.starts) {
		// Segments tile the timeline: a segment lasts until the next
		// one starts (identical to the summed sample durations for
		// normal input).
		next := td.outPTS(w.starts[n+1])
		if !w.video {
			next = td.outDTS(w.starts[n+1])
		}
		seg.Duration = next - seg.Start
	}
	id := r.ID
	if w.cfg.byteRange {
		seg.Range = Range{URI: path.Join(id, id+".mp4"), Offset: w.bodyOff, Size: int64(w.buf.Len())}
		if _, err := w.body.Write(w.buf.Bytes()); err != nil {
			return err
		}
	} else {
		name := fmt.Sprintf("seg_%d.m4s", seg.Number)
		if w.cfg.naming == ByTime {
			name = fmt.Sprintf("seg_%d.m4s", w.r.PresentationTime(seg.Start))
		}
		seg.Range = Range{URI: path.Join(id, name), Size: int64(w.buf.Len())}
		if err := os.WriteFile(filepath.Join(w.dir, seg.URI), w.buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if w.video {
		for k, f := range frags {
			r.IFrames = append(r.IFrames, IFrame{
				Range: Range{URI: seg.URI, Offset: seg.Offset + f.Offset, Size: f.FirstSampleEnd - f.Offset},
				Start: td.outPTS(keys[k]), Duration: f.Duration,
			})
		}
	}
	w.bodyOff += int64(w.buf.Len())
	r.Segments = append(r.Segments, seg)
	r.Samples += int64(end - first)
	return nil
}

// finish completes the GOP analysis (with the samples the edit list
// trimmed off the end, which the analysis has always covered), sets the
// stream access point type and closes the rendition's files.
func (w *renditionWriter) finish() error {
	td, r := w.td, w.r
	if w.col != nil && w.colErr == nil {
		var buf []byte
		for i := range td.tail {
			data, err := td.readTail(i, buf)
			if err != nil {
				w.colErr = fmt.Errorf("gop: reading sample %d of track %d: %w", td.tail[i].Index, td.track.ID, err)
				break
			}
			buf = data
			if err := w.col.Add(&td.tail[i], data); err != nil {
				w.colErr = err
				break
			}
		}
		if w.colErr == nil {
			td.frames, _ = w.col.Frames()
		}
	}
	r.SAPType = 1
	if w.video {
		for n := range w.starts {
			k, end := w.bounds(n)
			r.SAPType = max(r.SAPType, td.sapType(k, end))
		}
	}
	r.Independent = r.SAPType == 1
	if w.cfg.format == TS {
		return w.finishTS()
	}
	if w.cfg.byteRange {
		return assembleSingleFile(w.dir, r.ID, r, w.init, w.body)
	}
	return nil
}

// close releases what an unfinished rendition holds.
func (w *renditionWriter) close() {
	if w.body != nil {
		w.body.Close()
		os.Remove(w.body.Name())
	}
	if w.single != nil {
		w.single.Close()
	}
}

// readPayload returns the MP4-form payload of sample i.
// buf, when its capacity suffices, receives the payload.
func (td *trackData) readPayload(i int, buf []byte) ([]byte, error) {
	if td.spooled != nil {
		return td.sp.read(td.spooled[i], buf)
	}
	s := td.samples[i]
	return td.in.Demuxer.ReadSample(&s, buf)
}

// readTail returns the payload of the i-th sample trimmed by trimToEdit.
func (td *trackData) readTail(i int, buf []byte) ([]byte, error) {
	if td.tailSpool != nil {
		return td.sp.read(td.tailSpool[i], buf)
	}
	s := td.tail[i]
	return td.in.Demuxer.ReadSample(&s, buf)
}

// where returns the source of sample i's payload (the spool or the
// input) and its offset there; ok is false when it has none to read from
// in one piece with others.
func (td *trackData) where(i int) (src io.ReaderAt, size, off int64, ok bool) {
	if td.spooled != nil {
		return td.sp.f, td.sp.n, td.spooled[i].off, true
	}
	if r, isMP4 := td.in.Demuxer.(*mp4.Reader); isMP4 {
		return r, r.Size(), td.samples[i].Offset, td.samples[i].Offset >= 0
	}
	return nil, 0, 0, false
}

// payloadRef is one payload of a segment of one input.
type payloadRef struct {
	w   *renditionWriter
	i   int // sample index
	off int64
	n   int64
	src io.ReaderAt
}

// inputPass writes the renditions of one input segment by segment.
type inputPass struct {
	ws    []*renditionWriter
	refs  []payloadRef
	arena []byte
}

// run writes every segment of every rendition of the input.
func (p *inputPass) run(ctx context.Context) error {
	segs := 0
	for _, w := range p.ws {
		segs = max(segs, len(w.starts))
	}
	for n := range segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.read(n); err != nil {
			return err
		}
		for _, w := range p.ws {
			if n >= len(w.starts) {
				continue
			}
			if err := w.segment(n); err != nil {
				return fmt.Errorf("%s: %w", w.td.in.Name, err)
			}
		}
	}
	for _, w := range p.ws {
		if err := w.finish(); err != nil {
			return fmt.Errorf("%s: %w", w.td.in.Name, err)
		}
	}
	return nil
}

// read fills w.pay with the payloads of segment n of every rendition: one
// ReadAt of the stretch of the file that holds them all when it is not
// much larger than they are, else one read per sample in file order.
func (p *inputPass) read(n int) error {
	p.refs = p.refs[:0]
	var need int64
	var src io.ReaderAt
	var size int64
	oneSource := true
	for _, w := range p.ws {
		w.pay = w.pay[:0]
		if n >= len(w.starts) {
			continue
		}
		first, end := w.bounds(n)
		w.pay = slices.Grow(w.pay, end-first)[:end-first]
		clear(w.pay)
		for i := first; i < end; i++ {
			if !w.wants(i) {
				continue
			}
			s, sz, off, ok := w.td.where(i)
			if !ok || (src != nil && s != src) {
				oneSource = false
			}
			if src == nil {
				src, size = s, sz
			}
			ln := int64(w.td.samples[i].Size)
			if w.td.spooled != nil {
				ln = int64(w.td.spooled[i].n)
			}
			if off < 0 || off > size || ln > size-off {
				oneSource = false // let the per-sample read report it
			}
			p.refs = append(p.refs, payloadRef{w: w, i: i, off: off, n: ln, src: s})
			need += ln
		}
	}
	if len(p.refs) == 0 {
		return nil
	}
	// File order: within a track it is decode order already; the tracks'
	// chunks interleave.
	slices.SortStableFunc(p.refs, func(a, b payloadRef) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	if oneSource && src != nil {
		lo, hi := p.refs[0].off, int64(0)
		for _, r := range p.refs {
			hi = max(hi, r.off+r.n)
		}
		if span := hi - lo; span <= maxArena && span <= need+spanSlack {
			if int64(cap(p.arena)) < span {
				p.arena = make([]byte, span)
			}
			buf := p.arena[:span]
			if m, err := src.ReadAt(buf, lo); int64(m) == span && (err == nil || err == io.EOF) {
				for _, r := range p.refs {
					a := r.off - lo
					r.w.pay[r.i-r.w.starts[n]] = buf[a : a+r.n : a+r.n]
				}
				return nil
			}
			// A read error: read sample by sample, which names the
			// sample that fails.
		}
	}
	if need <= maxArena && int64(cap(p.arena)) < need {
		p.arena = make([]byte, 0, need)
	}
	arena := p.arena[:0]
	for _, r := range p.refs {
		off, size := len(arena), int(r.n)
		if off+size <= cap(arena) {
			arena = arena[:off+size]
		}
		data, err := r.w.td.readPayload(r.i, arena[off:len(arena):len(arena)])
		if err != nil {
			return fmt.Errorf("%s: sample %d: %w", r.w.td.in.Name, r.i, err)
		}
		r.w.pay[r.i-r.w.starts[n]] = data
	}
	return nil
}

// writeInputs writes every rendition, one pass per input, and returns
// them in the order of ws.
func writeInputs(ctx context.Context, dir string, tds []*trackData, cuts []float64, cfg *config) (ws []*renditionWriter, err error) {
	ids := map[string]int{}
	ws = make([]*renditionWriter, len(tds))
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.close()
			}
		}
	}()
	for k, td := range tds {
		ws[k] = &renditionWriter{dir: dir, td: td, cfg: cfg}
	}
	for k, w := range ws {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := w.begin(uniqueID(ids, renditionID(&tds[k].track)), cuts); err != nil {
			return nil, fmt.Errorf("%s: %w", w.td.in.Name, err)
		}
	}
	// Inputs in the order they first appear among the renditions.
	var passes []*inputPass
	byInput := map[int]*inputPass{}
	for _, w := range ws {
		p := byInput[w.td.input]
		if p == nil {
			p = &inputPass{}
			byInput[w.td.input] = p
			passes = append(passes, p)
		}
		p.ws = append(p.ws, w)
	}
	for _, p := range passes {
		if err := p.run(ctx); err != nil {
			return nil, err
		}
		p.arena = nil
	}
	return ws, nil
}
