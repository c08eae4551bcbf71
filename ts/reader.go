package ts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/asticode/go-astits"

	"github.com/streamkit-go/streamkit/media"
)

// Timescale is the clock rate of MPEG-TS timestamps (PTS, DTS).
const Timescale = 90000

// MaxPESSize caps the bytes buffered for one PES packet or one access unit
// that has not been completed yet. A stream that needs more is reported as
// corrupt instead of being allowed to exhaust memory.
const MaxPESSize = 16 << 20

const (
	defaultProbeSize = 8 << 20
	defaultTailSize  = 1 << 20
)

func init() {
	media.RegisterFormat(media.Format{
		Name:  "mpegts",
		Match: Match,
		Open: func(r io.ReaderAt, size int64) (media.Demuxer, error) {
			return NewReader(r, size)
		},
		OpenStrict: func(r io.ReaderAt, size int64) (media.Demuxer, error) {
			return NewReader(r, size, WithStrict(true))
		},
	})
}

// Match reports whether head, the first bytes of a file, looks like an
// MPEG transport stream: sync bytes at 0, 188 and 376 (or one stride apart
// for 192-byte M2TS and 204-byte packets). Fewer packets are accepted when
// head is shorter.
func Match(head []byte) bool {
	if len(head) < PacketSize {
		return false
	}
	for _, l := range layouts {
		n := 0
		for k := 0; k < 3; k++ {
			i := l.lead + k*l.stride
			if i >= len(head) {
				break
			}
			if head[i] != syncByte {
				n = -1
				break
			}
			n++
		}
		if n >= 3 || (n > 0 && l.lead+n*l.stride >= len(head)) {
			return true
		}
	}
	return false
}

// Option configures a Reader.
type Option func(*config)

type config struct {
	probeSize int64
	tailSize  int64
	strict    bool
}

// WithProbeSize sets how many bytes from the start NewReader reads at most
// to find the PAT, PMTs and codec parameters (default 8 MiB). Streams whose
// parameters are not found within it keep what is known (Codec, Kind).
func WithProbeSize(n int64) Option { return func(c *config) { c.probeSize = n } }

// WithTailSize sets how many bytes at the end NewReader reads to learn the
// last timestamps of each track (default 1 MiB; doubled up to 4 times while
// some track has none there). 0 disables the tail read: durations are then
// estimated from the probe window only.
func WithTailSize(n int64) Option { return func(c *config) { c.tailSize = n } }

// WithStrict makes damage that ffprobe tolerates fatal: continuity counter
// errors, lost sync, packets with the transport error indicator, malformed
// PES headers and frames. By default they are skipped and counted in
// [Reader.Stats].
func WithStrict(strict bool) Option { return func(c *config) { c.strict = strict } }

// Program is one program of the transport stream, from the PAT and its PMT.
type Program struct {
	// Number is the program_number.
	Number int
	// PMTPID and PCRPID are the PIDs of the program map table and of the
	// packets carrying the program clock reference.
	PMTPID, PCRPID int
	// FirstPCR and LastPCR are the first PCR seen in the probe window and
	// the last one seen in the tail of the file, in 27 MHz ticks
	// (base*300+extension), not unwrapped; -1 when none was seen.
	FirstPCR, LastPCR int64
	// Tracks lists the indexes into Reader.Tracks() of the program's streams.
	Tracks []int
}

// Stats counts damage skipped while reading (zero for clean files).
type Stats struct {
	Packets      int64 // TS packets read
	Resyncs      int64 // times sync was lost and found again
	SkippedBytes int64 // bytes skipped while resynchronising
	CCErrors     int64 // continuity counter discontinuities
	ErrorPackets int64 // packets with transport_error_indicator set or a bad adaptation field
	PESErrors    int64 // PES packets with a malformed header or cut short
	FrameErrors  int64 // bytes of elementary stream skipped looking for a frame sync, or in a last frame cut short
	Untimed      int64 // access units dropped because no timestamp preceded them
}

// Reader demultiplexes an MPEG transport stream. It implements
// media.Demuxer. A Reader is not safe for concurrent use; Samples may be
// called several times, each call reading the file again.
type Reader struct {
	r      io.ReaderAt
	size   int64
	cfg    config
	l      layout
	start  int64
	tracks []*media.Track
	progs  []*Program
	infos  []*streamInfo // parallel to tracks
	refs   []progState   // timestamp unwrapping state after the probe
	pidIdx [0x2000]uint8 // track index + 1 by PID, 0 for other PIDs
	// Buffers kept from the previous Samples pass for the next one.
	srcBuf []byte
	esBufs [][]byte
	// Set when the probe read the whole file: the largest PES PTS per track.
	probedAll   bool
	probeMaxPTS []int64
	stats       Stats
	warn        media.WarningLog
}

