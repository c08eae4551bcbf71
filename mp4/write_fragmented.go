package mp4

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"

	"github.com/streamkit-go/streamkit/media"
)

// FragmentSample is one sample handed to Fragmenter.WriteFragment: the
// sample record and its payload as the demuxer returned it (conversion to
// MP4 form — Annex B to length-prefixed, ADTS stripped — is done by the
// Fragmenter).
type FragmentSample struct {
	media.Sample
	Data []byte
}

// Fragmenter writes fragmented MP4 (ISO/IEC 14496-12 §8.8) for a fixed set
// of tracks: an init segment (ftyp and a moov without samples, with mvex),
// then one moof+mdat pair per WriteFragment call. In CMAF mode (NewCMAF
// Fragmenter) it writes a CMAF track (ISO/IEC 23000-19): one track, brand
// cmfc, every fragment a segment starting with styp (WriteChunk writes a
// chunk without it, for the parts of a segment after its first).
//
// Each traf has tfhd (default-base-is-moof), tfdt (version 1) and one trun
// with per-sample duration, size, flags and composition offsets (version 1
// when one is negative). Timestamps are media times: the DTS of each
// track's first sample (SetStart) is time zero, and the edit list maps the
// input's presentation times as the progressive writer does. With
// WithPresentationOffset (what package segment uses) timestamps are
// written as given and the edit list only says where time zero is.
//
// This is the module's one CMAF writer: remux --to cmaf (WriteCMAF), the
// packager (segment, through WriteSegment: styp, then one moof+mdat per
// GOP, and AppendSidx for byte-range files) and the live packager all
// write through it.
type Fragmenter struct {
	tracks  []*outTrack
	byIn    map[int]*outTrack
	cmaf    bool
	origin  bool
	seq     uint32
	started bool
	// originNum/originDen, when originDen > 0, is the MPEG-TS time origin
	// in seconds shared with other Fragmenters (CMAF: one per track).
	originNum, originDen int64
	conv                 []byte
	pay                  []byte
	next                 map[int]int64 // DTS after the last written sample, per input track
	src                  media.Demuxer // reads payloads of samples given without Data
	rbuf                 []byte
	// given: timestamps are written as the caller gives them, with one
	// edit of media time presOffset (WithPresentationOffset).
	given      bool
	presOffset int64
}

// FragmentInfo locates one written fragment (moof+mdat) and says what it
// holds, for the byte ranges of segments and I-frame playlists. Offsets
// are relative to the start of what the call wrote (the styp, when there
// is one, comes first).
type FragmentInfo struct {
	// Offset of the moof and Size of moof+mdat, in bytes.
	Offset, Size int64
	// FirstSampleEnd is the offset just past the first sample's data:
	// [Offset, FirstSampleEnd) is everything a decoder needs to show a
	// fragment that starts with a key frame (moof, mdat header, frame).
	FirstSampleEnd int64
	// BaseMediaDecodeTime is the tfdt of the first track, Earliest its
	// earliest presentation time and Duration the summed sample
	// durations, in the track's timescale.
	BaseMediaDecodeTime, Earliest, Duration int64
	// Samples is the number of samples of the first track.
	Samples int
}

// NewFragmenter returns a Fragmenter for the audio and video tracks among
// tracks (WithTracks narrows them). WithTSTimeline(true) selects MPEG-TS
// timestamp normalisation; a Fragmenter has no input to guess it from, so
// it is off by default.
func NewFragmenter(tracks []*media.Track, opts ...WriteOption) (*Fragmenter, error) {
	cfg := newWriteConfig(opts)
	ots, err := planTracks(tracks, &cfg)
	if err != nil {
		return nil, err
	}
	f := &Fragmenter{tracks: ots, byIn: map[int]*outTrack{}, origin: cfg.tsOrigin, next: map[int]int64{},
		given: cfg.given, presOffset: cfg.presOffset}
	for _, ot := range ots {
		f.byIn[ot.t.ID] = ot
		ot.d0, ot.minPTS = ot.t.StartDTS, ot.t.StartPTS
		if f.given {
			ot.d0, ot.minPTS = 0, 0
		}
	}
	return f, nil
}

