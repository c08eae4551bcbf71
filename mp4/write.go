package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// This file holds what the progressive and the fragmented writers share:
// the box builder, the sample entries rebuilt from media.Track, payload
// conversion from MPEG-TS conventions (Annex B, ADTS) to MP4 ones, and the
// timeline plan (edit lists) that keeps ffprobe's timestamps unchanged.
//
// mp4ff builds the codec records that must be synthesised (avcC and hvcC
// from parameter sets, the esds descriptor). The structural boxes are
// written here with a small append-only builder instead of mp4ff's box
// structs: a progressive moov must be sized before its chunk offsets are
// known, and its tables can hold millions of entries, which one flat
// buffer serialises in a single pass without a struct per entry.

// ErrWrite is wrapped by writer errors about the input that cannot be
// written as MP4 (unsupported codec, missing decoder configuration,
// timestamps going backwards). Test with errors.Is.
var ErrWrite = errors.New("mp4: cannot write")

// WriteOption configures the writers (WriteProgressive, WriteFragmented,
// WriteCMAF).
type WriteOption func(*writeConfig)

type writeConfig struct {
	fragDur   time.Duration
	progress  func(done, total int64)
	tracks    map[int]bool
	chunkMax  int
	tsOrigin  bool
	originSet bool
	moovAtEnd bool
	// WithPresentationOffset
	given      bool
	presOffset int64
}

func newWriteConfig(opts []WriteOption) writeConfig {
	c := writeConfig{fragDur: 2 * time.Second, chunkMax: 1024}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithFragmentDuration sets the target fragment (segment) duration of the
// fragmented and CMAF writers; fragments are cut at the first key frame of
// the reference track (the first video track, else the first track) at or
// after it. Default 2 s.
func WithFragmentDuration(d time.Duration) WriteOption {
	return func(c *writeConfig) {
		if d > 0 {
			c.fragDur = d
		}
	}
}

// WithProgress sets a callback reporting payload bytes written so far and
// the total expected (the sum of Track.Bytes, 0 when unknown).
func WithProgress(fn func(done, total int64)) WriteOption {
	return func(c *writeConfig) { c.progress = fn }
}

// WithMoovAtEnd makes WriteProgressive put moov after mdat, the layout of
// a recorder that writes as it goes (and of ffmpeg without +faststart).
// Players must then read the end of the file before they can start;
// Faststart turns such a file around.
func WithMoovAtEnd() WriteOption { return func(c *writeConfig) { c.moovAtEnd = true } }

// WithTracks limits the output to the tracks with these IDs (Track.ID).
// By default every audio and video track is written; subtitle and data
// tracks (SCTE-35 and the like) are always skipped.
func WithTracks(ids ...int) WriteOption {
	return func(c *writeConfig) {
		c.tracks = map[int]bool{}
		for _, id := range ids {
			c.tracks[id] = true
		}
	}
}

// WithTSTimeline forces (true) or disables (false) MPEG-TS timestamp
// normalisation. By default it applies when the input's Format() is
// "mpegts": the smallest first PTS over all tracks becomes time zero, each
// track's first DTS becomes its media time zero, and the difference is kept
// as an edit list, so every timestamp ffprobe shows moves by the same
// constant.
func WithTSTimeline(on bool) WriteOption {
	return func(c *writeConfig) { c.tsOrigin, c.originSet = on, true }
}

// WithPresentationOffset makes a Fragmenter write the timeline of a
// packager rather than a remuxer's: sample timestamps are written as the
// caller gives them (tfdt = DTS; composition offset = PTS-DTS, negative
// ones in trun version 1, ISO/IEC 23000-19 §7.5.17), never moved to start
// at zero, and SetStart is ignored. The CMAF header then carries an edit
// list only when offset is not 0: one edit whose media_time is offset, the
// media time that is presentation time zero — the value DASH signals as
// presentationTimeOffset. A packager uses it to keep what the source hid
// with its own edit list (AAC encoder priming, the pre-roll of a cut)
// before time zero, with every track shifted by the same amount so that
// ffprobe of init + segments shows the source's timestamps and players
// that ignore edit lists (hls.js) keep audio and video in sync.
//
// This is the writer's second timeline; the first (the default) keeps
// the input's presentation through an edit list computed from the first
// samples, as remux needs. Both are options of the one CMAF writer so that
// remux and package write identical boxes otherwise.
func WithPresentationOffset(offset int64) WriteOption {
	return func(c *writeConfig) { c.given, c.presOffset = true, offset }
}

// MaxSamples caps the number of samples one write accepts: the
// progressive writer keeps 12 to 16 bytes of tables per sample, so the cap
// bounds its memory (about 1 GiB) whatever the input claims. Empty
// samples, which cost nothing in the input and can be declared by the
// billion in a few bytes of a hostile sample table, are capped at
// maxEmptySamples.
const MaxSamples = 1 << 26

const maxEmptySamples = 1 << 20

// sampleGuard enforces MaxSamples and the empty-sample cap.
type sampleGuard struct{ n, empty int64 }

func (g *sampleGuard) check(s *media.Sample) error {
	g.n++
	if s.Size == 0 {
		g.empty++
	}
	if g.n > MaxSamples || g.empty > maxEmptySamples {
		return fmt.Errorf("%w: more than %d samples (%d empty) at track %d sample %d, byte %d: refusing to build tables that large",
			ErrWrite, min(g.n, MaxSamples), g.empty, s.TrackID, s.Index, s.Pos)
	}
	return nil
}

// box is an append-only MP4 box builder.
type box struct{ b []byte }

func (w *box) open(typ string) int {
	i := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0, typ[0], typ[1], typ[2], typ[3])
	return i
}

