package tracker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/tracker"
)

// p2pJS finds the npm install holding bittorrent-tracker:
// $STREAMKIT_P2P_JS (as .ci/run sets it) or ~/.cache/streamkit/p2pjs.
func p2pJS(t *testing.T) string {
	dir := os.Getenv("STREAMKIT_P2P_JS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "streamkit", "p2pjs")
	}
	mods := filepath.Join(dir, "node_modules")
	_, err := os.Stat(filepath.Join(mods, "bittorrent-tracker", "server.js"))
	_, nerr := exec.LookPath("node")
	if err != nil || nerr != nil {
		msg := "node and bittorrent-tracker@11.2.3 are needed: npm install --prefix ~/.cache/streamkit/p2pjs --ignore-scripts bittorrent-tracker@11.2.3"
		if testtool.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return mods
}

// TestReferenceTracker runs one scripted session against bittorrent-
// tracker's own server and against ours, and requires the same messages,
// in the same order, at every client. (Across clients the reference's
// asynchronous callbacks make the interleaving vary, so each client's
// stream is compared on its own.)
func TestReferenceTracker(t *testing.T) {
	mods := p2pJS(t)
	cmd := exec.Command("node", filepath.Join("testdata", "reference-server.mjs"), mods)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the server exits at the end of its input
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var hello struct{ Port int }
	if err := json.Unmarshal([]byte(line), &hello); err != nil || hello.Port == 0 {
		t.Fatalf("reference server said %q", line)
	}
	ref := transcript(t, fmt.Sprintf("ws://127.0.0.1:%d", hello.Port))

	tr := tracker.New(tracker.WithAnnounceBurst(1000))
	srv := httptest.NewServer(tr)
	defer srv.Close()
	defer tr.Shutdown(context.Background())
	ours := transcript(t, "ws"+strings.TrimPrefix(srv.URL, "http"))

	for i := 0; i < max(len(ref), len(ours)); i++ {
		var r, o string
		if i < len(ref) {
			r = ref[i]
		}
		if i < len(ours) {
			o = ours[i]
		}
		if r != o {
			t.Errorf("message %d:\nreference %s\nours      %s", i, r, o)
		}
	}
	if len(ref) < 16 {
		t.Errorf("the scenario produced only %d messages:\n%s", len(ref), strings.Join(ref, "\n"))
	}
}

// transcript plays the scenario against the tracker at url and returns
// what each client received, client by client. After each step every
// client sends a scrape and reads up to its answer, so that what the step
// caused is read without waiting on a clock; two more rounds at the end
// collect what the reference answers late.
func transcript(t *testing.T, url string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	names := []string{"A", "B", "C"}
	conns := map[string]*websocket.Conn{}
	for _, n := range names {
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		conns[n] = ws
	}
	h, h2 := ih(0), ih(1)
	offer := func(id string) []map[string]any {
		return []map[string]any{{"offer_id": id, "offer": map[string]any{"type": "offer", "sdp": "v=0 " + id}}}
	}
	steps := []struct {
		from string
		msg  map[string]any
	}{
		{"A", announce(h, pid(0), 0, nil)},
		{"B", map[string]any{"action": "announce", "info_hash": h, "peer_id": pid(1), "event": "started", "left": 0, "numwant": 1, "offers": offer("offer-B-000000000001")}},
		{"A", map[string]any{"action": "announce", "info_hash": h, "peer_id": pid(0), "to_peer_id": pid(1), "offer_id": "offer-B-000000000001", "answer": map[string]any{"type": "answer", "sdp": "v=0 A"}}},
		{"C", map[string]any{"action": "announce", "info_hash": h2, "peer_id": pid(2), "event": "started", "left": nil}},
		{"A", map[string]any{"action": "scrape", "info_hash": []string{h, h2, ih(5)}}},
		{"A", map[string]any{"action": "announce", "info_hash": "short", "peer_id": pid(0)}},
		{"A", map[string]any{"action": "announce", "info_hash": h, "peer_id": "short"}},
		{"A", map[string]any{"action": "dance"}},
		{"A", announce(h, pid(0), 0, map[string]any{"event": "jump"})},
		{"B", announce(h, pid(1), 0, map[string]any{"event": "stopped", "left": 0})},
		{"A", announce(h, pid(0), 0, map[string]any{"event": "update", "left": 0})},
		{"C", announce(h, pid(2), 0, map[string]any{"event": "completed", "left": 0})},
		{"C", map[string]any{"action": "announce", "info_hash": h, "peer_id": pid(2), "event": "update", "numwant": 1, "offers": offer("offer-C-000000000001")}},
		{"A", announce(h, pid(0), 0, map[string]any{"event": "paused"})},
	}
	got := map[string][]string{}
	read := func(n string) {
		b, _ := json.Marshal(map[string]any{"action": "scrape", "info_hash": ih(9)})
		if err := conns[n].Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		for {
			_, msg, err := conns[n].Read(ctx)
			if err != nil {
				t.Fatalf("%s: %v (so far: %v)", n, err, got)
			}
			var m map[string]any
			json.Unmarshal(msg, &m)
			canon, _ := json.Marshal(m) // sorted keys
			if files, ok := m["files"].(map[string]any); ok && len(files) == 1 && files[ih(9)] != nil {
				return
			}
			got[n] = append(got[n], n+" "+string(canon))
		}
	}
	for i, s := range steps {
		b, _ := json.Marshal(s.msg)
		if err := conns[s.from].Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		_ = i
		for _, n := range names {
			read(n)
		}
	}
	for round := 0; round < 2; round++ {
		for _, n := range names {
			read(n)
		}
	}
	var out []string
	for _, n := range names {
		out = append(out, got[n]...)
	}
	return out
}