// NewCMAFFragmenter returns a Fragmenter writing the CMAF track of t.
func NewCMAFFragmenter(t *media.Track, opts ...WriteOption) (*Fragmenter, error) {
	f, err := NewFragmenter([]*media.Track{t}, append(opts[:len(opts):len(opts)], WithTracks(t.ID))...)
	if err != nil {
		return nil, err
	}
	f.cmaf = true
	return f, nil
}

// SetStart overrides a track's first DTS and smallest PTS (by default
// Track.StartDTS and StartPTS), before WriteInit.
func (f *Fragmenter) SetStart(trackID int, firstDTS, minPTS int64) {
	if ot := f.byIn[trackID]; ot != nil && !f.given {
		ot.d0, ot.minPTS = firstDTS, minPTS
	}
}

// TrackIDs returns the input track IDs the Fragmenter writes.
func (f *Fragmenter) TrackIDs() []int {
	ids := make([]int, len(f.tracks))
	for i, ot := range f.tracks {
		ids[i] = ot.t.ID
	}
	return ids
}

// WriteInit writes the init segment. AC-3/E-AC-3 tracks from MPEG-TS
// need their first sample to have been converted first (prepare), which
// WriteFragmented does.
func (f *Fragmenter) WriteInit(w io.Writer) error {
	for _, ot := range f.tracks {
		if ot.entry == nil {
			return fmt.Errorf("%w: track %d (%s): configuration not known before its first sample", ErrWrite, ot.t.ID, ot.t.Codec)
		}
	}
	if f.given {
		for _, ot := range f.tracks {
			ot.movieTS, ot.edits = ot.t.Timescale, nil
			if f.presOffset != 0 {
				// Duration 0: the whole of the fragments (ISO/IEC
				// 14496-12 §8.6.6.3).
				ot.edits = []media.Edit{{MediaTime: f.presOffset, RateInt: 1}}
			}
		}
	} else {
		planTimeline(f.tracks, f.origin, nil, f.originNum, f.originDen)
	}
	var b box
	if f.cmaf {
		writeFtyp(&b, "ftyp", "cmfc", 0, append([]string{"iso6", "cmfc"}, codecBrands(f.tracks)...)...)
	} else {
		writeFtyp(&b, "ftyp", "iso5", 512, append([]string{"iso5", "iso6", "mp41"}, codecBrands(f.tracks)...)...)
	}
	m := b.open("moov")
	writeMvhd(&b, f.tracks[0].movieTS, 0, uint32(len(f.tracks)+1))
	for _, ot := range f.tracks {
		t := b.open("trak")
		writeTkhd(&b, ot, 0)
		writeEdts(&b, ot.edits)
		md := b.open("mdia")
		writeMdhd(&b, ot, 0)
		writeHdlr(&b, ot.hdlr)
		mi := b.open("minf")
		writeMediaHeader(&b, ot.hdlr)
		st := b.open("stbl")
		writeStsd(&b, ot)
		for _, typ := range []string{"stts", "stsc", "stco"} {
			i := b.openFull(typ, 0, 0)
			b.u32(0)
			b.close(i)
		}
		i := b.openFull("stsz", 0, 0)
		b.u32(0)
		b.u32(0)
		b.close(i)
		b.close(st)
		b.close(mi)
		b.close(md)
		b.close(t)
	}
	mv := b.open("mvex")
	for _, ot := range f.tracks {
		i := b.openFull("trex", 0, 0)
		b.u32(ot.id)
		b.u32(1)
		b.u32(0)
		b.u32(0)
		b.u32(0)
		b.close(i)
	}
	b.close(mv)
	b.close(m)
	f.started = true
	_, err := w.Write(b.b)
	return err
}

