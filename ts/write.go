package ts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// This file is the MPEG-TS writer. Packets are built here rather than with
// astits' muxer: astits allocates per packet and per PES, decides PCR and
// PSI placement itself, and buffers whole PES packets through
// interfaces, while remuxing is a hot path (see BenchmarkMux) and the
// writer must control exactly where PAT/PMT, PCR and random access
// indicators go so that segmenters can cut at key frames.

// ErrWrite is wrapped by errors about input the writer cannot carry in
// MPEG-TS (a codec without a stream type here, a payload that does not fit
// a PES). Test with errors.Is.
var ErrWrite = errors.New("ts: cannot write")

// DefaultTimeOffset is what Mux adds to every timestamp of a non-TS input,
// in 90 kHz ticks: 1.4 s, the start time ffmpeg's mpegts muxer gives
// "-c copy" output. It keeps the negative DTS of B-frame streams (and
// AAC priming) positive; ffprobe on the output shows the input's
// timestamps plus 1.4 s.
const DefaultTimeOffset = 126000

// PIDs the writer uses: one program, its PMT on 0x1000 and elementary
// streams from 0x100 in track order, as ffmpeg numbers them.
const (
	WriterPMTPID   = 0x1000
	WriterFirstPID = 0x100
)

// WriteOption configures NewWriter and Mux.
type WriteOption func(*writeConfig)

type writeConfig struct {
	offset     int64
	offsetSet  bool
	psiEvery   int64 // 90 kHz
	sdtEvery   int64 // 90 kHz; < 0: no SDT
	pcrEvery   int64 // 90 kHz; 0: ffmpeg's rule from the PCR stream's frame duration
	maxDelay   int64 // 90 kHz: how far PCR runs behind DTS; audio PES hold at most half of it
	pesPayload int   // bytes of audio per PES; 0: one frame per PES
	progress   func(done, total int64)
	tracks     map[int]bool
}

// The writer's defaults are those of ffmpeg's mpegts muxer as the ffmpeg
// command line drives it (libavformat/mpegtsenc.c, -muxdelay 0.7), so that
// "streamkit remux" output is the size of "ffmpeg -c copy -f mpegts"
// output and HLS BANDWIDTH of TS variants matches ffmpeg's HLS muxer:
//
//   - audio frames are packed into one PES until it would exceed 2930
//     bytes (pes_payload_size: 16 TS packets) or its first frame is 350 ms
//     (half the mux delay) older than the next frame. One AAC frame per
//     PES costs a PES header and a half-empty packet per 20 ms of audio,
//     doubling low-bitrate audio.
//   - PCR is carried in the adaptation field of the PCR stream's PES
//     starts, at most every largest multiple of its frame duration not
//     above 100 ms (80 ms at 25 fps) and on every key frame; no PCR-only
//     packets. It runs 0.7 s behind the DTS.
//   - PAT and PMT every 100 ms (of PCR time) and before every video key
//     frame; SDT every 500 ms.
const (
	defaultPSIEvery   = 9000
	defaultSDTEvery   = 45000
	defaultMaxDelay   = 63000
	DefaultPESPayload = 2930
)

// WithTimeOffset sets the constant added to every timestamp, in 90 kHz
// ticks (default DefaultTimeOffset for NewWriter; for Mux, 0 when the
// input is itself MPEG-TS, so its timestamps are kept).
func WithTimeOffset(ticks int64) WriteOption {
	return func(c *writeConfig) { c.offset, c.offsetSet = ticks, true }
}

// WithPSIInterval sets how often PAT and PMT are repeated, in 90 kHz
// ticks (default 9000: 100 ms, ffmpeg's pat_period). They are also
// written first, before a video key frame that follows a non-key frame
// (as ffmpeg does) and after ResendTables. A
// negative value repeats them only then: what ffmpeg's HLS muxer does
// for its segments ("one PAT/PMT per segment"), since a client reads a
// segment from its start.
func WithPSIInterval(ticks int64) WriteOption {
	return func(c *writeConfig) {
		if ticks != 0 {
			c.psiEvery = ticks
		}
	}
}

// WithSDTInterval sets how often the DVB service description table is
// repeated, in 90 kHz ticks (default 45000: 500 ms, ffmpeg's sdt_period);
// a negative value writes it only first and after ResendTables.
func WithSDTInterval(ticks int64) WriteOption {
	return func(c *writeConfig) {
		if ticks != 0 {
			c.sdtEvery = ticks
		}
	}
}

