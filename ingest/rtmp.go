package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"path"
	"sync"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"

	"github.com/streamkit-go/streamkit/media"
)

// RTMP: the handshake, the AMF commands, the chunk stream and the FLV /
// Enhanced-RTMP message bodies are gortmplib's; this file turns its
// access units into media samples. Codecs packaged: H.264 and (Enhanced
// RTMP) HEVC and AV1 video, AAC audio. gortmplib also carries VP9, Opus
// and others; those tracks are not packaged (logged), and a publish with
// none of ours is refused with ErrCodec.

// conns tracks a listener's connections so that shutdown closes them and
// waits for their goroutines.
type conns struct {
	mu  sync.Mutex
	set map[net.Conn]struct{}
	wg  sync.WaitGroup
	max int
}

func (c *conns) add(nc net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set == nil {
		c.set = map[net.Conn]struct{}{}
	}
	if len(c.set) >= c.max {
		return false
	}
	c.set[nc] = struct{}{}
	c.wg.Add(1)
	return true
}

func (c *conns) done(nc net.Conn) {
	c.mu.Lock()
	delete(c.set, nc)
	c.mu.Unlock()
	nc.Close()
	c.wg.Done()
}

func (c *conns) closeAll() {
	c.mu.Lock()
	for nc := range c.set {
		nc.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// ServeRTMP accepts RTMP publishers on ln until ctx is done, then closes
// ln and every connection and returns when their goroutines have ended
// (nil after a clean shutdown). Connections beyond twice WithMaxStreams
// (handshakes included) are closed at once.
func (s *Server) ServeRTMP(ctx context.Context, ln net.Listener) error {
	cs := &conns{max: 2 * s.cfg.maxStreams}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var err error
	for {
		nc, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = aerr
			}
			break
		}
		if !cs.add(nc) {
			s.cfg.log.Warn("rtmp connection refused: connection limit", "remote", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		go func() {
			defer cs.done(nc)
			if err := s.handleRTMP(ctx, nc); err != nil && ctx.Err() == nil {
				s.cfg.log.Warn("rtmp connection closed: "+err.Error(), "remote", nc.RemoteAddr().String())
			}
		}()
	}
	ln.Close()
	cs.closeAll()
	return err
}

// countConn counts the bytes read, for the bitrate limit, and renews the
// read deadline before every read: a publisher is dropped after the read
// timeout without a byte, whatever gortmplib is waiting for (it reads the
// first seconds of media before it reports the tracks).
//
// Until the tracks are known (handshake, connect, publish and gortmplib's
// track detection, which buffers what it reads) the connection also has
// an absolute deadline and a byte budget: a client trickling a byte every
// few seconds, or one streaming media that never lets detection end, is
// dropped instead of holding a connection slot or memory.
type countConn struct {
	net.Conn
	n       int64
	timeout time.Duration
	setup   time.Time // zero once the tracks are known
}

// The setup bounds: real encoders finish detection within seconds and a
// few MB (two seconds of media).
const (
	rtmpSetupTimeout = 15 * time.Second
	rtmpSetupBytes   = 32 << 20
)

func (c *countConn) Read(b []byte) (int, error) {
	dl := time.Now().Add(c.timeout)
	if !c.setup.IsZero() {
		if c.n >= rtmpSetupBytes {
			return 0, fmt.Errorf("rtmp: %d bytes read before the tracks were known (limit %d)", c.n, rtmpSetupBytes)
		}
		if c.setup.Before(dl) {
			dl = c.setup
		}
	}
	c.Conn.SetReadDeadline(dl)
	n, err := c.Conn.Read(b)
	c.n += int64(n)
	return n, err
}

func (s *Server) handleRTMP(ctx context.Context, nc net.Conn) (err error) {
	cc := &countConn{Conn: nc, timeout: s.cfg.readTimeout, setup: time.Now().Add(rtmpSetupTimeout)}
	nc.SetWriteDeadline(time.Now().Add(s.cfg.readTimeout))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("rtmp: library panic: %v", p)
		}
	}()
	sc := &gortmplib.ServerConn{RW: cc}
	if err := sc.Initialize(); err != nil {
		return fmt.Errorf("rtmp handshake: %w", err)
	}
	if err := sc.AcceptConn(); err != nil {
		return fmt.Errorf("rtmp connect: %w", err)
	}
	if !sc.Publish {
		sc.RejectAction()
		return fmt.Errorf("%w: rtmp play is not served (the stream is at /live/NAME/ over HTTP)", ErrRefused)
	}
	q := sc.URL.Query()
	sess, err := s.open(path.Base(sc.URL.Path), q.Get("rendition"), q.Get("key"), "rtmp", nc.RemoteAddr().String())
	if err != nil {
		sc.RejectAction()
		return err
	}
	defer func() { sess.close(err) }()
	probe := &trackProbe{Conn: sc, probing: true}
	r := &gortmplib.Reader{Conn: probe}
	if err := sc.AcceptAction(); err != nil {
		return fmt.Errorf("rtmp publish: %w", err)
	}
	if err := r.Initialize(); err != nil {
		return fmt.Errorf("rtmp tracks: %w", err)
	}
	probe.probing = false
	cc.setup = time.Time{}
	nc.SetWriteDeadline(time.Time{})
	var tracks []*media.Track
	var cbErr error
	clock := s.cfg.clock
	for _, rt := range r.Tracks() {
		idx := len(tracks)
		switch c := rt.Codec.(type) {
		case *codecs.H264:
			t := &media.Track{ID: idx + 1, Index: idx, Timescale: 90000, CodecTag: "avc1"}
			if err := t.SetAVC([][]byte{c.SPS}, [][]byte{c.PPS}); err != nil {
				return fmt.Errorf("rtmp h264 config: %w", err)
			}
			t.Config.NALLengthSize = 4
			tracks = append(tracks, t)
			var u unwrap32
			r.OnDataH264(rt, func(pts, dts time.Duration, au [][]byte) {
				if cbErr == nil {
					cbErr = sess.pushNALs(idx, &u, pts, dts, au, h264Key, clock.Now())
				}
			})
		case *codecs.H265:
			t := &media.Track{ID: idx + 1, Index: idx, Timescale: 90000, CodecTag: "hvc1"}
			if err := t.SetHEVC([][]byte{c.VPS}, [][]byte{c.SPS}, [][]byte{c.PPS}); err != nil {
				return fmt.Errorf("rtmp hevc config: %w", err)
			}
			t.Config.NALLengthSize = 4
			tracks = append(tracks, t)
			var u unwrap32
			r.OnDataH265(rt, func(pts, dts time.Duration, au [][]byte) {
				if cbErr == nil {
					cbErr = sess.pushNALs(idx, &u, pts, dts, au, h265Key, clock.Now())
				}
			})
		case *codecs.MPEG4Audio:
			asc, err := c.Config.Marshal()
			if err != nil {
				return fmt.Errorf("rtmp aac config: %w", err)
			}
			t := &media.Track{ID: idx + 1, Index: idx}
			if err := t.SetAAC(asc); err != nil {
				return fmt.Errorf("rtmp aac config: %w", err)
			}
			t.Timescale = uint32(t.SampleRate)
			tracks = append(tracks, t)
			a := &aacClock{rate: int64(t.SampleRate), frame: int64(t.FrameSize)}
			r.OnDataMPEG4Audio(rt, func(pts time.Duration, au []byte) {
				if cbErr == nil {
					dts := a.next(pts)
					cbErr = sess.push(idx, media.Sample{TrackID: idx + 1, DTS: dts, PTS: dts, Duration: uint32(a.frame), Size: uint32(len(au)), Sync: true}, au, clock.Now())
				}
			})
		case *codecs.AV1:
			if probe.av1C == nil {
				return fmt.Errorf("%w: AV1 without an AV1CodecConfigurationRecord in its sequence start", ErrCodec)
			}
			t := &media.Track{ID: idx + 1, Index: idx, Timescale: 90000, CodecTag: "av01"}
			if err := t.SetAV1(probe.av1C); err != nil {
				return fmt.Errorf("rtmp av1 config: %w", err)
			}
			tracks = append(tracks, t)
			var u unwrap32
			r.OnDataAV1(rt, func(pts time.Duration, tu [][]byte) {
				if cbErr == nil {
					cbErr = sess.pushAV1(idx, &u, pts, tu, clock.Now())
				}
			})
		default:
			s.cfg.log.Warn(fmt.Sprintf("rtmp: %T track not packaged", rt.Codec), "stream", sess.st.Name)
		}
	}
	if len(tracks) == 0 {
		return fmt.Errorf("%w: no H.264, HEVC or AAC track", ErrCodec)
	}
	if err := sess.setTracks(tracks); err != nil {
		return err
	}
	m := meter{max: s.cfg.maxBitrate}
	var seen int64
	for {
		if ctx.Err() != nil {
			return nil
		}
		if err := r.Read(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("%w: nothing for %v", ErrTimeout, s.cfg.readTimeout)
			}
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil || isEOF(err) {
				return nil
			}
			return fmt.Errorf("rtmp: %w", err)
		}
		if cbErr != nil {
			return cbErr
		}
		if err := m.add(int(cc.n-seen), clock.Now()); err != nil {
			return err
		}
		seen = cc.n
	}
}

