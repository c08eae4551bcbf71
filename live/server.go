package live

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
)

// ServerConfig is how Serve runs the origin.
type ServerConfig struct {
	// CertFile and KeyFile turn on TLS (HTTP/2 over TLS, HTTP/1.1).
	// Without them the server speaks HTTP/1.1 and HTTP/2 without TLS
	// (h2c, prior knowledge), which is what CDNs and load generators use
	// towards an origin.
	CertFile, KeyFile string
	// MaxConns bounds open connections (default 20000); at the limit the
	// connection idle longest is closed to admit a new one.
	MaxConns int
	// ReadHeaderTimeout (default 10 s) and IdleTimeout (default 120 s)
	// bound each connection; WriteTimeout (default: the longest hold
	// plus 10 s) bounds each write of a response, and the wait before
	// its first.
	ReadHeaderTimeout, IdleTimeout, WriteTimeout time.Duration
	// ShutdownTimeout bounds the drain after ctx is done (default 5 s).
	ShutdownTimeout time.Duration
	// AccessLog, when set, receives one Combined Log Format line per
	// request.
	AccessLog io.Writer
	// OnShutdown, when set, is called in its own goroutine when the
	// shutdown begins, as http.Server.RegisterOnShutdown's functions are:
	// the place to close hijacked connections (a tracker's WebSockets),
	// which the drain neither waits for nor closes.
	OnShutdown func()
}

// Serve serves h on ln until ctx is done, then shuts down gracefully:
// requests held waiting for media (blocking playlist reloads, preload
// hints, the first manifest) are answered 503 at once, the listener
// closes, and in-flight transfers (a segment streamed while in progress)
// drain for up to ShutdownTimeout. It returns nil after a clean shutdown.
//
// The server is the project's shared one (internal/httpserver: timeouts
// renewed per write, a connection limit that evicts idle connections,
// graceful drain, 400 for a malformed query); this function only chooses
// the origin's settings: h2c next to HTTP/1.1 (or h2 over TLS), and a
// write timeout longer than the longest hold. p may be nil (an edge
// without a packager): the write timeout is then 10 s.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, p *Packager, cfg ServerConfig) error {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 20000
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		// A response may legitimately wait the longest hold before its
		// first byte.
		cfg.WriteTimeout = 10 * time.Second
		if p != nil {
			cfg.WriteTimeout += p.HoldLimit()
		}
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	opts := []httpserver.Option{
		httpserver.WithProtocols(protos),
		httpserver.WithMaxConns(cfg.MaxConns),
		httpserver.WithReadHeaderTimeout(cfg.ReadHeaderTimeout),
		httpserver.WithIdleTimeout(cfg.IdleTimeout),
		httpserver.WithWriteTimeout(cfg.WriteTimeout),
		httpserver.WithReadTimeout(cfg.ReadHeaderTimeout), // requests have no bodies
		httpserver.WithGracePeriod(cfg.ShutdownTimeout),
		httpserver.WithMaxHeaderBytes(16 << 10),
		httpserver.WithAccessLog(cfg.AccessLog),
	}
	if cfg.CertFile != "" {
		opts = append(opts, httpserver.WithTLS(cfg.CertFile, cfg.KeyFile))
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := httpserver.New(h, opts...)
	if cfg.OnShutdown == nil {
		return srv.Serve(ctx, ln)
	}
	done, called := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(called)
		select {
		case <-srv.Draining():
			cfg.OnShutdown()
		case <-done:
		}
	}()
	err := srv.Serve(ctx, ln)
	close(done)
	<-called // nothing of the server outlives Serve
	return err
}