// NeedsConfiguration reports whether a track's sample entry can only be
// built from its first sample (AC-3/E-AC-3 from MPEG-TS, which carries no
// dac3/dec3): call Configure with that sample before WriteInit.
func (f *Fragmenter) NeedsConfiguration(trackID int) bool {
	ot := f.byIn[trackID]
	return ot != nil && ot.entry == nil && ot.conv != nil
}

// Configure builds the sample entry of a track that NeedsConfiguration
// from the payload of its first sample.
func (f *Fragmenter) Configure(trackID int, payload []byte) error {
	ot := f.byIn[trackID]
	if ot == nil || ot.entry != nil || ot.conv == nil {
		return nil
	}
	if _, err := ot.conv.convert(nil, payload); err != nil {
		return fmt.Errorf("mp4: track %d, first sample: %w", trackID, err)
	}
	return nil
}

// WriteSegment writes one CMAF segment: styp (in CMAF mode), then one
// moof+mdat per element of fragments (CMAF fragments, e.g. one per GOP
// so that every key frame starts a moof that an I-frame playlist or a
// player's trick mode can fetch alone). nextDTS is as for WriteFragment,
// for the last fragment. It returns where each fragment lies in what
// was written.
func (f *Fragmenter) WriteSegment(w io.Writer, fragments [][]FragmentSample, nextDTS map[int]int64) ([]FragmentInfo, error) {
	if !f.started {
		return nil, fmt.Errorf("%w: WriteSegment before WriteInit", ErrWrite)
	}
	var at int64 // bytes written so far
	if f.cmaf {
		var b box
		writeStyp(&b)
		if _, err := w.Write(b.b); err != nil {
			return nil, err
		}
		at = int64(len(b.b))
	}
	infos := make([]FragmentInfo, 0, len(fragments))
	for k, fs := range fragments {
		if len(fs) == 0 {
			continue
		}
		next := nextDTS
		if k+1 < len(fragments) && len(fragments[k+1]) > 0 {
			next = map[int]int64{}
			for _, s := range fragments[k+1] {
				if _, ok := next[s.TrackID]; !ok {
					next[s.TrackID] = s.DTS
				}
			}
			for id, v := range nextDTS {
				if _, ok := next[id]; !ok {
					next[id] = v
				}
			}
		}
		info, err := f.writeFragment(w, fs, next, false)
		if err != nil {
			return nil, err
		}
		info.Offset += at
		info.FirstSampleEnd += at
		at += info.Size
		infos = append(infos, info)
	}
	return infos, nil
}

// writeStyp writes the segment type box of a CMAF media segment
// (ISO/IEC 23000-19 §7.3.3.2: msdh major, cmfs and cmff compatible).
func writeStyp(b *box) { writeFtyp(b, "styp", "msdh", 0, "msdh", "cmfs", "cmff") }

// prepare converts one payload for its track (building a lazily known
// sample entry on the way) and returns the MP4 bytes.
func (f *Fragmenter) prepare(ot *outTrack, data []byte, dst []byte) ([]byte, error) {
	if ot.conv == nil {
		return append(dst, data...), nil
	}
	var err error
	f.conv, err = ot.conv.convert(f.conv, data)
	if err != nil {
		return nil, err
	}
	return append(dst, f.conv...), nil
}

// trackFrag is one track's part of a fragment being written.
type trackFrag struct {
	ot      *outTrack
	samples []FragmentSample
	sizes   []uint32
	bytes   int64
	nextDTS int64 // DTS of the track's next sample, when known (else -1)
}

// WriteFragment writes one moof+mdat (preceded by styp in CMAF mode)
// holding samples, which must be in decode order within each track.
// nextDTS gives, per input track ID, the DTS of the sample that follows
// the fragment (for the last sample's duration); when absent the sample's
// own Duration is used.
func (f *Fragmenter) WriteFragment(w io.Writer, samples []FragmentSample, nextDTS map[int]int64) error {
	if !f.started {
		return fmt.Errorf("%w: WriteFragment before WriteInit", ErrWrite)
	}
	_, err := f.writeFragment(w, samples, nextDTS, f.cmaf)
	return err
}