func (w *box) openFull(typ string, version byte, flags uint32) int {
	i := w.open(typ)
	w.u32(uint32(version)<<24 | flags&0xffffff)
	return i
}

func (w *box) close(i int) { binary.BigEndian.PutUint32(w.b[i:], uint32(len(w.b)-i)) }

func (w *box) u8(v uint8)     { w.b = append(w.b, v) }
func (w *box) u16(v uint16)   { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *box) u32(v uint32)   { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *box) u64(v uint64)   { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *box) bytes(v []byte) { w.b = append(w.b, v...) }
func (w *box) zeros(n int)    { w.b = append(w.b, make([]byte, n)...) }
func (w *box) raw(typ string, body []byte) {
	i := w.open(typ)
	w.bytes(body)
	w.close(i)
}

// unityMatrix is the identity transformation of mvhd and tkhd.
var unityMatrix = [9]int32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000}

// rotationMatrix returns the tkhd matrix for a display rotation as
// ffprobe reports it (see rotation in reader.go: ffprobe's value is the
// negated angle of the matrix).
func rotationMatrix(deg int) [9]int32 {
	const one = 0x10000
	switch ((deg % 360) + 360) % 360 {
	case 90: // ffprobe 90: matrix rotates by -90 (counter-clockwise display)
		return [9]int32{0, -one, 0, one, 0, 0, 0, 0, 0x40000000}
	case 180:
		return [9]int32{-one, 0, 0, 0, -one, 0, 0, 0, 0x40000000}
	case 270:
		return [9]int32{0, one, 0, -one, 0, 0, 0, 0, 0x40000000}
	}
	return unityMatrix
}

// outTrack is one track as the writers emit it.
type outTrack struct {
	t     *media.Track
	id    uint32 // output track_ID, 1-based
	conv  converter
	entry []byte // complete sample entry box
	hdlr  string // vide, soun
	// timeline
	d0      int64 // first DTS in the input: media time zero
	minPTS  int64
	edits   []media.Edit
	movieTS uint32
	// ctts version needed (any negative composition offset)
	negCTO bool
}

// planTracks selects the writable tracks of d and prepares their sample
// entries and payload converters.
func planTracks(tracks []*media.Track, cfg *writeConfig) ([]*outTrack, error) {
	var out []*outTrack
	for _, t := range tracks {
		if cfg.tracks != nil && !cfg.tracks[t.ID] {
			continue
		}
		if t.Kind != media.KindVideo && t.Kind != media.KindAudio {
			continue
		}
		ot := &outTrack{t: t, id: uint32(len(out) + 1)}
		if err := ot.buildEntry(); err != nil {
			return nil, err
		}
		out = append(out, ot)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no audio or video track to write", ErrWrite)
	}
	return out, nil
}

