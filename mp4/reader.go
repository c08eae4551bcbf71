package mp4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strings"
	"time"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamkit-go/streamkit/internal/readahead"
	"github.com/streamkit-go/streamkit/media"
)

// Errors specific to MP4. They wrap the media sentinels, so
// errors.Is(err, media.ErrCorrupt) holds for ErrNoMoov too.
var (
	// ErrNoMoov means the input has no movie box: it is not a playable
	// MP4 file (a lone media segment needs its init, see NewSegmentReader).
	ErrNoMoov = fmt.Errorf("mp4: no moov box: %w", media.ErrCorrupt)
	// ErrBoxTooLarge means a moov or moof is larger than WithMaxBoxSize.
	ErrBoxTooLarge = fmt.Errorf("mp4: box larger than the configured limit: %w", media.ErrUnsupported)
)

// Option configures a Reader.
type Option func(*config)

type config struct {
	maxBox   int64
	scanFrag bool
	strict   bool
}

// WithStrict makes the damage a Reader otherwise reads past, as ffmpeg
// does, an error: a last box cut short, a sample the end of the file cuts
// or leaves out, garbage after the movie. Damage found while opening (a
// cut mdat or last fragment, trailing garbage, anything NewReader would
// warn about) makes NewReader and NewSegmentReader fail with the first
// warning's *media.PosError; samples cut or missing fail Samples where
// they are reached. See media.Warning.
func WithStrict(strict bool) Option { return func(c *config) { c.strict = strict } }

// DefaultMaxBoxSize is the largest moov or moof a Reader loads into
// memory unless WithMaxBoxSize says otherwise.
const DefaultMaxBoxSize = 512 << 20

// WithMaxBoxSize limits the size of the boxes a Reader reads into memory
// (moov, moof, sidx); larger ones fail with ErrBoxTooLarge. mdat is never
// read whole.
func WithMaxBoxSize(n int64) Option { return func(c *config) { c.maxBox = n } }

// WithoutFragmentScan makes NewReader skip reading every moof at open
// time. Track.SampleCount, Bytes and Duration then cover only the
// samples described in moov (-1 when the track has fragments), which
// makes opening a long fragmented recording O(1) in its length. Samples
// still iterates over all fragments.
func WithoutFragmentScan() Option { return func(c *config) { c.scanFrag = false } }

// Reader reads an MP4 (ISO BMFF) or QuickTime file: progressive (moov
// first or last), fragmented, or a CMAF init segment followed by media
// segments. It implements media.Demuxer. Only box headers, moov and moof
// are read; sample payloads are read by ReadSample.
//
// Once NewReader returns, a Reader is safe for concurrent use: every
// Samples iteration keeps its own cursors and buffers, and ReadSample
// calls ReadAt through one read-ahead window that serialises its callers.
type Reader struct {
	r    io.ReaderAt
	size int64
	cfg  config

	// MajorBrand, MinorVersion and CompatibleBrands come from ftyp (or the
	// first styp when there is no ftyp).
	MajorBrand       string
	MinorVersion     uint32
	CompatibleBrands []string
	// MovieTimescale and MovieDuration come from mvhd.
	MovieTimescale uint32
	MovieDuration  int64
	// CreationTime is the mvhd creation_time as ffprobe prints it in the
	// format tags ("2020-01-02T03:04:05.000000Z"); "" when zero.
	CreationTime string

	moovOff   int64
	moovFirst bool
	tracks    []*media.Track
	tk        []*trackInfo
	byID      map[int]int
	trex      map[uint32]trexBox
	moofs     []int64
	sidx      []Sidx
	warnings  media.WarningLog
	moovBuf   []byte
	concat    *concatReader // set by NewSegmentReader
	cutMoov   bool          // moov is cut by the end of the file
	// ra serves ReadSample: samples read in file order are served from
	// one 1 MiB window refilled with one ReadAt per run of chunks, not one
	// system call per sample (internal/readahead).
	ra *readahead.Reader
}

// trackInfo is the per-track state behind a media.Track.
type trackInfo struct {
	st       sampleTable
	trex     trexBox
	moovDTS  int64 // DTS after the last moov sample
	dtsShift int64 // -min(ctts offset) when negative
	fragment bool  // has samples in moof boxes
	where    string
}

