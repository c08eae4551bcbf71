package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamkit-go/streamkit/tracker"
)

// ih and pid make 20-character ids; ih uses "binary" characters (as the
// WebTorrent client sends an info hash) to check they come back exact.
func ih(n byte) string {
	return strings.Repeat("\u00e9", 10) + strings.Repeat(string(rune('a'+n)), 9) + "\x01"
}
func pid(n byte) string { return "-SK0100-" + strings.Repeat(string(rune('A'+n)), 12) }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func start(t *testing.T, opts ...tracker.Option) (*tracker.Server, string) {
	t.Helper()
	before := runtime.NumGoroutine()
	// a fixed seed first: a test's own options come after it
	tr := tracker.New(append([]tracker.Option{tracker.WithRand(rand.New(rand.NewPCG(1, 2)))}, opts...)...)
	srv := httptest.NewServer(tr) // 127.0.0.1
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		srv.Close()
		// Every goroutine of the tracker and the clients ends.
		for i := 0; i < 200 && runtime.NumGoroutine() > before; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left running (%d before)\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})
	return tr, "ws" + strings.TrimPrefix(srv.URL, "http")
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &client{t: t, ws: ws}
}

func (c *client) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) recv() map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatal(err)
	}
	return m
}

// closed reads until the tracker closes and returns its close code.
func (c *client) closed() websocket.StatusCode {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := c.ws.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func announce(info, peer string, offers int, extra map[string]any) map[string]any {
	m := map[string]any{"action": "announce", "info_hash": info, "peer_id": peer, "numwant": offers, "left": 1, "event": "started",
		"uploaded": 0, "downloaded": 0}
	var os []map[string]any
	for i := 0; i < offers; i++ {
		os = append(os, map[string]any{"offer_id": "offer-" + peer[8:18] + string(rune('0'+i)) + "xyz", "offer": map[string]any{"type": "offer", "sdp": "v=0 " + peer}})
	}
	if offers > 0 {
		m["offers"] = os
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func waitStats(t *testing.T, tr *tracker.Server, ok func(tracker.Stats) bool) tracker.Stats {
	t.Helper()
	for i := 0; i < 500; i++ {
		if st := tr.Stats(); ok(st) {
			return st
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := tr.Stats()
	t.Fatalf("stats never reached the expected state: %+v", st)
	return st
}

func TestOfferAnswerRelay(t *testing.T) {
	tr, url := start(t)
	a, b := dial(t, url), dial(t, url)
	a.send(announce(ih(0), pid(0), 0, nil))
	r := a.recv()
	if r["action"] != "announce" || r["info_hash"] != ih(0) || r["incomplete"] != 1.0 || r["interval"] != 120.0 {
		t.Fatalf("announce response %v", r)
	}
	// B announces with 3 offers; only A is there, so A gets one.
	b.send(announce(ih(0), pid(1), 3, map[string]any{"left": 0}))
	if r := b.recv(); r["complete"] != 1.0 || r["incomplete"] != 1.0 {
		t.Fatalf("B's response %v", r)
	}
	off := a.recv()
	if off["peer_id"] != pid(1) || off["info_hash"] != ih(0) || off["offer"].(map[string]any)["sdp"] != "v=0 "+pid(1) || len(off["offer_id"].(string)) != 20 {
		t.Fatalf("relayed offer %v", off)
	}
	// A answers; B gets the answer from A, and A gets no response.
	a.send(map[string]any{"action": "announce", "info_hash": ih(0), "peer_id": pid(0), "to_peer_id": pid(1),
		"offer_id": off["offer_id"], "answer": map[string]any{"type": "answer", "sdp": "v=0 A"}})
	ans := b.recv()
	if ans["peer_id"] != pid(0) || ans["offer_id"] != off["offer_id"] || ans["answer"].(map[string]any)["type"] != "answer" {
		t.Fatalf("relayed answer %v", ans)
	}
	// A second answer with no offer left to answer is dropped.
	a.send(map[string]any{"action": "announce", "info_hash": ih(0), "peer_id": pid(0), "to_peer_id": pid(1),
		"offer_id": off["offer_id"], "answer": map[string]any{"type": "answer", "sdp": "v=0 A"}})
	// Scrape one swarm and all.
	a.send(map[string]any{"action": "scrape", "info_hash": ih(0)})
	sc := a.recv()
	if f := sc["files"].(map[string]any)[ih(0)].(map[string]any); sc["action"] != "scrape" || f["complete"] != 1.0 || f["incomplete"] != 1.0 {
		t.Fatalf("scrape %v", sc)
	}
	a.send(map[string]any{"action": "scrape"})
	if sc := a.recv(); len(sc["files"].(map[string]any)) != 1 {
		t.Fatalf("scrape all %v", sc)
	}
	st := waitStats(t, tr, func(s tracker.Stats) bool { return s.AnswersDropped == 1 })
	if st.Swarms != 1 || st.Peers != 2 || st.OffersRelayed != 1 || st.AnswersRelayed != 1 || st.Scrapes != 2 {
		t.Errorf("stats %+v", st)
	}
	// B stops; A's connection closes: the swarm is gone.
	b.send(announce(ih(0), pid(1), 0, map[string]any{"event": "stopped"}))
	if r := b.recv(); r["complete"] != 0.0 || r["incomplete"] != 1.0 {
		t.Errorf("stopped response %v", r)
	}
	a.ws.Close(websocket.StatusNormalClosure, "")
	waitStats(t, tr, func(s tracker.Stats) bool { return s.Swarms == 0 && s.Peers == 0 && s.Conns == 1 })
	// A plain GET returns the stats.
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	var got tracker.Stats
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.OffersRelayed != 1 || got.Announces < 3 {
		t.Errorf("GET stats %+v", got)
	}
}

func TestOffersReachDistinctPeers(t *testing.T) {
	_, url := start(t)
	var peers []*client
	for i := byte(0); i < 6; i++ {
		c := dial(t, url)
		c.send(announce(ih(1), pid(i), 0, nil))
		c.recv()
		peers = append(peers, c)
	}
	joiner := dial(t, url)
	joiner.send(announce(ih(1), pid(9), 5, nil))
	joiner.recv()
	// Exactly 5 of the 6 get one offer each.
	got := 0
	for _, p := range peers {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, b, err := p.ws.Read(ctx)
		cancel()
		if err == nil {
			var m map[string]any
			json.Unmarshal(b, &m)
			if m["peer_id"] != pid(9) {
				t.Errorf("unexpected %v", m)
			}
			got++
		}
	}
	if got != 5 {
		t.Errorf("%d peers got an offer, want 5", got)
	}
}

func TestFailuresKeepConnection(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	tr, url := start(t, tracker.WithMaxPeersPerSwarm(2), tracker.WithAnnounceBurst(3), tracker.WithAnnounceRate(1), tracker.WithClock(clk.Now))
	c := dial(t, url)
	for _, tc := range []struct {
		msg  map[string]any
		want string
	}{
		{map[string]any{"action": "announce", "info_hash": "short", "peer_id": pid(0)}, "invalid info_hash"},
		{map[string]any{"action": "announce", "info_hash": ih(2), "peer_id": 7}, "invalid peer_id"},
		{map[string]any{"action": "dance"}, "invalid action in WS request: dance"},
		{announce(ih(2), pid(0), 0, map[string]any{"event": "jump"}), "invalid event"},
		{announce(ih(2), pid(0), 0, map[string]any{"answer": map[string]any{"sdp": "x"}}), "to_peer_id"},
	} {
		c.send(tc.msg)
		if r := c.recv(); !strings.Contains(r["failure reason"].(string), tc.want) {
			t.Errorf("%v: %v", tc.msg, r)
		}
	}
	// The swarm holds two peers; the third is refused.
	c.send(announce(ih(2), pid(0), 0, nil))
	c.recv()
	c2 := dial(t, url)
	c2.send(announce(ih(2), pid(1), 0, nil))
	c2.recv()
	c3 := dial(t, url)
	c3.send(announce(ih(2), pid(2), 0, nil))
	if r := c3.recv(); r["failure reason"] != "swarm full" || r["info_hash"] != ih(2) {
		t.Errorf("third peer: %v", r)
	}
	// Someone else's peer id is refused.
	c3.send(announce(ih(2), pid(0), 0, nil))
	if r := c3.recv(); r["failure reason"] != "peer_id in use by another connection" {
		t.Errorf("stolen peer id: %v", r)
	}
	// c has used 1 of 3 tokens; two more pass, the next is refused until
	// a second passes on the tracker's clock.
	for i := 0; i < 2; i++ {
		c.send(announce(ih(2), pid(0), 0, map[string]any{"event": "update"}))
		if r := c.recv(); r["failure reason"] != nil {
			t.Fatalf("announce %d: %v", i, r)
		}
	}
	c.send(announce(ih(2), pid(0), 0, nil))
	if r := c.recv(); r["failure reason"] != "announce rate limit exceeded" {
		t.Errorf("over the rate: %v", r)
	}
	clk.Add(time.Second)
	c.send(announce(ih(2), pid(0), 0, nil))
	if r := c.recv(); r["failure reason"] != nil {
		t.Errorf("after a second: %v", r)
	}
	if st := tr.Stats(); st.RateLimited != 1 || st.Failures != 8 {
		t.Errorf("stats %+v", st)
	}
}

func TestCloseCodes(t *testing.T) {
	tr, url := start(t, tracker.WithMaxMessageSize(1024), tracker.WithMaxConns(4))
	cases := []struct {
		name string
		typ  websocket.MessageType
		msg  string
		want websocket.StatusCode
	}{
		{"oversized", websocket.MessageText, `{"action":"announce","x":"` + strings.Repeat("x", 2000) + `"}`, websocket.StatusMessageTooBig},
		{"not JSON", websocket.MessageText, `{"action":`, websocket.StatusInvalidFramePayloadData},
		{"not an object", websocket.MessageText, `[1,2]`, websocket.StatusInvalidFramePayloadData},
		{"binary", websocket.MessageBinary, `{}`, websocket.StatusUnsupportedData},
	}
	for _, c := range cases {
		cl := dial(t, url)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cl.ws.Write(ctx, c.typ, []byte(c.msg))
		cancel()
		if got := cl.closed(); got != c.want {
			t.Errorf("%s: close code %v, want %v", c.name, got, c.want)
		}
	}
	st := waitStats(t, tr, func(s tracker.Stats) bool { return s.Conns == 0 })
	if st.Closed["MessageTooBig message too big"] != 1 || st.Closed["UnsupportedData text messages only"] != 1 {
		t.Errorf("close counters %v", st.Closed)
	}
	// The connection limit: the fifth upgrade gets 503.
	for i := 0; i < 4; i++ {
		dial(t, url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("fifth connection: %v %v", err, resp)
	}
	if tr.Stats().Refused != 1 {
		t.Errorf("refused %d", tr.Stats().Refused)
	}
}

// TestIdleAndShutdown is one of the few real-time tests: a 100 ms idle
// timeout, checked with a generous margin.
func TestIdleAndShutdown(t *testing.T) {
	tr, url := start(t, tracker.WithIdleTimeout(100*time.Millisecond))
	c := dial(t, url)
	if got := c.closed(); got != websocket.StatusPolicyViolation {
		t.Errorf("idle: close code %v", got)
	}
	tr2, url2 := start(t)
	c2 := dial(t, url2)
	c2.send(announce(ih(3), pid(3), 0, nil))
	c2.recv()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tr2.Shutdown(ctx)
	}()
	if got := c2.closed(); got != websocket.StatusGoingAway {
		t.Errorf("shutdown: close code %v", got)
	}
	_ = tr
}

func TestParseRequest(t *testing.T) {
	for _, c := range parseCases {
		_, err := tracker.ParseRequest([]byte(c.in), 10)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// A message as the bittorrent-tracker client sends it (binary ids).
	b, err := os.ReadFile(filepath.Join("testdata", "announce-offer.json"))
	if err != nil {
		t.Fatal(err)
	}
	// "left": null is what JSON.stringify makes of the client's
	// Infinity; Number(null) is 0, so bittorrent-tracker counts such a
	// peer as complete, and so do we.
	if r, err := tracker.ParseRequest(b, 10); err != nil || r.Event != "started" || !r.Complete || len(r.Offers) != 1 {
		t.Errorf("testdata announce: %+v, %v", r, err)
	}
	r, err := tracker.ParseRequest([]byte(`{"action":"announce","info_hash":"\u0000\u0001\u00ff34567890123456789","peer_id":"-WW0001-abcdefghijkl","left":"0","offers":[{"offer_id":"12345678901234567890","offer":{"type":"offer"}}]}`), 10)
	if err != nil || !r.Complete || r.Event != "update" || len(r.Offers) != 1 || r.InfoHash[:4] != "\x00\x01\u00ff" {
		t.Errorf("parsed %+v, %v", r, err)
	}
}

// parseCases seed FuzzParseRequest too.
var parseCases = []struct {
	name, in string
	want     error
}{
	{"announce", `{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","event":"started","numwant":5,"left":1}`, nil},
	{"answer", `{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","to_peer_id":"cccccccccccccccccccc","offer_id":"dddddddddddddddddddd","answer":{"type":"answer","sdp":"v=0"}}`, nil},
	{"scrape list", `{"action":"scrape","info_hash":["aaaaaaaaaaaaaaaaaaaa","\u00e9aaaaaaaaaaaaaaaaaaa"]}`, nil},
	{"scrape all", `{"action":"scrape"}`, nil},
	{"astral id", `{"action":"scrape","info_hash":"😀aaaaaaaaaaaaaaaaaa"}`, nil}, // 2 + 18 code units
	{"too many offers", `{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","offers":[` + strings.TrimSuffix(strings.Repeat(`{"offer_id":"dddddddddddddddddddd","offer":{}},`, 11), ",") + `]}`, tracker.ErrInvalid},
	{"offer not an object", `{"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","offers":[{"offer_id":"dddddddddddddddddddd","offer":"sdp"}]}`, tracker.ErrInvalid},
	{"21 characters", `{"action":"scrape","info_hash":"aaaaaaaaaaaaaaaaaaaaa"}`, tracker.ErrInvalid},
	{"no action", `{}`, tracker.ErrInvalid},
	{"null", `null`, tracker.ErrMalformed},
	{"trailing", `{"action":"scrape"} {}`, tracker.ErrMalformed},
	{"bad UTF-8", "{\"action\":\"\xff\"}", tracker.ErrMalformed},
	{"deep", strings.Repeat("[", 20000), tracker.ErrMalformed},
}

func TestOriginPatterns(t *testing.T) {
	_, url := start(t, tracker.WithOriginPatterns("player.example"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for origin, ok := range map[string]bool{"http://player.example": true, "http://evil.example": false} {
		ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if ok != (err == nil) {
			t.Errorf("origin %s: err = %v", origin, err)
		}
		if err == nil {
			ws.CloseNow()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %s: response %v", origin, resp)
		}
	}
}

// The bittorrent-tracker client shares one socket between a page's
// clients (p2p-media-loader: one per stream and rendition), each with its
// own peer id; closing the socket removes all of them.
func TestSharedSocket(t *testing.T) {
	tr, url := start(t, tracker.WithMaxSwarmsPerConn(2))
	c := dial(t, url)
	c.send(announce(ih(0), pid(0), 0, nil))
	c.recv()
	c.send(announce(ih(1), pid(1), 0, nil))
	c.recv()
	c.send(announce(ih(2), pid(2), 0, nil))
	if r := c.recv(); r["failure reason"] != "too many swarms on this connection" {
		t.Errorf("third swarm: %v", r)
	}
	c.send(announce(ih(0), pid(3), 0, nil))
	if r := c.recv(); r["failure reason"] != "another peer_id of this connection is in this swarm" {
		t.Errorf("second peer id in one swarm: %v", r)
	}
	if st := tr.Stats(); st.Swarms != 2 || st.Peers != 2 {
		t.Errorf("stats %+v", st)
	}
	c.ws.Close(websocket.StatusNormalClosure, "")
	waitStats(t, tr, func(s tracker.Stats) bool { return s.Swarms == 0 && s.Peers == 0 })
}
