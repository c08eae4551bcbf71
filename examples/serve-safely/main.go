// Command serve-safely shows what keeps `streamkit serve` (and every
// streamkit server, which runs on the same internal/httpserver) safe to
// put on a network: what it refuses to serve, how it survives thousands
// of idle sockets and a client that stops reading, and how Ctrl-C lets a
// running download finish.
//
//	go run ./examples/serve-safely
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
	"github.com/streamkit-go/streamkit/serve"
)

func main() {
	log.SetFlags(0)
	root, err := os.MkdirTemp("", "streamkit-serve-safely-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	tree := filepath.Join(root, "out")
	// A presentation, plus what must never leave the machine: a dotfile
	// and a symbolic link to a file outside the tree.
	must(os.MkdirAll(filepath.Join(tree, "v"), 0o755))
	must(os.WriteFile(filepath.Join(tree, "master.m3u8"), []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nv/index.m3u8\n"), 0o644))
	must(os.WriteFile(filepath.Join(tree, "v", "seg_1.m4s"), make([]byte, 24<<20), 0o644))
	must(os.WriteFile(filepath.Join(tree, ".env"), []byte("API_TOKEN=secret\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "passwd"), []byte("root:x:0:0\n"), 0o644))
	must(os.Symlink(filepath.Join(root, "passwd"), filepath.Join(tree, "passwd.m3u8")))

	h, _ := serve.Handler(tree) // the error only says hls.js is not installed
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	addr := ln.Addr().String()
	srv := httpserver.New(h,
		httpserver.WithMaxConns(64),
		httpserver.WithReadHeaderTimeout(time.Minute), // long, so idle sockets stay until the limit acts
		httpserver.WithWriteTimeout(500*time.Millisecond),
		httpserver.WithGracePeriod(30*time.Second))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	fmt.Println("1. What is served and what is not (streamkit serve's defaults)")
	many := strings.TrimSuffix(strings.Repeat("0-0,", 1000), ",")
	for _, r := range []struct{ path, rng, why string }{
		{"/master.m3u8", "", "a playlist"},
		{"/v/seg_1.m4s", "bytes=0-99", "a byte range, as players ask"},
		{"/.env", "", "dotfiles (--allow-dotfiles to serve them)"},
		{"/./", "", "a non-canonical path: no directory listing (--list-dirs)"},
		{"/v/", "", "a directory"},
		{"/passwd.m3u8", "", "a symbolic link out of the tree"},
		{"/v/seg_1.m4s%00.js", "", "a NUL byte in the name"},
		{"/" + strings.Repeat("a", 300), "", "a name longer than a file system allows"},
		{"/v/seg_1.m4s", "bytes=" + many, "1,000 ranges in one request (--max-ranges 200)"},
		{"/_player/?src=https://evil.example/x.m3u8", "", "a player page pointed at another site"},
		{"/?q=%zz", "", "a query string that does not parse"},
	} {
		fmt.Printf("   %3d  %-42.42s %s\n", status(addr, r.path, r.rng), r.path, r.why)
	}

	fmt.Println("\n2. 1,000 idle connections against a limit of 64")
	var idle []net.Conn
	for range 1000 {
		c, err := net.Dial("tcp", addr)
		must(err)
		idle = append(idle, c)
	}
	start := time.Now()
	code := status(addr, "/master.m3u8", "")
	st := srv.Stats()
	fmt.Printf("   a new player still gets %d in %v: %d connections open, %d idle ones closed to make room\n",
		code, time.Since(start).Round(time.Millisecond), st.Open, st.Evicted)
	fmt.Println("   (a plain limit would leave it queued behind the idle sockets until their timeouts)")
	for _, c := range idle {
		c.Close()
	}

	fmt.Println("\n3. A client that asks for 24 MiB and never reads")
	c, _ := request(addr, "/v/seg_1.m4s", 16<<10)
	start = time.Now()
	for srv.Stats().Open > 0 && time.Since(start) < 20*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("   cut off %v later: one write waited the 500 ms write timeout\n", time.Since(start).Round(100*time.Millisecond))
	c.Close()

	fmt.Println("\n4. Ctrl-C during a 24 MiB download read at a steady, slow pace")
	c, br := request(addr, "/v/seg_1.m4s", 64<<10)
	defer c.Close()
	got, _ := io.ReadFull(br, make([]byte, 1<<20))
	stop() // what Ctrl-C does in streamkit serve
	shutdown := time.Now()
	buf := make([]byte, 256<<10)
	for {
		n, err := br.Read(buf)
		got += n
		if err != nil || got >= 24<<20 {
			break
		}
		time.Sleep(5 * time.Millisecond) // the write timeout is renewed on every write
	}
	err = <-served
	fmt.Printf("   the client received %.1f of 24 MiB; Serve returned %v %v after shutdown began\n",
		float64(got)/(1<<20), err, time.Since(shutdown).Round(100*time.Millisecond))
	if _, err := net.Dial("tcp", addr); err != nil {
		fmt.Println("   and new connections are refused")
	}
}

// status sends one GET and returns the status code.
func status(addr, path, rng string) int {
	c, err := net.Dial("tcp", addr)
	must(err)
	defer c.Close()
	if rng != "" {
		rng = "Range: " + rng + "\r\n"
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n", path, addr, rng)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	must(err)
	resp.Body.Close()
	return resp.StatusCode
}

// request sends a GET on a connection with a small receive buffer and
// returns a reader positioned at the body.
func request(addr, path string, rcvbuf int) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", addr)
	must(err)
	c.(*net.TCPConn).SetReadBuffer(rcvbuf)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	br := bufio.NewReader(c)
	_, err = http.ReadResponse(br, nil)
	must(err)
	return c, br
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