// buildEntry builds the sample entry box and picks the payload converter.
func (ot *outTrack) buildEntry() error {
	t := ot.t
	var w box
	switch t.Codec {
	case media.CodecH264, media.CodecHEVC:
		ot.hdlr = "vide"
		rec := t.Config.Record
		tag := t.CodecTag
		if t.Config.NALLengthSize == 0 {
			// Annex B input (MPEG-TS): build the record from the
			// parameter sets; samples get 4-byte lengths.
			var err error
			rec, err = buildRecord(t)
			if err != nil {
				return err
			}
			ot.conv = &annexBConv{codec: t.Codec, ps: paramSets(t)}
			tag = "avc1"
			if t.Codec == media.CodecHEVC {
				tag = "hvc1"
			}
		} else if len(rec) == 0 {
			var err error
			if rec, err = buildRecord(t); err != nil {
				return err
			}
		}
		if !validTag(tag, t.Codec) {
			tag = map[media.Codec]string{media.CodecH264: "avc1", media.CodecHEVC: "hvc1"}[t.Codec]
		}
		cfgBox := "avcC"
		if t.Codec == media.CodecHEVC {
			cfgBox = "hvcC"
		}
		visualEntry(&w, tag, t, cfgBox, rec)
	case media.CodecAV1:
		ot.hdlr = "vide"
		if len(t.Config.Record) == 0 {
			return fmt.Errorf("%w: track %d: av1 without av1C", ErrWrite, t.ID)
		}
		visualEntry(&w, "av01", t, "av1C", t.Config.Record)
	case media.CodecAAC, media.CodecMP3, media.CodecMP2:
		ot.hdlr = "soun"
		var dsi []byte
		oti := byte(0x40)
		switch t.Codec {
		case media.CodecAAC:
			dsi = t.Config.AudioSpecificConfig
			if len(dsi) == 0 {
				return fmt.Errorf("%w: track %d: aac without AudioSpecificConfig", ErrWrite, t.ID)
			}
			ot.conv = adtsConv{}
		case media.CodecMP3:
			oti = 0x6b
		case media.CodecMP2:
			oti = 0x69
		}
		esds, err := buildEsds(dsi, oti, t)
		if err != nil {
			return err
		}
		audioEntry(&w, "mp4a", t, esds)
	case media.CodecAC3, media.CodecEAC3:
		ot.hdlr = "soun"
		tag, cb := "ac-3", "dac3"
		if t.Codec == media.CodecEAC3 {
			tag, cb = "ec-3", "dec3"
		}
		rec := t.Config.Record
		if len(rec) == 0 {
			// MPEG-TS carries no dac3/dec3: it is built from the first
			// syncframe when the first sample arrives.
			ot.conv = &ac3Conv{ot: ot, tag: tag, cfgBox: cb}
			return nil
		}
		var c box
		c.raw(cb, rec)
		audioEntry(&w, tag, t, c.b)
	case media.CodecOpus:
		ot.hdlr = "soun"
		if len(t.Config.Record) == 0 {
			return fmt.Errorf("%w: track %d: opus without dOps", ErrWrite, t.ID)
		}
		var c box
		c.raw("dOps", t.Config.Record)
		audioEntry(&w, "Opus", t, c.b)
	default:
		return fmt.Errorf("%w: track %d: codec %q (%s) has no MP4 sample entry in this writer", ErrWrite, t.ID, t.Codec, t.CodecTag)
	}
	ot.entry = w.b
	return nil
}

func validTag(tag string, c media.Codec) bool {
	switch c {
	case media.CodecH264:
		return tag == "avc1" || tag == "avc3"
	case media.CodecHEVC:
		return tag == "hvc1" || tag == "hev1"
	}
	return false
}

