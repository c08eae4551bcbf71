package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestTrackerCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuf
	errc := make(chan error, 1)
	go func() { errc <- runTracker(ctx, ln, trackerFlags{}, &out) }()

	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	ws, _, err := websocket.Dial(dctx, "ws://"+ln.Addr().String()+"/announce", nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := json.Marshal(map[string]any{"action": "announce", "info_hash": "aaaaaaaaaaaaaaaaaaaa", "peer_id": "-SK0100-bbbbbbbbbbbb", "event": "started"})
	ws.Write(dctx, websocket.MessageText, msg)
	_, b, err := ws.Read(dctx)
	if err != nil || !strings.Contains(string(b), `"complete":0,"incomplete":1`) {
		t.Fatalf("announce: %s %v", b, err)
	}
	// Ctrl-C: the client is told the tracker is going away.
	cancel()
	if _, _, err := ws.Read(dctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("close: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "tracker on ws://127.0.0.1:") || !strings.Contains(s, "1 announces") {
		t.Errorf("output:\n%s", s)
	}
	if _, err := runCLI(t, "tracker", "--addr", "256.0.0.1:1"); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad address: %v", err)
	}
}