// WriteChunk writes one CMAF chunk (ISO/IEC 23000-19 §7.3.2.3): a
// moof+mdat without styp, even in CMAF mode, for the chunks after the
// first of a segment (an LL-HLS part, a low-latency DASH chunk), so that
// a segment written chunk by chunk — WriteFragment for its first chunk,
// WriteChunk for the rest — has one styp, at its start, and equals what
// WriteSegment writes for the same samples. Arguments are as for
// WriteFragment; the FragmentInfo locates the chunk in what was written.
//
// A method rather than a WriteOption: whether a styp belongs is a
// property of each call (where it falls in its segment), not of the
// Fragmenter.
func (f *Fragmenter) WriteChunk(w io.Writer, samples []FragmentSample, nextDTS map[int]int64) (FragmentInfo, error) {
	if !f.started {
		return FragmentInfo{}, fmt.Errorf("%w: WriteChunk before WriteInit", ErrWrite)
	}
	return f.writeFragment(w, samples, nextDTS, false)
}

// writeFragment writes one moof+mdat, after a styp when styp is set.
func (f *Fragmenter) writeFragment(w io.Writer, samples []FragmentSample, nextDTS map[int]int64, styp bool) (FragmentInfo, error) {
	var info FragmentInfo
	var tfs []*trackFrag
	idx := map[int]*trackFrag{}
	f.pay = f.pay[:0]
	for _, s := range samples {
		ot := f.byIn[s.TrackID]
		if ot == nil {
			continue
		}
		tf := idx[s.TrackID]
		if tf == nil {
			tf = &trackFrag{ot: ot, nextDTS: -1}
			if v, ok := nextDTS[s.TrackID]; ok {
				tf.nextDTS = v
			}
			idx[s.TrackID] = tf
		}
		tf.samples = append(tf.samples, s)
	}
	// Payloads grouped per track, in track order.
	streamed := false
	for _, ot := range f.tracks {
		tf := idx[ot.t.ID]
		if tf == nil {
			continue
		}
		tfs = append(tfs, tf)
		for _, s := range tf.samples {
			if s.Data == nil && ot.conv == nil {
				// Streamed from the source at write time.
				tf.sizes = append(tf.sizes, s.Size)
				tf.bytes += int64(s.Size)
				streamed = true
				continue
			}
			if s.Data == nil {
				return info, fmt.Errorf("%w: track %d sample %d has no payload", ErrWrite, s.TrackID, s.Index)
			}
			if ot.conv == nil {
				// Written from s.Data as it is, not copied into f.pay
				// first (a packager's segment arena).
				if len(s.Data) > math.MaxUint32 {
					return info, fmt.Errorf("%w: sample too large", ErrWrite)
				}
				tf.sizes = append(tf.sizes, uint32(len(s.Data)))
				tf.bytes += int64(len(s.Data))
				streamed = true
				continue
			}
			n := len(f.pay)
			var err error
			f.pay, err = f.prepare(ot, s.Data, f.pay)
			if err != nil {
				return info, fmt.Errorf("mp4: track %d sample %d at byte %d: %w", s.TrackID, s.Index, s.Pos, err)
			}
			sz := len(f.pay) - n
			if sz > math.MaxUint32 {
				return info, fmt.Errorf("%w: sample too large", ErrWrite)
			}
			tf.sizes = append(tf.sizes, uint32(sz))
			tf.bytes += int64(sz)
		}
	}
	if len(tfs) == 0 {
		return info, nil
	}
	f.seq++
	var b box
	if styp {
		writeStyp(&b)
	}
	moofStart := len(b.b)
	m := b.open("moof")
	i := b.openFull("mfhd", 0, 0)
	b.u32(f.seq)
	b.close(i)
	offPos := make([]int, len(tfs))
	for k, tf := range tfs {
		ot := tf.ot
		tr := b.open("traf")
		i := b.openFull("tfhd", 0, tfhdDefaultBaseIsMoo)
		b.u32(ot.id)
		b.close(i)
		base := tf.samples[0].DTS - ot.d0
		if base < 0 {
			return info, fmt.Errorf("%w: track %d: DTS %d before the track start %d", ErrWrite, ot.t.ID, tf.samples[0].DTS, ot.d0)
		}
		if k == 0 {
			info.BaseMediaDecodeTime, info.Earliest, info.Samples = base, math.MaxInt64, len(tf.samples)
		}
		i = b.openFull("tfdt", 1, 0)
		b.u64(uint64(base))
		b.close(i)
		neg, anyCTO := false, false
		for _, s := range tf.samples {
			if c := s.PTS - s.DTS; c != 0 {
				anyCTO = true
				if c < 0 {
					neg = true
				}
			}
		}
		flags := uint32(trunDataOffset | trunDuration | trunSize | trunFlags)
		if anyCTO {
			flags |= trunCTO
		}
		v := byte(0)
		if neg {
			v = 1
		}
		i = b.openFull("trun", v, flags)
		b.u32(uint32(len(tf.samples)))
		offPos[k] = len(b.b)
		b.u32(0) // data_offset, patched below
		for j, s := range tf.samples {
			var dur int64
			switch {
			case j+1 < len(tf.samples):
				dur = tf.samples[j+1].DTS - s.DTS
			case tf.nextDTS >= 0:
				dur = tf.nextDTS - s.DTS
			default:
				dur = int64(s.Duration)
				if dur == 0 && j > 0 {
					dur = s.DTS - tf.samples[j-1].DTS
				}
			}
			if dur < 0 || dur > math.MaxUint32 {
				return info, fmt.Errorf("%w: track %d sample %d at byte %d: DTS not increasing", ErrWrite, s.TrackID, s.Index, s.Pos)
			}
			cto := s.PTS - s.DTS
			if k == 0 {
				info.Duration += dur
				info.Earliest = min(info.Earliest, base+(s.DTS-tf.samples[0].DTS)+cto)
			}
			if cto < math.MinInt32 || cto > math.MaxInt32 {
				return info, fmt.Errorf("%w: track %d sample %d: composition offset %d", ErrWrite, s.TrackID, s.Index, cto)
			}
			b.u32(uint32(dur))
			b.u32(tf.sizes[j])
			if s.Sync {
				b.u32(0x02000000) // sample_depends_on = 2 (I frame)
			} else {
				b.u32(sampleDependsYes | sampleNonSync)
			}
			if anyCTO {
				b.u32(uint32(int32(cto)))
			}
			f.next[s.TrackID] = s.DTS + dur
		}
		b.close(i)
		b.close(tr)
	}
	b.close(m)
	moofSize := len(b.b) - moofStart
	// Data offsets are relative to the moof start (default-base-is-moof).
	var payload int64
	for _, tf := range tfs {
		payload += tf.bytes
	}
	hdr := int64(8)
	if payload+8 > math.MaxUint32 {
		hdr = 16
	}
	off := int64(moofSize) + hdr
	for k, tf := range tfs {
		if off > math.MaxInt32 {
			return info, fmt.Errorf("%w: fragment larger than 2 GiB", ErrWrite)
		}
		putU32(b.b[offPos[k]:], uint32(off))
		off += tf.bytes
	}
	info.Offset = int64(moofStart)
	info.Size = int64(moofSize) + hdr + payload
	info.FirstSampleEnd = info.Offset + int64(moofSize) + hdr + int64(tfs[0].sizes[0])
	if hdr == 16 {
		b.u32(1)
		b.bytes([]byte("mdat"))
		b.u64(uint64(payload + 16))
	} else {
		b.u32(uint32(payload + 8))
		b.bytes([]byte("mdat"))
	}
	if _, err := w.Write(b.b); err != nil {
		return info, err
	}
	if !streamed {
		_, err := w.Write(f.pay)
		return info, err
	}
	// Mixed: converted payloads come from f.pay in order, unconverted
	// ones from their Data, the others are read from the source now.
	pos := 0
	for _, tf := range tfs {
		for j, s := range tf.samples {
			var p []byte
			if s.Data == nil && tf.ot.conv == nil {
				if f.src == nil {
					return info, fmt.Errorf("%w: track %d sample %d has no payload", ErrWrite, s.TrackID, s.Index)
				}
				var err error
				if f.rbuf, err = f.src.ReadSample(&s.Sample, f.rbuf); err != nil {
					return info, err
				}
				p = f.rbuf
			} else if tf.ot.conv == nil {
				p = s.Data
			} else {
				p = f.pay[pos : pos+int(tf.sizes[j])]
				pos += int(tf.sizes[j])
			}
			if uint32(len(p)) != tf.sizes[j] {
				return info, fmt.Errorf("%w: track %d sample %d: read %d bytes, expected %d", ErrWrite, s.TrackID, s.Index, len(p), tf.sizes[j])
			}
			if _, err := w.Write(p); err != nil {
				return info, err
			}
		}
	}
	return info, nil
}