// WithPCRInterval sets the PCR period, in 90 kHz ticks: a PES start on the
// PCR stream carries a PCR when this much time has passed since the last
// one (and every key frame does). The default is ffmpeg's: the largest
// multiple of the PCR stream's frame duration not above 100 ms (the
// ISO/IEC 13818-1 limit).
func WithPCRInterval(ticks int64) WriteOption {
	return func(c *writeConfig) {
		if ticks > 0 {
			c.pcrEvery = ticks
		}
	}
}

// WithPESPayloadSize sets how many bytes of audio frames one PES packet
// may carry (default DefaultPESPayload, ffmpeg's pes_payload_size); 0
// writes one audio frame per PES, the lowest latency and the largest
// output. A frame larger than the limit gets a PES of its own.
func WithPESPayloadSize(n int) WriteOption {
	return func(c *writeConfig) { c.pesPayload = max(n, 0) }
}

// WithMuxProgress sets a callback that Mux calls with the payload bytes
// written so far and the total (sum of Track.Bytes, 0 when unknown).
func WithMuxProgress(fn func(done, total int64)) WriteOption {
	return func(c *writeConfig) { c.progress = fn }
}

// WithMuxTracks limits Mux to the tracks with these IDs.
func WithMuxTracks(ids ...int) WriteOption {
	return func(c *writeConfig) {
		c.tracks = map[int]bool{}
		for _, id := range ids {
			c.tracks[id] = true
		}
	}
}

// Writer multiplexes samples of a fixed set of tracks into one MPEG-TS
// program. Create it with NewWriter, call WriteSample for every sample in
// DTS order (across tracks), then Flush.
//
// Video samples are written as Annex B with an access unit delimiter first
// and the parameter sets (VPS, SPS, PPS) before every key frame; length-
// prefixed (MP4) input is converted. AAC gets ADTS headers, AC-3 and
// E-AC-3 pass through. Each video sample is one PES packet with PTS (and
// DTS when it differs); audio frames are packed several to a PES as
// ffmpeg packs them (see WithPESPayloadSize), so Flush must be called at
// the end (and wherever the output is cut). Key frames and audio PES
// starts set the random access indicator.
type Writer struct {
	w      *bufio.Writer
	cfg    writeConfig
	es     []*esOut
	byID   map[int]*esOut
	pcrES  *esOut
	patCC  uint8
	pmtCC  uint8
	sdtCC  uint8
	pmt    []byte
	pat    []byte
	sdt    []byte
	psiAt  int64 // PCR time (90 kHz) of the last PAT/PMT
	sdtAt  int64 // and of the last SDT
	pcrAt  int64 // last PCR period mark (27 MHz, unwrapped)
	pcrPer int64 // PCR period (27 MHz)
	pcrYet bool  // a PCR has been written
	psiYet bool
	sdtYet bool
	resend bool // ResendTables was called
	pkt    [PacketSize]byte
	pes    []byte
	conv   []byte
	n      int64 // bytes written
}

type esOut struct {
	t          *media.Track
	pid        uint16
	streamType byte
	streamID   byte
	cc         uint8
	video      bool
	shiftTicks int64 // edit-list shift in track ticks (what ffprobe adds)
	ps         [][]byte
	adts       [7]byte
	adtsOK     bool
	prevKey    bool // the last PES of this stream was a key frame
	// Audio frames waiting for their PES (see WithPESPayloadSize).
	pend             []byte
	pendPTS, pendDTS int64
	pendNext         int64 // DTS the next frame has when it follows without a gap; -1 unknown
	pendKey          bool
}

