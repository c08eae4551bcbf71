package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// MPEG-TS over UDP: datagrams of up to 7 packets (1316 bytes), unicast or
// multicast. UDP has no sessions: a publish starts with the first
// datagram, ends when nothing arrives for the read timeout, and a
// datagram from another source address (a restarted encoder, plain or
// RTP-wrapped MPEG-TS) starts a new one — a discontinuity — once the
// current source has been silent for udpTakeover. A stray datagram from elsewhere (a port scan, a second
// encoder pointed at the same port by mistake) is dropped and counted
// while the current source is alive: taking it over would cut a healthy
// publish for one packet. Lost datagrams are counted (continuity
// counter errors) and never fatal; a source whose first megabytes hold no
// transport stream is dropped with a logged reason and may start again.

// udpTakeover is how long the current UDP source must have been silent
// before MPEG-TS from another address replaces it. An encoder restart
// (process start, PAT/PMT, first key frame) takes longer than this, so
// a restarted encoder on a new source port is not held back by it.
const udpTakeover = time.Second

// ListenUDP opens a UDP socket on addr (host:port) for ServeUDP. A
// multicast group address joins the group on the interface named iface
// (all multicast interfaces when empty).
func ListenUDP(addr, iface string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	if ua.IP != nil && ua.IP.IsMulticast() {
		var ifi *net.Interface
		if iface != "" {
			if ifi, err = net.InterfaceByName(iface); err != nil {
				return nil, err
			}
		}
		return net.ListenMulticastUDP("udp", ifi, ua)
	}
	return net.ListenUDP("udp", ua)
}

// ServeUDP reads MPEG-TS datagrams on conn as stream name until ctx is
// done; it closes conn when it returns. The publish key does not apply
// (UDP carries no credentials): bind conn to a trusted address.
func (s *Server) ServeUDP(ctx context.Context, conn net.PacketConn, name string) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	buf := make([]byte, 1<<16)
	var (
		sess   *session
		in     *tsInput
		src    string
		m      meter
		lastAt time.Time // of the current source's last datagram
	)
	end := func(err error) {
		if sess != nil {
			if err == nil {
				in.close()
			}
			sess.close(err)
			sess, in = nil, nil
		}
	}
	defer func() { end(nil) }()
	var failedSrc string // a source whose stream failed: ignored until it pauses
	for {
		conn.SetReadDeadline(time.Now().Add(s.cfg.readTimeout))
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				if sess != nil {
					end(fmt.Errorf("%w: no datagram for %v", ErrTimeout, s.cfg.readTimeout))
				}
				failedSrc = ""
				continue
			}
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		addr := from.String()
		if addr == failedSrc {
			continue
		}
		now := s.cfg.clock.Now()
		if sess != nil && addr != src {
			if now.Sub(lastAt) < udpTakeover {
				sess.stray()
				continue
			}
			// What it sends is judged as a first source's is (the TS
			// input's sniffing: RTP, 188 or 204-byte packets, garbage
			// dropped after its first megabytes).
			end(fmt.Errorf("a datagram from %s after %v of silence: a new publisher", addr, now.Sub(lastAt).Round(time.Millisecond)))
		}
		if sess == nil {
			ss, oerr := s.open(name, "", s.cfg.key, "udp", addr)
			if oerr != nil {
				s.cfg.log.Warn("udp publish refused: "+oerr.Error(), "remote", addr)
				failedSrc = addr
				continue
			}
			sess, in, src, m = ss, newTSInput(ss), addr, meter{max: s.cfg.maxBitrate}
		}
		lastAt = now
		if werr := in.write(buf[:n], now); werr != nil {
			end(werr)
			failedSrc = addr
			continue
		}
		if merr := m.add(n, now); merr != nil {
			end(merr)
			failedSrc = addr
		}
	}
}