type trexBox struct {
	sdi, dur, size, flags uint32
}

// Sidx is one segment index box (ISO/IEC 14496-12 §8.16.3).
type Sidx struct {
	Offset                   int64 // of the sidx box
	ReferenceID              uint32
	Timescale                uint32
	EarliestPresentationTime uint64
	// FirstOffset is the absolute byte position of the first referenced
	// subsegment (anchor point plus first_offset).
	FirstOffset int64
	References  []SidxRef
}

// SidxRef is one sidx reference: a subsegment (or a nested sidx when
// ReferenceType is 1) of Size bytes lasting Duration sidx ticks.
type SidxRef struct {
	ReferenceType uint8
	Size          uint32
	Duration      uint32
	StartsWithSAP bool
	SAPType       uint8
}

// NewReader reads the headers of the MP4 file r of the given size: it
// walks the top-level boxes with ReadAt, seeking over mdat, and decodes
// moov, ftyp, sidx and (unless WithoutFragmentScan) every moof's sample
// tables. Errors are *media.PosError values naming the box and offset.
func NewReader(r io.ReaderAt, size int64, opts ...Option) (*Reader, error) {
	m := &Reader{r: r, size: size, moovOff: -1, cfg: config{maxBox: DefaultMaxBoxSize, scanFrag: true},
		byID: map[int]int{}, trex: map[uint32]trexBox{}}
	for _, o := range opts {
		o(&m.cfg)
	}
	if err := m.walk(); err != nil {
		return nil, err
	}
	if m.moovOff < 0 {
		return nil, &media.PosError{Format: "mp4", Offset: 0, What: "file", Err: ErrNoMoov}
	}
	if err := m.finishTracks(); err != nil {
		return nil, err
	}
	if m.cfg.strict {
		// Damage found while opening (a cut last mdat or fragment,
		// garbage after the movie, a second moov, an unreadable codec
		// configuration) is recorded as a warning where it is found, so
		// that lenient reading goes on; strict reading refuses the file
		// at the first one, with its position, as media.OpenStrict does
		// for every format.
		if ws := m.warnings.Warnings(); len(ws) > 0 {
			return nil, ws[0].PosError()
		}
	}
	m.ra = readahead.New(r, size, 0)
	return m, nil
}

// walk visits the top-level boxes.
func (m *Reader) walk() error {
	var hb [16]byte
	sawMdat := false
	for off := int64(0); off < m.size; {
		n := min(int64(len(hb)), m.size-off)
		if _, err := m.r.ReadAt(hb[:n], off); err != nil && err != io.EOF {
			return &media.PosError{Format: "mp4", Offset: off, What: "box header", Err: err}
		}
		h, err := parseHeader(hb[:n], off, m.size-off, "")
		if err != nil {
			if h.typ == tMoov && m.moovOff < 0 && h.size > 0 && m.size-h.off >= int64(h.hlen) && errors.Is(err, media.ErrTruncated) && !m.cfg.strict {
				// A moov the end of the file cuts (an init segment or a
				// moov-at-end file cut short): ffmpeg uses the tracks
				// that are whole in it, and so do we.
				m.warn(err)
				if err := m.parseCutMoov(h, sawMdat); err != nil {
					return err
				}
				break
			}
			if h.typ == tMoof && h.size > 0 && errors.Is(err, media.ErrTruncated) && m.size-h.off <= m.cfg.maxBox {
				if at, ok := m.cutInTrun(h); ok {
					return posErr(at, "moof/traf", media.ErrTruncated,
						"the file ends inside this fragment's track header or sample run; ffmpeg refuses such a file too")
				}
			}
			if h.size > 0 && (h.typ == tMdat || h.typ == fcc("free") || h.typ == fcc("skip")) {
				// The last mdat claims more bytes than the file has
				// (an interrupted recording): keep what is there.
				m.warn(err)
				break
			}
			if m.moovOff >= 0 && !errors.Is(err, media.ErrTruncated) {
				// Garbage after a complete movie: ffmpeg plays what it has.
				m.warn(err)
				break
			}
			if m.moovOff >= 0 && h.typ != tMoov && (h.typ != tMoof || len(m.moofs) > 0) {
				m.warn(err)
				break
			}
			return err
		}
		switch h.typ {
		case tFtyp, tStyp:
			if m.MajorBrand == "" {
				b, err := m.readBox(h, 1<<20)
				if err != nil {
					return err
				}
				m.parseFtyp(h, b)
			}
		case tMoov:
			if m.moovOff >= 0 {
				m.warn(posErr(h.off, "moov", media.ErrCorrupt, "second moov ignored"))
				break
			}
			b, err := m.readBox(h, m.cfg.maxBox)
			if err != nil {
				return err
			}
			m.moovOff, m.moovFirst, m.moovBuf = h.off, !sawMdat, b
			if err := m.parseMoov(h, b); err != nil {
				return err
			}
		case tMoof:
			m.moofs = append(m.moofs, h.off)
		case tSidx:
			b, err := m.readBox(h, m.cfg.maxBox)
			if err != nil {
				return err
			}
			if err := m.parseSidx(h, b); err != nil {
				m.warn(err)
			}
		case tMdat:
			sawMdat = true
		}
		off = h.end()
	}
	return nil
}

