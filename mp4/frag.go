package mp4

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"

	"github.com/streamkit-go/streamkit/media"
)

// Movie fragments (ISO/IEC 14496-12 §8.8):
//
//	moof
//	├── mfhd                      sequence_number
//	└── traf (one per track)
//	    ├── tfhd                  track_ID, base_data_offset?, defaults
//	    ├── tfdt                  baseMediaDecodeTime
//	    └── trun (one or more)    sample_count, data_offset?, per-sample
//	                              duration/size/flags/composition offset
//	mdat                          the samples the truns point into
//
// A sample's field comes from its trun record when the trun flags say it
// is present, else from tfhd's default, else from moov/mvex/trex.
//
// trun is parsed here rather than with mp4ff because mp4ff materialises a
// []Sample per trun; reading records in place keeps iteration at zero
// allocations per sample.

// tfhd flags.
const (
	tfhdBaseDataOffset   = 0x000001
	tfhdSampleDescIndex  = 0x000002
	tfhdDefaultDuration  = 0x000008
	tfhdDefaultSize      = 0x000010
	tfhdDefaultFlags     = 0x000020
	tfhdDefaultBaseIsMoo = 0x020000
)

// trun flags.
const (
	trunDataOffset = 0x001
	trunFirstFlags = 0x004
	trunDuration   = 0x100
	trunSize       = 0x200
	trunFlags      = 0x400
	trunCTO        = 0x800
)

// Sample flags (§8.8.3.1): sample_depends_on=1 and
// sample_is_non_sync_sample.
const (
	sampleDependsYes = 0x01000000
	sampleNonSync    = 0x00010000
)

// fragTrack is the running per-track state across fragments.
type fragTrack struct {
	nextDTS int64
	nextIdx int64
}

// run is one trun with its resolved defaults and a cursor.
type run struct {
	track, id  int
	recs       []byte
	recSize    int
	n          uint32
	flags      uint32
	firstFlags uint32
	defDur     uint32
	defSize    uint32
	defFlags   uint32
	audio      bool

	start, end int64 // data byte range
	dts0, dur  int64 // first DTS and summed duration
	idx0       int64

	i    uint32
	off  int64
	dts  int64
	cur  media.Sample
	done bool
}

// field returns the value of the k-th present per-sample field of record i.
func (r *run) rec(i uint32) []byte { return r.recs[int(i)*r.recSize:] }

func (r *run) sampleAt(i uint32) (dur, size, flags uint32, cto int32) {
	dur, size, flags = r.defDur, r.defSize, r.defFlags
	if i == 0 && r.flags&trunFirstFlags != 0 {
		flags = r.firstFlags
	}
	if r.recSize == 0 {
		return
	}
	b := r.rec(i)
	if r.flags&trunDuration != 0 {
		dur, b = be32(b), b[4:]
	}
	if r.flags&trunSize != 0 {
		size, b = be32(b), b[4:]
	}
	if r.flags&trunFlags != 0 {
		f := be32(b)
		b = b[4:]
		if !(i == 0 && r.flags&trunFirstFlags != 0) {
			flags = f
		}
	}
	if r.flags&trunCTO != 0 {
		// Signed for both trun versions, as ffmpeg reads it.
		cto = int32(be32(b))
	}
	return
}

func (r *run) reset() {
	r.i, r.off, r.dts, r.done = 0, r.start, r.dts0, r.n == 0
	if !r.done {
		r.load()
	}
}

func (r *run) load() {
	dur, size, flags, cto := r.sampleAt(r.i)
	s := &r.cur
	s.TrackID = r.id
	s.Index = r.idx0 + int64(r.i)
	s.DTS = r.dts
	s.PTS = r.dts + int64(cto)
	s.Duration = dur
	s.Size = size
	s.Offset = r.off
	s.Pos = r.off
	// ffmpeg's mov_read_trun: audio samples are all key frames; others
	// are unless flagged non-sync or depending on other samples.
	s.Sync = r.audio || flags&(sampleNonSync|sampleDependsYes) == 0
}