// NewWriter returns a Writer for tracks (audio and video tracks with
// codecs MPEG-TS can carry: H.264, HEVC, MPEG-2 video (from MPEG-TS), AAC,
// AC-3, E-AC-3, MP3, MP2).
func NewWriter(w io.Writer, tracks []*media.Track, opts ...WriteOption) (*Writer, error) {
	cfg := writeConfig{offset: DefaultTimeOffset, psiEvery: defaultPSIEvery, sdtEvery: defaultSDTEvery,
		maxDelay: defaultMaxDelay, pesPayload: DefaultPESPayload}
	for _, o := range opts {
		o(&cfg)
	}
	tw := &Writer{w: bufio.NewWriterSize(w, 1<<20), cfg: cfg, byID: map[int]*esOut{}}
	nv, na := 0, 0
	for _, t := range tracks {
		e := &esOut{t: t, pid: uint16(WriterFirstPID + len(tw.es)), pendNext: -1}
		switch t.Codec {
		case media.CodecH264:
			e.streamType, e.video = 0x1b, true
		case media.CodecHEVC:
			e.streamType, e.video = 0x24, true
		case media.CodecMPEG2Video, media.CodecMPEG1Video:
			if t.Config.NALLengthSize != 0 {
				return nil, fmt.Errorf("%w: track %d: MPEG-1/2 video with NAL lengths", ErrWrite, t.ID)
			}
			e.streamType, e.video = 0x02, true
			if t.Codec == media.CodecMPEG1Video {
				e.streamType = 0x01 // ISO/IEC 11172-2, as ffmpeg's mpegts muxer writes it
			}
		case media.CodecAAC:
			e.streamType = 0x0f
			if len(t.Config.AudioSpecificConfig) > 0 {
				h, err := bitstream.ADTSTemplate(t.Config.AudioSpecificConfig)
				if err != nil {
					return nil, fmt.Errorf("%w: track %d: %v", ErrWrite, t.ID, err)
				}
				e.adts, e.adtsOK = h, true
			}
		case media.CodecAC3:
			e.streamType = 0x81
		case media.CodecEAC3:
			e.streamType = 0x87
		case media.CodecMP3:
			e.streamType = 0x04
		case media.CodecMP2:
			e.streamType = 0x04
		default:
			return nil, fmt.Errorf("%w: track %d: %s (%s) has no MPEG-TS mapping in this writer", ErrWrite, t.ID, t.Codec, t.CodecTag)
		}
		switch {
		case e.video:
			e.streamID = 0xe0 + byte(nv)
			nv++
			e.ps = append(append(append([][]byte{}, t.Config.VPS...), t.Config.SPS...), t.Config.PPS...)
		case t.Codec == media.CodecAC3 || t.Codec == media.CodecEAC3:
			e.streamID = 0xbd
		default:
			e.streamID = 0xc0 + byte(na)
			na++
		}
		if nv > 16 || na > 32 {
			return nil, fmt.Errorf("%w: too many streams", ErrWrite)
		}
		e.shiftTicks = media.EditShift(t)
		tw.es = append(tw.es, e)
		tw.byID[t.ID] = e
		if e.video && tw.pcrES == nil {
			tw.pcrES = e
		}
	}
	if len(tw.es) == 0 {
		return nil, fmt.Errorf("%w: no tracks", ErrWrite)
	}
	if tw.pcrES == nil {
		tw.pcrES = tw.es[0]
	}
	tw.pat = tw.buildPAT()
	tw.pmt = tw.buildPMT()
	tw.sdt = buildSDT()
	tw.pcrPer = pcrPeriod(tw.pcrES.t, cfg.pcrEvery)
	return tw, nil
}

// pcrPeriod returns the PCR period in 27 MHz units: every ticks (90 kHz)
// when set, else ffmpeg's VBR rule: the largest multiple of the PCR
// stream's frame duration that is at most 100 ms, or every PES when a
// frame lasts longer (or its duration is unknown).
func pcrPeriod(t *media.Track, ticks int64) int64 {
	if ticks > 0 {
		return ticks * 300
	}
	const limit = 27_000_000 / 10
	var frame int64 // 27 MHz, rounded up
	switch {
	case t.Kind == media.KindAudio:
		n := int64(t.FrameSize)
		if n <= 0 {
			n = audioFrameSamples(t.Codec)
		}
		if t.SampleRate > 0 {
			frame = (n*27_000_000 + int64(t.SampleRate) - 1) / int64(t.SampleRate)
		}
	case t.FrameRate.Num > 0 && t.FrameRate.Den > 0:
		frame = (int64(t.FrameRate.Den)*27_000_000 + int64(t.FrameRate.Num) - 1) / int64(t.FrameRate.Num)
	case t.SampleCount > 1 && t.Duration > 0 && t.Timescale > 0:
		// No nominal rate (variable frame rate): the average, as
		// ffmpeg's avg_frame_rate.
		frame = (t.Duration*27_000_000 + t.SampleCount*int64(t.Timescale) - 1) / (t.SampleCount * int64(t.Timescale))
	}
	if frame <= 0 || frame > limit {
		return 1
	}
	return frame * (limit / frame)
}