// streamInfo is what the reader knows about a track's PID from the PMT.
type streamInfo struct {
	pid        uint16
	streamType uint8
	framer     framerKind
	prog       int // index into progs
	track      *media.Track
	trackIndex int
}

// NewReader reads the headers of the transport stream r of the given size:
// the PAT and PMTs, the first PES packets of each stream (up to the probe
// size) for codec parameters and start timestamps, and the end of the
// file for durations.
func NewReader(r io.ReaderAt, size int64, opts ...Option) (rd *Reader, err error) {
	cfg := config{probeSize: defaultProbeSize, tailSize: defaultTailSize}
	for _, o := range opts {
		o(&cfg)
	}
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, &media.PosError{Format: "mpegts", Offset: 0, What: "headers", Err: fmt.Errorf("%w: parser panic: %v", media.ErrCorrupt, p)}
		}
	}()
	// Look for the packet grid in the first 4 KiB, then, for captures that
	// start with junk, in the first 64 KiB.
	var (
		l     layout
		start int
		ok    bool
		n     int
	)
	for _, want := range []int64{4096, maxLeadingJunk + syncRun*204} {
		hn := min(want, max(size, 0))
		head := make([]byte, hn)
		var rerr error
		n, rerr = r.ReadAt(head, 0)
		if rerr != nil && rerr != io.EOF {
			return nil, &media.PosError{Format: "mpegts", Offset: 0, What: "header", Err: rerr}
		}
		whole := int64(n) >= size
		if l, start, ok = detectLayout(head[:n], whole); ok || whole {
			break
		}
	}
	if !ok {
		if n < PacketSize {
			return nil, &media.PosError{Format: "mpegts", Offset: int64(n), What: "packet 0", Err: media.ErrTruncated}
		}
		return nil, &media.PosError{Format: "mpegts", Offset: 0, What: "packet 0", Err: fmt.Errorf("%w: no 0x47 sync byte pattern", media.ErrCorrupt)}
	}
	if size < int64(start+l.lead+PacketSize) {
		return nil, &media.PosError{Format: "mpegts", Offset: size, What: "packet 0", Err: media.ErrTruncated}
	}
	rd = &Reader{r: r, size: size, cfg: cfg, l: l, start: int64(start)}
	probeEnd := size
	if cfg.probeSize > 0 && cfg.probeSize < probeEnd-rd.start {
		probeEnd = rd.start + cfg.probeSize
	}
	if err := rd.readPSI(probeEnd); err != nil {
		return nil, err
	}
	if err := rd.probe(probeEnd); err != nil {
		return nil, err
	}
	rd.readTail()
	rd.stats = Stats{}
	if err := rd.checkLastPacket(); err != nil {
		return nil, err
	}
	return rd, nil
}

// checkLastPacket reports a file that ends inside a packet at open time,
// so that a caller reading headers only (probe) learns of the cut too:
// the same warning Samples gives when it reaches it (a repeat is dropped),
// or the error in strict mode.
func (rd *Reader) checkLastPacket() error {
	stride := int64(rd.l.stride)
	n := (rd.size - rd.start) / stride
	pos := rd.start + n*stride
	rem := rd.size - pos
	if rem <= 0 {
		return nil
	}
	var b [1]byte
	if rem <= int64(rd.l.lead) {
		return nil
	}
	if _, err := rd.r.ReadAt(b[:], pos+int64(rd.l.lead)); err != nil || b[0] != syncByte {
		return nil
	}
	w := media.WarningAt("mpegts", pos, fmt.Sprintf("packet %d", n), media.ErrTruncated, "last packet cut: %d of %d bytes", rem, stride)
	if rd.cfg.strict {
		return w.PosError()
	}
	rd.warn.Add(w)
	return nil
}

// Format returns "mpegts".
func (rd *Reader) Format() string { return "mpegts" }

// Tracks returns the elementary streams in ffprobe's stream order.
func (rd *Reader) Tracks() []*media.Track { return rd.tracks }