// trackProbe shortens gortmplib's track analysis. gortmplib.Reader reads
// 2 s of media before it reports the tracks (it cannot know whether an
// audio track will follow), then replays what it read; a live stream
// would start 2 s late. Once the configurations of a video and an audio
// track have both arrived (what ffmpeg and OBS send first) nothing more
// is to be learnt, so the probe hands the reader a video end-of-sequence
// message stamped 2 s after the first media message: the analysis ends,
// and on replay the H.264/HEVC data callbacks ignore that message type.
// A publish without audio (or without video) keeps the 2 s analysis.
type trackProbe struct {
	gortmplib.Conn
	probing      bool
	video, audio bool
	first        time.Duration
	started      bool
	done         bool
	pending      message.Message
	av1C         []byte // AV1CodecConfigurationRecord of an Enhanced-RTMP AV1 sequence start
	isAV1        bool
	av1Seq       bool // av1C was rebuilt from the bitstream's sequence header
}

// av1Frame rebuilds av1C from the first sequence header OBU of the AV1
// bitstream: the record of the sequence start is not always the stream's
// (gortmplib's own writer sends a placeholder), the sequence header is.
func (c *trackProbe) av1Frame(fourCC message.FourCC, payload []byte) {
	if fourCC != message.FourCCAV1 || c.av1Seq {
		return
	}
	c.isAV1 = true
	var tu av1.Bitstream
	if tu.Unmarshal(payload) != nil {
		return
	}
	for _, obu := range tu {
		if len(obu) == 0 || av1.OBUType(obu[0]>>3&0xf) != av1.OBUTypeSequenceHeader {
			continue
		}
		var sh av1.SequenceHeader
		if sh.Unmarshal(obu) != nil || len(sh.SeqLevelIdx) == 0 || len(sh.SeqTier) == 0 {
			return
		}
		cfg, err := av1.Bitstream{obu}.Marshal()
		if err != nil {
			return
		}
		b := func(v bool) byte {
			if v {
				return 1
			}
			return 0
		}
		cc := sh.ColorConfig
		c.av1C = append([]byte{0x81, sh.SeqProfile<<5 | sh.SeqLevelIdx[0]&0x1f,
			b(sh.SeqTier[0])<<7 | b(cc.HighBitDepth)<<6 | b(cc.TwelveBit)<<5 | b(cc.MonoChrome)<<4 |
				b(cc.SubsamplingX)<<3 | b(cc.SubsamplingY)<<2 | byte(cc.ChromaSamplePosition)&3, 0}, cfg...)
		c.av1Seq = true
		return
	}
}

