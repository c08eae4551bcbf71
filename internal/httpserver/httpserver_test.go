package httpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
	"github.com/streamkit-go/streamkit/internal/testcert"
)

// start runs a Server for h on 127.0.0.1 and returns its address and a
// function that stops it and returns Serve's result.
func start(t testing.TB, h http.Handler, opts ...httpserver.Option) (*httpserver.Server, string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := httpserver.New(h, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	stopped := false
	var result error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-errc:
			case <-time.After(60 * time.Second):
				t.Fatal("Serve did not return within 60 s of shutdown")
			}
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return s, ln.Addr().String(), stop
}

// stream writes size bytes of a repeating pattern in 32 KiB writes and
// reports how the handler ended.
func stream(size int64, done chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		buf := bytes.Repeat([]byte("streamkit"), 32<<10/9)
		var err error
		for n := int64(0); n < size && err == nil; {
			k := min(int64(len(buf)), size-n)
			_, err = w.Write(buf[:k])
			n += k
		}
		if done != nil {
			done <- err
		}
	})
}

// get sends a GET on a raw connection and returns it with a reader
// positioned at the body.
func get(t testing.TB, addr, path string, rcvbuf int) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rcvbuf > 0 {
		c.(*net.TCPConn).SetReadBuffer(rcvbuf)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	br := bufio.NewReaderSize(c, 1<<10)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, br, resp
}

// readSlowly reads the body in 256 KiB steps with a pause after each, so
// the whole transfer takes far longer than one write timeout.
func readSlowly(r io.Reader, pause time.Duration) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := io.ReadFull(r, buf)
		n += int64(k)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		time.Sleep(pause)
	}
}

func TestIdleConnectionsDoNotLockOutNewClient(t *testing.T) {
	const idle, maxConns = 10000, 256
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	need := uint64(idle + maxConns + 256)
	if lim.Cur < need {
		lim.Cur = min(need, lim.Max)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		if lim.Cur < need {
			t.Skipf("RLIMIT_NOFILE is %d, the test needs %d open files (raise the hard limit)", lim.Cur, need)
		}
	}
	// Long header and idle timeouts: the idle sockets must stay until
	// the limit itself deals with them.
	s, addr, _ := start(t, stream(1000, nil), httpserver.WithMaxConns(maxConns),
		httpserver.WithReadHeaderTimeout(5*time.Minute), httpserver.WithIdleTimeout(5*time.Minute))
	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; i < idle; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("only %d idle connections opened in 2 minutes", i)
		}
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	// Half of the survivors have had a request and sit in keep-alive.
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get("http://" + addr + "/new")
	if err != nil {
		t.Fatalf("new client with %d idle connections open: %v", idle, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 1000 {
		t.Fatalf("new client: status %d, %d bytes", resp.StatusCode, len(body))
	}
	st := s.Stats()
	t.Logf("%d idle connections dialled, limit %d: %+v", idle, maxConns, st)
	if st.Open > maxConns+1 {
		t.Errorf("%d connections open, limit %d", st.Open, maxConns)
	}
	if st.Evicted < idle-maxConns {
		t.Errorf("evicted %d, want at least %d", st.Evicted, idle-maxConns)
	}
}

func TestActiveConnectionsAreNotEvicted(t *testing.T) {
	// Two slots, both running a transfer the client reads slowly: a third
	// client waits for a slot instead of cutting one.
	done := make(chan error, 3)
	s, addr, _ := start(t, stream(8<<20, done), httpserver.WithMaxConns(2))
	var bodies [2]io.Reader
	for i := range bodies {
		c, br, resp := get(t, addr, "/", 64<<10)
		defer c.Close()
		bodies[i] = io.LimitReader(br, resp.ContentLength)
	}
	third := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Get("http://" + addr + "/")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		third <- err
	}()
	for i, br := range bodies {
		n, err := readSlowly(br, time.Millisecond)
		if err != nil || n != 8<<20 {
			t.Fatalf("transfer %d: %d bytes, %v (evicted while active?)", i, n, err)
		}
	}
	if err := <-third; err != nil {
		t.Fatalf("third client: %v", err)
	}
	// The third client got in by evicting one of the two once its
	// transfer had ended and it sat idle in keep-alive.
	if ev := s.Stats().Evicted; ev != 1 {
		t.Errorf("evicted %d connections, want the 1 that went idle", ev)
	}
}

