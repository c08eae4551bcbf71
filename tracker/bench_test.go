package tracker_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamkit-go/streamkit/tracker"
)

// BenchmarkParseRequest parses a client announce with one full SDP offer.
func BenchmarkParseRequest(b *testing.B) {
	msg, err := os.ReadFile(filepath.Join("testdata", "announce-offer.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tracker.ParseRequest(msg, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnnounceLoopback: 200 peers connected over loopback in one
// swarm; each op is one announce with 5 offers, answered by the tracker
// and relayed to 5 peers (whose clients read them).
func BenchmarkAnnounceLoopback(b *testing.B) {
	const peers = 200
	tr := tracker.New(tracker.WithAnnounceRate(1e9), tracker.WithAnnounceBurst(1<<30))
	srv := httptest.NewServer(tr)
	defer srv.Close()
	defer tr.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, peers)
	for i := range conns {
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = ws
		id := "-SK0100-" + strings.Repeat("x", 8) + string(rune('A'+i/26%26)) + string(rune('a'+i%26)) + "zz"
		msg, _ := json.Marshal(announce(ih(7), id, 0, nil))
		ws.Write(ctx, websocket.MessageText, msg)
		ws.Read(ctx)
		if i > 0 { // peer 0 is the announcer; the others drain relayed offers
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if _, _, err := ws.Read(ctx); err != nil {
						return
					}
				}
			}()
		}
	}
	me := "-SK0100-xxxxxxxxAazz"
	msg, _ := json.Marshal(announce(ih(7), me, 5, map[string]any{"event": "update"}))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if err := conns[0].Write(ctx, websocket.MessageText, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := conns[0].Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "announces/s")
	cancel()
	for _, c := range conns {
		c.CloseNow()
	}
	wg.Wait()
}