// warn records a problem that does not stop the reader; err is normally
// the *media.PosError strict reading would fail with.
// parseCutMoov parses the part of the moov box h that the file holds as
// libavformat does (see cutmoov.go): the boxes that are whole, and what
// mov's parsers keep of the one the file ends in, or the error ffmpeg
// refuses the file with.
func (m *Reader) parseCutMoov(h header, sawMdat bool) error {
	h.size = m.size - h.off
	b, err := m.readBox(h, m.cfg.maxBox)
	if err != nil {
		return err
	}
	b, cut, err := repairCutMoov(b, h)
	if err != nil {
		return err
	}
	h.size = int64(len(b))
	m.moovOff, m.moovFirst, m.moovBuf = h.off, !sawMdat, b
	m.cutMoov = true
	if err := m.parseMoov(h, b); err != nil {
		return err
	}
	if cut.inTrak && cut.trak < len(m.tracks) {
		return m.checkCutTrak(cut.trak, cut)
	}
	return nil
}

func (m *Reader) warn(err error) {
	var pe *media.PosError
	if errors.As(err, &pe) {
		what := pe.What
		if what == "" {
			what = "box header" // a top-level header cut short
		}
		m.warnings.Add(media.Warning{Format: pe.Format, Offset: pe.Offset, What: what, Err: pe.Err})
		return
	}
	m.warnings.Add(media.Warning{Format: "mp4", Offset: -1, What: "file", Err: err})
}

// Warnings returns problems that did not stop the reader: a truncated
// last box, garbage after the movie, an unparsable codec configuration,
// and (once Samples has reached them) samples cut or missing because the
// file ends early. See media.Warning.
func (m *Reader) Warnings() []media.Warning { return m.warnings.Warnings() }

// readBox reads a whole box into memory, refusing boxes over limit.
func (m *Reader) readBox(h header, limit int64) ([]byte, error) {
	if h.size > limit {
		return nil, &media.PosError{Format: "mp4", Offset: h.off, What: h.typ.String(),
			Err: fmt.Errorf("%w: %d bytes, limit %d", ErrBoxTooLarge, h.size, limit)}
	}
	b := make([]byte, h.size)
	if _, err := m.r.ReadAt(b, h.off); err != nil && !(err == io.EOF && h.end() == m.size) {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = media.ErrTruncated
		}
		return nil, &media.PosError{Format: "mp4", Offset: h.off, What: h.typ.String(), Err: err}
	}
	return b, nil
}

func (m *Reader) parseFtyp(h header, b []byte) {
	body := b[h.hlen:]
	if len(body) < 8 {
		m.warn(posErr(h.off, h.typ.String(), media.ErrTruncated, "%d-byte body", len(body)))
		return
	}
	m.MajorBrand = fourCC(be32(body)).String()
	m.MinorVersion = be32(body[4:])
	for i := 8; i+4 <= len(body); i += 4 {
		m.CompatibleBrands = append(m.CompatibleBrands, fourCC(be32(body[i:])).String())
	}
}

func (m *Reader) parseSidx(h header, b []byte) error {
	x, err := decodeSidx(h, b)
	if err != nil || x == nil {
		return err
	}
	m.sidx = append(m.sidx, *x)
	return nil
}

