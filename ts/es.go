package ts

import (
	"fmt"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// framerKind selects how an elementary stream is cut into access units.
type framerKind int

const (
	framerNone       framerKind = iota // identified only: no samples
	framerH264                         // Annex B, access units cut as libavcodec's h264 parser does
	framerHEVC                         // Annex B, access units cut as libavcodec's hevc parser does
	framerMPEG2Video                   // MPEG-1/2 video start codes
	framerADTS                         // AAC in ADTS frames
	framerLATM                         // AAC in LOAS/LATM (AudioSyncStream)
	framerAC3                          // AC-3 and E-AC-3 syncframes
	framerMPEGAudio                    // MPEG-1/2 audio layers I-III
	framerPESData                      // one sample per PES (timed ID3, KLV)
	framerSection                      // one sample per PSI section (SCTE-35)
	framerOpus                         // Opus access units (registration "Opus")
)

// pesRec remembers where a PES packet's payload starts in the elementary
// stream and the timestamps its header carried.
type pesRec struct {
	off      int64 // absolute elementary-stream offset of the first payload byte
	pts, dts int64 // unwrapped; noTS when absent
	pos      int64 // file offset of the PES's first TS packet
	used     bool
}

// esStream reassembles one PID's PES packets into an elementary stream
// buffer and cuts it into access units.
type esStream struct {
	d    *demux
	info *streamInfo
	prog *progState

	lastCC int8 // last continuity counter, -1 before the first packet

	// PES header assembly.
	inPES     bool
	skipPES   bool
	hdr       []byte
	hdrDone   bool
	pesRemain int // payload bytes left by PES_packet_length, -1 unbounded
	pesPos    int64
	pesN      int64

	// Elementary stream buffer: es[consumed:] is still needed; base is the
	// absolute offset of es[0].
	es       []byte
	base     int64
	consumed int
	recs     []pesRec

	// Framer state, indexes into es.
	scan     int   // next index to look at
	auStart  int   // start of the access unit being collected, -1 none
	nalStart int   // start of the current NAL unit payload, -1 none
	nalType  int   // its type
	sawVCL   bool  // the AU being collected has a picture
	lastMB   int64 // H.264: first_mb_in_slice of the last slice
	key      bool  // ... and it is a random access point

	// Timing.
	lastDTS, lastPTS int64
	lastDur          int64
	anchorPTS        int64 // audio: PTS of the last frame that carried one
	lastSamples      int64 // audio: samples in the previous frame
	lastRate         int   // ... and its sample rate
	lastFrameAbs     int64
	index            int64

	// Codec parameters captured while probing.
	sps, pps, vps [][]byte
	conf          bool
	synced        bool // the audio framer has found the stream's first frame
	sampleRate    int
	aacFrames     [][]byte // ADTS payloads of the first frames, for implicit SBR
}

func (s *esStream) reset() {
	s.auStart, s.nalStart, s.nalType = -1, -1, -1
	s.lastFrameAbs = -1
	s.pesRemain = -1
	if s.hdr == nil {
		s.hdr = make([]byte, 0, 9+255)
	}
}

func (s *esStream) what() string {
	return fmt.Sprintf("PES on PID %s (packet %d)", pidString(s.info.pid), s.pesN)
}

// startPES begins a new PES packet at a payload_unit_start packet.
func (s *esStream) startPES(pos, n int64) {
	s.endPES(false)
	s.inPES = true
	s.skipPES = false
	s.hdr = s.hdr[:0]
	s.hdrDone = false
	s.pesRemain = -1
	s.pesPos = pos
	s.pesN = n
}

// endPES closes the current PES packet (at the next payload_unit_start or
// the end of input).
func (s *esStream) endPES(final bool) {
	if !s.inPES {
		return
	}
	s.inPES = false
	if !s.hdrDone && !s.skipPES {
		if len(s.hdr) > 0 {
			s.d.stats.PESErrors++
			if final {
				s.d.damageAs(media.ErrTruncated, s.pesPos, s.what, "input ends in the PES header (%d bytes)", len(s.hdr))
				return
			}
			s.d.damage(s.pesPos, s.what, "PES header cut short")
		}
		return
	}
	if s.pesRemain > 0 && !s.skipPES {
		s.d.stats.PESErrors++
		// At the end of the input the partial payload is still framed
		// and emitted (flush), as ffmpeg emits the partial packet.
		if final {
			s.d.damageAs(media.ErrTruncated, s.pesPos, s.what, "input ends %d bytes before the end of the PES payload", s.pesRemain)
		} else {
			s.d.damage(s.pesPos, s.what, "%d bytes of PES payload missing", s.pesRemain)
		}
	}
	if s.info.framer == framerPESData && s.hdrDone && !s.skipPES {
		s.frame(true)
	}
}

// pesPayload adds the payload of one TS packet of the current PES.
func (s *esStream) pesPayload(b []byte, pos, n int64) {
	if !s.inPES || s.skipPES {
		return // payload before the first PES start, or of a bad PES
	}
	if !s.hdrDone {
		for {
			need := 6
			if len(s.hdr) >= 3 && (s.hdr[0] != 0 || s.hdr[1] != 0 || s.hdr[2] != 1) {
				s.badPES("no PES start code")
				return
			}
			if len(s.hdr) >= 6 && hasOptionalHeader(s.hdr[3]) {
				need = 9
				if len(s.hdr) >= 9 {
					need = 9 + int(s.hdr[8])
				}
			}
			if len(s.hdr) >= need {
				break
			}
			if len(b) == 0 {
				return
			}
			k := need - len(s.hdr)
			if k > len(b) {
				k = len(b)
			}
			s.hdr = append(s.hdr, b[:k]...)
			b = b[k:]
		}
		if !s.parsePESHeader() {
			return
		}
	}
	if s.pesRemain >= 0 {
		if len(b) > s.pesRemain {
			b = b[:s.pesRemain] // stuffing beyond PES_packet_length
		}
		s.pesRemain -= len(b)
	}
	if len(b) == 0 {
		return
	}
	if !s.appendES(b) {
		return
	}
	if s.info.framer != framerPESData {
		s.frame(false)
	} else if s.pesRemain == 0 {
		s.frame(true)
		s.inPES = false
	}
}

func (s *esStream) badPES(why string) {
	s.skipPES = true
	s.d.stats.PESErrors++
	s.d.damage(s.pesPos, s.what, "%s", why)
}

// hasOptionalHeader reports whether PES packets with this stream_id carry
// the optional header with flags and timestamps (ISO/IEC 13818-1 2.4.3.7).
func hasOptionalHeader(id byte) bool {
	switch id {
	case 0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xFF, 0xF2, 0xF8:
		return false
	}
	return true
}

func readTS(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// parsePESHeader decodes the PES header in s.hdr and records its
// timestamps against the elementary-stream offset where its payload starts.
//
//	packet_start_code_prefix(24) stream_id(8) PES_packet_length(16)
//	'10' scrambling(2) priority(1) alignment(1) copyright(1) original(1)
//	PTS_DTS_flags(2) ESCR(1) ES_rate(1) trick(1) copy_info(1) CRC(1) ext(1)
//	PES_header_data_length(8) [PTS(40)] [DTS(40)] ...
func (s *esStream) parsePESHeader() bool {
	h := s.hdr
	s.hdrDone = true
	plen := int(h[4])<<8 | int(h[5])
	pts, dts := noTS, noTS
	if hasOptionalHeader(h[3]) {
		flags := h[7] >> 6
		hl := int(h[8])
		switch {
		case flags == 2 && hl >= 5:
			pts = readTS(h[9:14])
		case flags == 3 && hl >= 10:
			pts = readTS(h[9:14])
			dts = readTS(h[14:19])
		case flags == 1 || (flags >= 2 && hl < 5) || (flags == 3 && hl < 10):
			s.badPES("PES timestamps do not fit the header")
			return false
		}
	}
	if plen > 0 {
		s.pesRemain = plen - (len(h) - 6)
		if s.pesRemain < 0 {
			s.badPES(fmt.Sprintf("PES_packet_length %d shorter than its header", plen))
			return false
		}
	}
	if pts != noTS {
		pts = s.prog.unwrap(pts)
		if dts != noTS {
			dts = s.prog.unwrap(dts)
		}
	}
	if s.info.framer == framerPESData {
		// A data PES is one sample: drop what a previous PES left.
		s.es = s.es[:0]
		s.consumed = 0
		s.base = 0
		s.recs = s.recs[:0]
		s.lastFrameAbs = -1
	}
	s.pruneRecs()
	if pts != noTS && s.d.onPES != nil {
		s.d.onPES(s, pts)
	}
	s.recs = append(s.recs, pesRec{off: s.base + int64(len(s.es)), pts: pts, dts: dts, pos: s.pesPos})
	return true
}

// maxRecs bounds the PES records waiting for an access unit: a stream
// whose frames are never found must not grow them with the file.
const maxRecs = 64

// pruneRecs drops the records no access unit can use any more: all but
// the last one starting at or before the first byte still buffered.
func (s *esStream) pruneRecs() {
	keepFrom := 0
	first := s.base + int64(s.consumed)
	for k := range s.recs {
		if s.recs[k].off <= first {
			keepFrom = k
		}
	}
	if n := len(s.recs) - maxRecs + 1; n > keepFrom {
		keepFrom = n
	}
	if keepFrom > 0 {
		n := copy(s.recs, s.recs[keepFrom:])
		s.recs = s.recs[:n]
	}
}

// appendES adds payload bytes to the elementary stream buffer, compacting
// it first and refusing to grow beyond MaxPESSize.
func (s *esStream) appendES(b []byte) bool {
	if s.consumed > 0 && (s.consumed >= len(s.es)/2 || len(s.es)+len(b) > cap(s.es)) {
		s.compact()
	}
	if len(s.es)-s.consumed+len(b) > MaxPESSize {
		s.d.fail(errAt(s.pesPos, s.what(), fmt.Errorf("%w: access unit larger than %d bytes", media.ErrCorrupt, MaxPESSize)))
		return false
	}
	s.es = append(s.es, b...)
	return true
}

func (s *esStream) compact() {
	c := s.consumed
	if c == 0 {
		return
	}
	n := copy(s.es, s.es[c:])
	s.es = s.es[:n]
	s.base += int64(c)
	s.consumed = 0
	s.scan -= c
	if s.auStart >= 0 {
		s.auStart -= c
	}
	if s.nalStart >= 0 {
		s.nalStart -= c
	}
	if s.scan < 0 {
		s.scan = 0
	}
}

// frame runs the stream's framer over the buffered bytes; at the end of
// input (eof) it also emits the last, unterminated access unit.
func (s *esStream) frame(eof bool) {
	switch s.info.framer {
	case framerH264, framerHEVC, framerMPEG2Video:
		s.frameVideo(eof)
	case framerADTS, framerLATM, framerAC3, framerMPEGAudio:
		s.frameAudio(eof)
	case framerOpus:
		s.frameOpus(eof)
	case framerPESData:
		if eof && len(s.es) > s.consumed {
			s.emitFrame(s.consumed, len(s.es), true, 0)
			s.consumed = len(s.es)
		}
	}
}

// stamp finds the timestamps of the access unit starting at absolute
// offset a: those of the PES whose payload starts at or before a and
// after the previous access unit started, if not used yet (H.222.0
// 2.4.3.7: a PES's PTS belongs to the first access unit starting in it).
func (s *esStream) stamp(a int64) (rec pesRec, fresh bool) {
	i := -1
	for k := range s.recs {
		if s.recs[k].off <= a {
			i = k
		} else {
			break
		}
	}
	if i < 0 {
		if len(s.recs) > 0 {
			return s.recs[0], false
		}
		return pesRec{pos: s.pesPos, pts: noTS, dts: noTS}, false
	}
	r := &s.recs[i]
	fresh = !r.used && r.pts != noTS && r.off > s.lastFrameAbs
	r.used = true
	rec = *r
	// Drop records that no later access unit can use.
	if i > 0 {
		n := copy(s.recs, s.recs[i:])
		s.recs = s.recs[:n]
	}
	return rec, fresh
}

// emitFrame stamps es[start:end] and hands it to the demux callback.
// samples is the number of audio samples in the frame (0 for video).
func (s *esStream) emitFrame(start, end int, key bool, samples int) {
	d := s.d
	if d.stop {
		return
	}
	a := s.base + int64(start)
	rec, fresh := s.stamp(a)
	t := s.info.track
	var pts, dts, dur int64
	isAudio := samples > 0
	if isAudio {
		rate := s.sampleRate
		if rate <= 0 {
			rate = t.SampleRate
		}
		if fresh {
			s.anchorPTS = rec.pts
		}
		if s.anchorPTS == noTS || rate <= 0 {
			d.stats.Untimed++
			s.lastFrameAbs = a
			return
		}
		if fresh || s.lastPTS == noTS {
			pts = s.anchorPTS
		} else {
			// libavformat interpolates with the packet duration when the
			// parser sets one (MPEG audio, AC-3, E-AC-3: whole ticks)
			// and with the exact frame duration otherwise (AAC).
			if s.info.framer == framerADTS || s.info.framer == framerLATM {
				pts = addStable(s.lastPTS, s.lastSamples, int64(s.lastRate))
			} else {
				pts = s.lastPTS + s.lastSamples*Timescale/int64(s.lastRate)
			}
		}
		dts = pts
		dur = int64(samples) * Timescale / int64(rate)
		s.lastSamples, s.lastRate = int64(samples), rate
	} else {
		dur = s.videoDuration()
		switch {
		case fresh:
			pts = rec.pts
			dts = rec.dts
			if dts == noTS {
				dts = pts
			}
		case s.lastDTS != noTS:
			dts = s.lastDTS + dur
			if fr := t.FrameRate; fr.Num > 0 && fr.Den > 0 {
				dts = addStable(s.lastDTS, fr.Den, fr.Num)
			}
			pts = dts
		default:
			d.stats.Untimed++
			s.lastFrameAbs = a
			return
		}
		if s.lastDTS != noTS && dts > s.lastDTS && t.FrameRate.IsZero() {
			s.lastDur = dts - s.lastDTS
		}
	}
	s.lastDTS, s.lastPTS = dts, pts
	s.lastFrameAbs = a
	smp := &d.smp
	*smp = media.Sample{
		TrackID:  t.ID,
		Index:    s.index,
		DTS:      dts,
		PTS:      pts,
		Duration: uint32(dur),
		Size:     uint32(end - start),
		Offset:   -1,
		Sync:     key,
		Data:     s.es[start:end:end],
		Pos:      rec.pos,
	}
	s.index++
	if d.emit != nil && !d.emit(s, smp) {
		d.stop = true
	}
}

// frameDuration is the duration of one access unit as libavformat
// estimates it for a whole PES when it computes stream durations: one
// video frame at the nominal frame rate or one audio frame.
func (s *esStream) frameDuration() int64 {
	t := s.info.track
	if t.Kind == media.KindAudio {
		if t.Codec == media.CodecEAC3 {
			return 0 // libavcodec has no fixed E-AC-3 frame size here
		}
		if t.SampleRate > 0 && t.FrameSize > 0 {
			return int64(t.FrameSize) * Timescale / int64(t.SampleRate)
		}
		return 0
	}
	return s.videoDuration()
}

func (s *esStream) videoDuration() int64 {
	t := s.info.track
	if fr := t.FrameRate; fr.Num > 0 && fr.Den > 0 {
		return (Timescale*fr.Den + fr.Num/2) / fr.Num
	}
	return s.lastDur
}

// sectionPayload collects the PSI sections of a section-carrying stream
// (SCTE-35 splice_info_section, DVB EIT) and emits each as a sample
// stamped, as libavformat does for SCTE-35, with the program's last PCR
// (its 90 kHz base), or its latest (first) PES timestamp before any PCR
// (any PES).
//
//	[pointer_field (PUSI only)] table_id(8) syntax(1) private(1) reserved(2)
//	section_length(12) ... section_length bytes
func (s *esStream) sectionPayload(b []byte, pusi bool, pos int64) {
	if pusi {
		if len(b) == 0 {
			return
		}
		ptr := int(b[0])
		b = b[1:]
		if ptr > len(b) {
			s.d.stats.PESErrors++
			s.d.damage(pos, s.what, "pointer_field beyond the packet")
			s.es = s.es[:0]
			s.inPES = false
			return
		}
		if s.inPES {
			s.addSectionBytes(b[:ptr])
		}
		b = b[ptr:]
		s.es, s.consumed, s.base = s.es[:0], 0, 0
		s.inPES = true
		s.pesPos = pos
	}
	if !s.inPES {
		return
	}
	s.addSectionBytes(b)
}

func (s *esStream) addSectionBytes(b []byte) {
	if len(s.es)+len(b) > MaxPESSize {
		s.d.fail(errAt(s.pesPos, s.what(), fmt.Errorf("%w: section larger than %d bytes", media.ErrCorrupt, MaxPESSize)))
		return
	}
	s.es = append(s.es, b...)
	for !s.d.stop {
		rest := s.es[s.consumed:]
		if len(rest) < 3 || rest[0] == 0xFF {
			if len(rest) > 0 && rest[0] == 0xFF {
				s.consumed = len(s.es) // stuffing up to the next section start
				s.inPES = false
			}
			return
		}
		n := 3 + (int(rest[1]&0x0f)<<8 | int(rest[2]))
		if len(rest) < n {
			return
		}
		start := s.consumed
		s.consumed += n
		// As libavformat's section filters: sections with a bad CRC are
		// dropped, and on the EIT PID only event information tables
		// (table_id 0x4E-0x6F) count.
		sec := s.es[start : start+n]
		if rest[1]&0x80 != 0 && n >= 7 && bitstream.CRC32MPEG2(sec) != 0 {
			s.d.stats.PESErrors++
			s.d.damage(s.pesPos, s.what, "section CRC mismatch")
			continue
		}
		if s.info.pid == pidEIT && (sec[0] < 0x4E || sec[0] > 0x6F) {
			continue
		}
		s.emitSection(start, start+n)
	}
}

func (s *esStream) emitSection(start, end int) {
	d := s.d
	var ts int64
	switch pcr := d.lastPCR[s.info.prog]; {
	case pcr != noTS:
		ts = s.prog.unwrap(pcr / 300)
	case s.prog.haveRef:
		ts = s.prog.ref // no PCR yet: the program's latest timestamp
	case s.info.prog < len(d.rd.refs) && d.rd.refs[s.info.prog].haveRef:
		ts = d.rd.refs[s.info.prog].startRef // before any: its first one
	default:
		d.stats.Untimed++
		return
	}
	t := s.info.track
	d.smp = media.Sample{
		TrackID: t.ID,
		Index:   s.index,
		DTS:     ts,
		PTS:     ts,
		Size:    uint32(end - start),
		Offset:  -1,
		Sync:    true,
		Data:    s.es[start:end:end],
		Pos:     s.pesPos,
	}
	s.index++
	if d.emit != nil && !d.emit(s, &d.smp) {
		d.stop = true
	}
}
