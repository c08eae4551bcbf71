package ts

import (
	"context"
	"fmt"

	"github.com/streamkit-go/streamkit/media"
)

type demuxMode int

const (
	modeSamples demuxMode = iota
	modeProbe             // learn codec parameters and start timestamps
	modeTail              // learn last timestamps
)

const noTS = int64(-1 << 63)

// progState unwraps the 33-bit timestamps of one program onto a
// monotonic timeline: each value is placed within ±2^32 of the previous
// one, so that all streams of a program cross a wrap together.
type progState struct {
	ref      int64
	startRef int64 // the first timestamp
	haveRef  bool
}

const wrap33 = int64(1) << 33

func (p *progState) unwrap(raw int64) int64 {
	if !p.haveRef {
		// Like libavformat (update_wrap_reference), a first timestamp
		// less than 60 s before the wrap point starts the timeline just
		// below zero rather than just below 2^33.
		if raw >= wrap33-60*Timescale {
			raw -= wrap33
		}
		p.haveRef = true
		p.ref, p.startRef = raw, raw
		return raw
	}
	d := (raw - p.ref) & (wrap33 - 1)
	if d >= wrap33/2 {
		d -= wrap33
	}
	v := p.ref + d
	p.ref = v
	return v
}

// demux is one pass over a byte range of the file.
type demux struct {
	rd      *Reader
	mode    demuxMode
	ctx     context.Context
	streams []*esStream // by track index; nil for tracks not demultiplexed
	progs   []progState
	pcrPID  map[uint16]int
	emit    func(*esStream, *media.Sample) bool
	onPCR   func(prog int, pcr int64)
	onPES   func(s *esStream, pts int64)
	stats   Stats
	sawEIT  bool // packets on PID 0x12 (DVB EIT) were seen
	src     *source
	lastPCR []int64 // per program, 27 MHz; noTS before the first
	stop    bool
	err     error
	smp     media.Sample
}

func (rd *Reader) newDemux(mode demuxMode) *demux {
	d := &demux{rd: rd, mode: mode, progs: make([]progState, len(rd.progs)), pcrPID: map[uint16]int{}, lastPCR: make([]int64, len(rd.progs))}
	for i := range d.lastPCR {
		d.lastPCR[i] = noTS
	}
	d.streams = make([]*esStream, len(rd.infos))
	for i, p := range rd.progs {
		if p.PCRPID >= 0 && p.PCRPID < 0x1FFF {
			if _, ok := d.pcrPID[uint16(p.PCRPID)]; !ok {
				d.pcrPID[uint16(p.PCRPID)] = i
			}
		}
	}
	for _, in := range rd.infos {
		if in.framer == framerNone {
			continue
		}
		s := &esStream{d: d, info: in, prog: &d.progs[in.prog], lastDTS: noTS, lastPTS: noTS, anchorPTS: noTS, lastCC: -1}
		if in.trackIndex < len(rd.esBufs) {
			s.es, rd.esBufs[in.trackIndex] = rd.esBufs[in.trackIndex][:0], nil
		}
		s.reset()
		d.streams[in.trackIndex] = s
	}
	return d
}

// fail records a fatal error and stops the pass.
func (d *demux) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.stop = true
}

// damage handles damage that ffprobe tolerates: fatal in strict mode, a
// media.Warning otherwise (on the Samples pass only: the probe and tail
// passes stop at window edges that are not damage). what and cause are
// formatted only while the warning log has room, so that reading a file
// with a million damaged packets does not allocate per packet.
func (d *demux) damage(pos int64, what func() string, cause string, args ...any) {
	d.damageAs(media.ErrCorrupt, pos, what, cause, args...)
}

// damageAs is damage with the sentinel the warning wraps: ErrTruncated
// for input that ends inside a packet or PES, ErrCorrupt for the rest.
func (d *demux) damageAs(sentinel error, pos int64, what func() string, cause string, args ...any) {
	if d.rd.cfg.strict {
		d.fail(errAt(pos, what(), fmt.Errorf("%w: "+cause, append([]any{sentinel}, args...)...)))
		return
	}
	if d.mode != modeSamples {
		return
	}
	if d.rd.warn.Len() >= media.MaxWarnings {
		d.rd.warn.Add(media.Warning{}) // only counted
		return
	}
	d.rd.warn.Add(media.WarningAt("mpegts", pos, what(), sentinel, cause, args...))
}

func packetWhat(n int64, pid uint16) func() string {
	return func() string { return fmt.Sprintf("packet %d (PID %s)", n, pidString(pid)) }
}