func (r *run) advance() {
	r.off += int64(r.cur.Size)
	r.dts += int64(r.cur.Duration)
	r.i++
	if r.i >= r.n {
		r.done = true
		return
	}
	r.load()
}

// readMoof reads the moof at off into buf (grown as needed).
func (m *Reader) readMoof(off int64, buf []byte) (header, []byte, error) {
	var hb [16]byte
	n := min(int64(len(hb)), m.size-off)
	if _, err := m.r.ReadAt(hb[:n], off); err != nil && err != io.EOF {
		return header{}, buf, &media.PosError{Format: "mp4", Offset: off, What: "moof", Err: err}
	}
	h, err := parseHeader(hb[:n], off, m.size-off, "")
	if err != nil {
		return h, buf, err
	}
	if h.size > m.cfg.maxBox {
		return h, buf, &media.PosError{Format: "mp4", Offset: h.off, What: "moof",
			Err: fmt.Errorf("%w: %d bytes, limit %d", ErrBoxTooLarge, h.size, m.cfg.maxBox)}
	}
	if int64(cap(buf)) < h.size {
		buf = make([]byte, h.size)
	}
	buf = buf[:h.size]
	if _, err := m.r.ReadAt(buf, off); err != nil && !(err == io.EOF && h.end() == m.size) {
		return h, buf, &media.PosError{Format: "mp4", Offset: off, What: "moof", Err: media.ErrTruncated}
	}
	return h, buf, nil
}

