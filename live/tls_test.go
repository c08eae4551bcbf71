package live

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/testcert"
)

// TestServeTLS: with a certificate the origin speaks h2 over TLS (ALPN).
func TestServeTLS(t *testing.T) {
	s := newTestStream(t)
	s.to(3 * time.Second)
	certFile, keyFile, pool := testcert.Write(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, NewOrigin(s.p), s.p, WithTLS(certFile, keyFile))
	}()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	c := &http.Client{Transport: tr}
	resp, err := c.Get("https://" + ln.Addr().String() + "/live/master.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" || resp.TLS == nil {
		t.Errorf("got %s %d", resp.Proto, resp.StatusCode)
	}
	tr.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
