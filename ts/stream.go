package ts

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/streamkit-go/streamkit/media"
)

// Streaming mode: the same demultiplexer as Reader, fed packet by packet
// from a network source (SRT, MPEG-TS over UDP) instead of reading a
// file. A live source cannot be probed ahead or read at its tail, and it
// loses packets: the Stream buffers the first packets until the PAT, the
// PMTs and every stream's codec parameters are known (NewReader over that
// buffer is the probe), then runs the Reader's demux over the buffered
// packets and every packet after them, calling back with each access
// unit. Damage is counted in Stats and never ends the stream: a lost
// datagram is a continuity-counter error (and a broken access unit the
// decoder conceals), lost sync is found again, and a PES that fails (an
// access unit over MaxPESSize, a hostile header) resets that PID's
// reassembly and counts in StreamErrors.

// ErrStreamProbe means the start of a stream did not give the PAT, PMT
// and codec parameters within the probe limit.
var ErrStreamProbe = errors.New("mpegts: stream: no program found")

// StreamStats are a Stream's counters: the file reader's, plus what only
// a live stream meets.
type StreamStats struct {
	Stats
	Bytes        int64 // bytes written
	Samples      int64 // access units delivered
	StreamErrors int64 // PES reassemblies reset after an error that ends a file read
}

// StreamOption configures a Stream.
type StreamOption func(*Stream)

// WithStreamProbeSize bounds the bytes buffered to find the programs and
// codec parameters (default 4 MiB); past it Write fails with
// ErrStreamProbe.
func WithStreamProbeSize(n int) StreamOption {
	return func(s *Stream) {
		if n > 0 {
			s.probeMax = n
		}
	}
}

// Stream demultiplexes a live MPEG transport stream written to it in any
// chunking (7×188-byte UDP datagrams, SRT payloads, a pipe). Samples are
// delivered to the callback given to NewStream, on the goroutine that
// calls Write, with Data valid during the call; timestamps are unwrapped
// from 33 bits onto a monotonic timeline exactly as the file Reader does.
// A Stream is not safe for concurrent use.
type Stream struct {
	onSample  func(t *media.Track, s media.Sample) error
	probeMax  int
	probe     []byte // buffered start of the stream, until the probe succeeds
	nextProbe int    // buffered size at which the probe is tried next
	rd        *Reader
	d         *demux
	carry     []byte // a packet cut by the chunking
	pos, n    int64  // byte offset and packet number of the next packet
	stats     StreamStats
	cbErr     error
	hdr       packetHeader
}