// audioFrameSamples is the samples per frame of an audio codec, when the
// track does not say.
func audioFrameSamples(c media.Codec) int64 {
	switch c {
	case media.CodecAC3, media.CodecEAC3:
		return 1536
	case media.CodecMP3, media.CodecMP2:
		return 1152
	}
	return 1024
}

// to90k maps a track timestamp to the output 90 kHz clock.
func (tw *Writer) to90k(e *esOut, ts int64) int64 {
	v := ts + e.shiftTicks
	if e.t.Timescale != Timescale {
		v = media.Rescale(v, Timescale, int64(e.t.Timescale))
	}
	return v + tw.cfg.offset
}

// WriteSample writes one sample of the track with ID s.TrackID. payload is
// the sample's bytes as the demuxer returns them (length-prefixed or
// Annex B video; raw or ADTS AAC).
func (tw *Writer) WriteSample(s *media.Sample, payload []byte) error {
	e := tw.byID[s.TrackID]
	if e == nil {
		return fmt.Errorf("%w: sample of unknown track %d", ErrWrite, s.TrackID)
	}
	dts, pts := tw.to90k(e, s.DTS), tw.to90k(e, s.PTS)
	data, err := tw.esPayload(e, s, payload)
	if err != nil {
		return fmt.Errorf("ts: track %d sample %d at byte %d: %w", s.TrackID, s.Index, s.Pos, err)
	}
	if e.video || tw.cfg.pesPayload == 0 {
		return tw.writePES(e, data, pts, dts, s.Sync)
	}
	// Audio: pack frames into one PES as ffmpeg does, until the PES
	// would exceed the payload size or hold more than half the mux
	// delay. Unlike ffmpeg, a frame that does not follow the previous one
	// without a gap (or overlap) starts a new PES: a reader gives the
	// frames inside a PES the timestamps of a gapless run, so the gap
	// would be lost.
	gap := e.pendNext >= 0 && (dts-e.pendNext > 1 || e.pendNext-dts > 1)
	if len(e.pend) > 0 && (gap || len(e.pend)+len(data) > tw.cfg.pesPayload || dts-e.pendDTS >= tw.cfg.maxDelay/2) {
		if err := tw.flushAudio(e); err != nil {
			return err
		}
	}
	// The next frame follows without a gap when it starts one codec frame
	// later (what a reader assumes inside a PES); the sample's own
	// duration may cover a gap (an MP4 trun entry).
	e.pendNext = -1
	if t := e.t; t.FrameSize > 0 && t.SampleRate > 0 {
		e.pendNext = tw.to90k(e, s.DTS+media.Rescale(int64(t.FrameSize), int64(t.Timescale), int64(t.SampleRate)))
	} else if s.Duration > 0 {
		e.pendNext = tw.to90k(e, s.DTS+int64(s.Duration))
	}
	if len(data) > tw.cfg.pesPayload {
		return tw.writePES(e, data, pts, dts, s.Sync)
	}
	if len(e.pend) == 0 {
		e.pendPTS, e.pendDTS, e.pendKey = pts, dts, s.Sync
	}
	e.pend = append(e.pend, data...)
	return nil
}

// flushAudio writes e's pending audio frames as one PES.
func (tw *Writer) flushAudio(e *esOut) error {
	if len(e.pend) == 0 {
		return nil
	}
	err := tw.writePES(e, e.pend, e.pendPTS, e.pendDTS, e.pendKey)
	e.pend = e.pend[:0]
	return err
}