// run demuxes the packets in [from, end).
func (d *demux) run(from, end int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errAt(from, "packet", fmt.Errorf("%w: parser panic: %v", media.ErrCorrupt, p))
		}
	}()
	buf := d.rd.srcBuf
	d.rd.srcBuf = nil
	src := newSource(d.rd.r, from, end, d.rd.l, buf)
	d.src = src
	stride := int64(d.rd.l.stride)
	pos := from
	var h packetHeader
	var n int64 // packet number, counted from the start of the file when from is the start
	if from > d.rd.start {
		n = (from - d.rd.start) / stride
	}
	for !d.stop {
		if d.ctx != nil && n&63 == 0 {
			if err := d.ctx.Err(); err != nil {
				return err
			}
		}
		pkt, short, err := src.packetAt(pos)
		if err != nil {
			return err
		}
		if short {
			if rem := end - pos; rem > 0 && d.mode == modeSamples {
				// A last packet cut short is dropped, as libavformat's
				// mpegts demuxer drops a short read; what the packets
				// before it hold is still used (see flush below).
				w, _ := src.window(pos, int(rem))
				if len(w) > d.rd.l.lead && w[d.rd.l.lead] == syncByte && end == d.rd.size {
					d.damageAs(media.ErrTruncated, pos, func() string { return fmt.Sprintf("packet %d", n) },
						"last packet cut: %d of %d bytes", rem, stride)
					if d.err != nil {
						return d.err
					}
				}
				d.stats.SkippedBytes += rem
			}
			break
		}
		if pkt == nil {
			np, err := src.resync(pos)
			if err != nil {
				return err
			}
			d.stats.Resyncs++
			if np < 0 {
				d.stats.SkippedBytes += end - pos
				d.damage(pos, func() string { return fmt.Sprintf("packet %d", n) }, "lost sync, none found again")
				break
			}
			d.stats.SkippedBytes += np - pos
			d.damage(pos, func() string { return fmt.Sprintf("packet %d", n) }, "lost sync for %d bytes", np-pos)
			pos = np
			continue
		}
		d.stats.Packets++
		d.packet(pkt, pos, n, &h)
		pos += stride
		n++
	}
	if d.err != nil {
		return d.err
	}
	if !d.stop {
		d.flush(d.mode == modeSamples)
	}
	return d.err
}

func (d *demux) packet(pkt []byte, pos, n int64, h *packetHeader) {
	if err := parseHeader(pkt, h); err != nil {
		d.stats.ErrorPackets++
		d.damage(pos, packetWhat(n, h.pid), "%v", err)
		return
	}
	if h.tei {
		d.stats.ErrorPackets++
		d.damage(pos, packetWhat(n, h.pid), "transport_error_indicator set")
		return
	}
	if h.hasPCR {
		if pi, ok := d.pcrPID[h.pid]; ok {
			d.lastPCR[pi] = h.pcr
			if d.onPCR != nil {
				d.onPCR(pi, h.pcr)
			}
		}
	}
	k := d.rd.pidIdx[h.pid]
	if k == 0 {
		if h.pid == pidEIT {
			d.sawEIT = true
		}
		return
	}
	s := d.streams[k-1]
	if s == nil {
		return
	}
	hasPayload := h.afc&1 != 0
	// Continuity: a repeated counter on a packet with payload is a
	// duplicate (ISO/IEC 13818-1 2.4.3.3) and is dropped; a jump is a
	// discontinuity, counted and tolerated unless signalled.
	last := s.lastCC
	if hasPayload {
		s.lastCC = int8(h.cc)
	}
	if last >= 0 && !h.disc {
		if hasPayload {
			if uint8(last) == h.cc && !h.pusi {
				return
			}
			if uint8(last+1)&0x0f != h.cc {
				d.stats.CCErrors++
				// Counted (Stats), not a warning: the data is kept, and a
				// concatenation of captures has one per PID per seam.
				if d.rd.cfg.strict {
					d.damage(pos, packetWhat(n, h.pid), "continuity counter %d after %d", h.cc, last)
				}
				if d.stop {
					return
				}
				// The bytes already collected stay, as in ffprobe (which
				// flags the packet corrupt).
			}
		}
	}
	if !hasPayload || h.payloadOff >= PacketSize {
		return
	}
	payload := pkt[h.payloadOff:]
	if s.info.framer == framerSection {
		s.sectionPayload(payload, h.pusi, pos)
		return
	}
	if h.pusi {
		s.startPES(pos, n)
	}
	s.pesPayload(payload, pos, n)
}

// flush completes every stream at the end of the range.
func (d *demux) flush(final bool) {
	for _, s := range d.streams {
		if s == nil || d.stop {
			continue
		}
		s.endPES(final)
		s.frame(true)
	}
}

// release hands the pass's buffers back to the Reader for the next pass.
func (d *demux) release() {
	if d.src != nil {
		d.rd.srcBuf = d.src.buf
	}
	if len(d.rd.esBufs) < len(d.streams) {
		d.rd.esBufs = make([][]byte, len(d.streams))
	}
	for i, s := range d.streams {
		if s != nil && cap(s.es) <= MaxPESSize {
			d.rd.esBufs[i] = s.es[:0]
		}
	}
}
