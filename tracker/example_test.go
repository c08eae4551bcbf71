package tracker_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/streamkit-go/streamkit/tracker"
)

// A tracker relays one peer's WebRTC offer to another peer of the swarm.
func ExampleNew() {
	tr := tracker.New()
	srv := httptest.NewServer(tr) // or http.Handle("/announce", tr)
	defer srv.Close()
	defer tr.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	say := func(ws *websocket.Conn, msg string) { ws.Write(ctx, websocket.MessageText, []byte(msg)) }
	hear := func(ws *websocket.Conn) string { _, b, _ := ws.Read(ctx); return string(b) }

	alice, _, _ := websocket.Dial(ctx, url, nil)
	defer alice.CloseNow()
	bob, _, _ := websocket.Dial(ctx, url, nil)
	defer bob.CloseNow()
	say(alice, `{"action":"announce","info_hash":"stream-1-video-720p.","peer_id":"-SK0100-alice.......","event":"started"}`)
	fmt.Println("alice <-", hear(alice))
	say(bob, `{"action":"announce","info_hash":"stream-1-video-720p.","peer_id":"-SK0100-bob.........","event":"started",
		"offers":[{"offer_id":"offer-0-............","offer":{"type":"offer","sdp":"v=0..."}}]}`)
	fmt.Println("bob   <-", hear(bob))
	fmt.Println("alice <-", hear(alice))
	// Output:
	// alice <- {"action":"announce","interval":120,"info_hash":"stream-1-video-720p.","complete":0,"incomplete":1}
	// bob   <- {"action":"announce","interval":120,"info_hash":"stream-1-video-720p.","complete":0,"incomplete":2}
	// alice <- {"action":"announce","offer":{"type":"offer","sdp":"v=0..."},"offer_id":"offer-0-............","peer_id":"-SK0100-bob.........","info_hash":"stream-1-video-720p."}
}