// Programs returns the programs of the PAT that have a PMT, in the order
// their PMTs were found.
func (rd *Reader) Programs() []*Program { return rd.progs }

// PacketSize returns the stride between packets in the file: 188, 192
// (M2TS) or 204.
func (rd *Reader) PacketSize() int { return rd.l.stride }

// Stats returns what the last complete or interrupted Samples iteration
// skipped.
func (rd *Reader) Stats() Stats { return rd.stats }

// Warnings returns the damage Samples iterations tolerated (without
// WithStrict): a last packet or PES cut by the end of the input (its
// partial payload is still emitted, as ffmpeg does), lost sync skipped to
// the next packet grid, continuity errors, malformed PES headers and
// frames. See media.Warning. Repeated passes do not repeat a warning.
func (rd *Reader) Warnings() []media.Warning { return rd.warn.Warnings() }

// ReadSample returns s.Data: MPEG-TS samples are assembled while iterating
// and carry their payload. A sample whose Data is gone (copied without
// it) is an error.
func (rd *Reader) ReadSample(s *media.Sample, buf []byte) ([]byte, error) {
	if s.Data == nil && s.Size > 0 {
		return nil, fmt.Errorf("mpegts: sample %d of track %d has no data: TS payloads are only available while iterating", s.Index, s.TrackID)
	}
	return s.Data, nil
}

// Samples iterates over the access units of all tracks in file order. Each
// Sample's Data is valid until the iteration advances.
func (rd *Reader) Samples() iter.Seq2[media.Sample, error] {
	return rd.SamplesContext(context.Background())
}

// SamplesContext is Samples with cancellation: the iteration stops with
// ctx.Err() when ctx is done.
func (rd *Reader) SamplesContext(ctx context.Context) iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		d := rd.newDemux(modeSamples)
		d.ctx = ctx
		stopped := false
		d.emit = func(s *esStream, smp *media.Sample) bool {
			if !yield(*smp, nil) {
				stopped = true
				return false
			}
			return true
		}
		err := d.run(rd.start, rd.size)
		rd.stats = d.stats
		d.release()
		if err != nil && !stopped {
			yield(media.Sample{}, err)
		}
	}
}

// readPSI finds the PAT and the PMTs in the first probeEnd bytes with
// astits and builds the tracks in ffprobe's order: programs in the order
// their PMT is first seen, streams in PMT order.
func (rd *Reader) readPSI(probeEnd int64) (err error) {
	pr := &psiReader{src: newSource(rd.r, rd.start, probeEnd, rd.l, nil), pos: rd.start, want: map[uint16]bool{0: true}}
	dmx := astits.NewDemuxer(context.Background(), pr, astits.DemuxerOptPacketSize(PacketSize))
	var pat *astits.PATData
	pmtPIDs := map[uint16]int{}
	seen := map[int]bool{}
	failures := 0
	for {
		data, derr := dmx.NextData()
		if derr != nil {
			if errors.Is(derr, astits.ErrNoMorePackets) || pr.err != nil {
				break
			}
			failures++
			if failures > 64 {
				break
			}
			continue
		}
		switch {
		case data.PAT != nil && pat == nil:
			pat = data.PAT
			for _, p := range pat.Programs {
				if p.ProgramNumber == 0 {
					continue
				}
				pmtPIDs[p.ProgramMapID] = int(p.ProgramNumber)
				pr.want[p.ProgramMapID] = true
			}
		case data.PMT != nil && pat != nil:
			num := int(data.PMT.ProgramNumber)
			if _, ok := pmtPIDs[data.PID]; !ok || seen[num] {
				break
			}
			seen[num] = true
			rd.addProgram(data.PID, data.PMT)
		}
		if pat != nil && len(seen) >= len(pmtPIDs) {
			break
		}
	}
	rd.srcBuf = pr.src.buf
	if pr.err != nil {
		return pr.err
	}
	if pat == nil {
		return &media.PosError{Format: "mpegts", Offset: rd.start, What: "PAT (PID 0x0)", Err: fmt.Errorf("%w: no program association table in the first %d bytes", media.ErrCorrupt, probeEnd-rd.start)}
	}
	if len(rd.progs) == 0 {
		return &media.PosError{Format: "mpegts", Offset: rd.start, What: "PMT", Err: fmt.Errorf("%w: no program map table in the first %d bytes", media.ErrCorrupt, probeEnd-rd.start)}
	}
	return nil
}

