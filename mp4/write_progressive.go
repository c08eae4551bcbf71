package mp4

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// WriteProgressive writes the audio and video tracks of d as a progressive
// MP4 file with the moov box first (faststart; see WithMoovAtEnd), then
// one mdat.
//
// It makes two passes over d.Samples(): the first builds the sample tables
// (and, for inputs whose payloads change size on the way — MPEG-TS Annex B
// video, ADTS audio — converts each payload to learn its MP4 size), the
// second copies payloads with d.ReadSample in the same order. Payloads are
// never held in memory beyond one sample, so a multi-gigabyte input
// remuxes in a few megabytes plus 12 to 16 bytes per sample of tables.
//
// Samples keep the input's order (its interleaving); consecutive samples
// of one track form a chunk. stco becomes co64 when an offset passes
// 4 GiB; ctts is written in version 1 when a composition offset is
// negative; stss is omitted when every sample is a sync sample. Edit
// lists are kept (MP4 input) or synthesised so that ffprobe shows the
// input's timestamps (see WithTSTimeline).
//
// fMP4 input is defragmented: the result is a plain progressive file.
//
// AC-3 and E-AC-3 samples are written as ffmpeg's MP4 muxer writes them
// (ETSI TS 102 366 annex F; WriteFragmented too): E-AC-3 frames of fewer
// than six audio blocks are merged six blocks to a sample and an
// incomplete last group is left out, and payloads without a syncframe
// before the first sample are dropped. An input whose frames fill no
// sample gives an error wrapping [ErrNoSamples].
func WriteProgressive(ctx context.Context, w io.Writer, d media.Demuxer, opts ...WriteOption) error {
	cfg := newWriteConfig(opts)
	tracks, err := planTracks(d.Tracks(), &cfg)
	if err != nil {
		return err
	}
	origin := d.Format() == "mpegts"
	if cfg.originSet {
		origin = cfg.tsOrigin
	}
	byIn := map[int]*progTrack{}
	pts := make([]*progTrack, len(tracks))
	for i, ot := range tracks {
		pts[i] = &progTrack{outTrack: ot}
		if ot.t.Codec == media.CodecAC3 || ot.t.Codec == media.CodecEAC3 {
			pts[i].group = &eac3Grouper{}
		}
		if n := ot.t.SampleCount; n > 0 && n <= MaxSamples {
			pts[i].sizes = make([]uint32, 0, n)
		}
		byIn[ot.t.ID] = pts[i]
	}

	// Pass 1: tables.
	var (
		pos      int64 // payload bytes so far (offset inside mdat's body)
		last     *progTrack
		buf, cbf []byte
		n        int
		guard    sampleGuard
	)
	for s, err := range d.Samples() {
		if err != nil {
			return err
		}
		pt := byIn[s.TrackID]
		if pt == nil {
			continue
		}
		if err := guard.check(&s); err != nil {
			return err
		}
		if n++; n&255 == 1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !pt.probed {
			pt.probed = true
			if err := pt.probeRaw(d, &s, &buf); err != nil {
				return err
			}
		}
		if pt.group != nil {
			ok, err := pt.shape(d, &s)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		size := s.Size
		if pt.conv != nil {
			in := s.Data // the grouper's: never handed to ReadSample as a buffer
			if in == nil {
				if buf, err = d.ReadSample(&s, buf); err != nil {
					return err
				}
				in = buf
			}
			cbf, err = pt.conv.convert(cbf, in)
			if err != nil {
				return fmt.Errorf("mp4: track %d sample %d at byte %d: %w", s.TrackID, s.Index, s.Pos, err)
			}
			if len(cbf) > math.MaxUint32 {
				return fmt.Errorf("%w: sample too large", ErrWrite)
			}
			size = uint32(len(cbf))
		}
		if err := pt.add(&s, size); err != nil {
			return err
		}
		if last != pt || pt.chunkN >= cfg.chunkMax {
			pt.chunks = append(pt.chunks, pos)
			pt.perChunk = append(pt.perChunk, 0)
			pt.chunkN = 0
			last = pt
		}
		pt.perChunk[len(pt.perChunk)-1]++
		pt.chunkN++
		pos += int64(size)
	}
	payload := pos
	durations := map[uint32]int64{}
	var total int64
	for _, pt := range pts {
		pt.finish()
		durations[pt.id] = pt.pend
		total += pt.bytes
		if pt.group != nil {
			if pt.count == 0 {
				continue // dropped below; its entry may never have been built
			}
		}
		if pt.entry == nil {
			return fmt.Errorf("%w: track %d (%s) has no samples to build its configuration from", ErrWrite, pt.t.ID, pt.t.Codec)
		}
	}
	var kept []*outTrack
	var keptP []*progTrack
	for _, pt := range pts {
		if pt.count == 0 {
			continue // a track without samples is dropped, as ffmpeg does
		}
		kept = append(kept, pt.outTrack)
		keptP = append(keptP, pt)
	}
	if len(kept) == 0 {
		groups := map[int]*eac3Grouper{}
		var all []*outTrack
		for _, pt := range pts {
			all = append(all, pt.outTrack)
			if pt.group != nil {
				groups[pt.t.ID] = pt.group
			}
		}
		return noSamplesError(all, groups)
	}
	var oNum, oDen int64
	if origin {
		groups := map[int]*eac3Grouper{}
		for _, pt := range keptP {
			if pt.group != nil {
				groups[pt.t.ID] = pt.group
			}
		}
		oNum, oDen = droppedOrigin(kept, groups)
	}
	planTimeline(kept, origin, durations, oNum, oDen)

	// Layout: ftyp, moov, mdat header, payload.
	var ft box
	brands := append([]string{"isom", "iso2"}, codecBrands(kept)...)
	brands = append(brands, "mp41")
	writeFtyp(&ft, "ftyp", "isom", 0x200, brands...)
	mdatHdr := int64(8)
	if payload+8 > math.MaxUint32 {
		mdatHdr = 16
	}
	// moov's size does not depend on the chunk offsets: build it with
	// offsets relative to the payload, then add the payload's position
	// in place (a second build only when offsets need co64).
	co64 := false
	moov, tables := buildProgressiveMoov(keptP, false)
	if int64(len(ft.b))+int64(len(moov))+mdatHdr+payload > math.MaxUint32 {
		co64 = true
		moov, tables = buildProgressiveMoov(keptP, true)
	}
	base := int64(len(ft.b)) + int64(len(moov)) + mdatHdr
	if cfg.moovAtEnd {
		base = int64(len(ft.b)) + mdatHdr
	}
	for k, pt := range keptP {
		pos := tables[k]
		for _, c := range pt.chunks {
			if co64 {
				binary.BigEndian.PutUint64(moov[pos:], uint64(base+c))
				pos += 8
			} else {
				binary.BigEndian.PutUint32(moov[pos:], uint32(base+c))
				pos += 4
			}
		}
	}

	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(ft.b); err != nil {
		return err
	}
	if !cfg.moovAtEnd {
		if _, err := bw.Write(moov); err != nil {
			return err
		}
	}
	var mh box
	if mdatHdr == 16 {
		mh.u32(1)
		mh.bytes([]byte("mdat"))
		mh.u64(uint64(payload + 16))
	} else {
		mh.u32(uint32(payload + 8))
		mh.bytes([]byte("mdat"))
	}
	if _, err := bw.Write(mh.b); err != nil {
		return err
	}

	// Pass 2: payloads.
	for _, pt := range pts {
		if pt.group != nil {
			pt.group = &eac3Grouper{} // the same decisions again
		}
	}
	var written int64
	next := map[int]int64{}
	rc := newRangeCopier(d, w, bw)
	for s, err := range d.Samples() {
		if err != nil {
			return err
		}
		pt := byIn[s.TrackID]
		if pt == nil || pt.count == 0 {
			continue
		}
		if pt.group != nil {
			ok, err := pt.shape(d, &s)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if n++; n&255 == 1 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if cfg.progress != nil {
				cfg.progress(written, payload)
			}
		}
		i := next[s.TrackID]
		next[s.TrackID]++
		if i >= int64(len(pt.sizes)) {
			return fmt.Errorf("%w: input yielded more samples on the second pass (track %d)", ErrWrite, s.TrackID)
		}
		if pt.conv == nil && rc != nil && s.Data == nil && s.Offset >= 0 {
			// Contiguous runs of MP4 input are copied file to file.
			if uint32(s.Size) != pt.sizes[i] {
				return fmt.Errorf("%w: track %d sample %d: %d bytes on the second pass, %d on the first", ErrWrite, s.TrackID, i, s.Size, pt.sizes[i])
			}
			if err := rc.add(s.Offset, int64(s.Size)); err != nil {
				return err
			}
			written += int64(s.Size)
			continue
		}
		if rc != nil {
			if err := rc.flush(); err != nil {
				return err
			}
		}
		out := s.Data // the grouper's: never handed to ReadSample as a buffer
		if out == nil {
			if buf, err = d.ReadSample(&s, buf); err != nil {
				return err
			}
			out = buf
		}
		if pt.conv != nil {
			if cbf, err = pt.conv.convert(cbf, out); err != nil {
				return fmt.Errorf("mp4: track %d sample %d at byte %d: %w", s.TrackID, s.Index, s.Pos, err)
			}
			out = cbf
		}
		if uint32(len(out)) != pt.sizes[i] {
			return fmt.Errorf("%w: track %d sample %d: %d bytes on the second pass, %d on the first", ErrWrite, s.TrackID, i, len(out), pt.sizes[i])
		}
		if _, err := bw.Write(out); err != nil {
			return err
		}
		written += int64(len(out))
	}
	if rc != nil {
		if err := rc.flush(); err != nil {
			return err
		}
	}
	if written != payload {
		return fmt.Errorf("%w: %d payload bytes on the second pass, %d planned", ErrWrite, written, payload)
	}
	if cfg.progress != nil {
		cfg.progress(written, payload)
	}
	if cfg.moovAtEnd {
		if _, err := bw.Write(moov); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// rangeCopier copies runs of contiguous samples from an MP4 file to the
// output file with copy_file_range (os.File.ReadFrom), without passing
// the bytes through user space. It is used only when the input is a
// *Reader over an *os.File and the output is an *os.File.
type rangeCopier struct {
	src        *os.File
	size       int64
	dst        *os.File
	bw         *bufio.Writer
	start, end int64
}

func newRangeCopier(d media.Demuxer, w io.Writer, bw *bufio.Writer) *rangeCopier {
	r, ok := d.(*Reader)
	if !ok {
		return nil
	}
	src, ok := r.r.(*os.File)
	if !ok {
		return nil
	}
	dst, ok := w.(*os.File)
	if !ok {
		return nil
	}
	return &rangeCopier{src: src, size: r.size, dst: dst, bw: bw, start: -1}
}

func (c *rangeCopier) add(off, n int64) error {
	if off < 0 || n > c.size-off {
		return posErr(off, "sample", media.ErrTruncated, "%d-byte sample runs past the end of the %d-byte file", n, c.size)
	}
	if c.start >= 0 && off == c.end {
		c.end += n
		return nil
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.start, c.end = off, off+n
	return nil
}

func (c *rangeCopier) flush() error {
	if c.start < 0 {
		return nil
	}
	start, n := c.start, c.end-c.start
	c.start = -1
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if _, err := c.src.Seek(start, io.SeekStart); err != nil {
		return err
	}
	m, err := io.Copy(c.dst, io.LimitReader(c.src, n))
	if err == nil && m != n {
		err = posErr(start+m, "mdat", media.ErrTruncated, "file ended %d bytes early", n-m)
	}
	return err
}

// probeRaw decides from the first sample of an AAC track read from a
// file (MP4 input) whether its samples need the ADTS converter at all:
// MP4 carries raw AAC frames, and a muxer that left ADTS headers in them
// leaves them in every frame. When the first frame has none, the track's
// payloads are copied as they are: pass 1 then reads no AAC payload and
// pass 2 copies the whole mdat in one copy_file_range run instead of
// breaking it at every audio chunk. (Frames from MPEG-TS, which carry
// Data, are always converted.)
func (pt *progTrack) probeRaw(d media.Demuxer, s *media.Sample, buf *[]byte) error {
	if _, ok := pt.conv.(adtsConv); !ok || s.Data != nil || s.Offset < 0 {
		return nil
	}
	b, err := d.ReadSample(s, *buf)
	if err != nil {
		return err
	}
	*buf = b
	if bitstream.ADTSHeaderLen(b) == 0 {
		pt.conv = nil
	}
	return nil
}

// shape passes s through the track's AC-3/E-AC-3 grouper: false while
// the frame is held or dropped; a given-out s has Data set.
func (pt *progTrack) shape(d media.Demuxer, s *media.Sample) (bool, error) {
	b, err := d.ReadSample(s, pt.gbuf)
	if err != nil {
		return false, err
	}
	if s.Data == nil {
		pt.gbuf = b // our buffer (MP4 input), reused
	}
	out, ok, err := pt.group.add(s, b)
	if err != nil {
		return false, fmt.Errorf("mp4: %w", err)
	}
	if ok {
		*s = out
	}
	return ok, nil
}

// progTrack accumulates one track's sample tables.
type progTrack struct {
	*outTrack
	group    *eac3Grouper // AC-3/E-AC-3: samples as movenc.c makes them
	gbuf     []byte       // its read buffer
	probed   bool         // probeRaw has seen the first sample
	count    int64
	bytes    int64
	sizes    []uint32
	stts     []uint32 // count, delta pairs
	ctts     []uint32 // count, offset pairs
	stss     []uint32
	allSync  bool
	lastDTS  int64
	lastDur  uint32
	dur      int64 // media duration (sum of deltas)
	chunks   []int64
	perChunk []uint32
	chunkN   int
	lastPTS  int64
	pend     int64 // presentation end relative to d0: max(PTS+duration)-d0
}

func (pt *progTrack) add(s *media.Sample, size uint32) error {
	if pt.count == 0 {
		pt.d0, pt.minPTS = s.DTS, s.PTS
		pt.allSync = true
	} else {
		delta := s.DTS - pt.lastDTS
		if delta < 0 || delta > math.MaxUint32 {
			return fmt.Errorf("%w: track %d sample %d at byte %d: DTS %d after %d (not increasing)", ErrWrite, s.TrackID, s.Index, s.Pos, s.DTS, pt.lastDTS)
		}
		pt.addDelta(uint32(delta))
	}
	pt.lastPTS = s.PTS
	pt.minPTS = min(pt.minPTS, s.PTS)
	cto := s.PTS - s.DTS
	if cto < math.MinInt32 || cto > math.MaxInt32 {
		return fmt.Errorf("%w: track %d sample %d: composition offset %d out of range", ErrWrite, s.TrackID, s.Index, cto)
	}
	if cto < 0 {
		pt.negCTO = true
	}
	if n := len(pt.ctts); n > 0 && int32(pt.ctts[n-1]) == int32(cto) {
		pt.ctts[n-2]++
	} else {
		pt.ctts = append(pt.ctts, 1, uint32(int32(cto)))
	}
	if s.Sync {
		pt.stss = append(pt.stss, uint32(pt.count+1))
	} else {
		pt.allSync = false
	}
	pt.sizes = append(pt.sizes, size)
	pt.lastDTS = s.DTS
	pt.lastDur = s.Duration
	pt.count++
	pt.bytes += int64(size)
	return nil
}

func (pt *progTrack) addDelta(d uint32) {
	if n := len(pt.stts); n > 0 && pt.stts[n-1] == d {
		pt.stts[n-2]++
	} else {
		pt.stts = append(pt.stts, 1, d)
	}
	pt.dur += int64(d)
	pt.pend = max(pt.pend, pt.lastPTS+int64(d)-pt.d0)
}

// finish adds the last sample's duration (its own Duration, else the
// previous delta).
func (pt *progTrack) finish() {
	if pt.count == 0 {
		return
	}
	d := pt.lastDur
	if d == 0 && len(pt.stts) > 0 {
		d = pt.stts[len(pt.stts)-1]
	}
	pt.addDelta(d)
}

// buildProgressiveMoov serialises moov with chunk offsets relative to the
// first payload byte; it returns the position of each track's first
// chunk-offset entry.
func buildProgressiveMoov(pts []*progTrack, co64 bool) ([]byte, []int) {
	est := 4096
	for _, pt := range pts {
		est += 1024 + len(pt.entry) + 4*(len(pt.sizes)+len(pt.stts)+len(pt.ctts)+len(pt.stss)) + 12*len(pt.perChunk) + 8*len(pt.chunks)
	}
	w := box{b: make([]byte, 0, est)}
	var tables []int
	mts := pts[0].movieTS
	var movieDur int64
	durs := make([]int64, len(pts))
	for i, pt := range pts {
		d := media.Rescale(pt.dur, int64(mts), int64(pt.t.Timescale))
		if len(pt.edits) > 0 {
			d = editDuration(pt.edits)
		}
		durs[i] = d
		movieDur = max(movieDur, d)
	}
	m := w.open("moov")
	writeMvhd(&w, mts, movieDur, uint32(len(pts)+1))
	for i, pt := range pts {
		t := w.open("trak")
		writeTkhd(&w, pt.outTrack, durs[i])
		writeEdts(&w, pt.edits)
		md := w.open("mdia")
		writeMdhd(&w, pt.outTrack, pt.dur)
		writeHdlr(&w, pt.hdlr)
		mi := w.open("minf")
		writeMediaHeader(&w, pt.hdlr)
		st := w.open("stbl")
		writeStsd(&w, pt.outTrack)

		b := w.openFull("stts", 0, 0)
		w.u32(uint32(len(pt.stts) / 2))
		for _, v := range pt.stts {
			w.u32(v)
		}
		w.close(b)

		if !(len(pt.ctts) == 2 && pt.ctts[1] == 0) {
			v := byte(0)
			if pt.negCTO {
				v = 1
			}
			b = w.openFull("ctts", v, 0)
			w.u32(uint32(len(pt.ctts) / 2))
			for _, v := range pt.ctts {
				w.u32(v)
			}
			w.close(b)
		}

		if !pt.allSync {
			b = w.openFull("stss", 0, 0)
			w.u32(uint32(len(pt.stss)))
			for _, v := range pt.stss {
				w.u32(v)
			}
			w.close(b)
		}

		// stsc: runs of chunks with the same sample count.
		b = w.openFull("stsc", 0, 0)
		cnt := len(w.b)
		w.u32(0)
		runs := uint32(0)
		for ci, n := range pt.perChunk {
			if ci > 0 && pt.perChunk[ci-1] == n {
				continue
			}
			w.u32(uint32(ci + 1))
			w.u32(n)
			w.u32(1)
			runs++
		}
		putU32(w.b[cnt:], runs)
		w.close(b)

		b = w.openFull("stsz", 0, 0)
		same := true
		for _, s := range pt.sizes {
			if s != pt.sizes[0] {
				same = false
				break
			}
		}
		if same {
			w.u32(pt.sizes[0])
			w.u32(uint32(len(pt.sizes)))
		} else {
			w.u32(0)
			w.u32(uint32(len(pt.sizes)))
			for _, s := range pt.sizes {
				w.u32(s)
			}
		}
		w.close(b)

		if co64 {
			b = w.openFull("co64", 0, 0)
			w.u32(uint32(len(pt.chunks)))
			tables = append(tables, len(w.b))
			for _, c := range pt.chunks {
				w.u64(uint64(c))
			}
		} else {
			b = w.openFull("stco", 0, 0)
			w.u32(uint32(len(pt.chunks)))
			tables = append(tables, len(w.b))
			for _, c := range pt.chunks {
				w.u32(uint32(c))
			}
		}
		w.close(b)

		w.close(st)
		w.close(mi)
		w.close(md)
		w.close(t)
	}
	w.close(m)
	return w.b, tables
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}