// writePES writes one PES packet of e, preceded by the tables that are
// due, with a PCR when one is due on the PCR stream.
func (tw *Writer) writePES(e *esOut, data []byte, pts, dts int64, key bool) error {
	// The program clock runs maxDelay behind the decoding times; PSI and
	// PCR schedules are in PCR time, as in ffmpeg.
	now := max(dts-tw.cfg.maxDelay, 0)
	// PAT and PMT first, then before every video key frame that follows
	// a non-key frame (as ffmpeg: an all-intra stream does not repeat
	// them every frame), after ResendTables and every psiEvery; SDT every
	// sdtEvery.
	resend := tw.resend
	tw.resend = false
	forcePSI := e.video && key && !e.prevKey
	if e.video {
		e.prevKey = key
	}
	if resend || !tw.psiYet || (tw.cfg.psiEvery > 0 && now-tw.psiAt >= tw.cfg.psiEvery) || forcePSI {
		if err := tw.writePSI(); err != nil {
			return err
		}
		if !tw.psiYet {
			tw.psiAt = now
		}
		tw.psiAt, tw.psiYet = max(now, tw.psiAt), true
	}
	if resend || !tw.sdtYet || (tw.cfg.sdtEvery > 0 && now-tw.sdtAt >= tw.cfg.sdtEvery) {
		if err := tw.writeSection(sdtPID, &tw.sdtCC, tw.sdt); err != nil {
			return err
		}
		if !tw.sdtYet {
			tw.sdtAt = now
		}
		tw.sdtAt, tw.sdtYet = max(now, tw.sdtAt), true
	}
	withPCR := false
	pcr := now * 300
	if e == tw.pcrES {
		if !tw.pcrYet || pcr-tw.pcrAt >= tw.pcrPer {
			if tw.pcrYet {
				tw.pcrAt = max(pcr-tw.pcrPer, tw.pcrAt+tw.pcrPer)
			} else {
				tw.pcrAt = pcr
			}
			withPCR, tw.pcrYet = true, true
		}
		withPCR = withPCR || key
	}
	tw.pes = buildPESHeader(tw.pes[:0], e, pts, dts, len(data))
	if tw.pes == nil {
		return fmt.Errorf("%w: track %d: %d-byte audio PES does not fit 16 bits", ErrWrite, e.t.ID, len(data))
	}
	return tw.packetize(e, tw.pes, data, now, withPCR, key)
}

// esPayload converts the payload to its elementary stream form.
func (tw *Writer) esPayload(e *esOut, s *media.Sample, p []byte) ([]byte, error) {
	t := e.t
	switch {
	case e.video:
		if t.Config.NALLengthSize == 0 || t.Codec == media.CodecMPEG2Video || t.Codec == media.CodecMPEG1Video {
			return p, nil // already Annex B / an MPEG-2 elementary stream
		}
		return tw.toAnnexB(e, p, s.Sync)
	case t.Codec == media.CodecAAC:
		if bitstream.ADTSHeaderLen(p) > 0 {
			return p, nil
		}
		if !e.adtsOK {
			return nil, fmt.Errorf("%w: raw AAC frame without AudioSpecificConfig", ErrWrite)
		}
		n := len(p) + 7
		if n > 0x1fff {
			return nil, fmt.Errorf("%w: %d-byte AAC frame exceeds ADTS frame_length", ErrWrite, len(p))
		}
		h := e.adts
		bitstream.PutADTSLen(h[:], n)
		tw.conv = append(append(tw.conv[:0], h[:]...), p...)
		return tw.conv, nil
	}
	return p, nil
}

var (
	startCode = []byte{0, 0, 0, 1}
	audH264   = []byte{0, 0, 0, 1, 0x09, 0xf0}
	audHEVC   = []byte{0, 0, 0, 1, 0x46, 0x01, 0x50}
)

// toAnnexB converts a length-prefixed access unit to Annex B: an AUD
// first, then — for a key frame that carries none in band — the parameter
// sets, ahead of any SEI (a buffering-period SEI refers to the SPS), then
// the sample's own NAL units.
func (tw *Writer) toAnnexB(e *esOut, p []byte, key bool) ([]byte, error) {
	ls := e.t.Config.NALLengthSize
	if ls != 1 && ls != 2 && ls != 4 {
		return nil, fmt.Errorf("%w: NAL length size %d", media.ErrCorrupt, ls)
	}
	hevc := e.t.Codec == media.CodecHEVC
	kind := func(nal []byte) (aud, ps bool) { return bitstream.NALRole(hevc, nal) }
	// First pass: validate the lengths, look for an AUD and parameter sets.
	firstAUD, hasPS := false, false
	for i, k := 0, 0; i < len(p); k++ {
		if i+ls > len(p) {
			return nil, fmt.Errorf("%w: NAL length cut off at %d of %d bytes", media.ErrTruncated, i, len(p))
		}
		n := bitstream.NALLen(p[i:], ls)
		i += ls
		if n > len(p)-i {
			return nil, fmt.Errorf("%w: %d-byte NAL unit at %d overruns the %d-byte sample", media.ErrCorrupt, n, i, len(p))
		}
		if n > 0 {
			aud, ps := kind(p[i : i+n])
			if k == 0 && aud {
				firstAUD = true
			}
			hasPS = hasPS || ps
		}
		i += n
	}
	out := tw.conv[:0]
	if !firstAUD {
		if hevc {
			out = append(out, audHEVC...)
		} else {
			out = append(out, audH264...)
		}
	}
	insertPS := key && !hasPS
	for i := 0; i < len(p); {
		n := bitstream.NALLen(p[i:], ls)
		i += ls
		nal := p[i : i+n]
		i += n
		if n == 0 {
			continue
		}
		if aud, _ := kind(nal); !aud && insertPS {
			for _, q := range e.ps {
				out = append(out, startCode...)
				out = append(out, q...)
			}
			insertPS = false
		}
		out = append(out, startCode...)
		out = append(out, nal...)
	}
	tw.conv = out
	return out, nil
}