// parseMoof resolves the truns of one moof into runs, updating the
// per-track running state ft. Base data offsets follow §8.8.7.1: an
// explicit base_data_offset; else, with default-base-is-moof, the moof's
// first byte; else the moof's first byte for the first traf and the end
// of the previous traf's data for later ones.
func (m *Reader) parseMoof(h header, buf []byte, runs []run, ft []fragTrack) ([]run, error) {
	runs = runs[:0]
	moofOff := h.off
	prevTrafEnd := moofOff
	err := children(buf[h.hlen:], h.bodyOff(), "moof", func(th header, tb, _ []byte) error {
		if th.typ != tTraf {
			return nil
		}
		track := -1
		var base int64
		var tdur, tsize, tflags uint32
		tfdt, hasTfdt := int64(0), false
		first := true
		var nextOff, nextDTS int64
		err := children(tb, th.bodyOff(), "moof/traf", func(ch header, cb, _ []byte) error {
			switch ch.typ {
			case tTfhd:
				_, fl, b, err := fullBox(cb, ch, "moof/traf/tfhd")
				if err != nil {
					return err
				}
				need := 4
				for _, f := range [...]uint32{tfhdBaseDataOffset, tfhdBaseDataOffset, tfhdSampleDescIndex, tfhdDefaultDuration, tfhdDefaultSize, tfhdDefaultFlags} {
					if fl&f != 0 {
						need += 4
					}
				}
				if len(b) < need {
					return posErr(ch.off, "moof/traf/tfhd", media.ErrTruncated, "flags %#x need %d bytes, box has %d", fl, need, len(b))
				}
				idx, ok := m.byID[int(be32(b))]
				if !ok {
					return posErr(ch.off, "moof/traf/tfhd", media.ErrCorrupt, "track_ID %d is not in moov", be32(b))
				}
				track = idx
				tx := m.tk[idx].trex
				tdur, tsize, tflags = tx.dur, tx.size, tx.flags
				b = b[4:]
				switch {
				case fl&tfhdBaseDataOffset != 0:
					base = int64(be64(b))
					b = b[8:]
				case fl&tfhdDefaultBaseIsMoo != 0:
					base = moofOff
				default:
					base = prevTrafEnd
				}
				if fl&tfhdSampleDescIndex != 0 {
					b = b[4:]
				}
				if fl&tfhdDefaultDuration != 0 {
					tdur, b = be32(b), b[4:]
				}
				if fl&tfhdDefaultSize != 0 {
					tsize, b = be32(b), b[4:]
				}
				if fl&tfhdDefaultFlags != 0 {
					tflags = be32(b)
				}
			case tTfdt:
				v, _, b, err := fullBox(cb, ch, "moof/traf/tfdt")
				if err != nil {
					return err
				}
				switch {
				case v == 1 && len(b) >= 8:
					tfdt = int64(min(be64(b), math.MaxInt64))
				case v == 0 && len(b) >= 4:
					tfdt = int64(be32(b))
				default:
					return posErr(ch.off, "moof/traf/tfdt", media.ErrTruncated, "version %d with %d bytes", v, len(b))
				}
				hasTfdt = true
			case tTrun:
				if track < 0 {
					return posErr(ch.off, "moof/traf/trun", media.ErrCorrupt, "trun before tfhd")
				}
				_, fl, b, err := fullBox(cb, ch, "moof/traf/trun")
				if err != nil {
					return err
				}
				if len(b) < 4 {
					return posErr(ch.off, "moof/traf/trun", media.ErrTruncated, "no sample_count")
				}
				r := run{track: track, id: m.tracks[track].ID, n: be32(b), flags: fl,
					defDur: tdur, defSize: tsize, defFlags: tflags, audio: m.tracks[track].Kind == media.KindAudio}
				b = b[4:]
				var dataOff int64
				if fl&trunDataOffset != 0 {
					if len(b) < 4 {
						return posErr(ch.off, "moof/traf/trun", media.ErrTruncated, "no data_offset")
					}
					dataOff, b = int64(int32(be32(b))), b[4:]
				}
				if fl&trunFirstFlags != 0 {
					if len(b) < 4 {
						return posErr(ch.off, "moof/traf/trun", media.ErrTruncated, "no first_sample_flags")
					}
					r.firstFlags, b = be32(b), b[4:]
				}
				r.recSize = 4 * bits.OnesCount32(fl&(trunDuration|trunSize|trunFlags|trunCTO))
				if uint64(r.n)*uint64(r.recSize) > uint64(len(b)) {
					return posErr(ch.off, "moof/traf/trun", media.ErrTruncated, "sample_count %d needs %d bytes, box has %d", r.n, uint64(r.n)*uint64(r.recSize), len(b))
				}
				if int64(r.n) > m.size {
					return posErr(ch.off, "moof/traf/trun", media.ErrCorrupt, "sample_count %d in a %d-byte file", r.n, m.size)
				}
				r.recs = b[:int(r.n)*r.recSize]
				switch {
				case fl&trunDataOffset != 0:
					r.start = base + dataOff
				case first:
					r.start = base
				default:
					r.start = nextOff
				}
				if first {
					r.dts0 = ft[track].nextDTS
					if hasTfdt {
						r.dts0 = tfdt
					}
				} else {
					r.dts0 = nextDTS
				}
				first = false
				// Sum sizes and durations: needed to place the next trun.
				var size, dur int64
				if r.recSize == 0 || r.flags&(trunDuration|trunSize) == 0 {
					size, dur = int64(r.n)*int64(r.defSize), int64(r.n)*int64(r.defDur)
				} else {
					for i := uint32(0); i < r.n; i++ {
						d, s, _, _ := r.sampleAt(i)
						size += int64(s)
						dur += int64(d)
					}
				}
				r.end, r.dur = r.start+size, dur
				r.idx0 = ft[track].nextIdx
				ft[track].nextIdx += int64(r.n)
				nextOff, nextDTS = r.end, r.dts0+dur
				ft[track].nextDTS = nextDTS
				// Data past the end of the file is a cut file, not a corrupt
				// one: its samples are reported missing when Samples
				// reaches them (checkSample), as ffmpeg does.
				if r.start < 0 {
					return posErr(ch.off, "moof/traf/trun", media.ErrCorrupt, "data offset %d outside the %d-byte file", r.start, m.size)
				}
				runs = append(runs, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if track >= 0 && first && hasTfdt {
			ft[track].nextDTS = tfdt // traf without trun still sets the time
		}
		if !first {
			prevTrafEnd = nextOff
		}
		return nil
	})
	return runs, err
}

// initFragState returns the running state at the first fragment: moov
// samples come first in each track's timeline.
func (m *Reader) initFragState() []fragTrack {
	ft := make([]fragTrack, len(m.tracks))
	for i := range ft {
		ft[i] = fragTrack{nextDTS: m.tk[i].moovDTS, nextIdx: int64(m.tk[i].st.count)}
	}
	return ft
}

// scanFragments reads every moof once at open to fill in SampleCount,
// Bytes, Duration and StartPTS of fragmented tracks.
func (m *Reader) scanFragments() error {
	ft := m.initFragState()
	var buf []byte
	var runs []run
	total := int64(0)
	first := make([]bool, len(m.tracks))
	for k, off := range m.moofs {
		h, b, err := m.readMoof(off, buf)
		buf = b
		if err != nil {
			if k == len(m.moofs)-1 {
				// A cut-off last fragment: keep the complete ones.
				m.warn(err)
				m.moofs = m.moofs[:k]
				break
			}
			return err
		}
		runs, err = m.parseMoof(h, buf, runs, ft)
		if err != nil {
			return err
		}
		for i := range runs {
			r := &runs[i]
			t, ti := m.tracks[r.track], m.tk[r.track]
			if !ti.fragment {
				ti.fragment = true
				first[r.track] = t.SampleCount == 0
				if first[r.track] {
					t.StartDTS, t.StartPTS = r.dts0, math.MaxInt64
				}
			}
			total += int64(r.n)
			if total > m.size {
				return posErr(off, fmt.Sprintf("moof[%d]", k), media.ErrCorrupt, "more samples than bytes in the file")
			}
			t.SampleCount += int64(r.n)
			t.Bytes += r.end - r.start
			if first[r.track] {
				for r.reset(); !r.done; r.advance() {
					t.StartPTS = min(t.StartPTS, r.cur.PTS)
				}
			}
		}
	}
	for i, t := range m.tracks {
		ti := m.tk[i]
		if !ti.fragment {
			continue
		}
		if t.StartPTS == math.MaxInt64 {
			t.StartPTS = t.StartDTS
		}
		// Duration: the whole decode timeline, moov samples included.
		t.Duration = max(t.Duration, ft[i].nextDTS-t.StartDTS)
	}
	return nil
}

// fragmentSamples yields the samples of every fragment in file order.
func (m *Reader) fragmentSamples(yield func(media.Sample, error) bool) {
	m.fragmentSamplesK(func(s media.Sample, _ int, err error) bool { return yield(s, err) })
}

// fragmentSamplesK is fragmentSamples with the index of each sample's moof.
func (m *Reader) fragmentSamplesK(yield func(media.Sample, int, error) bool) {
	ft := m.initFragState()
	var buf []byte
	var runs []run
	h := mergeHeap{off: func(i int) int64 { return runs[i].cur.Offset }}
	for k, off := range m.moofs {
		mh, b, err := m.readMoof(off, buf)
		buf = b
		if err == nil {
			runs, err = m.parseMoof(mh, buf, runs, ft)
		}
		if err != nil {
			if k == len(m.moofs)-1 && errors.Is(err, media.ErrTruncated) && !m.cfg.strict {
				// A cut-off last fragment (read without the open-time
				// scan, which drops it): keep the complete ones.
				m.warn(err)
				return
			}
			yield(media.Sample{}, k, fmt.Errorf("mp4: fragment %d: %w", k, err))
			return
		}
		for i := range runs {
			runs[i].reset()
		}
		h.reset(len(runs), func(i int) bool { return !runs[i].done })
		for best := h.top(); best >= 0; best = h.top() {
			r := &runs[best]
			smp, ok, err := m.checkSample(r.cur, fmt.Sprintf("moof[%d] track %d", k, r.id))
			if err != nil {
				yield(media.Sample{}, k, err)
				return
			}
			if !ok {
				return
			}
			if !yield(smp, k, nil) {
				return
			}
			r.advance()
			h.fix(r.done)
		}
	}
}