func paramSets(t *media.Track) [][]byte {
	var ps [][]byte
	ps = append(ps, trimNALs(t.Config.VPS)...)
	ps = append(ps, trimNALs(t.Config.SPS)...)
	return append(ps, trimNALs(t.Config.PPS)...)
}

// trimNALs drops trailing zero bytes from NAL units taken from an Annex B
// stream: they are trailing_zero_8bits of the byte stream (or the first
// byte of a 4-byte start code), not part of the NAL unit, and would make
// the parameter sets differ from the in-band copies.
func trimNALs(nals [][]byte) [][]byte {
	out := make([][]byte, 0, len(nals))
	for _, n := range nals {
		for len(n) > 1 && n[len(n)-1] == 0 {
			n = n[:len(n)-1]
		}
		out = append(out, n)
	}
	return out
}

// buildRecord builds an avcC or hvcC body from the track's parameter sets.
func buildRecord(t *media.Track) (rec []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: track %d: building %s record: %v", ErrWrite, t.ID, t.Codec, p)
		}
	}()
	if len(t.Config.SPS) == 0 || len(t.Config.PPS) == 0 {
		return nil, fmt.Errorf("%w: track %d: %s without SPS/PPS (no parameter sets in band before the first key frame?)", ErrWrite, t.ID, t.Codec)
	}
	var b mp4ff.Box
	vps, sps, pps := trimNALs(t.Config.VPS), trimNALs(t.Config.SPS), trimNALs(t.Config.PPS)
	if t.Codec == media.CodecH264 {
		b, err = mp4ff.CreateAvcC(sps, pps, true)
	} else {
		b, err = mp4ff.CreateHvcC(vps, sps, pps, true, true, true, true)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: track %d: %v", ErrWrite, t.ID, err)
	}
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return nil, fmt.Errorf("%w: track %d: %v", ErrWrite, t.ID, err)
	}
	return buf.Bytes()[8:], nil
}

// buildEsds returns a complete esds box for an MPEG-4 audio track.
func buildEsds(dsi []byte, oti byte, t *media.Track) ([]byte, error) {
	e := mp4ff.CreateEsdsBox(dsi)
	e.DecConfigDescriptor.ObjectType = oti
	if oti != 0x40 {
		e.DecConfigDescriptor.DecSpecificInfo.DecConfig = nil
	}
	if t.Bitrate > 0 && t.Bitrate < math.MaxUint32 {
		e.DecConfigDescriptor.AvgBitrate = uint32(t.Bitrate)
	}
	var buf bytes.Buffer
	if err := e.Encode(&buf); err != nil {
		return nil, fmt.Errorf("%w: track %d: esds: %v", ErrWrite, t.ID, err)
	}
	return buf.Bytes(), nil
}

// visualEntry writes a VisualSampleEntry (ISO/IEC 14496-12 §12.1.3).
func visualEntry(w *box, tag string, t *media.Track, cfgBox string, rec []byte) {
	i := w.open(tag)
	w.zeros(6)
	w.u16(1) // data_reference_index
	w.zeros(16)
	w.u16(uint16(t.Width))
	w.u16(uint16(t.Height))
	w.u32(0x00480000)
	w.u32(0x00480000)
	w.u32(0)
	w.u16(1) // frame_count
	w.zeros(32)
	w.u16(0x0018)
	w.u16(0xffff)
	w.raw(cfgBox, rec)
	if sar := t.SampleAspect; !sar.IsZero() && sar.Num > 0 && sar.Num != sar.Den && sar.Num < 1<<32 && sar.Den < 1<<32 {
		p := w.open("pasp")
		w.u32(uint32(sar.Num))
		w.u32(uint32(sar.Den))
		w.close(p)
	}
	w.close(i)
}

// audioEntry writes an AudioSampleEntry (ISO/IEC 14496-12 §12.2.3).
func audioEntry(w *box, tag string, t *media.Track, child []byte) {
	i := w.open(tag)
	w.zeros(6)
	w.u16(1)
	w.zeros(8)
	ch := t.Channels
	if ch <= 0 || tag == "ac-3" || tag == "ec-3" {
		ch = 2 // the dac3/dec3 record is authoritative
	}
	w.u16(uint16(ch))
	w.u16(16)
	w.u32(0)
	rate := t.SampleRate
	if rate > 0xffff || rate < 0 {
		rate = 0
	}
	w.u32(uint32(rate) << 16)
	w.bytes(child)
	w.close(i)
}