// buildPESHeader appends a PES header (ISO/IEC 13818-1 2.4.3.6):
//
//	00 00 01 stream_id PES_packet_length(16)
//	'10' scrambling(2) priority data_alignment copyright original
//	PTS_DTS_flags(2) ESCR ES_rate DSM_trick additional_copy CRC extension
//	PES_header_data_length(8) PTS(40) [DTS(40)]
//
// Video PES packets have length 0 (unbounded); audio ones must fit 16 bits
// (nil is returned otherwise).
func buildPESHeader(b []byte, e *esOut, pts, dts int64, n int) []byte {
	hdr := 5
	flags := byte(0x80)
	if dts != pts {
		hdr, flags = 10, 0xc0
	}
	plen := 3 + hdr + n
	if e.video {
		plen = 0
	} else if plen > 0xffff {
		return nil
	}
	b = append(b, 0, 0, 1, e.streamID, byte(plen>>8), byte(plen))
	align := byte(0x80)
	if e.video {
		align = 0x84
	}
	b = append(b, align, flags, byte(hdr))
	b = appendTS(b, flags>>6, pts)
	if dts != pts {
		b = appendTS(b, 1, dts)
	}
	return b
}

// appendTS appends a 33-bit timestamp in the 5-byte PES form with its
// 4-bit prefix and marker bits.
func appendTS(b []byte, prefix byte, v int64) []byte {
	v &= 1<<33 - 1
	return append(b,
		prefix<<4|byte(v>>29)&0x0e|1,
		byte(v>>22),
		byte(v>>14)|1,
		byte(v>>7),
		byte(v<<1)|1)
}

// packetize writes a PES (hdr followed by data) as TS packets on e's PID.
// withPCR puts a PCR (base pcr, 90 kHz) in the first packet's adaptation
// field; rai sets its random_access_indicator.
func (tw *Writer) packetize(e *esOut, hdr, data []byte, pcr int64, withPCR, rai bool) error {
	total := len(hdr) + len(data)
	pos := 0
	first := true
	for pos < total {
		p := tw.pkt[:]
		p[0] = syncByte
		p[1] = byte(e.pid >> 8 & 0x1f)
		if first {
			p[1] |= 0x40
		}
		p[2] = byte(e.pid)
		// Adaptation field content (after the length byte).
		afl := -1 // no adaptation field
		var af [8]byte
		if first && (withPCR || rai) {
			af[0] = 0
			if rai {
				af[0] |= 0x40
			}
			n := 1
			if withPCR {
				af[0] |= 0x10
				putPCR(af[1:7], pcr)
				n = 7
			}
			afl = n
		}
		space := 184
		if afl >= 0 {
			space -= 1 + afl
		}
		rem := total - pos
		stuff := 0
		if rem < space {
			stuff = space - rem
		}
		if stuff > 0 && afl < 0 {
			// Open an adaptation field for stuffing: one byte (length 0)
			// or a length byte, flags byte and 0xFF bytes.
			if stuff == 1 {
				afl = 0
			} else {
				afl = 1
				af[0] = 0
			}
			stuff -= 1 + afl
		}
		i := 4
		if afl >= 0 {
			p[3] = 0x30 | e.cc
			p[4] = byte(afl + stuff)
			copy(p[5:], af[:afl])
			i = 5 + afl
			for k := 0; k < stuff; k++ {
				p[i+k] = 0xff
			}
			i += stuff
		} else {
			p[3] = 0x10 | e.cc
		}
		e.cc = (e.cc + 1) & 0xf
		// payload
		for i < PacketSize {
			if pos < len(hdr) {
				n := copy(p[i:], hdr[pos:])
				i += n
				pos += n
			} else {
				n := copy(p[i:], data[pos-len(hdr):])
				i += n
				pos += n
			}
		}
		if _, err := tw.w.Write(p); err != nil {
			return err
		}
		tw.n += PacketSize
		first = false
	}
	return nil
}