// WriteFragmented writes the audio and video tracks of d as one
// fragmented MP4 file: an init segment followed by fragments of about
// WithFragmentDuration each, cut before a key frame of the first video
// track (or of the first track when there is no video). Each fragment is
// buffered in memory (one fragment's payload), never the whole input.
func WriteFragmented(ctx context.Context, w io.Writer, d media.Demuxer, opts ...WriteOption) error {
	cfg := newWriteConfig(opts)
	if !cfg.originSet {
		// MPEG-TS input is normalised unless the caller said otherwise.
		cfg.tsOrigin = d.Format() == "mpegts"
		opts = append(opts[:len(opts):len(opts)], WithTSTimeline(cfg.tsOrigin))
	}
	f, err := NewFragmenter(d.Tracks(), opts...)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	ref := f.tracks[0]
	for _, ot := range f.tracks {
		if ot.hdlr == "vide" {
			ref = ot
			break
		}
	}
	err = fragmentLoop(ctx, d, cfg, []*Fragmenter{f}, func(int) *Fragmenter { return f },
		func(fr *Fragmenter, ot *outTrack) bool { return ot == ref },
		func(*Fragmenter, int) (io.Writer, func() error, error) { return bw, nil, nil })
	if err != nil {
		return err
	}
	return bw.Flush()
}