// psiReader feeds astits the 188-byte packets of the PIDs in want, read
// through the same resynchronising packet loop as the demuxer.
type psiReader struct {
	src  *source
	pos  int64
	want map[uint16]bool
	err  error
}

func (p *psiReader) Read(b []byte) (int, error) {
	if len(b) < PacketSize {
		return 0, io.ErrShortBuffer
	}
	for {
		pkt, short, err := p.src.packetAt(p.pos)
		if err != nil {
			p.err = err
			return 0, err
		}
		if short {
			return 0, io.EOF
		}
		if pkt == nil {
			np, err := p.src.resync(p.pos)
			if err != nil {
				p.err = err
				return 0, err
			}
			if np < 0 {
				return 0, io.EOF
			}
			p.pos = np
			continue
		}
		p.pos += int64(p.src.l.stride)
		pid := uint16(pkt[1]&0x1f)<<8 | uint16(pkt[2])
		if p.want[pid] && pkt[1]&0x80 == 0 {
			return copy(b, pkt), nil
		}
	}
}

func (rd *Reader) addProgram(pmtPID uint16, pmt *astits.PMTData) {
	prog := &Program{Number: int(pmt.ProgramNumber), PMTPID: int(pmtPID), PCRPID: int(pmt.PCRPID), FirstPCR: -1, LastPCR: -1}
	pi := len(rd.progs)
	rd.progs = append(rd.progs, prog)
	for _, es := range pmt.ElementaryStreams {
		if es == nil || es.ElementaryPID >= 0x1FFF {
			continue
		}
		dup := false
		for _, in := range rd.infos {
			if in.pid == es.ElementaryPID {
				dup = true
			}
		}
		if dup {
			continue
		}
		t := &media.Track{
			ID:          int(es.ElementaryPID),
			Index:       len(rd.tracks),
			Program:     prog.Number,
			Timescale:   Timescale,
			SampleCount: -1,
			Bytes:       -1,
			LevelIDC:    -99,
		}
		in := &streamInfo{pid: es.ElementaryPID, streamType: uint8(es.StreamType), prog: pi, track: t, trackIndex: t.Index}
		classify(in, t, es)
		if t.Index >= 255 {
			continue // more elementary streams than any real multiplex carries
		}
		rd.pidIdx[es.ElementaryPID] = uint8(t.Index + 1)
		prog.Tracks = append(prog.Tracks, t.Index)
		rd.tracks = append(rd.tracks, t)
		rd.infos = append(rd.infos, in)
	}
}

// pidEIT carries the DVB event information table (ETSI EN 300 468).
const pidEIT = 0x12

// addEPG adds the data track ffprobe reports for the EIT sections of a
// DVB stream ("epg", PID 0x12, no program). Its samples are the EIT
// sections, stamped with the first program's PCR.
func (rd *Reader) addEPG() {
	t := &media.Track{
		ID:          pidEIT,
		Index:       len(rd.tracks),
		Kind:        media.KindData,
		Codec:       "epg",
		CodecTag:    "[0][0][0][0]",
		Timescale:   Timescale,
		SampleCount: -1,
		Bytes:       -1,
		LevelIDC:    -99,
	}
	in := &streamInfo{pid: pidEIT, framer: framerSection, prog: 0, track: t, trackIndex: t.Index}
	rd.pidIdx[pidEIT] = uint8(t.Index + 1)
	rd.tracks = append(rd.tracks, t)
	rd.infos = append(rd.infos, in)
}

