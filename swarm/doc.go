// Package swarm simulates P2P-assisted delivery: a live or VOD audience
// whose players fetch segments from a CDN and from each other, with
// p2p-media-loader 2.x's scheduler (PresetP2PML) or from the CDN only
// (PresetCDNOnly), each player running a real abr algorithm over its own
// throughput trace.
//
// # Model
//
// Run is a discrete-event simulation in one goroutine: a 4-ary heap of
// events in a slice (a player's next request, its loader's random-HTTP
// timer, a departure) ordered by time and insertion number, and arrivals
// drawn up front (Poisson, a flash crowd at kick-off, or an event with a
// mass departure at the final whistle). Everything random comes from one
// PCG stream seeded by Scenario.Seed, consumed in event order, so a
// scenario and seed give the same Result bit for bit.
//
// Every viewer is an abr.Session (the package's Sabre model with
// WithPlayerDefaults-style startup and buffer options) over a trace of
// its network class, rotated to a random start. The simulator is the
// session's abr.Deliverer: for each request it decides whether the
// segment comes from the CDN — the session downloads it over its own
// trace, exactly as a plain abr session would — or from a peer, in which
// case it supplies the arrival time. This keeps one model of the player
// (abr's) instead of a second player loop here, and is why cdn-only runs
// equal plain abr sessions exactly (TestCDNOnlyEqualsABRSessions). The
// hook cost abr one nil check per download (benchmarks unchanged, see
// BENCHMARKS.md); sessions share the run's segment-size table through
// abr.SizeTabler instead of copying it.
//
// A live viewer joins hold_back_s behind the live edge and buffers up to
// the hold-back (as hls.js with liveSyncDuration: it never requests a
// segment before it is published), without catch-up, so its distance
// behind the edge is the hold-back plus its join phase, startup and
// stalls. A VOD viewer starts at the first segment with abr.buffer_s.
//
// # p2p-media-loader's rules
//
// Deliver documents the rules and where each comes from in
// p2p-media-loader-core (hybrid-loader.ts processQueue,
// loadRandomThroughHttp, setIntervalLoading; p2p/loader.ts
// downloadSegment; utils/stream.ts isSegmentInTimeWindow; core.ts
// DEFAULT_STREAM_CONFIG; p2p-media-loader-hlsjs fragment-loader.ts
// getLoadingStat). The loader works ahead of the player: a segment is in
// its queue from publication, is fetched from a neighbour as soon as one
// has it, and over HTTP when the seeding timer picks it or when it enters
// the 15 s high-demand window. A request whose answer is not yet known
// (no neighbour has the segment, not high-demand) waits and is looked at
// again every second until it is, so every decision sees the seeds and
// transfers that happened before it. Peers form one swarm per rendition
// (a switch means new neighbours), neighbours come from a tracker every
// announce interval through the NAT traversal matrix after a WebRTC
// set-up time, and uplinks are work-conserving queues (bytes flow at
// once; a download ends when the uploader's backlog and the downloader's
// link allow), so total peer upload never exceeds the peers' capacity
// (TestOffloadBoundedByUploadCapacity).
//
// Not modelled: the simultaneous-download limits (a player has one
// request outstanding here, so two HTTP and three P2P slots never bind),
// HTTP retries (an HTTP request goes over the peer's trace, stalls
// included), the 30 s grace during which p2p-media-loader keeps a
// previous rendition's swarm, and CDN capacity as a throttle (it is
// reported: seconds over capacity).
//
// # Integrity
//
// Scenario.Integrity models what package integrity provides without
// importing it: with "hash" (a SHA-256 sidecar from the origin) or
// "signed" (an Ed25519-signed sidecar, verifiable whoever served it) a
// tampering peer's data is detected when it arrives, the connection is
// dropped (p2p-media-loader destroys a peer whose segment fails
// validateP2PSegment) and the segment is fetched again from the CDN;
// "hash" also costs a sidecar fetch from the CDN per verified segment.
// With "none" altered segments are accepted and relayed.
//
// # Scale
//
// Per viewer the simulator keeps a small struct, its neighbours (a slice
// of tracker.neighbours entries: peer, connection time, measured rate), a block of the run's flat ring
// of held segments (the live window, or up to 1024 VOD segments; a
// departed viewer's block is reused; stored slot-major, every viewer's
// entry for one slot side by side, so the neighbours' entries for the
// segment everyone is asking for stay in cache) and its abr Session,
// whose ladder tables are shared with every other session; the time series
// is aggregated into buckets as it runs. What the scheduler reads about a
// neighbour (leave time, ring block, class) is one 16-byte entry of a flat
// array indexed by peer id, and one bit per peer
// per (segment mod 2·ring, rendition) says who may hold a segment, so a
// request looks only at the neighbours that hold it. Events are values in
// a 4-ary heap and allocate nothing; a viewer's arrival allocates its
// session. TestGolden pins the complete output of fixed-seed runs, so a
// speed-up cannot change a result unnoticed. BENCHMARKS.md has the
// figures.
package swarm
