// Package peer is a Go participant of p2p-media-loader swarms: a peer
// that joins the same swarm as browser players running
// p2p-media-loader-core/-hlsjs 2.3.1, through a WebTorrent tracker (ours,
// package tracker, or any other), and exchanges HLS segments with them
// over WebRTC data channels (pion).
//
// A Peer follows one HLS media playlist. As an edge seeder (WithSeed) it
// fetches every segment from the origin as soon as it is listed and
// serves it; otherwise it behaves like a player: it gets each segment
// from a peer that announced it, or, after waiting a little for one to
// get it, from the origin, keeping a bounded buffer ahead of its play
// clock. With WithVerifier every segment is checked against the signed
// integrity sidecar (package integrity) before it is used or shared; a
// peer that sent altered bytes is disconnected, as p2p-media-loader
// does when validateP2PSegment fails.
//
// Discovery (tracker.go's protocol, as the bittorrent-tracker client
// speaks it): the peer announces in the swarm's info hash with up to
// five WebRTC offers (SDP with every candidate: no trickle); the tracker
// relays an offer to another peer, which answers through the tracker;
// the data channel the offerer opened then carries the peer protocol of
// wire.go. Swarm ids are derived exactly as p2p-media-loader does
// (swarmid.go), so a Go peer and a browser playing the same playlist URL
// meet.
//
// WithLoopbackOnly keeps WebRTC on loopback addresses (no STUN, no TURN,
// no mDNS): tests and single-machine experiments use it, inside a
// network namespace of their own (internal/netns).
package peer
