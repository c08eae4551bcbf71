package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeCommand runs the streamkit serve binary on 127.0.0.1 and
// checks the acceptance points of a hardened server end to end, flags
// included: refused paths, 10,000 idle connections against --max-conns,
// a reader that never reads cut off after --write-timeout, and SIGINT
// during a 20 MB transfer completing it.
func TestServeCommand(t *testing.T) {
	bin := buildStreamkit(t)
	const idle, maxConns = 10000, 256
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Max < idle+512 {
		t.Skipf("RLIMIT_NOFILE hard limit %d: the test opens %d connections", lim.Max, idle)
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)

	dir := t.TempDir()
	tree := filepath.Join(dir, "out")
	os.MkdirAll(filepath.Join(tree, "v"), 0o755)
	big := make([]byte, 20<<20)
	for i := range big {
		big[i] = byte(i * 13)
	}
	for name, body := range map[string][]byte{
		"master.m3u8": []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"),
		"v/big.mp4":   big, ".env": []byte("TOKEN=1"),
	} {
		if err := os.WriteFile(filepath.Join(tree, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(tree, "host.m3u8")); err != nil {
		t.Fatal(err)
	}
	accessLog := filepath.Join(dir, "access.log")
	cmd := exec.Command(bin, "serve", tree, "--addr", "127.0.0.1:0", "--max-conns", fmt.Sprint(maxConns),
		"--read-header-timeout", "5m", "--write-timeout", "400ms", "--grace", "1m", "--access-log", accessLog,
		"--player-js", dir)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v", err)
	}
	m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("serve said %q", line)
	}
	addr := m[1]
	client := &http.Client{Timeout: 20 * time.Second}
	code := func(path string, hdr ...string) int {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		extra := ""
		for i := 0; i+1 < len(hdr); i += 2 {
			extra += hdr[i] + ": " + hdr[i+1] + "\r\n"
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", path, extra)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ranges := strings.TrimSuffix(strings.Repeat("1-2,", 1000), ",")
	for _, c := range []struct {
		path string
		hdr  []string
		want int
	}{
		{"/master.m3u8", nil, 200},
		{"/./", nil, 404}, {"/.env", nil, 404}, {"/host.m3u8", nil, 404}, {"/v/", nil, 404},
		{"/v/big.mp4", []string{"Range", "bytes=" + ranges}, 416},
		{"/?x=%zz", nil, 400},
	} {
		if got := code(c.path, c.hdr...); got != c.want {
			t.Errorf("GET %s: %d, want %d", c.path, got, c.want)
		}
	}

	// 10,000 idle connections, then a new client.
	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < idle; i++ {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	resp, err := client.Get("http://" + addr + "/master.m3u8")
	if err != nil {
		t.Fatalf("new client with %d idle connections open: %v", idle, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, c := range conns {
		c.Close()
	}
	conns = nil

	// A reader that never reads: once a write has waited 400 ms the
	// handler gives up, and its access log line (written when it returns)
	// shows how little was sent, while the client still has not read.
	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(16 << 10)
	fmt.Fprintf(stalled, "GET /v/big.mp4 HTTP/1.1\r\nHost: x\r\nUser-Agent: stalled\r\n\r\n")
	logged := regexp.MustCompile(`"GET /v/big.mp4 HTTP/1.1" 200 (\d+) "-" "stalled"`)
	var sent string
	for deadline := time.Now().Add(30 * time.Second); sent == "" && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		b, _ := os.ReadFile(accessLog)
		if m := logged.FindSubmatch(b); m != nil {
			sent = string(m[1])
		}
	}
	switch {
	case sent == "":
		t.Errorf("a client that never reads still held its transfer after 30 s (--write-timeout 400ms)")
	case sent == fmt.Sprint(len(big)):
		t.Errorf("a client that never reads was sent the whole file")
	default:
		t.Logf("stalled reader cut off after %s of %d bytes", sent, len(big))
	}
	stalled.Close()

	// SIGINT during a 20 MB transfer: it completes, then serve exits 0.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	fmt.Fprintf(c, "GET /v/big.mp4 HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReader(c)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 0, len(big))
	buf := make([]byte, 256<<10)
	signalled := false
	for len(body) < len(big) {
		k, err := resp.Body.Read(buf)
		body = append(body, buf[:k]...)
		if err != nil {
			break
		}
		if !signalled && len(body) > 1<<20 {
			cmd.Process.Signal(syscall.SIGINT)
			signalled = true
		}
		time.Sleep(2 * time.Millisecond)
	}
	if len(body) != len(big) || string(body) != string(big) {
		t.Errorf("transfer interrupted by SIGINT: %d of %d bytes", len(body), len(big))
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("serve after SIGINT: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve still running 60 s after SIGINT")
	}
	log, _ := os.ReadFile(accessLog)
	if !strings.Contains(string(log), `"GET /master.m3u8 HTTP/1.1" 200 `) || !strings.Contains(string(log), `"GET /.env HTTP/1.1" 404 `) {
		t.Errorf("access log:\n%.500s", log)
	}
}