// converter turns an input payload into the MP4 sample bytes.
type converter interface {
	convert(dst, src []byte) ([]byte, error)
}

// annexBConv converts an Annex B access unit to 4-byte length-prefixed NAL
// units, dropping access unit delimiters and the parameter sets that are
// identical to those of the sample entry (an MPEG-TS writer repeats them
// before every key frame; in MP4 they live in avcC/hvcC).
type annexBConv struct {
	codec media.Codec
	ps    [][]byte
}

func (c *annexBConv) convert(dst, src []byte) ([]byte, error) {
	dst = dst[:0]
	n := 0
	for _, nal := range bitstream.AnnexB(src) {
		if c.drop(nal) {
			continue
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(nal)))
		dst = append(dst, nal...)
		n++
	}
	if n == 0 && len(src) > 0 {
		return nil, fmt.Errorf("%w: access unit of %d bytes holds no NAL unit (not Annex B?)", media.ErrCorrupt, len(src))
	}
	return dst, nil
}

func (c *annexBConv) drop(nal []byte) bool {
	aud, ps := bitstream.NALRole(c.codec == media.CodecHEVC, nal)
	if aud {
		return true
	}
	if ps {
		for _, p := range c.ps {
			if bytes.Equal(p, nal) {
				return true
			}
		}
	}
	return false
}

// adtsConv strips the ADTS header (7 bytes, 9 with CRC) that MPEG-TS puts
// in front of every AAC frame. Payloads without an ADTS header pass
// through.
type adtsConv struct{}

func (adtsConv) convert(dst, src []byte) ([]byte, error) {
	if n := bitstream.ADTSHeaderLen(src); n > 0 {
		return append(dst[:0], src[n:]...), nil
	}
	return append(dst[:0], src...), nil
}

// ac3Conv passes AC-3/E-AC-3 syncframes through; on the first one it
// builds the dac3/dec3 record and the sample entry (MPEG-TS has neither).
type ac3Conv struct {
	ot          *outTrack
	tag, cfgBox string
}

func (c *ac3Conv) convert(dst, src []byte) ([]byte, error) {
	if c.ot.entry == nil {
		rec, err := ac3Record(src, c.tag == "ec-3")
		if err != nil {
			return nil, err
		}
		var cb, w box
		cb.raw(c.cfgBox, rec)
		audioEntry(&w, c.tag, c.ot.t, cb.b)
		c.ot.entry = w.b
	}
	return append(dst[:0], src...), nil
}