func (c *trackProbe) Read() (message.Message, error) {
	if c.pending != nil {
		m := c.pending
		c.pending = nil
		return m, nil
	}
	msg, err := c.Conn.Read()
	if err != nil || !c.probing || c.done {
		return msg, err
	}
	var dts time.Duration
	media := true
	switch m := msg.(type) {
	case *message.Video:
		dts = m.DTS
		c.video = c.video || m.Type == message.VideoTypeConfig
	case *message.VideoExSequenceStart:
		media = false
		c.video = true
		if a := m.AV1Config; a != nil && c.av1C == nil {
			c.isAV1 = true
			// gortmplib's AV1 track keeps no configuration record: the
			// CMAF sample entry needs it (av1C, AV1-ISOBMFF 2.3).
			c.av1C = append([]byte{0x81, a.SeqProfile<<5 | a.SeqLevelIdx0&0x1f,
				a.SeqTier0<<7 | a.HighBitdepth<<6 | a.TwelveBit<<5 | a.Monochrome<<4 | a.ChromaSubsamplingX<<3 | a.ChromaSubsamplingY<<2 | a.ChromaSamplePosition&3,
				a.InitialPresentationDelayPresent<<4 | a.InitialPresentationDelayMinusOne&0xf}, a.ConfigOBUs...)
		}
	case *message.Audio:
		dts = m.DTS
		c.audio = c.audio || m.Codec != message.CodecMPEG4Audio || m.AACType == message.AudioAACTypeConfig
	case *message.AudioExSequenceStart:
		media = false
		c.audio = true
	case *message.VideoExFramesX:
		dts = m.DTS
		c.av1Frame(m.FourCC, m.Payload)
	case *message.VideoExCodedFrames:
		dts = m.DTS
		c.av1Frame(m.FourCC, m.Payload)
	default:
		media = false
	}
	if media && !c.started {
		c.first, c.started = dts, true
	}
	if c.video && c.audio && c.started && (!c.isAV1 || c.av1Seq) {
		c.done = true
		c.pending = &message.Video{ChunkStreamID: 6, MessageStreamID: 1, Codec: message.CodecH264,
			Type: message.VideoTypeEOS, DTS: c.first + 2*time.Second}
	}
	return msg, nil
}

