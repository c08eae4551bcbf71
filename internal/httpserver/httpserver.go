// Package httpserver runs streamkit's HTTP servers (serve, the live
// origin, the P2P tracker) with the protections every one of them needs,
// so that each server is a handler and nothing more:
//
//   - a read-header timeout (a client that trickles its request header is
//     dropped) and an idle timeout (keep-alive connections end);
//   - a write timeout renewed as writes go on: a long transfer to a
//     healthy client finishes however long it takes, while a client that
//     stops reading is cut off once one write has waited that long (at
//     least three quarters of it: see deadlineWriter); likewise a
//     read timeout renewed on every read of a request body;
//   - a connection limit that evicts idle connections, oldest first, when
//     a new client arrives at the limit, so that thousands of idle sockets
//     cannot lock out the next player (a plain limit, as
//     golang.org/x/net/netutil.LimitListener has, leaves that client
//     waiting in the kernel's accept queue behind them);
//   - graceful shutdown: when the context given to [Server.Serve] ends, the
//     listener closes, idle connections close, and running transfers get a
//     grace period to finish before they are cut;
//   - a request whose query string does not parse gets 400 before the
//     handler sees it;
//   - an optional access log (Combined Log Format plus the duration);
//   - TLS (WithTLS: HTTP/2 and HTTP/1.1 by ALPN) and the protocols
//     spoken (WithProtocols: h2c for an origin behind a CDN).
//
// Handlers that hold a request (a blocking playlist reload, a long poll)
// find the server's Draining channel in the request context
// ([DrainingOf]), so that handlers wrapped by others (a shaper, a mux)
// need no reference to the Server.
//
// Every setting is a functional [Option]; the defaults suit a public
// server.
package httpserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the options.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultGracePeriod       = 10 * time.Second
	DefaultMaxConns          = 4096
	DefaultMaxHeaderBytes    = 64 << 10
)

// ErrGraceExpired is returned by [Server.Serve] when transfers were still
// running at the end of the grace period and were cut.
var ErrGraceExpired = errors.New("httpserver: grace period over, transfers cut")

// ErrServed is returned by a second call of [Server.Serve]: a Server runs
// once.
var ErrServed = errors.New("httpserver: server already started")

// Option configures a [Server].
type Option func(*config)

type config struct {
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	writeTimeout      time.Duration
	readTimeout       time.Duration
	grace             time.Duration
	maxConns          int
	maxHeaderBytes    int
	accessLog         io.Writer
	errorLog          *log.Logger
	protocols         *http.Protocols
	certFile, keyFile string
}

// WithReadHeaderTimeout bounds the time a client has to send its request
// header, from the moment the connection is accepted or becomes active.
func WithReadHeaderTimeout(d time.Duration) Option {
	return func(c *config) { c.readHeaderTimeout = d }
}

// WithIdleTimeout bounds how long a keep-alive connection waits for its
// next request.
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithWriteTimeout bounds each write of a response (and the wait between
// the start of the handler and its first write): the deadline is renewed
// as the writes go on (before a write once a quarter of it has passed), so
// only a client that stops reading is cut off, never a slow but steady
// download. 0 disables it.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithReadTimeout bounds each read of a request body: the deadline is
// renewed on every read, so an upload (a live ingest PUT, a tracker
// announce body) may take as long as it needs while a client that stops
// sending in the middle of its body is cut off. 0 disables it; the
// default is the write timeout's default.
func WithReadTimeout(d time.Duration) Option { return func(c *config) { c.readTimeout = d } }

// WithGracePeriod is how long running requests may continue after
// shutdown begins before their connections are closed.
func WithGracePeriod(d time.Duration) Option { return func(c *config) { c.grace = d } }

// WithMaxConns limits the connections open at once. A new client arriving
// at the limit evicts the connection that has been idle longest (a
// keep-alive connection between requests, or one that has sent no request
// yet); when every connection is running a request, the new one waits in
// the listen queue until one ends. n < 1 means the default.
//
// The limit is lowered to three quarters of the process's open-file limit,
// leaving the rest for the files being served, logs and the listener:
// were the process to run out of descriptors first, accept would fail
// with EMFILE and no connection would ever be evicted, which is how a
// server without a limit stops answering.
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = n } }

// WithMaxHeaderBytes bounds the size of a request header.
func WithMaxHeaderBytes(n int) Option { return func(c *config) { c.maxHeaderBytes = n } }

// WithAccessLog writes one line per request to w, in the Combined Log
// Format followed by the duration in seconds:
//
//	127.0.0.1 - - [06/Dec/2026:11:50:00 +0000] "GET /master.m3u8 HTTP/1.1" 200 1234 "-" "curl/8.5.0" 0.000213
//
// Lines are written whole (one Write call each) under a lock; a nil w
// disables the log.
func WithAccessLog(w io.Writer) Option { return func(c *config) { c.accessLog = w } }

// WithErrorLog receives net/http's own errors (TLS handshakes, panics in
// handlers, accept errors). The default is the log package's standard
// logger.
func WithErrorLog(l *log.Logger) Option { return func(c *config) { c.errorLog = l } }