// NewStream returns a Stream that calls onSample for each access unit; an
// error from onSample ends the Stream (Write returns it).
func NewStream(onSample func(t *media.Track, s media.Sample) error, opts ...StreamOption) *Stream {
	s := &Stream{onSample: onSample, probeMax: 4 << 20}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Tracks returns the tracks of the stream, nil until the probe is done.
func (s *Stream) Tracks() []*media.Track {
	if s.rd == nil {
		return nil
	}
	return s.rd.tracks
}

// Stats returns the counters so far.
func (s *Stream) Stats() StreamStats {
	st := s.stats
	if s.d != nil {
		st.Stats = s.d.stats
	}
	return st
}

// The probe is tried again each time the buffer has grown by an eighth
// (at least probeStep): a low-bitrate stream starts after a few KiB, and
// the cost over a probe that keeps failing stays a small multiple of the
// bytes buffered.
const probeStep = 8 << 10

// Write feeds bytes of the stream. It returns an error only when the
// probe fails (ErrStreamProbe, after the probe size) or the sample
// callback fails; damage is counted.
func (s *Stream) Write(b []byte) (int, error) {
	if s.cbErr != nil {
		return 0, s.cbErr
	}
	s.stats.Bytes += int64(len(b))
	if s.rd == nil {
		s.probe = append(s.probe, b...)
		if len(s.probe) < s.nextProbe && len(s.probe) < s.probeMax {
			return len(b), nil
		}
		s.nextProbe = len(s.probe) + max(probeStep, len(s.probe)/8)
		ok, err := s.tryProbe(false)
		if err != nil {
			s.cbErr = err // sticky: no re-probing of an ever larger buffer
			s.probe = nil
			return 0, err
		}
		if !ok {
			return len(b), nil
		}
		buf := s.probe
		s.probe = nil
		s.feed(buf)
		return len(b), s.cbErr
	}
	s.feed(b)
	return len(b), s.cbErr
}

// tryProbe runs NewReader over the buffered start: done when every
// audio and video stream has its codec parameters.
func (s *Stream) tryProbe(last bool) (bool, error) {
	rd, err := NewReader(bytes.NewReader(s.probe), int64(len(s.probe)), WithTailSize(0))
	full := last || len(s.probe) >= s.probeMax
	// Random bytes fail fast: no packet grid or no PAT in 128 KiB is not
	// a transport stream (the file reader looks for the grid in 64 KiB).
	if err != nil && errors.Is(err, media.ErrCorrupt) && len(s.probe) >= 128<<10 {
		full = true
	}
	if err != nil {
		if full {
			return false, fmt.Errorf("%w in the first %d bytes: %w", ErrStreamProbe, len(s.probe), err)
		}
		return false, nil
	}
	ready := true
	for _, t := range rd.tracks {
		switch t.Kind {
		case media.KindVideo:
			ready = ready && t.Width > 0
		case media.KindAudio:
			ready = ready && t.SampleRate > 0
		}
	}
	if !ready && !full {
		return false, nil
	}
	if l := rd.l; l.stride != PacketSize || l.lead != 0 {
		return false, fmt.Errorf("%w: %d-byte packets (live streams carry 188)", ErrStreamProbe, l.stride)
	}
	s.rd = rd
	s.d = rd.newDemux(modeSamples)
	s.d.emit = s.emit
	s.pos = rd.start
	s.probe = s.probe[rd.start:]
	return true, nil
}

func (s *Stream) emit(es *esStream, smp *media.Sample) bool {
	s.stats.Samples++
	if err := s.onSample(es.info.track, *smp); err != nil {
		s.cbErr = err
		return false
	}
	return true
}

// feed demultiplexes b, keeping a cut packet for the next call and
// resynchronising on the 0x47 grid.
func (s *Stream) feed(b []byte) {
	if len(s.carry) > 0 {
		need := PacketSize - len(s.carry)
		if len(b) < need {
			s.carry = append(s.carry, b...)
			return
		}
		s.carry = append(s.carry, b[:need]...)
		b = b[need:]
		pkt := s.carry
		s.carry = s.carry[:0]
		if pkt[0] == syncByte {
			s.packet(pkt)
		} else {
			b = append(pkt[1:], b...)
			s.d.stats.Resyncs++
			s.d.stats.SkippedBytes++
		}
	}
	for len(b) > 0 && s.cbErr == nil {
		if b[0] != syncByte {
			// Lost sync: skip to the next packet grid (FindSync, the
			// file reader's rule; a grid running off the end of what
			// we have counts: the next datagram continues it).
			i := len(b)
			if j := FindSync(b[1:], PacketSize, 0, true); j >= 0 {
				i = 1 + j
			}
			s.d.stats.Resyncs++
			s.d.stats.SkippedBytes += int64(i)
			s.pos += int64(i)
			b = b[i:]
			continue
		}
		if len(b) < PacketSize {
			s.carry = append(s.carry[:0], b...)
			return
		}
		s.packet(b[:PacketSize])
		b = b[PacketSize:]
	}
}

// packet demultiplexes one packet. An error the file reader would end on
// resets the reassembly of every stream instead: a live stream goes on.
func (s *Stream) packet(pkt []byte) {
	d := s.d
	defer func() {
		if p := recover(); p != nil {
			d.err, d.stop = fmt.Errorf("parser panic: %v", p), true
		}
		if d.stop && s.cbErr == nil {
			s.stats.StreamErrors++
			d.err, d.stop = nil, false
			for _, es := range d.streams {
				if es != nil {
					es.base += int64(len(es.es))
					es.es, es.consumed, es.scan = es.es[:0], 0, 0
					es.inPES, es.skipPES, es.sawVCL, es.key = false, false, false, false
					es.recs = es.recs[:0]
					es.reset()
				}
			}
		}
	}()
	d.stats.Packets++
	d.packet(pkt, s.pos, s.n, &s.hdr)
	s.pos += PacketSize
	s.n++
}

// Close delivers the access units still buffered (the last of each
// stream ends at the end of input).
func (s *Stream) Close() error {
	if s.rd == nil && len(s.probe) > 0 {
		ok, err := s.tryProbe(true)
		if !ok {
			return err
		}
		buf := s.probe
		s.probe = nil
		s.feed(buf)
	}
	if s.d == nil || s.cbErr != nil {
		return s.cbErr
	}
	d := s.d
	for _, es := range d.streams {
		if es != nil && !d.stop {
			es.endPES(false)
			es.frame(true)
		}
	}
	return s.cbErr
}