func putPCR(b []byte, base int64) {
	base &= 1<<33 - 1
	b[0] = byte(base >> 25)
	b[1] = byte(base >> 17)
	b[2] = byte(base >> 9)
	b[3] = byte(base >> 1)
	b[4] = byte(base<<7) | 0x7e // reserved 6 bits, extension bit 8
	b[5] = 0
}

// writePSI writes the PAT and the PMT.
func (tw *Writer) writePSI() error {
	if err := tw.writeSection(0, &tw.patCC, tw.pat); err != nil {
		return err
	}
	return tw.writeSection(WriterPMTPID, &tw.pmtCC, tw.pmt)
}

func (tw *Writer) writeSection(pid uint16, cc *uint8, sec []byte) error {
	p := tw.pkt[:]
	p[0] = syncByte
	p[1] = 0x40 | byte(pid>>8&0x1f)
	p[2] = byte(pid)
	p[3] = 0x10 | *cc
	*cc = (*cc + 1) & 0xf
	p[4] = 0 // pointer_field
	n := copy(p[5:], sec)
	for i := 5 + n; i < PacketSize; i++ {
		p[i] = 0xff
	}
	_, err := tw.w.Write(p)
	tw.n += PacketSize
	return err
}

// sdtPID carries the DVB service description table.
const sdtPID = 0x11

// buildSDT returns the service description section (ETSI EN 300 468 5.2.3)
// for the one service, as ffmpeg writes it (transport_stream_id 1,
// original_network_id 0xff01, a digital TV service named Service01);
// players ignore it, but ffmpeg's output carries it every 500 ms and
// ffprobe shows its names as the program's tags.
func buildSDT() []byte {
	const provider, name = "streamkit", "Service01"
	desc := []byte{0x48, byte(3 + len(provider) + len(name)), 0x01, byte(len(provider))}
	desc = append(desc, provider...)
	desc = append(desc, byte(len(name)))
	desc = append(desc, name...)
	b := []byte{0x42, 0xf0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xff, 0x01, 0xff,
		0x00, 0x01, 0xfc, 0x80 | byte(len(desc)>>8), byte(len(desc))}
	return finishSection(append(b, desc...))
}

// buildPAT returns the program association section for program 1.
func (tw *Writer) buildPAT() []byte {
	b := []byte{0x00, 0xb0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | WriterPMTPID>>8, WriterPMTPID & 0xff}
	return finishSection(b)
}

// buildPMT returns the program map section.
func (tw *Writer) buildPMT() []byte {
	pcr := tw.pcrES.pid
	b := []byte{0x02, 0xb0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0 | byte(pcr>>8), byte(pcr), 0xf0, 0x00}
	for _, e := range tw.es {
		var desc []byte
		if l := e.t.Language; len(l) == 3 && l != "und" {
			desc = append(desc, 0x0a, 4, l[0], l[1], l[2], 0)
		}
		switch e.t.Codec {
		case media.CodecAC3:
			desc = append(desc, 0x05, 4, 'A', 'C', '-', '3') // registration
		case media.CodecEAC3:
			desc = append(desc, 0x05, 4, 'E', 'A', 'C', '3')
		}
		b = append(b, e.streamType, 0xe0|byte(e.pid>>8), byte(e.pid), 0xf0|byte(len(desc)>>8), byte(len(desc)))
		b = append(b, desc...)
	}
	return finishSection(b)
}

// finishSection fills section_length and appends the CRC-32.
func finishSection(b []byte) []byte {
	n := len(b) - 3 + 4
	b[1] = b[1]&0xf0 | byte(n>>8&0x0f)
	b[2] = byte(n)
	return binary.BigEndian.AppendUint32(b, bitstream.CRC32MPEG2(b))
}

// ResendTables makes the writer put PAT, PMT and SDT before the next PES
// packet, as ffmpeg's resend_headers flag does: a segmenter calls it where
// a segment starts.
func (tw *Writer) ResendTables() { tw.resend = true }

// Flush writes the audio frames waiting for their PES and the buffered
// packets to the underlying writer. Call it at the end and wherever the
// output is cut into segments: audio after a Flush starts a new PES.
func (tw *Writer) Flush() error {
	for _, e := range tw.es {
		if err := tw.flushAudio(e); err != nil {
			return err
		}
	}
	return tw.w.Flush()
}