// WithProtocols sets the protocols the server speaks (net/http's
// default: HTTP/1.1, and HTTP/2 over TLS). An origin adds unencrypted
// HTTP/2 (h2c with prior knowledge), which CDNs and load generators use
// towards it.
func WithProtocols(p *http.Protocols) Option { return func(c *config) { c.protocols = p } }

// WithTLS serves TLS with the certificate and key in these PEM files;
// HTTP/2 and HTTP/1.1 are offered by ALPN. The files are read when Serve
// starts; an error reading them is Serve's error.
func WithTLS(certFile, keyFile string) Option {
	return func(c *config) { c.certFile, c.keyFile = certFile, keyFile }
}

// drainingKey is the request-context key of the server's Draining channel.
type drainingKey struct{}

// DrainingOf returns the Draining channel of the Server serving the
// request whose context is ctx, or nil (a channel that never closes)
// outside a Server.
func DrainingOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainingKey{}).(chan struct{})
	return ch
}

// Server serves one [http.Handler] with the protections of this package.
// It runs once: create it with [New], run it with [Server.Serve] or
// [Server.ListenAndServe].
type Server struct {
	cfg      config
	handler  http.Handler
	logMu    sync.Mutex
	startMu  sync.Mutex
	started  bool
	lim      *limitListener
	draining chan struct{}
}

// New returns a Server for h.
func New(h http.Handler, opts ...Option) *Server {
	cfg := config{
		readHeaderTimeout: DefaultReadHeaderTimeout,
		idleTimeout:       DefaultIdleTimeout,
		writeTimeout:      DefaultWriteTimeout,
		readTimeout:       DefaultWriteTimeout,
		grace:             DefaultGracePeriod,
		maxConns:          DefaultMaxConns,
		maxHeaderBytes:    DefaultMaxHeaderBytes,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxConns < 1 {
		cfg.maxConns = DefaultMaxConns
	}
	if fds := openFileLimit(); fds > 0 {
		cfg.maxConns = max(1, min(cfg.maxConns, fds/4*3))
	}
	return &Server{cfg: cfg, handler: h, draining: make(chan struct{})}
}

// Draining is closed when shutdown begins. Handlers that wait (a blocking
// playlist reload, a long poll) select on it to answer at once instead of
// holding the grace period. Hijacked connections (WebSockets) are neither
// waited for nor closed by the shutdown, as in net/http: their owner
// closes them when Draining is closed. They keep counting against
// WithMaxConns until then, and are never evicted.
func (s *Server) Draining() <-chan struct{} { return s.draining }

// MaxConns returns the connection limit in force: WithMaxConns's, or the
// default, lowered to fit the process's open-file limit.
func (s *Server) MaxConns() int { return s.cfg.maxConns }

// Stats counts the connections of a running server.
type Stats struct {
	Open    int   // connections open now
	Idle    int   // of those, between requests or before the first
	Evicted int64 // idle connections closed to admit a new client
}

// Stats returns the server's connection counts (zero before Serve).
func (s *Server) Stats() Stats {
	s.startMu.Lock()
	lim := s.lim
	s.startMu.Unlock()
	if lim == nil {
		return Stats{}
	}
	return lim.stats()
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx ends, then shuts down: it
// stops accepting, closes idle connections, lets running requests finish
// for the grace period and closes whatever is left. It returns nil after a
// clean shutdown, an error wrapping [ErrGraceExpired] when requests were
// cut, or the listener's error. ln is closed when Serve returns.
//
// Request contexts are cancelled when the grace period ends, not when it
// begins: a transfer that ignores its context still finishes if it can.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.startMu.Lock()
	if s.started {
		s.startMu.Unlock()
		ln.Close()
		return ErrServed
	}
	s.started = true
	s.lim = newLimitListener(ln, s.cfg.maxConns)
	s.startMu.Unlock()

	base, cut := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), drainingKey{}, s.draining))
	defer cut()
	srv := &http.Server{
		Handler:           s.wrap(s.handler),
		ReadHeaderTimeout: s.cfg.readHeaderTimeout,
		IdleTimeout:       s.cfg.idleTimeout,
		MaxHeaderBytes:    s.cfg.maxHeaderBytes,
		ErrorLog:          s.cfg.errorLog,
		ConnState:         s.lim.connState,
		Protocols:         s.cfg.protocols,
		BaseContext:       func(net.Listener) context.Context { return base },
		// WriteTimeout stays 0: net/http's is one deadline for the whole
		// response, which would cut long transfers to healthy clients.
		// wrap renews a deadline on every write instead.
	}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.certFile != "" {
			errc <- srv.ServeTLS(s.lim, s.cfg.certFile, s.cfg.keyFile)
			return
		}
		errc <- srv.Serve(s.lim)
	}()
	select {
	case err := <-errc:
		s.lim.Close()
		return err
	case <-ctx.Done():
	}
	close(s.draining)
	gctx, cancel := context.WithTimeout(context.Background(), s.cfg.grace)
	defer cancel()
	err := srv.Shutdown(gctx)
	<-errc // http.ErrServerClosed, once Shutdown has closed the listener
	if err != nil {
		open := s.lim.stats().Open
		cut()
		srv.Close()
		return fmt.Errorf("%w: %d connections still open after %v", ErrGraceExpired, open, s.cfg.grace)
	}
	return nil
}

