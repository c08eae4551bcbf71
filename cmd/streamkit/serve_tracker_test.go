package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestServeTracker runs 'streamkit serve --tracker' on 127.0.0.1 in-process
// (the whole command line, flags parsed as a user types them): the files
// are served, two peers announce into one swarm and the second's offer is
// relayed to the first and the answer back, a GET of /announce has the
// counters, and Ctrl-C closes both WebSockets with 1001 (going away) and
// ends the command with nothing left running.
func TestServeTracker(t *testing.T) {
	before := goroutines()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.m3u8"), []byte("#EXTM3U\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuf
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"serve", dir, "--addr", "127.0.0.1:0", "--player-js", dir, "--tracker", "--tracker-max-conns", "8"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var m []string
	re := regexp.MustCompile(`WebTorrent tracker on (ws://(127\.0\.0\.1:\d+)/announce) \(at most 8 `)
	for i := 0; i < 500 && m == nil; i++ {
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		m = re.FindStringSubmatch(out.String())
	}
	if m == nil {
		t.Fatalf("serve printed no tracker URL:\n%s", out.String())
	}
	wsURL, addr := m[1], m[2]
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/master.m3u8"); code != 200 || body != "#EXTM3U\n" {
		t.Fatalf("files beside the tracker: %d %q", code, body)
	}

	dial := func() *wsPeer {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		ws, _, err := websocket.Dial(dctx, wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return &wsPeer{t: t, ws: ws}
	}
	const ih = "swarm-of-the-stream!" // 20 characters, as p2p-media-loader's
	a, b := dial(), dial()
	a.send(map[string]any{"action": "announce", "info_hash": ih, "peer_id": "-SK0100-peer-aaaaaaa", "event": "started", "numwant": 5, "left": 1})
	if r := a.recv(); r["action"] != "announce" || r["incomplete"] != 1.0 {
		t.Fatalf("first announce: %v", r)
	}
	sdp := map[string]any{"type": "offer", "sdp": "v=0 offer of b"}
	b.send(map[string]any{"action": "announce", "info_hash": ih, "peer_id": "-SK0100-peer-bbbbbbb", "event": "started", "numwant": 5, "left": 1,
		"offers": []map[string]any{{"offer_id": "offer-id-of-b-000001", "offer": sdp}}})
	if r := b.recv(); r["incomplete"] != 2.0 {
		t.Fatalf("second announce: %v", r)
	}
	// The tracker relays b's offer to the only other peer, a.
	r := a.recv()
	if r["peer_id"] != "-SK0100-peer-bbbbbbb" || r["offer_id"] != "offer-id-of-b-000001" || r["info_hash"] != ih {
		t.Fatalf("a got %v, want b's offer", r)
	}
	if o, _ := r["offer"].(map[string]any); o["sdp"] != "v=0 offer of b" {
		t.Fatalf("offer relayed as %v", r["offer"])
	}
	a.send(map[string]any{"action": "announce", "info_hash": ih, "peer_id": "-SK0100-peer-aaaaaaa", "to_peer_id": "-SK0100-peer-bbbbbbb",
		"offer_id": "offer-id-of-b-000001", "answer": map[string]any{"type": "answer", "sdp": "v=0 answer of a"}})
	if r := b.recv(); r["peer_id"] != "-SK0100-peer-aaaaaaa" || r["offer_id"] != "offer-id-of-b-000001" {
		t.Fatalf("b got %v, want a's answer", r)
	}
	code, body := get("/announce")
	var st struct {
		Conns          int   `json:"conns"`
		Peers          int   `json:"peers"`
		OffersRelayed  int64 `json:"offers_relayed"`
		AnswersRelayed int64 `json:"answers_relayed"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st.Conns != 2 || st.Peers != 2 || st.OffersRelayed != 1 || st.AnswersRelayed != 1 {
		t.Errorf("GET /announce: %d %s (%v)", code, body, err)
	}

	// Ctrl-C: the server drains and the tracker tells both peers it is
	// going away; the command returns at once, not after --grace.
	cancel()
	for name, c := range map[string]*wsPeer{"a": a, "b": b} {
		if code := c.closed(); code != websocket.StatusGoingAway {
			t.Errorf("peer %s closed with %v, want 1001", name, code)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("serve --tracker did not stop within 8 s of Ctrl-C")
	}
	a.ws.CloseNow()
	b.ws.CloseNow()
	client.CloseIdleConnections()
	n := goroutines()
	for i := 0; i < 300 && n > before; i++ {
		time.Sleep(10 * time.Millisecond)
		n = goroutines()
	}
	if n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left running (%d before)\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// goroutines counts the running goroutines except os/signal's, which the
// first signal.Notify of the process starts for good.
func goroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.HasPrefix(g, "goroutine ") && !strings.Contains(g, "os/signal.loop") {
			n++
		}
	}
	return n
}

// wsPeer is one WebSocket peer of TestServeTracker.
type wsPeer struct {
	t  *testing.T
	ws *websocket.Conn
}

func (c *wsPeer) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsPeer) recv() map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("%s: %v", b, err)
	}
	if strings.Contains(string(b), "failure reason") {
		c.t.Fatalf("tracker refused: %s", b)
	}
	return m
}

// closed reads until the tracker closes and returns its close code.
func (c *wsPeer) closed() websocket.StatusCode {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := c.ws.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}