func TestStalledReaderIsCutOff(t *testing.T) {
	done := make(chan error, 1)
	_, addr, _ := start(t, stream(1<<40, done), httpserver.WithWriteTimeout(200*time.Millisecond))
	c, _, _ := get(t, addr, "/", 16<<10)
	defer c.Close()
	// The client never reads again.
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("handler finished a 1 TiB response to a client that does not read")
		}
		t.Logf("cut off: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("a client that never reads still held its handler after 30 s (write timeout 200 ms)")
	}
}

func TestSlowHealthyReaderFinishes(t *testing.T) {
	// Each write has 2 s, the client drains 256 KiB every 50 ms: no write
	// waits anywhere near the timeout (a margin of 40 for a loaded
	// machine), but the whole transfer takes twice as long as one timeout.
	const size = 20 << 20
	done := make(chan error, 1)
	_, addr, _ := start(t, stream(size, done), httpserver.WithWriteTimeout(2*time.Second))
	c, br, resp := get(t, addr, "/", 64<<10)
	defer c.Close()
	n, err := readSlowly(io.LimitReader(br, resp.ContentLength), 50*time.Millisecond)
	if err != nil || n != size {
		t.Fatalf("read %d of %d bytes: %v", n, size, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("handler: %v", err)
	}
}

func TestShutdownLetsTransferFinish(t *testing.T) {
	const size = 20 << 20
	done := make(chan error, 1)
	_, addr, stop := start(t, stream(size, done), httpserver.WithGracePeriod(time.Minute))
	c, br, resp := get(t, addr, "/", 64<<10)
	defer c.Close()
	if _, err := io.ReadFull(br, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	n, err := readSlowly(io.LimitReader(br, resp.ContentLength-1<<20), 5*time.Millisecond)
	if err != nil || n+1<<20 != size {
		t.Fatalf("transfer cut by shutdown: %d of %d bytes, %v", n+1<<20, size, err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve after a drained shutdown: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after shutdown")
	}
}

func TestShutdownCutsAfterGrace(t *testing.T) {
	_, addr, stop := start(t, stream(1<<40, nil), httpserver.WithGracePeriod(200*time.Millisecond), httpserver.WithWriteTimeout(0))
	c, _, _ := get(t, addr, "/", 16<<10)
	defer c.Close()
	if err := stop(); !errors.Is(err, httpserver.ErrGraceExpired) {
		t.Fatalf("Serve = %v, want ErrGraceExpired", err)
	}
}

func TestBadQueryIs400(t *testing.T) {
	called := 0
	_, addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ }))
	for _, q := range []string{"a=%zz", "a=1;b=2", "%", "src=%00%ff&x=%g0"} {
		c, _, resp := get(t, addr, "/?"+q, 0)
		c.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400", q, resp.StatusCode)
		}
	}
	if called != 0 {
		t.Errorf("handler called %d times for bad queries", called)
	}
}

func TestAccessLog(t *testing.T) {
	var log syncBuffer
	_, addr, stop := start(t, stream(1234, nil), httpserver.WithAccessLog(&log))
	resp, err := http.Get("http://" + addr + "/a.m3u8?x=1")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	stop()
	line := log.String()
	for _, want := range []string{"127.0.0.1 - - [", `"GET /a.m3u8?x=1 HTTP/1.1" 200 1234 "-" "Go-http-client/1.1" `} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %q lacks %q", line, want)
		}
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMaxConnsFitsOpenFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	old := lim
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	lim.Cur = 1000
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	if n := httpserver.New(nil, httpserver.WithMaxConns(100000)).MaxConns(); n != 750 {
		t.Errorf("with 1,000 open files allowed, MaxConns = %d, want 750", n)
	}
	if n := httpserver.New(nil, httpserver.WithMaxConns(10)).MaxConns(); n != 10 {
		t.Errorf("MaxConns(10) = %d", n)
	}
	if n := httpserver.New(nil).MaxConns(); n != 750 {
		t.Errorf("default with 1,000 open files allowed: %d, want 750", n)
	}
}