// wrap adds the query check, the per-write deadline and the access log.
func (s *Server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		dw := &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: s.cfg.writeTimeout}
		// The deadline left by the previous request on this connection
		// must not cut this one's first write: start a new one now.
		dw.renew()
		if s.cfg.readTimeout > 0 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &deadlineReader{ReadCloser: r.Body, rc: dw.rc, timeout: s.cfg.readTimeout}
		}
		if err := checkQuery(r.URL.RawQuery); err != nil {
			http.Error(dw, "bad query: "+err.Error(), http.StatusBadRequest)
		} else {
			h.ServeHTTP(dw, r)
		}
		if s.cfg.accessLog != nil {
			s.logRequest(r, dw, time.Since(start))
		}
	})
}

// checkQuery reports url.ParseQuery's error for raw. ParseQuery fails
// only on a semicolon or a bad percent escape, so a query without either
// (every LL-HLS blocking reload: _HLS_msn=N&_HLS_part=P) is not parsed:
// parsing builds a map and its strings for every request, which a
// server answering tens of thousands of held requests per second pays
// for nothing.
func checkQuery(raw string) error {
	if !strings.ContainsAny(raw, "%;") {
		return nil
	}
	_, err := url.ParseQuery(raw)
	return err
}

func (s *Server) logRequest(r *http.Request, dw *deadlineWriter, took time.Duration) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	status := dw.status
	if status == 0 {
		status = http.StatusOK
	}
	quote := func(s string) string {
		if s == "" {
			return `"-"`
		}
		return strconv.Quote(s)
	}
	line := fmt.Sprintf("%s - - [%s] %s %d %d %s %s %.6f\n", host, time.Now().Format("02/Jan/2006:15:04:05 -0700"),
		quote(r.Method+" "+r.URL.RequestURI()+" "+r.Proto), status, dw.bytes, quote(r.Referer()), quote(r.UserAgent()), took.Seconds())
	s.logMu.Lock()
	io.WriteString(s.cfg.accessLog, line)
	s.logMu.Unlock()
}

// deadlineReader renews the connection's read deadline before every read
// of the request body. After the body's end (or an error) it renews no
// more: net/http then reads the connection in the background to notice a
// client that goes away, and that read must not time out.
type deadlineReader struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	done    bool
}

func (r *deadlineReader) Read(p []byte) (int, error) {
	if !r.done {
		r.rc.SetReadDeadline(time.Now().Add(r.timeout))
	}
	n, err := r.ReadCloser.Read(p)
	if err != nil {
		r.done = true
	}
	return n, err
}

// writeChunk is the most a single write to the connection carries, so
// that one large Write of a handler is many writes, each under a deadline
// renewed when due.
const writeChunk = 64 << 10

// deadlineWriter renews the connection's write deadline before a write
// once a quarter of the timeout has passed since it was last set: each
// write may then wait between three quarters of the timeout and all of
// it. Renewing before every write would cost a timer update per write
// and, on an HTTP/2 stream, a message to the connection's serving
// goroutine and a timer of its own; a held request answered soon after
// the handler began needs none. It deliberately does not implement
// io.ReaderFrom: net/http would then sendfile a whole file under one
// deadline.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	status  int
	bytes   int64
	set     time.Time // when the deadline was last set
}

func (w *deadlineWriter) renew() {
	if w.timeout > 0 {
		w.set = time.Now()
		w.rc.SetWriteDeadline(w.set.Add(w.timeout))
	}
}

// renewDue renews the deadline when a quarter of the timeout has passed
// since it was set.
func (w *deadlineWriter) renewDue() {
	if w.timeout > 0 && time.Since(w.set) >= w.timeout/4 {
		w.renew()
	}
}

func (w *deadlineWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.renewDue()
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	total := 0
	for len(p) > 0 {
		n := min(len(p), writeChunk)
		w.renewDue()
		m, err := w.ResponseWriter.Write(p[:n])
		total += m
		w.bytes += int64(m)
		if err != nil {
			return total, err
		}
		p = p[n:]
	}
	return total, nil
}

// Flush sends buffered data (LL-HLS parts, chunked CMAF) under a renewed
// deadline.
func (w *deadlineWriter) Flush() {
	w.renewDue()
	w.rc.Flush()
}

// Hijack hands the connection over (WebSocket upgrades) with its
// deadlines cleared: from then on the new owner sets them.
func (w *deadlineWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := w.rc.Hijack()
	if err == nil {
		c.SetDeadline(time.Time{})
	}
	return c, rw, err
}

// Unwrap lets http.NewResponseController reach the connection.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
