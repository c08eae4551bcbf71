package live

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// countingHandler counts the requests that reach the origin, per URL.
type countingHandler struct {
	h  http.Handler
	mu sync.Mutex
	n  map[string]int
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n[r.URL.RequestURI()]++
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

func (c *countingHandler) count(uri string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[uri]
}

// TestNginxEdge plays LL-HLS through a real nginx configured by
// EdgeConfig: parts are cached, blocking playlist requests are keyed by
// their query and collapsed (20 players waiting for the next part cost
// the origin one request), and the client follows parts through the edge.
func TestNginxEdge(t *testing.T) {
	requireTool(t, "nginx")
	o := newTestOrigin(t)
	o.to(5 * time.Second)
	counter := &countingHandler{h: o.o, n: map[string]int{}}
	origin := httptest.NewServer(counter)
	defer origin.Close()

	dir, err := os.MkdirTemp("", "skedge")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	edgeAddr := ln.Addr().String()
	ln.Close()
	user := ""
	if os.Geteuid() == 0 {
		user = "root"
	}
	conf, err := EdgeConfig(strings.TrimPrefix(origin.URL, "http://"), edgeAddr, dir, WithEdgeUser(user))
	if err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	os.WriteFile(confPath, []byte(conf), 0o644)
	cmd := exec.Command("nginx", "-p", dir, "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		o.p.End() // releases requests nginx still holds at the origin
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()
	edge := "http://" + edgeAddr + "/live/"
	up := false
	for i := 0; i < 100 && !up; i++ {
		if c, err := net.Dial("tcp", edgeAddr); err == nil {
			c.Close()
			up = true
		} else {
			select {
			case <-exited:
				errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
				t.Fatalf("nginx exited: %s %s", out.String(), errLog)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if !up {
		t.Fatal("nginx did not start listening")
	}

	// Parts are immutable: the second request is a cache hit.
	pl := parsePlaylist(t, string(fetch(context.Background(), edge+"v0/media.m3u8").body))
	part := pl.segs[len(pl.segs)-1].parts[0].uri
	r1 := fetch(context.Background(), edge+"v0/"+part)
	r2 := fetch(context.Background(), edge+"v0/"+part)
	if r1.code != 200 || r2.code != 200 || !bytes.Equal(r1.body, r2.body) || r2.h.Get("X-Cache-Status") != "HIT" {
		t.Errorf("part through the edge: %d %d, second %q", r1.code, r2.code, r2.h.Get("X-Cache-Status"))
	}
	if n := counter.count("/live/v0/" + part); n != 1 {
		t.Errorf("the origin served the part %d times, want 1", n)
	}

	// Collapsing: 20 players block on the next part through the edge.
	msn, idx := pl.lastPart()
	q := fmt.Sprintf("v0/media.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, idx+1)
	var chs []<-chan response
	for i := 0; i < 20; i++ {
		ch := make(chan response, 1)
		go func() { ch <- fetch(context.Background(), edge+q) }()
		chs = append(chs, ch)
	}
	o.parked(t, 1)
	o.to(5*time.Second + 200*time.Millisecond)
	var first []byte
	for _, ch := range chs {
		r := <-ch
		if r.code != 200 {
			t.Fatalf("blocking reload through the edge: %d %s", r.code, r.body)
		}
		if first == nil {
			first = r.body
		} else if !bytes.Equal(first, r.body) {
			t.Error("collapsed answers differ")
		}
	}
	if n := counter.count("/live/" + q); n != 1 {
		t.Errorf("%d requests for %s reached the origin, want 1 (collapsed)", n, q)
	}

	// Follow ten parts through the edge: blocking reload plus preload hint.
	now := 5*time.Second + 200*time.Millisecond
	pl = parsePlaylist(t, string(first))
	for i := 0; i < 10; i++ {
		msn, idx := pl.lastPart()
		hint := make(chan response, 1)
		go func(u string) { hint <- fetch(context.Background(), edge+"v0/"+u) }(pl.hint)
		list := make(chan response, 1)
		go func() {
			list <- fetch(context.Background(), fmt.Sprintf("%sv0/media.m3u8?_HLS_msn=%d&_HLS_part=%d", edge, msn, idx+1))
		}()
		o.parked(t, 2)
		now += 200 * time.Millisecond
		o.to(now)
		h, l := <-hint, <-list
		if h.code != 200 || l.code != 200 || len(h.body) == 0 {
			t.Fatalf("part %d through the edge: hint %d, playlist %d", i, h.code, l.code)
		}
		pl = parsePlaylist(t, string(l.body))
	}
}
