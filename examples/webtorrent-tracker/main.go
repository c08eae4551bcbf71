// Command webtorrent-tracker runs streamkit's WebSocket tracker on
// 127.0.0.1 and plays the discovery p2p-media-loader's players go
// through: announce with WebRTC offers, an offer relayed to another peer,
// the answer relayed back, a scrape, a player leaving; then what the
// tracker refuses.
//
//	go run ./examples/webtorrent-tracker
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/streamkit-go/streamkit/tracker"
)

func main() {
	log.SetFlags(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tr := tracker.New(tracker.WithMaxPeersPerSwarm(3), tracker.WithMaxMessageSize(16<<10))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: tr, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer func() {
		tr.Shutdown(context.Background())
		srv.Shutdown(context.Background())
	}()
	url := "ws://" + ln.Addr().String() + "/"
	fmt.Printf("tracker on %s (what `streamkit tracker` runs; p2p-media-loader: announceTrackers: [%q])\n", url, url)

	// p2p-media-loader derives one swarm id (the "info hash") per stream
	// and rendition, and a random peer id per player: both 20 characters.
	swarm := "stream:sample:720p.."
	fmt.Printf("\nswarm %q: three players watching the same rendition\n", swarm)
	alice, bob, carol := join(ctx, url, "alice"), join(ctx, url, "bob"), join(ctx, url, "carol")

	fmt.Println("\n1. alice announces (event started, no peer to offer to yet)")
	alice.say(ctx, map[string]any{"action": "announce", "info_hash": swarm, "peer_id": alice.id, "event": "started", "left": 1})
	alice.hear(ctx)

	fmt.Println("\n2. bob announces with two WebRTC offers; the tracker gives each to a different other peer")
	bob.say(ctx, map[string]any{"action": "announce", "info_hash": swarm, "peer_id": bob.id, "event": "started", "left": 1,
		"offers": []map[string]any{offer("bob-offer-1........."), offer("bob-offer-2.........")}})
	bob.hear(ctx)
	m := alice.hear(ctx)
	fmt.Println("   (only alice is there, so one offer is used)")

	fmt.Println("\n3. alice answers bob's offer; the tracker relays the answer and nothing else")
	alice.say(ctx, map[string]any{"action": "announce", "info_hash": swarm, "peer_id": alice.id, "to_peer_id": bob.id,
		"offer_id": m["offer_id"], "answer": map[string]any{"type": "answer", "sdp": "v=0 (alice's SDP answer)"}})
	bob.hear(ctx)
	fmt.Println("   alice and bob now connect directly (WebRTC data channel) and exchange segments;")
	fmt.Println("   the tracker never sees media.")

	fmt.Println("\n4. carol scrapes: how many players are in the swarm?")
	carol.say(ctx, map[string]any{"action": "scrape", "info_hash": []string{swarm}})
	carol.hear(ctx)

	fmt.Println("\n5. bob leaves (event stopped; closing the socket does the same)")
	bob.say(ctx, map[string]any{"action": "announce", "info_hash": swarm, "peer_id": bob.id, "event": "stopped"})
	bob.hear(ctx)

	fmt.Println("\nWhat the tracker refuses:")
	fmt.Println("  a malformed request gets a failure reason and the connection stays open:")
	carol.say(ctx, map[string]any{"action": "announce", "info_hash": "too short", "peer_id": carol.id})
	carol.hear(ctx)
	fmt.Println("  a message over the size limit (16 KiB here) closes the connection with 1009:")
	big, _ := json.Marshal(map[string]any{"action": "announce", "pad": strings.Repeat("x", 20<<10)})
	carol.ws.Write(ctx, websocket.MessageText, big)
	if _, _, err := carol.ws.Read(ctx); err != nil {
		fmt.Printf("  carol <- close %d (%v)\n", websocket.CloseStatus(err), websocket.CloseStatus(err))
	}

	st := tr.Stats()
	b, _ := json.Marshal(st)
	fmt.Printf("\ncounters (GET %s returns them as JSON):\n  %s\n", strings.Replace(url, "ws:", "http:", 1), b)
	fmt.Println("\nLimits (tracker.With... options, streamkit tracker flags): connections, peers per swarm, swarms per")
	fmt.Println("connection, message size, offers per announce, announces per second per connection,")
	fmt.Println("answers only to offers actually relayed, bytes queued to a slow reader, idle time.")
}

type player struct {
	name, id string
	ws       *websocket.Conn
}

func join(ctx context.Context, url, name string) *player {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	return &player{name: name, id: fmt.Sprintf("-PM0200-%-12s", name)[:20], ws: ws}
}

func (p *player) say(ctx context.Context, m map[string]any) {
	b, _ := json.Marshal(m)
	fmt.Printf("  %-5s -> %s\n", p.name, shorten(string(b)))
	if err := p.ws.Write(ctx, websocket.MessageText, b); err != nil {
		log.Fatal(err)
	}
}

func (p *player) hear(ctx context.Context) map[string]any {
	_, b, err := p.ws.Read(ctx)
	if err != nil {
		log.Fatalf("%s: %v", p.name, err)
	}
	fmt.Printf("  %-5s <- %s\n", p.name, shorten(string(b)))
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func offer(id string) map[string]any {
	return map[string]any{"offer_id": id, "offer": map[string]any{"type": "offer", "sdp": "v=0 (an SDP offer)"}}
}

func shorten(s string) string {
	if len(s) > 150 {
		return s[:147] + "..."
	}
	return s
}