func isEOF(err error) bool {
	return err != nil && (err.Error() == "EOF" || errors.Is(err, net.ErrClosed))
}

// unwrap32 unwraps RTMP's 32-bit millisecond timestamps: each value is
// placed within ±2^31 ms of the previous one.
type unwrap32 struct {
	last uint32
	v    int64
	has  bool
}

func (u *unwrap32) ms(d time.Duration) int64 {
	raw := uint32(int64(d / time.Millisecond))
	if !u.has {
		u.has, u.last, u.v = true, raw, int64(raw)
		return u.v
	}
	u.v += int64(int32(raw - u.last))
	u.last = raw
	return u.v
}

// pushNALs pushes one H.264/HEVC access unit: NAL units written with
// 4-byte length prefixes, as in MP4. An access unit of parameter sets
// only (the AVC sequence header gortmplib also reports) is not a frame.
func (ss *session) pushNALs(i int, u *unwrap32, pts, dts time.Duration, au [][]byte, key func([]byte) (bool, bool), at time.Time) error {
	var n int
	sync, frame := false, false
	for _, nal := range au {
		n += 4 + len(nal)
		k, vcl := key(nal)
		sync = sync || k
		frame = frame || vcl
	}
	if !frame {
		return nil
	}
	data := make([]byte, 0, n)
	for _, nal := range au {
		data = binary.BigEndian.AppendUint32(data, uint32(len(nal)))
		data = append(data, nal...)
	}
	d := u.ms(dts) * 90
	p := d + int64((pts-dts)/time.Millisecond)*90
	return ss.push(i, media.Sample{TrackID: i + 1, DTS: d, PTS: p, Size: uint32(len(data)), Sync: sync}, data, at)
}

// pushAV1 pushes one AV1 temporal unit as an AV1-in-ISOBMFF sample: its
// OBUs with size fields, without temporal delimiters; a unit carrying a
// sequence header is a key frame (as mediacommon's IsRandomAccess2).
func (ss *session) pushAV1(i int, u *unwrap32, pts time.Duration, tu [][]byte, at time.Time) error {
	var obus av1.Bitstream
	for _, obu := range tu {
		if len(obu) > 0 && av1.OBUType(obu[0]>>3&0xf) != av1.OBUTypeTemporalDelimiter {
			obus = append(obus, obu)
		}
	}
	if len(obus) == 0 {
		return nil
	}
	data, err := obus.Marshal()
	if err != nil {
		return fmt.Errorf("rtmp av1: %w", err)
	}
	d := u.ms(pts) * 90
	return ss.push(i, media.Sample{TrackID: i + 1, DTS: d, PTS: d, Size: uint32(len(data)), Sync: av1.IsRandomAccess2(tu)}, data, at)
}

// h264Key reports whether a NAL unit is an IDR slice, and whether it is a
// slice at all.
func h264Key(nal []byte) (key, vcl bool) {
	if len(nal) == 0 {
		return false, false
	}
	t := nal[0] & 0x1f
	return t == 5, t >= 1 && t <= 5
}

// h265Key: IRAP pictures (BLA, IDR, CRA: types 16–21) are key frames.
func h265Key(nal []byte) (key, vcl bool) {
	if len(nal) == 0 {
		return false, false
	}
	t := nal[0] >> 1 & 0x3f
	return t >= 16 && t <= 21, t <= 31
}

// aacClock stamps AAC frames by counting samples: RTMP's millisecond
// timestamps would give frames of 21 or 22 ms instead of 1024 samples.
// The count follows the RTMP time and is reset to it when the two differ
// by more than 40 ms (lost audio, a jump).
type aacClock struct {
	rate, frame int64
	u           unwrap32
	next64      int64
	has         bool
}

func (a *aacClock) next(pts time.Duration) int64 {
	ms := a.u.ms(pts)
	t := ms * a.rate / 1000
	if !a.has || t-a.next64 > a.rate*40/1000 || a.next64-t > a.rate*40/1000 {
		a.next64 = t
		a.has = true
	}
	v := a.next64
	a.next64 += a.frame
	return v
}