// ParseSidx decodes the segment index box that b holds, b[0] being byte
// off of its file (a DASH indexRange, for instance). References pointing
// past what the box holds are an error, never an allocation.
func ParseSidx(b []byte, off int64) (*Sidx, error) {
	h, err := parseHeader(b, off, int64(len(b)), "")
	if err != nil {
		return nil, err
	}
	if h.typ != tSidx {
		return nil, posErr(off, h.typ.String(), media.ErrCorrupt, "not a sidx box")
	}
	x, err := decodeSidx(h, b[:h.size])
	if err == nil && x == nil {
		err = posErr(off, "sidx", media.ErrCorrupt, "undecodable")
	}
	return x, err
}

func decodeSidx(h header, b []byte) (*Sidx, error) {
	body := b[h.hlen:]
	// Check reference_count against the box before mp4ff allocates.
	if len(body) >= 4 {
		hl := 24
		if body[0] == 1 {
			hl = 32
		}
		if len(body) >= hl {
			if n := int(be16(body[hl-2:])); n*12 > len(body)-hl {
				return nil, posErr(h.off, "sidx", media.ErrTruncated, "reference_count %d needs %d bytes, box has %d", n, n*12, len(body)-hl)
			}
		}
	}
	bx, err := decodeFF(b, h.off, "sidx")
	if err != nil {
		return nil, err
	}
	s, ok := bx.(*mp4ff.SidxBox)
	if !ok {
		return nil, nil
	}
	x := &Sidx{Offset: h.off, ReferenceID: s.ReferenceID, Timescale: s.Timescale,
		EarliestPresentationTime: s.EarliestPresentationTime, FirstOffset: h.end() + int64(s.FirstOffset)}
	for _, r := range s.SidxRefs {
		x.References = append(x.References, SidxRef{ReferenceType: r.ReferenceType, Size: r.ReferencedSize,
			Duration: r.SubSegmentDuration, StartsWithSAP: r.StartsWithSAP == 1, SAPType: r.SAPType})
	}
	return x, nil
}

// AppendSidx appends s as a sidx box (version 0, or 1 when the earliest
// presentation time or the first offset needs 64 bits) to b. FirstOffset
// is taken relative to the end of the box (s.Offset is ignored): 0 when
// the first subsegment follows the sidx.
func AppendSidx(b []byte, s *Sidx) []byte {
	w := box{b: b}
	v := byte(0)
	if s.EarliestPresentationTime > math.MaxUint32 || s.FirstOffset > math.MaxUint32 {
		v = 1
	}
	i := w.openFull("sidx", v, 0)
	w.u32(s.ReferenceID)
	w.u32(s.Timescale)
	if v == 1 {
		w.u64(s.EarliestPresentationTime)
		w.u64(uint64(s.FirstOffset))
	} else {
		w.u32(uint32(s.EarliestPresentationTime))
		w.u32(uint32(s.FirstOffset))
	}
	w.u16(0) // reserved
	w.u16(uint16(len(s.References)))
	for _, r := range s.References {
		w.u32(uint32(r.ReferenceType&1)<<31 | r.Size&0x7fffffff)
		w.u32(r.Duration)
		sap := uint32(0)
		if r.StartsWithSAP {
			sap = 1 << 31
		}
		w.u32(sap | uint32(r.SAPType&7)<<28)
	}
	w.close(i)
	return w.b
}

// parseMoov decodes the movie box: mvhd, every trak, mvex/trex.
func (m *Reader) parseMoov(h header, b []byte) error {
	nTrak := 0
	err := children(b[h.hlen:], h.bodyOff(), "moov", func(ch header, body, full []byte) error {
		switch ch.typ {
		case tMvhd:
			bx, err := decodeFF(full, ch.off, "moov/mvhd")
			if err != nil {
				return err
			}
			if mv, ok := bx.(*mp4ff.MvhdBox); ok {
				m.MovieTimescale = mv.Timescale
				m.MovieDuration = int64(min(mv.Duration, math.MaxInt64))
				m.CreationTime = creationTime(mv.CreationTime)
			}
		case tTrak:
			where := fmt.Sprintf("moov/trak[%d]", nTrak)
			nTrak++
			if err := m.parseTrak(ch, body, where); err != nil {
				return err
			}
		case tMvex:
			return children(body, ch.bodyOff(), "moov/mvex", func(xh header, xb, _ []byte) error {
				if xh.typ != tTrex {
					return nil
				}
				if len(xb) < 24 {
					return posErr(xh.off, "moov/mvex/trex", media.ErrTruncated, "%d-byte body", len(xb))
				}
				m.trex[be32(xb[4:])] = trexBox{sdi: be32(xb[8:]), dur: be32(xb[12:]), size: be32(xb[16:]), flags: be32(xb[20:])}
				return nil
			})
		}
		return nil
	})
	if err != nil && m.cutMoov && errors.Is(err, media.ErrTruncated) {
		// The box the file ends in: keep the whole ones before it.
		m.warn(err)
		err = nil
	}
	if err != nil {
		return err
	}
	for _, t := range m.tracks {
		t.MovieTimescale = m.MovieTimescale
	}
	return nil
}