// Mux writes the audio and video tracks of d as an MPEG-TS stream to w.
// Samples are interleaved by DTS across tracks (a small reorder queue
// absorbs the input's own interleaving); payloads are read one at a time,
// so memory stays bounded whatever the input size. Subtitle and data
// tracks are skipped; a codec MPEG-TS cannot carry here (AV1, Opus, VP9)
// is an error wrapping ErrWrite.
func Mux(ctx context.Context, w io.Writer, d media.Demuxer, opts ...WriteOption) error {
	var probe writeConfig
	for _, o := range opts {
		o(&probe)
	}
	var tracks []*media.Track
	var total int64
	for _, t := range d.Tracks() {
		if probe.tracks != nil && !probe.tracks[t.ID] {
			continue
		}
		if t.Kind == media.KindVideo || t.Kind == media.KindAudio {
			tracks = append(tracks, t)
			total += max(t.Bytes, 0)
		}
	}
	if !probe.offsetSet && d.Format() == "mpegts" {
		opts = append([]WriteOption{WithTimeOffset(0)}, opts...)
	}
	tw, err := NewWriter(w, tracks, opts...)
	if err != nil {
		return err
	}
	q := newMuxQueue(tw)
	var buf []byte
	n := 0
	var done int64
	for s, err := range d.Samples() {
		if err != nil {
			return err
		}
		if tw.byID[s.TrackID] == nil {
			continue
		}
		if n++; n&255 == 1 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if tw.cfg.progress != nil {
				tw.cfg.progress(done, total)
			}
		}
		var data []byte
		if s.Data != nil || s.Offset < 0 {
			// The payload is only valid until the iterator advances:
			// keep a copy while the sample waits in the queue.
			if buf, err = d.ReadSample(&s, buf); err != nil {
				return err
			}
			data = bytes.Clone(buf)
			s.Data = nil
		}
		done += int64(s.Size)
		if err := q.push(d, s, data); err != nil {
			return err
		}
	}
	if err := q.drain(d, true); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: no samples (an init segment without media?)", ErrWrite)
	}
	if tw.cfg.progress != nil {
		tw.cfg.progress(done, total)
	}
	return tw.Flush()
}

// muxQueue interleaves samples by DTS (in seconds) across tracks: a sample
// is written once every track has a later one queued, or the queue holds
// too much.
type muxQueue struct {
	tw     *Writer
	q      map[int][]queued
	bytes  int
	count  int
	buf    []byte
	tracks []int
}

type queued struct {
	s    media.Sample
	data []byte
	sec  float64
}

const (
	reorderMaxBytes = 16 << 20
	reorderMax      = 1 << 16
)

func newMuxQueue(tw *Writer) *muxQueue {
	r := &muxQueue{tw: tw, q: map[int][]queued{}}
	for _, e := range tw.es {
		r.tracks = append(r.tracks, e.t.ID)
	}
	return r
}

func (r *muxQueue) push(d media.Demuxer, s media.Sample, data []byte) error {
	e := r.tw.byID[s.TrackID]
	sec := float64(s.DTS+e.shiftTicks) / float64(max(e.t.Timescale, 1))
	r.q[s.TrackID] = append(r.q[s.TrackID], queued{s: s, data: data, sec: sec})
	r.bytes += len(data)
	r.count++
	return r.drain(d, false)
}

// drain writes queued samples in DTS order while that order is certain
// (every track has a sample queued) or the queue is over its limits; all
// when final.
func (r *muxQueue) drain(d media.Demuxer, final bool) error {
	for {
		best := -1
		ready := true
		for _, id := range r.tracks {
			q := r.q[id]
			if len(q) == 0 {
				if !final && r.count > 0 {
					ready = false
				}
				continue
			}
			if best < 0 || q[0].sec < r.q[best][0].sec {
				best = id
			}
		}
		if best < 0 {
			return nil
		}
		if !ready && !final && r.bytes < reorderMaxBytes && r.count < reorderMax {
			return nil
		}
		it := r.q[best][0]
		r.q[best] = r.q[best][1:]
		if len(r.q[best]) == 0 {
			r.q[best] = nil
		}
		r.count--
		r.bytes -= len(it.data)
		data := it.data
		if data == nil {
			var err error
			if r.buf, err = d.ReadSample(&it.s, r.buf); err != nil {
				return err
			}
			data = r.buf
		}
		if err := r.tw.WriteSample(&it.s, data); err != nil {
			return err
		}
	}
}
