// Package p2pbench checks the swarm simulator against the real thing: it
// runs a swarm of Go peers (package peer) on loopback — the live origin
// (package live) playing the embedded sample ladder, our WebTorrent
// tracker (package tracker) and N headless players whose uplinks are
// shaped (shape.Pacer) — measures the offload (bytes from peers / all
// bytes the players got) over a steady-state window, then expresses the
// same experiment as a swarm.Scenario (the same segment sizes, peers,
// arrivals, uplink, hold-back, window and the Go peer's scheduler knobs)
// and reports the simulator's prediction beside the measurement.
//
//	r, err := p2pbench.Run(ctx, p2pbench.Config{Peers: 50, UplinkKbps: 1500})
//	fmt.Print(r) // measured vs simulated offload, discovery and CPU figures
//
// `streamkit peer --local --count N --uplink KBPS --duration D` is the
// command line of Run; BENCHMARKS.md has the figures for 10, 50 and 200
// peers with the reasons where the two differ.
//
// # What "the same scenario" means
//
// The Go peer is not p2p-media-loader: it follows the live playlist from
// three segments behind the edge, takes a segment from a connected peer
// that announced it, and otherwise waits a random part of its P2P wait
// (longer when a neighbour is loading it) before the origin. The
// simulator's p2pml scheduler goes to HTTP when a segment enters the
// high-demand window; Scenario sets that window so that the HTTP deadline
// falls as long after publication as the Go peer's mean wait (see
// Scenario for the arithmetic), turns off p2p-media-loader's random
// seeding timer (the Go peer has none; its random wait plays that part),
// and copies the P2P timeout and retries. Discovery is the tracker's:
// every peer announces with five offers, so it keeps about ten
// connections; WebRTC set-up on loopback is a fraction of a second.
// Report also gives a second prediction fed with the discovery the run
// measured (mean connections, median time to the first connection), so a
// gap can be told apart into discovery and scheduling.
//
// The Go peer has no playback deadline unless Config.P2PDeadline gives it
// one (peer.WithP2PDeadline): without it, on weak uplinks, it keeps trying
// holders and falls behind the live edge where p2p-media-loader would go
// to HTTP; Measured.Delivered shows how much of the stream the peers got.
//
// Everything stays on 127.0.0.1: WebRTC is restricted to loopback
// candidates (peer.WithLoopbackOnly: no STUN, TURN or mDNS); the test runs
// in a network namespace of its own.
package p2pbench