// classify sets Kind, Codec and CodecTag from the stream type and the
// descriptors, following libavformat's mpegts tables (ISO types, then
// registration and descriptor overrides for private streams).
func classify(in *streamInfo, t *media.Track, es *astits.PMTElementaryStream) {
	st := uint8(es.StreamType)
	t.CodecTag = fmt.Sprintf("[%d][0][0][0]", st)
	var reg string
	hasAC3, hasEAC3 := false, false
	var descKind media.Kind
	var descCodec media.Codec
	for _, d := range es.ElementaryStreamDescriptors {
		if d == nil {
			continue
		}
		// Descriptors that name the coding of a private stream, as in
		// libavformat's DESC_types (ETSI EN 300 468 annex D).
		switch d.Tag {
		case 0x59:
			descKind, descCodec = media.KindSubtitle, "dvb_subtitle"
		case 0x56:
			descKind, descCodec = media.KindSubtitle, "dvb_teletext"
		case 0x7b:
			descKind, descCodec = media.KindAudio, "dts"
		}
		switch {
		case d.Registration != nil:
			f := d.Registration.FormatIdentifier
			reg = string([]byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)})
		case d.AC3 != nil:
			hasAC3 = true
		case d.EnhancedAC3 != nil:
			hasEAC3 = true
		case d.ISO639LanguageAndAudioType != nil:
			setLanguage(t, d.ISO639LanguageAndAudioType.Language)
			// libavformat's mpegts: audio_type to disposition.
			switch d.ISO639LanguageAndAudioType.Type {
			case 1:
				t.Disposition |= media.DispositionCleanEffects
			case 2:
				t.Disposition |= media.DispositionHearingImpaired
			case 3:
				t.Disposition |= media.DispositionVisualImpaired
			}
		case d.Subtitling != nil && len(d.Subtitling.Items) > 0 && d.Subtitling.Items[0] != nil:
			setLanguage(t, d.Subtitling.Items[0].Language)
		case d.Teletext != nil && len(d.Teletext.Items) > 0 && d.Teletext.Items[0] != nil:
			setLanguage(t, d.Teletext.Items[0].Language)
		}
	}
	set := func(k media.Kind, c media.Codec, f framerKind) { t.Kind, t.Codec, in.framer = k, c, f }
	switch st {
	case 0x01, 0x02:
		set(media.KindVideo, media.CodecMPEG2Video, framerMPEG2Video)
	case 0x03, 0x04:
		set(media.KindAudio, media.CodecMP3, framerMPEGAudio) // refined from the frame header (mp2, mp3)
	case 0x0f:
		set(media.KindAudio, media.CodecAAC, framerADTS)
	case 0x10:
		set(media.KindVideo, media.CodecMPEG4Video, framerNone)
	case 0x11:
		set(media.KindAudio, "aac_latm", framerLATM)
	case 0x1b:
		set(media.KindVideo, media.CodecH264, framerH264)
	case 0x24:
		set(media.KindVideo, media.CodecHEVC, framerHEVC)
	case 0x81:
		set(media.KindAudio, media.CodecAC3, framerAC3)
	case 0x87:
		set(media.KindAudio, media.CodecEAC3, framerAC3)
	case 0x86:
		set(media.KindData, media.CodecSCTE35, framerSection)
	case 0x15:
		set(media.KindData, "timed_id3", framerPESData)
		t.CodecTag = "ID3 "
	case 0x06:
		switch {
		case hasEAC3:
			set(media.KindAudio, media.CodecEAC3, framerAC3)
		case hasAC3:
			set(media.KindAudio, media.CodecAC3, framerAC3)
		case descKind == media.KindSubtitle:
			// One sample per PES, as ffprobe's packets for these codecs.
			set(descKind, descCodec, framerPESData)
		case descCodec != "":
			set(descKind, descCodec, framerNone)
		}
	case 0x8a:
		set(media.KindAudio, "dts", framerNone)
	}
	// Registration descriptors (ISO/IEC 13818-1 2.6.8) override the type
	// of private streams, as in libavformat's REGD_types.
	switch reg {
	case "AC-3":
		set(media.KindAudio, media.CodecAC3, framerAC3)
	case "EAC3":
		set(media.KindAudio, media.CodecEAC3, framerAC3)
	case "HEVC":
		set(media.KindVideo, media.CodecHEVC, framerHEVC)
	case "ID3 ":
		set(media.KindData, "timed_id3", framerPESData)
	case "KLVA":
		set(media.KindData, "klv", framerPESData)
	case "Opus":
		set(media.KindAudio, media.CodecOpus, framerOpus)
		for _, d := range es.ElementaryStreamDescriptors {
			// DVB extension descriptor, tag 0x80: channel_config_code.
			if d != nil && d.Extension != nil && d.Extension.Tag == 0x80 && d.Extension.Unknown != nil && len(*d.Extension.Unknown) > 0 {
				if c := int((*d.Extension.Unknown)[0]); c >= 1 && c <= 8 {
					t.Channels = c
				} else if c == 0 {
					t.Channels = 2 // dual mono
				}
			}
		}
		t.SampleRate = 48000
		t.CodecString = "opus"
		t.SampleFormat = "fltp"
		t.ChannelLayout = map[int]string{1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0(back)", 6: "5.1(back)", 7: "6.1", 8: "7.1"}[t.Channels]
	}
	if reg != "" && isPrintable(reg) && st != 0x15 {
		t.CodecTag = reg
	}
	if t.Codec == media.CodecSCTE35 {
		t.CodecTag = "[0][0][0][0]"
	}
}

