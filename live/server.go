package live

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
)

// ServeOption sets how Serve runs the origin.
type ServeOption func(*serveConfig)

type serveConfig struct {
	certFile, keyFile                            string
	maxConns                                     int
	readHeaderTimeout, idleTimeout, writeTimeout time.Duration
	shutdownTimeout                              time.Duration
	accessLog                                    io.Writer
	onShutdown                                   func()
}

// WithTLS turns on TLS (HTTP/2 over TLS, HTTP/1.1) with these PEM files.
// Without it the server speaks HTTP/1.1 and HTTP/2 without TLS (h2c,
// prior knowledge), which is what CDNs and load generators use towards an
// origin.
func WithTLS(certFile, keyFile string) ServeOption {
	return func(c *serveConfig) { c.certFile, c.keyFile = certFile, keyFile }
}

// WithMaxConns bounds open connections (default 20000); at the limit the
// connection idle longest is closed to admit a new one.
func WithMaxConns(n int) ServeOption { return func(c *serveConfig) { c.maxConns = n } }

// WithTimeouts sets the read-header (default 10 s) and idle (default
// 120 s) timeouts of each connection, and the write timeout (default: the
// longest hold plus 10 s) that bounds each write of a response and the
// wait before its first. Zero keeps a default. A write timeout shorter
// than the longest wait of a held request (the first playlist's: HoldLimit
// + 5 s, plus a second of margin) is raised to that: a shorter one would
// reset a request the origin is still entitled to answer.
func WithTimeouts(readHeader, idle, write time.Duration) ServeOption {
	return func(c *serveConfig) { c.readHeaderTimeout, c.idleTimeout, c.writeTimeout = readHeader, idle, write }
}

// WithShutdownTimeout bounds the drain after ctx is done (default 5 s).
func WithShutdownTimeout(d time.Duration) ServeOption {
	return func(c *serveConfig) { c.shutdownTimeout = d }
}

// WithAccessLog writes one Combined Log Format line per request to w.
func WithAccessLog(w io.Writer) ServeOption { return func(c *serveConfig) { c.accessLog = w } }

// WithOnShutdown calls fn in its own goroutine when the shutdown begins,
// as http.Server.RegisterOnShutdown's functions are: the place to close
// hijacked connections (a tracker's WebSockets), which the drain neither
// waits for nor closes.
func WithOnShutdown(fn func()) ServeOption { return func(c *serveConfig) { c.onShutdown = fn } }

// Serve serves h on ln until ctx is done, then shuts down gracefully:
// requests held waiting for media (blocking playlist reloads, preload
// hints, the first manifest) are answered 503 at once, the listener
// closes, and in-flight transfers (a segment streamed while in progress)
// drain for up to the shutdown timeout (WithShutdownTimeout). It returns nil after a clean shutdown.
//
// The server is the project's shared one (internal/httpserver: timeouts
// renewed per write, a connection limit that evicts idle connections,
// graceful drain, 400 for a malformed query); this function only chooses
// the origin's settings: h2c next to HTTP/1.1 (or h2 over TLS), and a
// write timeout longer than the longest hold. p may be nil (an edge
// without a packager): the write timeout is then 10 s.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, p *Packager, opts ...ServeOption) error {
	var cfg serveConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxConns <= 0 {
		cfg.maxConns = 20000
	}
	if cfg.readHeaderTimeout <= 0 {
		cfg.readHeaderTimeout = 10 * time.Second
	}
	if cfg.idleTimeout <= 0 {
		cfg.idleTimeout = 120 * time.Second
	}
	cfg.writeTimeout = writeTimeoutFor(cfg.writeTimeout, p)
	if cfg.shutdownTimeout <= 0 {
		cfg.shutdownTimeout = 5 * time.Second
	}
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	sopts := []httpserver.Option{
		httpserver.WithProtocols(protos),
		httpserver.WithMaxConns(cfg.maxConns),
		httpserver.WithReadHeaderTimeout(cfg.readHeaderTimeout),
		httpserver.WithIdleTimeout(cfg.idleTimeout),
		httpserver.WithWriteTimeout(cfg.writeTimeout),
		httpserver.WithReadTimeout(cfg.readHeaderTimeout), // requests have no bodies
		httpserver.WithGracePeriod(cfg.shutdownTimeout),
		httpserver.WithMaxHeaderBytes(16 << 10),
		httpserver.WithAccessLog(cfg.accessLog),
	}
	if cfg.certFile != "" {
		sopts = append(sopts, httpserver.WithTLS(cfg.certFile, cfg.keyFile))
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := httpserver.New(h, sopts...)
	if cfg.onShutdown == nil {
		return srv.Serve(ctx, ln)
	}
	done, called := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(called)
		select {
		case <-srv.Draining():
			cfg.onShutdown()
		case <-done:
		}
	}()
	err := srv.Serve(ctx, ln)
	close(done)
	<-called // nothing of the server outlives Serve
	return err
}

// writeTimeoutFor is the write timeout Serve uses for the configured one
// (0: the default).
func writeTimeoutFor(configured time.Duration, p *Packager) time.Duration {
	if p == nil {
		if configured <= 0 {
			return 10 * time.Second
		}
		return configured
	}
	if configured <= 0 {
		// A response may legitimately wait the longest hold before its
		// first byte.
		return p.HoldLimit() + 10*time.Second
	}
	return max(configured, p.HoldLimit()+firstWaitSlack+time.Second)
}