// ac3Record builds a dac3 or dec3 body (ETSI TS 102 366 annex F) from the
// first syncframe of a stream.
func ac3Record(f []byte, eac3 bool) ([]byte, error) {
	if len(f) < 8 || f[0] != 0x0b || f[1] != 0x77 {
		return nil, fmt.Errorf("%w: AC-3 frame without syncword", media.ErrCorrupt)
	}
	br := bitReader{b: f[2:]}
	if !eac3 {
		// syncinfo: crc1(16) fscod(2) frmsizecod(6); bsi: bsid(5) bsmod(3) acmod(3) ...
		br.skip(16)
		fscod := br.read(2)
		frmsizecod := br.read(6)
		bsid := br.read(5)
		bsmod := br.read(3)
		acmod := br.read(3)
		if acmod&1 != 0 && acmod != 1 {
			br.skip(2) // cmixlev
		}
		if acmod&4 != 0 {
			br.skip(2) // surmixlev
		}
		if acmod == 2 {
			br.skip(2) // dsurmod
		}
		lfe := br.read(1)
		if br.err {
			return nil, fmt.Errorf("%w: AC-3 frame header truncated", media.ErrTruncated)
		}
		v := fscod<<22 | bsid<<17 | bsmod<<14 | acmod<<11 | lfe<<10 | (frmsizecod>>1)<<5
		return []byte{byte(v >> 16), byte(v >> 8), byte(v)}, nil
	}
	// E-AC-3 bsi: strmtyp(2) substreamid(3) frmsiz(11) fscod(2)
	// [fscod2(2)|numblkscod(2)] acmod(3) lfeon(1) bsid(5) ...
	br.skip(2 + 3)
	frmsiz := br.read(11)
	fscod := br.read(2)
	numblks := uint32(6)
	if fscod == 3 {
		br.skip(2)
	} else {
		numblks = [4]uint32{1, 2, 3, 6}[br.read(2)]
	}
	acmod := br.read(3)
	lfe := br.read(1)
	bsid := br.read(5)
	if br.err {
		return nil, fmt.Errorf("%w: E-AC-3 frame header truncated", media.ErrTruncated)
	}
	rate := [4]uint32{48000, 44100, 32000, 24000}[fscod]
	// data_rate in kbit/s: frame bytes * 8 * frames per second.
	frameBytes := (frmsiz + 1) * 2
	dataRate := frameBytes * 8 * rate / (numblks * 256) / 1000
	var w box
	v := dataRate << 3 // data_rate(13), num_ind_sub(3) = 0: one independent substream
	w.u16(uint16(v))
	fs := fscod
	if fs == 3 {
		fs = 0
	}
	// fscod(2) bsid(5) reserved(1) asvc(1) bsmod(3) acmod(3) lfeon(1) reserved(3) num_dep_sub(4) reserved(1)
	x := fs<<22 | bsid<<17 | acmod<<9 | lfe<<8
	w.u8(byte(x >> 16))
	w.u8(byte(x >> 8))
	w.u8(byte(x))
	return w.b, nil
}

type bitReader struct {
	b   []byte
	pos int
	err bool
}