func TestStalledUploadIsCutOff(t *testing.T) {
	got := make(chan error, 1)
	_, addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err == nil {
			err = fmt.Errorf("read all %d bytes", n)
		}
		got <- err
	}), httpserver.WithReadTimeout(200*time.Millisecond))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789")
	select {
	case err := <-got:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("handler's body read ended with %v, want a timeout", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a client that stopped sending its body still held the handler after 30 s (read timeout 200 ms)")
	}
}

func TestSlowUploadFinishes(t *testing.T) {
	got := make(chan int64, 1)
	_, addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got <- n
		io.WriteString(w, "ok")
	}), httpserver.WithReadTimeout(2*time.Second))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// 40 pieces 100 ms apart: 4 s in all, twice the read timeout.
	fmt.Fprintf(c, "PUT /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n")
	piece := bytes.Repeat([]byte("x"), 1000)
	for range 40 {
		if _, err := c.Write(piece); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := <-got; n != 40000 || resp.StatusCode != 200 {
		t.Fatalf("slow upload: %d of 40000 bytes, status %d", n, resp.StatusCode)
	}
}

// A hijacked connection (a WebSocket upgrade) belongs to its new owner:
// the write deadline of the request does not follow it.
func TestHijackClearsDeadlines(t *testing.T) {
	_, addr, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		time.Sleep(500 * time.Millisecond) // five write timeouts
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\nhello")
		if err := brw.Flush(); err != nil {
			t.Errorf("write on the hijacked connection: %v", err)
		}
	}), httpserver.WithWriteTimeout(100*time.Millisecond))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, _ := io.ReadAll(c)
	if !strings.HasSuffix(string(b), "hello") {
		t.Errorf("read %q", b)
	}
}

// TestTLSAndDrainingOf: WithTLS serves h2 over TLS and, with
// WithProtocols, h2c on a plain port; a held request sees DrainingOf
// close when shutdown begins and answers at once; TLS connections count
// against the limit.
func TestTLSAndDrainingOf(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		held := make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/hold" {
				close(held)
				select {
				case <-httpserver.DrainingOf(r.Context()):
					http.Error(w, "draining", http.StatusServiceUnavailable)
				case <-time.After(30 * time.Second):
				}
				return
			}
			io.WriteString(w, r.Proto)
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		protos := new(http.Protocols)
		protos.SetHTTP1(true)
		protos.SetHTTP2(true)
		opts := []httpserver.Option{httpserver.WithProtocols(protos), httpserver.WithGracePeriod(20 * time.Second)}
		client := &http.Client{}
		scheme := "http"
		if tlsOn {
			certFile, keyFile, pool := testcert.Write(t)
			opts = append(opts, httpserver.WithTLS(certFile, keyFile))
			client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
			scheme = "https"
		} else {
			protos.SetUnencryptedHTTP2(true)
			cp := new(http.Protocols)
			cp.SetUnencryptedHTTP2(true)
			client.Transport = &http.Transport{Protocols: cp}
		}
		srv := httpserver.New(h, opts...)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, ln) }()
		base := scheme + "://" + ln.Addr().String()
		resp, err := client.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "HTTP/2.0" {
			t.Errorf("tls %v: protocol %q, want HTTP/2.0", tlsOn, b)
		}
		if st := srv.Stats(); st.Open != 1 {
			t.Errorf("tls %v: stats %+v, want 1 open", tlsOn, st)
		}
		code := make(chan int, 1)
		go func() {
			resp, err := client.Get(base + "/hold")
			if err != nil {
				code <- -1
				return
			}
			resp.Body.Close()
			code <- resp.StatusCode
		}()
		<-held
		cancel()
		if c := <-code; c != http.StatusServiceUnavailable {
			t.Errorf("tls %v: held request %d, want 503", tlsOn, c)
		}
		if err := <-done; err != nil {
			t.Errorf("tls %v: Serve: %v", tlsOn, err)
		}
		client.CloseIdleConnections()
	}
	if httpserver.DrainingOf(context.Background()) != nil {
		t.Error("httpserver.DrainingOf outside a server is not nil")
	}
}
