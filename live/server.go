package live

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerConfig is how Serve runs the origin.
type ServerConfig struct {
	// CertFile and KeyFile turn on TLS (HTTP/2 over TLS, HTTP/1.1).
	// Without them the server speaks HTTP/1.1 and HTTP/2 without TLS
	// (h2c, prior knowledge), which is what CDNs and load generators use
	// towards an origin.
	CertFile, KeyFile string
	// MaxConns bounds open connections (default 20000); further ones wait
	// in the listen backlog.
	MaxConns int
	// ReadHeaderTimeout (default 10 s), IdleTimeout (default 120 s) and
	// WriteTimeout (default: the longest hold plus 10 s) bound each
	// connection.
	ReadHeaderTimeout, IdleTimeout, WriteTimeout time.Duration
	// ShutdownTimeout bounds the drain after ctx is done (default 5 s).
	ShutdownTimeout time.Duration
}

// Serve serves h on ln until ctx is done, then shuts down gracefully:
// held requests are released at once (their contexts derive from the
// server's, which is cancelled first), the listener closes, and
// in-flight responses drain for up to ShutdownTimeout. It returns nil
// after a clean shutdown.
//
// All of the origin's server setup is in this one function (protocols,
// timeouts, connection limit, shutdown), so that it can move onto a
// shared server package unchanged.
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
		// A response may legitimately take the longest hold (a segment
		// streamed while in progress) before its last byte.
		cfg.WriteTimeout = 10 * time.Second
		if p != nil {
			cfg.WriteTimeout += p.HoldLimit()
		}
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	if cfg.CertFile == "" {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadHeaderTimeout + 5*time.Second, // requests have no bodies
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		Protocols:         protos,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	ln = &limitListener{Listener: ln, sem: make(chan struct{}, cfg.MaxConns), done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		var err error
		if cfg.CertFile != "" {
			err = srv.ServeTLS(ln, cfg.CertFile, cfg.KeyFile)
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cancelBase()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// limitListener caps open connections: Accept waits for a free slot.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
