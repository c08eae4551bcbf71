package peer_test

import (
	"context"
	"fmt"
	"time"

	"github.com/streamkit-go/streamkit/peer"
)

// A headless player in the swarm of a playlist, on loopback, counting
// what it got from peers and from the origin.
func ExampleNew() {
	p, err := peer.New("http://127.0.0.1:8080/sample/video_360p.m3u8",
		peer.WithTracker("ws://127.0.0.1:8080/announce"),
		peer.WithLoopbackOnly())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = p.Run(ctx)
	s := p.Stats()
	fmt.Printf("%d bytes from peers, %d from the origin, offload %.0f%%\n", s.P2PBytes, s.HTTPBytes, 100*s.Offload())
}

// The tracker's info hash of a playlist played directly by hls.js with
// p2p-media-loader (no multivariant playlist, no swarmId configured).
func ExampleInfoHash() {
	url := "http://127.0.0.1:8080/sample/video_360p.m3u8"
	id := peer.StreamSwarmID(peer.ManifestSwarmID(url+"?token=1"), peer.StreamAttrs{})
	fmt.Println(id)
	fmt.Println(peer.InfoHash(id))
	// Output:
	// v2-http://127.0.0.1:8080/sample/video_360p.m3u8-main-UYnLxGhQilEV4D0HbCx+kRv0ZF0=
	// LPeCzurRFitW5f44012k
}