// CMAFSink opens the files of a CMAF track: seq 0 is the init segment,
// 1, 2, … the media segments, in order. The writer closes each before
// opening the next.
type CMAFSink func(trackID, seq int) (io.WriteCloser, error)

// WriteCMAF writes every audio and video track of d as a CMAF track: an
// init segment without samples and media segments of about
// WithFragmentDuration, each one styp+moof+mdat starting with a key frame,
// all through sink. Tracks are cut independently (audio at the first
// frame at or after the target duration).
func WriteCMAF(ctx context.Context, d media.Demuxer, sink CMAFSink, opts ...WriteOption) error {
	cfg := newWriteConfig(opts)
	if !cfg.originSet {
		// MPEG-TS input is normalised unless the caller said otherwise.
		cfg.tsOrigin = d.Format() == "mpegts"
		opts = append(opts[:len(opts):len(opts)], WithTSTimeline(cfg.tsOrigin))
	}
	all, err := NewFragmenter(d.Tracks(), opts...)
	if err != nil {
		return err
	}
	var frs []*Fragmenter
	byID := map[int]*Fragmenter{}
	for _, ot := range all.tracks {
		fr, err := NewCMAFFragmenter(ot.t, opts...)
		if err != nil {
			return err
		}
		frs = append(frs, fr)
		byID[ot.t.ID] = fr
	}
	var open io.WriteCloser
	closeOpen := func() error {
		if open == nil {
			return nil
		}
		err := open.Close()
		open = nil
		return err
	}
	err = fragmentLoop(ctx, d, cfg, frs, func(id int) *Fragmenter { return byID[id] },
		func(*Fragmenter, *outTrack) bool { return true },
		func(fr *Fragmenter, seq int) (io.Writer, func() error, error) {
			if err := closeOpen(); err != nil {
				return nil, nil, err
			}
			wc, err := sink(fr.tracks[0].t.ID, seq)
			if err != nil {
				return nil, nil, err
			}
			open = wc
			return wc, closeOpen, nil
		})
	if err != nil {
		_ = closeOpen()
		return err
	}
	return closeOpen()
}