// parseTrak decodes one track: tkhd, edts/elst, mdia (mdhd, hdlr,
// minf/stbl).
func (m *Reader) parseTrak(h header, body []byte, where string) error {
	t := &media.Track{Index: len(m.tracks), LevelIDC: -99, Language: "und"}
	ti := &trackInfo{where: where}
	var tkW, tkH int
	var matrix [9]int32
	hasMatrix := false
	err := children(body, h.bodyOff(), where, func(ch header, cb, full []byte) error {
		switch ch.typ {
		case tTkhd:
			bx, err := decodeFF(full, ch.off, where+"/tkhd")
			if err != nil {
				return err
			}
			if tk, ok := bx.(*mp4ff.TkhdBox); ok {
				t.ID = int(tk.TrackID)
				tkW, tkH = int(tk.Width>>16), int(tk.Height>>16)
				matrix, hasMatrix = tk.Matrix, true
				// libavformat's mov: an enabled track is a default one.
				if tk.Flags&1 != 0 {
					t.Disposition |= media.DispositionDefault
				}
			}
		case tEdts:
			return children(cb, ch.bodyOff(), where+"/edts", func(eh header, eb, efull []byte) error {
				if eh.typ != tElst {
					return nil
				}
				w := where + "/edts/elst"
				if len(eb) >= 8 {
					n, esz := uint64(be32(eb[4:])), uint64(12)
					if eb[0] == 1 {
						esz = 20
					}
					if n*esz > uint64(len(eb)-8) {
						return posErr(eh.off, w, media.ErrTruncated, "entry_count %d needs %d bytes, box has %d", n, n*esz, len(eb)-8)
					}
				}
				bx, err := decodeFF(efull, eh.off, w)
				if err != nil {
					return err
				}
				if el, ok := bx.(*mp4ff.ElstBox); ok {
					t.Edits = make([]media.Edit, len(el.Entries))
					for i, e := range el.Entries {
						t.Edits[i] = media.Edit{Duration: int64(min(e.SegmentDuration, math.MaxInt64)), MediaTime: e.MediaTime,
							RateInt: e.MediaRateInteger, RateFrac: e.MediaRateFraction}
					}
				}
				return nil
			})
		case tMdia:
			return m.parseMdia(t, ti, ch, cb, where+"/mdia")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if t.Width == 0 && t.Height == 0 && t.Kind == media.KindVideo {
		t.Width, t.Height = tkW, tkH
	}
	if hasMatrix && t.Kind == media.KindVideo {
		t.Rotation = rotation(matrix)
	}
	if _, dup := m.byID[t.ID]; dup {
		m.warn(posErr(h.off, where, media.ErrCorrupt, "duplicate track_ID %d", t.ID))
	} else {
		m.byID[t.ID] = len(m.tracks)
	}
	m.tracks = append(m.tracks, t)
	m.tk = append(m.tk, ti)
	return nil
}

// rotation returns the display rotation of a tkhd matrix the way ffprobe
// reports it (libavutil av_display_rotation_get): the negated angle of
// the matrix's rotation, so a 90° clockwise display matrix gives -90.
//
//	| a  b  u |   a, b, c, d: 16.16 fixed point
//	| c  d  v |   u, v, w:    2.30 fixed point
//	| x  y  w |
func rotation(mx [9]int32) int {
	a, b, c, d := float64(mx[0]), float64(mx[1]), float64(mx[3]), float64(mx[4])
	s0, s1 := math.Hypot(a, c), math.Hypot(b, d)
	if s0 == 0 || s1 == 0 {
		return 0
	}
	deg := -math.Atan2(b/s1, a/s0) * 180 / math.Pi
	r := int(math.Round(deg))
	if r == -180 {
		r = 180
	}
	if r == 0 {
		return 0 // no -0
	}
	return r
}

func (m *Reader) parseMdia(t *media.Track, ti *trackInfo, h header, body []byte, where string) error {
	var stbl []byte
	var stblH header
	err := children(body, h.bodyOff(), where, func(ch header, cb, full []byte) error {
		switch ch.typ {
		case tMdhd:
			bx, err := decodeFF(full, ch.off, where+"/mdhd")
			if err != nil {
				return err
			}
			if md, ok := bx.(*mp4ff.MdhdBox); ok {
				t.Timescale = md.Timescale
				t.Duration = int64(min(md.Duration, math.MaxInt64))
				if md.Duration == math.MaxUint32 || md.Duration == math.MaxUint64 {
					t.Duration = 0 // "unknown" (all ones)
				}
				t.Language = language(md.Language)
				if ct := creationTime(md.CreationTime); ct != "" {
					t.Tags = append(t.Tags, media.Tag{Key: "creation_time", Value: ct})
				}
				if md.Timescale == 0 {
					m.warn(posErr(ch.off, where+"/mdhd", media.ErrCorrupt, "timescale 0"))
				}
			}
		case tHdlr:
			if len(cb) >= 12 {
				switch string(cb[8:12]) {
				case "vide":
					t.Kind = media.KindVideo
				case "soun":
					t.Kind = media.KindAudio
				case "sbtl", "subt", "subp", "clcp":
					t.Kind = media.KindSubtitle
				default:
					t.Kind = media.KindData
				}
			}
			if len(cb) > 24 {
				t.Tags = append(t.Tags, media.Tag{Key: "handler_name", Value: handlerName(cb[24:], m.MajorBrand == "" || m.MajorBrand == "qt  ")})
			}
		case tMinf:
			return children(cb, ch.bodyOff(), where+"/minf", func(sh header, sb, _ []byte) error {
				if sh.typ == tStbl {
					stbl, stblH = sb, sh
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if stbl == nil {
		return nil
	}
	w := where + "/minf/stbl"
	var stsd []byte
	var stsdH header
	err = children(stbl, stblH.bodyOff(), w, func(ch header, cb, _ []byte) error {
		if ch.typ == tStsd {
			stsd, stsdH = cb, ch
			return nil
		}
		return ti.st.parseTableBox(ch, cb, w+"/"+ch.typ.String())
	})
	if err != nil {
		return err
	}
	if stsd != nil {
		if err := m.parseStsd(t, stsdH, stsd, w+"/stsd"); err != nil {
			return err
		}
	}
	ti.st.finish()
	if int64(ti.st.count) > m.size {
		return posErr(stblH.off, w, media.ErrCorrupt, "%d samples in a %d-byte file", ti.st.count, m.size)
	}
	return nil
}

// creationTime formats an mvhd/mdhd creation_time (seconds since 1904,
// or since 1970 from writers that got it wrong) as libavformat's mov
// demuxer stores it; "" for 0 (not set).
func creationTime(v uint64) string {
	if v == 0 || v > 1<<40 {
		return ""
	}
	if v >= 2082844800 {
		v -= 2082844800
	}
	return time.Unix(int64(v), 0).UTC().Format("2006-01-02T15:04:05.000000Z")
}

// handlerName decodes the name of an hdlr box as libavformat does: up to
// the first NUL, without the length byte of a QuickTime Pascal string
// (only in QuickTime files: no ftyp, or brand "qt  ").
func handlerName(b []byte, quicktime bool) string {
	if quicktime && len(b) > 0 && int(b[0]) == len(b)-1 {
		b = b[1:]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// language decodes the mdhd language field: three 5-bit letters
// (ISO 639-2/T, offset 0x60), or below 0x400 a Macintosh language code
// from QuickTime; ffmpeg maps those too, 0 being English.
func language(v uint16) string {
	if v < 0x400 {
		if int(v) < len(macLanguages) {
			return macLanguages[v]
		}
		return "und"
	}
	b := []byte{byte(v>>10&31) + 0x60, byte(v>>5&31) + 0x60, byte(v&31) + 0x60}
	for _, c := range b {
		if c < 'a' || c > 'z' {
			return "und"
		}
	}
	return string(b)
}

// macLanguages are the first QuickTime (Macintosh) language codes as
// libavformat's mov_mdhd_language_map names them.
var macLanguages = []string{"eng", "fra", "ger", "ita", "dut", "sve", "spa", "dan", "por", "nor", "heb", "jpn"}

// finishTracks computes per-track totals from the sample tables and the
// fragments.
func (m *Reader) finishTracks() error {
	for i, t := range m.tracks {
		ti := m.tk[i]
		ti.trex = m.trex[uint32(t.ID)]
		st := &ti.st
		t.SampleCount = int64(st.count)
		if st.fixedSize != 0 {
			t.Bytes = int64(st.count) * int64(st.fixedSize)
		} else {
			for j := uint32(0); j < st.count; j++ {
				t.Bytes += int64(st.sizeAt(j))
			}
		}
		// DTS after the last sample (stts sum), and the smallest PTS.
		var c tableCursor
		c.reset(st, i, t.ID)
		minPTS := int64(math.MaxInt64)
		if st.cttsN == 0 {
			var end int64
			for j := 0; j < st.sttsN; j++ {
				end += int64(be32(st.stts[8*j:])) * int64(be32(st.stts[8*j+4:]))
			}
			// When stts covers more samples than the tables, walk instead.
			cnt := uint64(0)
			for j := 0; j < st.sttsN; j++ {
				cnt += uint64(be32(st.stts[8*j:]))
			}
			if cnt == uint64(st.count) {
				ti.moovDTS = end
				if st.count > 0 {
					minPTS = 0
				}
				goto done
			}
		}
		for ; !c.done; c.advance() {
			minPTS = min(minPTS, c.cur.PTS)
		}
		ti.moovDTS = c.dts
		for j := 0; j < st.cttsN; j++ {
			ti.dtsShift = max(ti.dtsShift, -int64(int32(be32(st.ctts[8*j+4:]))))
		}
	done:
		if st.count > 0 {
			t.StartPTS = minPTS
		}
		if t.Duration == 0 {
			t.Duration = ti.moovDTS
		}
	}
	if len(m.moofs) == 0 {
		return nil
	}
	if !m.cfg.scanFrag {
		for _, t := range m.tracks {
			if _, ok := m.trex[uint32(t.ID)]; ok {
				t.SampleCount, t.Bytes = -1, -1
			}
		}
		return nil
	}
	return m.scanFragments()
}

// Format returns "mp4".
func (m *Reader) Format() string { return "mp4" }

// Tracks returns the tracks in trak order (ffprobe's stream index).
func (m *Reader) Tracks() []*media.Track { return m.tracks }

// Fragmented reports whether the file has movie fragments (moof).
func (m *Reader) Fragmented() bool { return len(m.moofs) > 0 }

// Fragments returns the byte offsets of the moof boxes.
func (m *Reader) Fragments() []int64 { return m.moofs }

// MoovOffset returns the byte offset of the moov box.
func (m *Reader) MoovOffset() int64 { return m.moovOff }

// MoovFirst reports whether moov precedes every mdat ("faststart"): a
// player can start before downloading the whole file.
func (m *Reader) MoovFirst() bool { return m.moovFirst }

// SegmentIndexes returns the sidx boxes in file order.
func (m *Reader) SegmentIndexes() []Sidx { return m.sidx }

// Size returns the input size given to NewReader.
func (m *Reader) Size() int64 { return m.size }

// ReadSample reads the payload of s, reusing buf when it has room.
// Samples read in file order (the order of Samples) are copied from a
// read-ahead window refilled once per megabyte, not read one system call
// each; other reads go to the file directly.
func (m *Reader) ReadSample(s *media.Sample, buf []byte) ([]byte, error) {
	if s.Data != nil {
		return s.Data, nil
	}
	if s.Offset < 0 || s.Offset > m.size || int64(s.Size) > m.size-s.Offset {
		return nil, posErr(m.size, fmt.Sprintf("track %d sample %d", s.TrackID, s.Index), media.ErrTruncated,
			"%d-byte sample runs past the end of the %d-byte file", s.Size, m.size)
	}
	if cap(buf) < int(s.Size) {
		buf = make([]byte, s.Size)
	}
	buf = buf[:s.Size]
	var ra io.ReaderAt = m.r
	if m.ra != nil {
		ra = m.ra
	}
	if _, err := ra.ReadAt(buf, s.Offset); err != nil && !(err == io.EOF && s.Offset+int64(s.Size) == m.size) {
		return nil, &media.PosError{Format: "mp4", Offset: s.Offset, What: fmt.Sprintf("track %d sample %d", s.TrackID, s.Index), Err: err}
	}
	return buf, nil
}

// ReadAt reads the input's bytes at off, as io.ReaderAt does, through the
// read-ahead window that serves ReadSample (reads larger than half the
// window go to the file directly). A packager that writes several tracks
// of one file segment by segment reads the stretch of the file holding
// one segment of all of them with one ReadAt and takes every payload from
// it in place, instead of copying them out of the window one by one.
func (m *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > m.size {
		return 0, &media.PosError{Format: "mp4", Offset: off, What: "read", Err: media.ErrTruncated}
	}
	if m.ra != nil {
		return m.ra.ReadAt(p, off)
	}
	return m.r.ReadAt(p, off)
}

// Samples iterates over every sample in file order: first the samples
// described by moov (merged across tracks by offset), then each fragment
// in turn. Nothing is read but the sample tables; fragments are parsed
// one moof at a time as the iteration reaches them.
//
// A file that ends early is read as ffmpeg reads it: the sample the end
// cuts is yielded with the bytes that are there (Size shortened), and the
// iteration ends at the first sample that starts past the end, each with a
// media.Warning (see Warnings). WithStrict makes both an ErrTruncated.
func (m *Reader) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		cur := make([]tableCursor, len(m.tracks))
		for i := range cur {
			cur[i].reset(&m.tk[i].st, i, m.tracks[i].ID)
		}
		h := mergeHeap{off: func(i int) int64 { return cur[i].cur.Offset }}
		h.reset(len(cur), func(i int) bool { return !cur[i].done })
		for best := h.top(); best >= 0; best = h.top() {
			c := &cur[best]
			smp, ok, err := m.checkSample(c.cur, m.tk[best].where)
			if err != nil {
				yield(media.Sample{}, err)
				return
			}
			if !ok {
				return
			}
			if !yield(smp, nil) {
				return
			}
			c.advance()
			h.fix(c.done)
		}
		if len(m.moofs) > 0 {
			m.fragmentSamples(yield)
		}
	}
}

func outside(s *media.Sample, size int64) bool {
	return s.Offset < 0 || s.Offset > size || int64(s.Size) > size-s.Offset
}

// checkSample returns s as far as the file holds it. A sample the end of
// the file cuts comes back shortened (ok); one that starts at or past the
// end does not (!ok): as in ffmpeg's mov demuxer, the read stops there.
// Both are warnings, or errors in strict mode.
func (m *Reader) checkSample(s media.Sample, where string) (media.Sample, bool, error) {
	if !outside(&s, m.size) {
		return s, true, nil
	}
	what := fmt.Sprintf("%s sample %d", where, s.Index)
	var err error
	ok := s.Offset >= 0 && s.Offset < m.size && s.Size > 0
	if ok {
		// Offset: where the file ends, which is where the data is missing.
		err = posErr(m.size, what, media.ErrTruncated, "file ends %d bytes into the %d-byte sample at %d (kept shortened)",
			m.size-s.Offset, s.Size, s.Offset)
	} else {
		err = posErr(m.size, what, media.ErrTruncated, "%d-byte sample at %d starts past the end of the %d-byte file; it and the samples after it are missing",
			s.Size, s.Offset, m.size)
	}
	if m.cfg.strict {
		return media.Sample{}, false, err
	}
	m.warn(err)
	if ok {
		s.Size = uint32(m.size - s.Offset)
	}
	return s, ok, nil
}

// Boxes returns the file's box tree (see ReadBoxes).
func (m *Reader) Boxes() ([]*Box, error) {
	return ReadBoxes(m.r, m.size, func(c *config) { *c = m.cfg })
}
