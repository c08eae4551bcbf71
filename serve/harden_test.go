package serve_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
	"github.com/streamkit-go/streamkit/serve"
)

// fuzzTree is hostileTree for a fuzz target.
func fuzzTree(f *testing.F) string {
	dir := f.TempDir()
	for name, body := range map[string]string{
		"master.m3u8": "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", "v/seg_1.m4s": "0123456789", ".env": "TOKEN=1",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink("/etc", filepath.Join(dir, "etc")); err != nil {
		f.Fatal(err)
	}
	return dir
}

// hostileTree is a presentation with a dotfile, a dot directory, a
// symbolic link out of the tree and one inside it.
func hostileTree(t *testing.T) string {
	t.Helper()
	dir := presentation(t)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(outside, []byte("secret"), 0o644))
	must(os.WriteFile(filepath.Join(dir, ".env"), []byte("TOKEN=1"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	must(os.WriteFile(filepath.Join(dir, ".git", "config"), []byte("[core]"), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "escape.m3u8")))
	must(os.Symlink(filepath.Dir(outside), filepath.Join(dir, "escapedir")))
	must(os.Symlink("v/seg_1.m4s", filepath.Join(dir, "inside.m4s")))
	return dir
}

func status(t *testing.T, h http.Handler, path string, hdr ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	req.URL.Path, req.URL.RawPath = path, ""
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestNothingOutsideTheTreeOrHidden(t *testing.T) {
	h, _ := serve.Handler(hostileTree(t), serve.WithPlayerJS(fakePlayerJS(t)))
	for _, p := range []string{
		"/./", "/.", "/v/", "/v", "//master.m3u8", "/v/../master.m3u8", "/v/./init.mp4",
		"/.env", "/.git/config", "/.git/", "/v/.hidden",
		"/escape.m3u8", "/escapedir/secret.txt",
		"/master.m3u8\x00", "/a\x00b", "/v/\x01", "/" + strings.Repeat("a", 300), "/" + strings.Repeat("a/", 3000) + "x",
		`/v\init.mp4`,
	} {
		code, body := status(t, h, p)
		if code != http.StatusNotFound {
			t.Errorf("GET %q: %d, want 404", p, code)
		}
		if strings.Contains(body, "secret") || strings.Contains(body, "TOKEN") || strings.Contains(body, "init.mp4") {
			t.Errorf("GET %q leaks %q", p, body)
		}
	}
	if code, body := status(t, h, "/inside.m4s"); code != 200 || body != "0123456789" {
		t.Errorf("symlink inside the tree: %d %q", code, body)
	}
}

func TestDotfilesAndListingsWhenAsked(t *testing.T) {
	h, _ := serve.Handler(hostileTree(t), serve.WithPlayerJS(fakePlayerJS(t)), serve.WithDotfiles(), serve.WithDirListings())
	if code, body := status(t, h, "/.env"); code != 200 || body != "TOKEN=1" {
		t.Errorf("/.env with WithDotfiles: %d %q", code, body)
	}
	code, body := status(t, h, "/v/")
	if code != 200 || !strings.Contains(body, `href="/v/init.mp4"`) {
		t.Errorf("/v/ with WithDirListings: %d %q", code, body)
	}
	if code, _ := status(t, h, "/escape.m3u8"); code != 404 {
		t.Errorf("symlink out of the tree with every option: %d", code)
	}
	h, _ = serve.Handler(hostileTree(t), serve.WithPlayerJS(fakePlayerJS(t)), serve.WithDirListings())
	if code, body := status(t, h, "/v/"); code != 200 || !strings.Contains(body, "seg_1.m4s") {
		t.Errorf("/v/ listing: %d %q", code, body)
	}
	if _, body := status(t, h, "/escapedir/"); strings.Contains(body, "secret") {
		t.Errorf("listing through a symlink out of the tree: %q", body)
	}
	if _, body := status(t, h, "/.git/"); strings.Contains(body, "config") {
		t.Errorf("listing of a dot directory without WithDotfiles: %q", body)
	}
}

func TestRangesPerRequestCapped(t *testing.T) {
	h, _ := serve.Handler(presentation(t), serve.WithPlayerJS(fakePlayerJS(t)))
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("%d-%d", i%10, i%10)
	}
	code, _ := status(t, h, "/v/seg_1.m4s", "Range", "bytes="+strings.Join(many, ","))
	if code != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("1,000 ranges: %d, want 416", code)
	}
	code, body := status(t, h, "/v/seg_1.m4s", "Range", "bytes=0-1,4-5")
	if code != http.StatusPartialContent || !strings.Contains(body, "01") || !strings.Contains(body, "45") {
		t.Errorf("two ranges: %d %q", code, body)
	}
	h, _ = serve.Handler(presentation(t), serve.WithPlayerJS(fakePlayerJS(t)), serve.WithMaxRanges(1))
	if code, _ := status(t, h, "/v/seg_1.m4s", "Range", "bytes=0-1,4-5"); code != 416 {
		t.Errorf("two ranges with WithMaxRanges(1): %d, want 416", code)
	}
}

func TestHostilePlayerQuery(t *testing.T) {
	h, _ := serve.Handler(presentation(t), serve.WithPlayerJS(fakePlayerJS(t)))
	for _, q := range []string{
		"src=https://evil.example/x.m3u8", "src=//evil.example/x.m3u8", "src=javascript:alert(1)",
		"src=/x\"><script>", "report=http://evil.example/", "until=NaN", "until=1e400", "src=" + strings.Repeat("/a", 5000),
	} {
		req := httptest.NewRequest("GET", serve.PlayerPath+"?"+q, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("?%.60s: %d, want 400", q, rec.Code)
		}
	}
	req := httptest.NewRequest("GET", serve.PlayerPath+"?src=/master.m3u8&test=1&report=/_test/report&until=5.5", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("the browser test's own query: %d", rec.Code)
	}
}

// serveOn runs h with httpserver on 127.0.0.1, as streamkit serve does.
func serveOn(t *testing.T, h http.Handler, opts ...httpserver.Option) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- httpserver.New(h, opts...).Serve(ctx, ln) }()
	var once bool
	var res error
	stop := func() error {
		if !once {
			once = true
			cancel()
			select {
			case res = <-errc:
			case <-time.After(60 * time.Second):
				t.Fatal("Serve did not return 60 s after shutdown")
			}
		}
		return res
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

func bigFile(t *testing.T, size int) string {
	t.Helper()
	dir := presentation(t)
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.mp4"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func rawGet(t *testing.T, addr, path string, rcvbuf int) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(rcvbuf)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, br, resp
}

func TestShutdownDuringTransferCompletesIt(t *testing.T) {
	const size = 20 << 20
	h, _ := serve.Handler(bigFile(t, size), serve.WithPlayerJS(fakePlayerJS(t)))
	addr, stop := serveOn(t, h, httpserver.WithGracePeriod(time.Minute), httpserver.WithWriteTimeout(5*time.Second))
	c, br, resp := rawGet(t, addr, "/big.mp4", 64<<10)
	defer c.Close()
	if resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("status %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	head := make([]byte, 1<<20)
	if _, err := io.ReadFull(br, head); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	buf := make([]byte, 256<<10)
	n := int64(len(head))
	for n < size {
		k, err := br.Read(buf)
		for i := 0; i < k; i++ {
			if buf[i] != byte((n+int64(i))*7) {
				t.Fatalf("byte %d wrong", n+int64(i))
			}
		}
		n += int64(k)
		if err != nil {
			t.Fatalf("transfer cut at %d of %d bytes by shutdown: %v", n, size, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestReaderThatNeverReadsIsCutOff(t *testing.T) {
	const size = 64 << 20
	h, _ := serve.Handler(bigFile(t, size), serve.WithPlayerJS(fakePlayerJS(t)))
	// The grace period is long: only the write timeout can end the
	// stalled transfer before it.
	addr, stop := serveOn(t, h, httpserver.WithWriteTimeout(300*time.Millisecond), httpserver.WithGracePeriod(time.Minute))
	c, _, _ := rawGet(t, addr, "/big.mp4", 16<<10)
	defer c.Close()
	time.Sleep(time.Second) // more than three write timeouts, no reading
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a reader that never reads still holds its transfer 30 s into shutdown (write timeout 300 ms)")
	}
}

// BenchmarkSegment measures serving a 2 MB segment (the hot path of a
// player session) through the handler.
func BenchmarkSegment(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "seg_1.m4s"), make([]byte, 2<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	h, _ := serve.Handler(dir)
	req := httptest.NewRequest("GET", "/seg_1.m4s", nil)
	b.SetBytes(2 << 20)
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 200 || w.n != 2<<20 {
			b.Fatal(w.code, w.n)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status and the
// byte count, so the benchmark measures the handler, not a buffer.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	w.n += len(p)
	return len(p), nil
}
