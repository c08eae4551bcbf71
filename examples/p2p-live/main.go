// Command p2p-live starts a live origin (the embedded sample ladder,
// every segment signed), a WebTorrent tracker and Go peers on 127.0.0.1,
// and prints how much of the swarm's traffic the peers carry as the swarm
// grows: one edge seeder, then a new headless player every few seconds.
//
//	go run ./examples/p2p-live
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/peer"
	"github.com/streamkit-go/streamkit/tracker"
)

const (
	players  = 6                // headless players joining, one every joinEach
	joinEach = 4 * time.Second  // after the seeder
	runFor   = 40 * time.Second // in all
)

func main() {
	log.SetFlags(0)
	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()

	// The origin: the sample ladder as plain live HLS (2 s segments),
	// each segment signed as it is published into v0.integrity.json.
	pub, priv, err := integrity.GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := integrity.NewSigner(priv, "p2p-live")
	if err != nil {
		log.Fatal(err)
	}
	pack := live.New(live.WithLowLatency(false), live.WithSigner(signer))
	src, err := live.NewSampleSource(pack, live.WithLoops(100))
	if err != nil {
		log.Fatal(err)
	}
	origin := live.NewOrigin(pack)

	// The tracker on the origin's port, as streamkit live --tracker runs it.
	trk := tracker.New()
	mux := http.NewServeMux()
	mux.Handle("/announce", trk)
	mux.Handle("/", origin)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go srv.Serve(ln)
	srcDone := make(chan error, 1)
	go func() { srcDone <- src.Run(ctx) }()
	defer func() {
		<-srcDone
		trk.Shutdown(context.Background())
		srv.Shutdown(context.Background())
	}()

	base := "http://" + ln.Addr().String()
	playlist := base + origin.Prefix() + "v0/media.m3u8"
	trackerURL := "ws://" + ln.Addr().String() + "/announce"
	fmt.Printf("origin   %s\ntracker  %s\n", playlist, trackerURL)
	if err := waitSegments(ctx, playlist, 3); err != nil {
		log.Fatal(err)
	}

	// Every peer: the same swarm (the playlist URL names it, as
	// p2p-media-loader names it), WebRTC on loopback only, every segment
	// checked against the signed sidecar before it is used or shared.
	newPeer := func(extra ...peer.Option) *peer.Peer {
		opts := append([]peer.Option{peer.WithTracker(trackerURL), peer.WithLoopbackOnly(),
			peer.WithVerifier(integrity.NewVerifier(pub, "p2p-live")),
			peer.WithAnnounceInterval(3 * time.Second)}, extra...)
		p, err := peer.New(playlist, opts...)
		if err != nil {
			log.Fatal(err)
		}
		return p
	}
	var peers []*peer.Peer
	done := make(chan struct{}, players+1)
	start := func(p *peer.Peer) {
		peers = append(peers, p)
		go func() {
			if err := p.Run(ctx); err != nil && ctx.Err() == nil {
				log.Print(err)
			}
			done <- struct{}{}
		}()
	}
	seeder := newPeer(peer.WithSeed())
	start(seeder)
	fmt.Printf("swarm    %s (info hash)\n\n", seeder.InfoHash())
	fmt.Println("  time  peers  links   from origin   from peers   offload  (players only)")

	t0 := time.Now()
	tick := time.NewTicker(joinEach)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
			continue
		}
		var links, http, p2p int64
		for _, p := range peers[1:] {
			s := p.Stats()
			http += s.HTTPBytes
			p2p += s.P2PBytes
		}
		for _, p := range peers {
			links += p.Stats().Peers
		}
		off := 0.0
		if http+p2p > 0 {
			off = 100 * float64(p2p) / float64(http+p2p)
		}
		fmt.Printf("%5.0fs  %5d  %5d  %9.1f kB  %9.1f kB  %6.1f%%\n", time.Since(t0).Seconds(),
			len(peers), links/2, float64(http)/1e3, float64(p2p)/1e3, off)
		if len(peers) <= players {
			start(newPeer(peer.WithP2PWait(time.Second)))
		}
	}
	for range peers {
		<-done
	}
	s := seeder.Stats()
	fmt.Printf("\nthe seeder took %.1f kB from the origin and uploaded %.1f kB to the players\n",
		float64(s.HTTPBytes)/1e3, float64(s.UploadBytes)/1e3)
}

// waitSegments waits until the playlist lists n segments.
func waitSegments(ctx context.Context, playlist string, n int) error {
	for {
		resp, err := http.Get(playlist)
		if err == nil {
			b := make([]byte, 1<<16)
			k, _ := resp.Body.Read(b)
			resp.Body.Close()
			if strings.Count(string(b[:k]), "#EXTINF") >= n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %d segments in %s: %w", n, playlist, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