// maxFragmentBytes bounds the payload a fragment buffers: a reference
// track without key frames for that long is cut anyway.
const maxFragmentBytes = 48 << 20

// maxFragmentSamples bounds the sample records a fragment holds.
const maxFragmentSamples = 1 << 18

// fragmentLoop drives one or more Fragmenters from d. forTrack maps an
// input track to its Fragmenter; isRef says whether a track's key frames
// cut that Fragmenter's fragments; writer returns where fragment seq (0:
// init) of a Fragmenter goes and an optional function to call after it.
func fragmentLoop(ctx context.Context, d media.Demuxer, cfg writeConfig, frs []*Fragmenter,
	forTrack func(int) *Fragmenter, isRef func(*Fragmenter, *outTrack) bool,
	writer func(*Fragmenter, int) (io.Writer, func() error, error)) error {
	type state struct {
		cur      []FragmentSample
		arena    []byte
		lens     []int
		start    int64 // DTS of the fragment's first reference sample
		haveRef  bool
		inited   bool
		seq      int
		firstDTS map[int]int64
		minPTS   map[int]int64
	}
	st := map[*Fragmenter]*state{}
	for _, fr := range frs {
		st[fr] = &state{firstDTS: map[int]int64{}, minPTS: map[int]int64{}}
	}
	// All tracks share one origin: the smallest first PTS over every
	// track, known once each Fragmenter has gathered its first fragment.
	globalTracks := []*outTrack{}
	for _, fr := range frs {
		globalTracks = append(globalTracks, fr.tracks...)
	}
	var readBuf, groupBuf []byte
	// AC-3/E-AC-3 samples as movenc.c makes them, fragmented or not
	// (eac3Grouper).
	groups := map[int]*eac3Grouper{}
	for _, ot := range globalTracks {
		if ot.t.Codec == media.CodecAC3 || ot.t.Codec == media.CodecEAC3 {
			groups[ot.t.ID] = &eac3Grouper{}
		}
	}
	written := 0
	flush := func(fr *Fragmenter, next map[int]int64) error {
		s := st[fr]
		if len(s.cur) == 0 {
			return nil
		}
		off := 0
		for i, n := range s.lens {
			if n < 0 {
				continue
			}
			s.cur[i].Data = s.arena[off : off+n : off+n]
			off += n
		}
		if !s.inited {
			for id, v := range s.firstDTS {
				fr.SetStart(id, v, s.minPTS[id])
			}
			if fr.origin && len(frs) > 1 {
				applySharedOrigin(fr, globalTracks)
			}
			w, after, err := writer(fr, 0)
			if err != nil {
				return err
			}
			if err := fr.WriteInit(w); err != nil {
				return err
			}
			if after != nil {
				if err := after(); err != nil {
					return err
				}
			}
			s.inited = true
		}
		s.seq++
		w, after, err := writer(fr, s.seq)
		if err != nil {
			return err
		}
		if err := fr.WriteFragment(w, s.cur, next); err != nil {
			return err
		}
		if after != nil {
			if err := after(); err != nil {
				return err
			}
		}
		s.cur = s.cur[:0]
		s.lens = s.lens[:0]
		s.arena = s.arena[:0]
		s.haveRef = false
		return nil
	}
	n := 0
	var guard sampleGuard
	var done, total int64
	for _, ot := range globalTracks {
		total += max(ot.t.Bytes, 0)
	}
	for smp, err := range d.Samples() {
		if err != nil {
			return err
		}
		fr := forTrack(smp.TrackID)
		if fr == nil {
			continue
		}
		ot := fr.byIn[smp.TrackID]
		if ot == nil {
			continue
		}
		if err := guard.check(&smp); err != nil {
			return err
		}
		done += int64(smp.Size)
		if n++; n&255 == 1 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if cfg.progress != nil {
				cfg.progress(done, total)
			}
		}
		if g := groups[smp.TrackID]; g != nil {
			b, err := d.ReadSample(&smp, groupBuf)
			if err != nil {
				return err
			}
			if smp.Data == nil {
				groupBuf = b
			}
			out, ok, err := g.add(&smp, b)
			if err != nil {
				return fmt.Errorf("mp4: %w", err)
			}
			if !ok {
				continue
			}
			smp = out
		}
		written++
		s := st[fr]
		if _, ok := s.firstDTS[smp.TrackID]; !ok {
			s.firstDTS[smp.TrackID] = smp.DTS
			s.minPTS[smp.TrackID] = smp.PTS
			ot.d0, ot.minPTS = smp.DTS, smp.PTS
		} else if !s.inited {
			s.minPTS[smp.TrackID] = min(s.minPTS[smp.TrackID], smp.PTS)
			ot.minPTS = s.minPTS[smp.TrackID]
		}
		if isRef(fr, ot) {
			target := int64(cfg.fragDur.Seconds() * float64(ot.t.Timescale))
			if s.haveRef && (smp.Sync && smp.DTS-s.start >= target || len(s.arena) >= maxFragmentBytes || len(s.cur) >= maxFragmentSamples) {
				next := map[int]int64{smp.TrackID: smp.DTS}
				if err := flush(fr, next); err != nil {
					return err
				}
			}
			if !s.haveRef {
				s.start, s.haveRef = smp.DTS, true
			}
		}
		if smp.Data == nil && smp.Offset >= 0 && ot.conv == nil {
			// Re-readable (MP4 input): keep only the record; the payload
			// is read again when the fragment is written.
			fr.src = d
			s.cur = append(s.cur, FragmentSample{Sample: smp})
			s.lens = append(s.lens, -1)
			continue
		}
		buf := smp.Data // a grouper's is never handed to ReadSample as a buffer
		if buf == nil {
			if buf, err = d.ReadSample(&smp, readBuf); err != nil {
				return err
			}
			readBuf = buf
		}
		if ot.entry == nil && ot.conv != nil {
			// Learn the configuration (AC-3 from MPEG-TS) now.
			if _, err := ot.conv.convert(nil, buf); err != nil {
				return fmt.Errorf("mp4: track %d sample %d at byte %d: %w", smp.TrackID, smp.Index, smp.Pos, err)
			}
		}
		s.arena = append(s.arena, buf...)
		smp.Data = nil
		s.cur = append(s.cur, FragmentSample{Sample: smp})
		s.lens = append(s.lens, len(buf))
	}
	if n == 0 {
		return fmt.Errorf("%w: no samples (an init segment without media?)", ErrWrite)
	}
	if written == 0 {
		return noSamplesError(globalTracks, groups)
	}
	for _, fr := range frs {
		if err := flush(fr, nil); err != nil {
			return err
		}
	}
	if cfg.progress != nil {
		cfg.progress(done, total)
	}
	return nil
}

// applySharedOrigin sets the minimum first PTS over all tracks on fr's
// tracks' timeline plan by giving planTimeline the global minimum.
func applySharedOrigin(fr *Fragmenter, all []*outTrack) {
	if num, den := earliestPTS(all); den != 0 {
		fr.originNum, fr.originDen = num, den
	}
}

// earliestPTS returns the earliest first PTS over tracks, as num/den
// seconds (den 0 when no track has a timescale): the time origin of
// every writer that shares one over its tracks.
func earliestPTS(tracks []*outTrack) (num, den int64) {
	for _, ot := range tracks {
		ts := int64(ot.t.Timescale)
		if ts != 0 && (den == 0 || ot.minPTS*den < num*ts) {
			num, den = ot.minPTS, ts
		}
	}
	return num, den
}