func (r *bitReader) read(n int) uint32 {
	var v uint32
	for range n {
		if r.pos>>3 >= len(r.b) {
			r.err = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) skip(n int) { r.pos += n }

// planTimeline sets edits and movieTS of every output track from the
// observed first DTS (d0) and smallest PTS of each track. origin reports
// whether MPEG-TS normalisation applies. durations holds each track's
// presentation length (max PTS+duration-d0); nil means fragmented output,
// whose synthesised edits get duration 0 ("until the end of the media").
// oDen > 0 imposes the origin oNum/oDen seconds (shared between CMAF
// tracks written separately).
//
// For a track with an input edit list (MP4 input) the edits are kept and
// their media times moved by the first DTS. Otherwise the track's
// timestamps minus the global origin P (the smallest first PTS, in
// seconds, over all tracks) must be what ffprobe shows:
//
//	shown = media_time_of_sample - M + E = DTS - d0 - M + E
//
// so E - M = d0 - P. M is the track's own composition delay (libavformat
// honours a media-time edit only from a key frame's presentation time on)
// and an empty edit E makes up the rest.
func planTimeline(tracks []*outTrack, origin bool, durations map[uint32]int64, oNum, oDen int64) {
	mts := uint32(0)
	for _, ot := range tracks {
		if ot.t.MovieTimescale != 0 && len(ot.t.Edits) > 0 {
			mts = ot.t.MovieTimescale
			break
		}
	}
	if mts == 0 {
		mts = 1000
		if origin && len(tracks) > 0 {
			mts = tracks[0].t.Timescale
		}
	}
	// origin in seconds, as an exact rational P = num/den.
	var pNum int64
	var pDen int64 = 1
	if origin {
		first := true
		for _, ot := range tracks {
			ts := int64(ot.t.Timescale)
			if ts == 0 {
				continue
			}
			// compare ot.minPTS/ts < pNum/pDen
			if first || ot.minPTS*pDen < pNum*ts {
				pNum, pDen = ot.minPTS, ts
				first = false
			}
		}
		if oDen > 0 {
			pNum, pDen = oNum, oDen
		}
	}
	for _, ot := range tracks {
		ot.movieTS = mts
		ts := int64(ot.t.Timescale)
		dur := durations[ot.id]
		if len(ot.t.Edits) > 0 && !origin {
			src := ot.t.MovieTimescale
			if src == 0 {
				src = mts
			}
			ot.edits = make([]media.Edit, len(ot.t.Edits))
			for i, e := range ot.t.Edits {
				e.Duration = media.Rescale(e.Duration, int64(mts), int64(src))
				if e.MediaTime >= 0 {
					e.MediaTime = max(e.MediaTime-ot.d0, 0)
				}
				if e.Duration == 0 && durations != nil && e.MediaTime >= 0 && i == len(ot.t.Edits)-1 {
					// A fragmented input's "until the end" edit gets the
					// actual length in a progressive file.
					e.Duration = media.Rescale(max(dur-e.MediaTime, 0), int64(mts), ts)
				}
				ot.edits[i] = e
			}
			continue
		}
		ot.edits = nil
		shift := ot.d0
		if origin {
			shift = ot.d0 - media.Rescale(pNum, ts, pDen)
			if pNum < 0 {
				shift = ot.d0 + media.Rescale(-pNum, ts, pDen)
			}
		}
		if shift == 0 {
			continue
		}
		// E - M = shift. libavformat only honours a media-time edit that
		// starts at or after a key frame's presentation time, so M is the
		// track's own composition delay and E makes up the rest.
		m := max(ot.minPTS-ot.d0, 0)
		e := shift + m
		if e < 0 {
			m, e = -shift, 0
		}
		if e > 0 {
			ot.edits = append(ot.edits, media.Edit{Duration: media.Rescale(e, int64(mts), ts), MediaTime: -1, RateInt: 1})
		}
		ot.edits = append(ot.edits, media.Edit{Duration: media.Rescale(max(dur-m, 0), int64(mts), ts), MediaTime: m, RateInt: 1})
	}
}

// writeEdts writes an edts/elst box (version 1 when a value needs it).
func writeEdts(w *box, edits []media.Edit) {
	if len(edits) == 0 {
		return
	}
	v := byte(0)
	for _, e := range edits {
		if e.Duration > math.MaxUint32 || e.MediaTime > math.MaxInt32 || e.MediaTime < -1 {
			v = 1
		}
	}
	i := w.open("edts")
	j := w.openFull("elst", v, 0)
	w.u32(uint32(len(edits)))
	for _, e := range edits {
		rate := e.RateInt
		if rate == 0 && e.RateFrac == 0 {
			rate = 1
		}
		if v == 1 {
			w.u64(uint64(e.Duration))
			w.u64(uint64(e.MediaTime))
		} else {
			w.u32(uint32(e.Duration))
			w.u32(uint32(int32(e.MediaTime)))
		}
		w.u16(uint16(rate))
		w.u16(uint16(e.RateFrac))
	}
	w.close(j)
	w.close(i)
}

// editDuration is the presentation duration an edit list describes, in
// the movie timescale.
func editDuration(edits []media.Edit) int64 {
	var d int64
	for _, e := range edits {
		d += e.Duration
	}
	return d
}

// writeMvhd writes mvhd with next_track_ID.
func writeMvhd(w *box, mts uint32, dur int64, next uint32) {
	v := byte(0)
	if dur > math.MaxUint32 {
		v = 1
	}
	i := w.openFull("mvhd", v, 0)
	if v == 1 {
		w.u64(0)
		w.u64(0)
		w.u32(mts)
		w.u64(uint64(dur))
	} else {
		w.u32(0)
		w.u32(0)
		w.u32(mts)
		w.u32(uint32(dur))
	}
	w.u32(0x00010000) // rate 1.0
	w.u16(0x0100)     // volume 1.0
	w.zeros(10)
	for _, m := range unityMatrix {
		w.u32(uint32(m))
	}
	w.zeros(24)
	w.u32(next)
	w.close(i)
}

// writeTkhd writes tkhd; dur in the movie timescale.
func writeTkhd(w *box, ot *outTrack, dur int64) {
	v := byte(0)
	if dur > math.MaxUint32 {
		v = 1
	}
	i := w.openFull("tkhd", v, 3) // enabled, in movie
	if v == 1 {
		w.u64(0)
		w.u64(0)
		w.u32(ot.id)
		w.u32(0)
		w.u64(uint64(dur))
	} else {
		w.u32(0)
		w.u32(0)
		w.u32(ot.id)
		w.u32(0)
		w.u32(uint32(dur))
	}
	w.zeros(8)
	w.u16(0) // layer
	if ot.hdlr == "soun" {
		w.u16(1) // alternate_group
		w.u16(0x0100)
	} else {
		w.u16(0)
		w.u16(0)
	}
	w.u16(0)
	mx := rotationMatrix(ot.t.Rotation)
	for _, m := range mx {
		w.u32(uint32(m))
	}
	if ot.hdlr == "vide" {
		wd := float64(ot.t.Width)
		if sar := ot.t.SampleAspect; !sar.IsZero() && sar.Num > 0 {
			wd = wd * float64(sar.Num) / float64(sar.Den)
		}
		w.u32(uint32(wd * 65536))
		w.u32(uint32(ot.t.Height) << 16)
	} else {
		w.u32(0)
		w.u32(0)
	}
	w.close(i)
}

// writeMdhd writes mdhd with the track's language.
func writeMdhd(w *box, ot *outTrack, dur int64) {
	v := byte(0)
	if dur > math.MaxUint32 {
		v = 1
	}
	i := w.openFull("mdhd", v, 0)
	if v == 1 {
		w.u64(0)
		w.u64(0)
		w.u32(ot.t.Timescale)
		w.u64(uint64(dur))
	} else {
		w.u32(0)
		w.u32(0)
		w.u32(ot.t.Timescale)
		w.u32(uint32(dur))
	}
	w.u16(packLanguage(ot.t.Language))
	w.u16(0)
	w.close(i)
}

// packLanguage packs an ISO 639-2/T code into mdhd's 3×5 bits; "und" when
// absent or malformed.
func packLanguage(l string) uint16 {
	if len(l) != 3 {
		l = "und"
	}
	var v uint16
	for i := range 3 {
		c := l[i]
		if c < 'a' || c > 'z' {
			return packLanguage("und")
		}
		v = v<<5 | uint16(c-0x60)
	}
	return v
}

// writeHdlrMinfHeader writes hdlr (in mdia) and returns after opening minf
// with its media header and dinf; the caller writes stbl and closes minf.
func writeHdlr(w *box, hdlr string) {
	name := map[string]string{"vide": "VideoHandler", "soun": "SoundHandler"}[hdlr]
	i := w.openFull("hdlr", 0, 0)
	w.u32(0)
	w.bytes([]byte(hdlr))
	w.zeros(12)
	w.bytes([]byte(name))
	w.u8(0)
	w.close(i)
}

func writeMediaHeader(w *box, hdlr string) {
	if hdlr == "vide" {
		i := w.openFull("vmhd", 0, 1)
		w.zeros(8)
		w.close(i)
	} else {
		i := w.openFull("smhd", 0, 0)
		w.zeros(4)
		w.close(i)
	}
	d := w.open("dinf")
	r := w.openFull("dref", 0, 0)
	w.u32(1)
	u := w.openFull("url ", 0, 1) // self-contained
	w.close(u)
	w.close(r)
	w.close(d)
}

// writeStsd writes stsd with the track's sample entry.
func writeStsd(w *box, ot *outTrack) {
	i := w.openFull("stsd", 0, 0)
	w.u32(1)
	w.bytes(ot.entry)
	w.close(i)
}

// ftyp brands.
func writeFtyp(w *box, typ, major string, minor uint32, compat ...string) {
	i := w.open(typ)
	w.bytes([]byte(major))
	w.u32(minor)
	for _, c := range compat {
		w.bytes([]byte(c))
	}
	w.close(i)
}

// codecBrands returns the compatible brands naming the codecs inside.
func codecBrands(tracks []*outTrack) []string {
	var b []string
	for _, ot := range tracks {
		switch ot.t.Codec {
		case media.CodecH264:
			b = appendOnce(b, "avc1")
		case media.CodecAV1:
			b = appendOnce(b, "av01")
		}
	}
	return b
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
