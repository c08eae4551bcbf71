package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	srt "github.com/datarhei/gosrt"
)

// SRT: the protocol (handshake, ARQ, latency buffer, encryption) is
// gosrt's; the payload is MPEG-TS, demultiplexed by package ts's
// streaming reader.

// SRTOption configures an SRT listener.
type SRTOption func(*srt.Config)

// WithSRTPassphrase requires encrypted publishes with this passphrase
// (10 to 79 characters); unencrypted ones or a wrong passphrase are
// refused.
func WithSRTPassphrase(p string) SRTOption { return func(c *srt.Config) { c.Passphrase = p } }

// WithSRTLatency sets the receiver latency (the buffer SRT retransmits
// within; default 120 ms).
func WithSRTLatency(d time.Duration) SRTOption {
	return func(c *srt.Config) { c.ReceiverLatency, c.PeerLatency, c.Latency = d, d, d }
}

// ListenSRT opens an SRT listener on addr (host:port, UDP).
func ListenSRT(addr string, opts ...SRTOption) (srt.Listener, error) {
	c := srt.DefaultConfig()
	for _, o := range opts {
		o(&c)
	}
	pass := c.Passphrase
	c.Passphrase = "" // checked per request in ServeSRT
	ln, err := srt.Listen("srt", addr, c)
	if err != nil {
		return nil, err
	}
	return &srtListener{Listener: ln, passphrase: pass}, nil
}

type srtListener struct {
	srt.Listener
	passphrase string
}

// parseStreamID reads "publish:NAME[:KEY]", "publish:NAME?key=K&rendition=R"
// or the SRT access-control form "#!::r=NAME,m=publish[,s=KEY]".
func parseStreamID(id string) (name, rendition, key string, err error) {
	if rest, ok := strings.CutPrefix(id, "#!::"); ok {
		mode := ""
		for kv := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "r":
				name = v
			case "m":
				mode = v
			case "s":
				key = v
			}
		}
		if mode != "publish" {
			return "", "", "", fmt.Errorf("%w: streamid %q: only m=publish is served", ErrRefused, id)
		}
		return name, "", key, nil
	}
	rest, ok := strings.CutPrefix(id, "publish:")
	if !ok {
		return "", "", "", fmt.Errorf("%w: streamid %q: want publish:NAME", ErrRefused, id)
	}
	rest, query, _ := strings.Cut(rest, "?")
	name, key, _ = strings.Cut(rest, ":")
	if query != "" {
		q, perr := url.ParseQuery(query)
		if perr != nil {
			return "", "", "", fmt.Errorf("%w: streamid %q: %v", ErrRefused, id, perr)
		}
		rendition = q.Get("rendition")
		if k := q.Get("key"); k != "" {
			key = k
		}
	}
	return name, rendition, key, nil
}

// ServeSRT accepts SRT publishers on ln (from ListenSRT) until ctx is
// done, then closes ln and every connection and returns when their
// goroutines have ended.
func (s *Server) ServeSRT(ctx context.Context, ln srt.Listener) error {
	pass := ""
	if l, ok := ln.(*srtListener); ok {
		pass = l.passphrase
	}
	stop := context.AfterFunc(ctx, ln.Close)
	defer stop()
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[srt.Conn]struct{}{}
	var err error
	for {
		req, aerr := ln.Accept2()
		if aerr != nil {
			if ctx.Err() == nil && !errors.Is(aerr, srt.ErrListenerClosed) {
				err = aerr
			}
			break
		}
		remote := req.RemoteAddr().String()
		name, rend, key, perr := parseStreamID(req.StreamId())
		if perr == nil && pass != "" {
			if !req.IsEncrypted() {
				perr = fmt.Errorf("%w: unencrypted publish, a passphrase is required", ErrRefused)
			} else if req.SetPassphrase(pass) != nil {
				perr = fmt.Errorf("%w: wrong passphrase", ErrRefused)
			}
		}
		var sess *session
		if perr == nil {
			sess, perr = s.open(name, rend, key, "srt", remote)
		}
		if perr != nil {
			s.cfg.log.Warn("srt publish refused: "+perr.Error(), "remote", remote)
			req.Reject(srt.REJX_UNAUTHORIZED)
			continue
		}
		conn, cerr := req.Accept()
		if cerr != nil {
			sess.close(fmt.Errorf("srt accept: %w", cerr))
			continue
		}
		mu.Lock()
		open[conn] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rerr := s.readSRT(ctx, conn, sess)
			conn.Close()
			mu.Lock()
			delete(open, conn)
			mu.Unlock()
			sess.close(rerr)
		}()
	}
	ln.Close()
	mu.Lock()
	for c := range open {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	return err
}

// readSRT feeds one connection's payload to its session. gosrt has no
// read deadlines: a watchdog closes a connection silent for the read
// timeout, and the context closes it at shutdown.
func (s *Server) readSRT(ctx context.Context, conn srt.Conn, sess *session) error {
	in := newTSInput(sess)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var timedOut atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(s.cfg.readTimeout / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				conn.Close()
				return
			case <-t.C:
				if time.Since(time.Unix(0, last.Load())) > s.cfg.readTimeout {
					timedOut.Store(true)
					conn.Close()
					return
				}
			}
		}
	}()
	m := meter{max: s.cfg.maxBitrate}
	buf := make([]byte, 1<<16)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			last.Store(time.Now().UnixNano())
			now := s.cfg.clock.Now()
			if werr := in.write(buf[:n], now); werr != nil {
				return werr
			}
			if merr := m.add(n, now); merr != nil {
				return merr
			}
		}
		if err != nil {
			switch {
			case timedOut.Load():
				return fmt.Errorf("%w: nothing for %v", ErrTimeout, s.cfg.readTimeout)
			case ctx.Err() != nil:
				return nil
			}
			in.ss.tsr.Close()
			return nil // the publisher closed the connection
		}
	}
}