// setLanguage keeps the first ISO 639-2 code a descriptor gives.
func setLanguage(t *media.Track, lang []byte) {
	if len(lang) == 3 && t.Language == "" && isPrintable(string(lang)) {
		t.Language = string(lang)
	}
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// probe runs the demuxer over the probe window until every track has its
// codec parameters and first timestamps. StartPTS is the smallest PTS of
// the first access units (B-frames reorder them); StartDTS the first DTS.
// A track without a complete access unit in the window falls back on its
// first PES timestamp.
func (rd *Reader) probe(probeEnd int64) error {
	d := rd.newDemux(modeProbe)
	first := make([]bool, len(rd.tracks))
	frames := make([]int, len(rd.tracks))
	pesPTS := make([]int64, len(rd.tracks))
	lastDTS := make([]int64, len(rd.tracks))
	minDelta := make([]int64, len(rd.tracks))
	for i := range pesPTS {
		pesPTS[i] = noTS
	}
	d.emit = func(s *esStream, smp *media.Sample) bool {
		t := s.info.track
		i := s.info.trackIndex
		if !first[i] {
			first[i] = true
			t.StartDTS, t.StartPTS = smp.DTS, smp.PTS
		}
		if smp.PTS < t.StartPTS {
			t.StartPTS = smp.PTS
		}
		if frames[i] > 0 {
			if dd := smp.DTS - lastDTS[i]; dd > 0 && (minDelta[i] == 0 || dd < minDelta[i]) {
				minDelta[i] = dd
			}
		}
		lastDTS[i] = smp.DTS
		frames[i]++
		return !rd.probeDone(d, frames)
	}
	maxPTS := make([]int64, len(rd.tracks))
	for i := range maxPTS {
		maxPTS[i] = noTS
	}
	lastPCR := make([]int64, len(rd.progs))
	d.onPES = func(s *esStream, pts int64) {
		i := s.info.trackIndex
		if pesPTS[i] == noTS {
			pesPTS[i] = pts
		}
		maxPTS[i] = max(maxPTS[i], pts)
	}
	d.onPCR = func(prog int, pcr int64) {
		if rd.progs[prog].FirstPCR < 0 {
			rd.progs[prog].FirstPCR = pcr
		}
		lastPCR[prog] = pcr
	}
	err := d.run(rd.start, probeEnd)
	d.release()
	// A probe that read the whole file saw the last timestamps too: the
	// tail need not be read again.
	rd.probedAll = !d.stop && probeEnd == rd.size
	if rd.probedAll {
		rd.probeMaxPTS = maxPTS
		for i, p := range rd.progs {
			if p.FirstPCR >= 0 {
				p.LastPCR = lastPCR[i]
			}
		}
	}
	for _, s := range d.streams {
		if s != nil {
			s.finishConfig()
		}
	}
	for i, t := range rd.tracks {
		// The rate the timestamps show wins over VUI timing when it is a
		// standard rate or when VUI disagrees by more than 1 % (some
		// encoders write 1000000/1, or field rates), as in ffprobe's
		// r_frame_rate.
		if t.Kind == media.KindVideo && minDelta[i] > 0 {
			fr := t.FrameRate
			obs, standard := guessFrameRate(minDelta[i])
			if standard || fr.IsZero() || fr.Float() > 1.01*obs.Float() || fr.Float() < 0.99*obs.Float() {
				t.FrameRate = obs
			}
		}
		if !first[i] && pesPTS[i] != noTS {
			t.StartDTS, t.StartPTS = pesPTS[i], pesPTS[i]
		}
	}
	if d.sawEIT && len(rd.progs) > 0 && rd.pidIdx[pidEIT] == 0 && len(rd.tracks) < 255 {
		rd.addEPG()
	}
	rd.refs = make([]progState, len(d.progs))
	copy(rd.refs, d.progs)
	if err != nil && rd.cfg.strict && !errors.Is(err, media.ErrTruncated) {
		return err
	}
	return nil
}

// standardRates are the frame rates a rate measured from jittery
// timestamps is snapped to, as ffprobe's r_frame_rate guess does.
var standardRates = []media.Rational{
	{Num: 24000, Den: 1001}, {Num: 24, Den: 1}, {Num: 25, Den: 1}, {Num: 30000, Den: 1001},
	{Num: 30, Den: 1}, {Num: 48, Den: 1}, {Num: 50, Den: 1}, {Num: 60000, Den: 1001},
	{Num: 60, Den: 1}, {Num: 100, Den: 1}, {Num: 120, Den: 1}, {Num: 12, Den: 1}, {Num: 15, Den: 1},
}

// guessFrameRate turns the smallest DTS step into a frame rate: the
// nearest standard rate within 3 % (standard is then true), else the
// exact quotient.
func guessFrameRate(delta int64) (r media.Rational, standard bool) {
	obs := float64(Timescale) / float64(delta)
	best, bestErr := media.Rational{}, 0.03
	for _, r := range standardRates {
		if e := (r.Float() - obs) / obs; e < bestErr && e > -bestErr {
			if e < 0 {
				e = -e
			}
			best, bestErr = r, e
		}
	}
	if best.IsZero() {
		return media.Rational{Num: Timescale, Den: delta}.Reduce(), false
	}
	return best, true
}

// framesForStart is how many access units of a video track the probe
// looks at for the smallest PTS (B-frames reorder the first few).
const framesForStart = 8

func (rd *Reader) probeDone(d *demux, frames []int) bool {
	for i, in := range rd.infos {
		if in.framer == framerNone || in.framer == framerPESData || in.framer == framerSection || in.framer == framerOpus {
			continue
		}
		s := d.streams[in.trackIndex]
		if s == nil || !s.configured() {
			return false
		}
		need := 1
		if in.track.Kind == media.KindVideo {
			need = framesForStart
		}
		if frames[i] < need {
			return false
		}
	}
	return true
}

// readTail demuxes the end of the file to find each track's last
// timestamp and the last PCRs. As in libavformat's estimate from PTS, a
// track's duration is the largest PES PTS plus one frame duration, minus
// its StartPTS.
func (rd *Reader) readTail() {
	if rd.probedAll {
		for i, t := range rd.tracks {
			if i < len(rd.probeMaxPTS) && rd.probeMaxPTS[i] != noTS {
				s := esStream{info: rd.infos[i]}
				t.Duration = max(rd.probeMaxPTS[i]+s.frameDuration()-t.StartPTS, 0)
			}
		}
		return
	}
	tail := rd.cfg.tailSize
	if tail <= 0 {
		tail = 0
	}
	for attempt := 0; ; attempt++ {
		from := rd.size - tail
		if from < rd.start || tail == 0 {
			from = rd.start
		}
		if rd.cfg.tailSize <= 0 {
			return
		}
		// Align on the packet grid; the loop resyncs if that is off.
		from = rd.start + (from-rd.start)/int64(rd.l.stride)*int64(rd.l.stride)
		d := rd.newDemux(modeTail)
		// Unwrap the tail's timestamps relative to the start of each program.
		for i := range d.progs {
			if i < len(rd.refs) && rd.refs[i].haveRef {
				d.progs[i] = progState{haveRef: true, ref: rd.refs[i].startRef}
			}
		}
		found := make([]bool, len(rd.tracks))
		last := make([]int64, len(rd.tracks))
		d.onPES = func(s *esStream, pts int64) {
			i := s.info.trackIndex
			end := pts + s.frameDuration()
			if !found[i] || end > last[i] {
				last[i] = end
			}
			found[i] = true
		}
		d.onPCR = func(prog int, pcr int64) { rd.progs[prog].LastPCR = pcr }
		_ = d.run(from, rd.size)
		d.release()
		missing := false
		for i, t := range rd.tracks {
			if found[i] {
				t.Duration = last[i] - t.StartPTS
				if t.Duration < 0 {
					t.Duration = 0
				}
			} else if f := rd.infos[i].framer; f != framerNone && f != framerSection && f != framerPESData {
				missing = true
			}
		}
		if !missing || from == rd.start || attempt >= 4 {
			return
		}
		tail *= 2
	}
}

// errAt builds the PosError for packet n at pos.
func errAt(pos int64, what string, err error) error {
	return &media.PosError{Format: "mpegts", Offset: pos, What: what, Err: err}
}

var _ media.Demuxer = (*Reader)(nil)
