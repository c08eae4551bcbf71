package swarm

import "math"

// Scheduler presets.
const (
	// PresetP2PML is p2p-media-loader 2.x's hybrid loader (see P2PMLDefaults
	// and the rules below).
	PresetP2PML = "p2pml"
	// PresetCDNOnly fetches everything over HTTP: the baseline, and the
	// validation case in which every player equals a plain abr session.
	PresetCDNOnly = "cdn-only"
)

// P2PMLDefaults are p2p-media-loader-core 2.x's stream defaults, from
// Core.DEFAULT_STREAM_CONFIG in packages/p2p-media-loader-core/src/core.ts
// (Novage/p2p-media-loader, unchanged from 2.0 to 2.3):
//
//	simultaneousHttpDownloads 2, simultaneousP2PDownloads 3,
//	highDemandTimeWindow 15, httpDownloadTimeWindow 3000,
//	p2pDownloadTimeWindow 6000, p2pNotReceivingBytesTimeoutMs 2000,
//	httpNotReceivingBytesTimeoutMs 3000, httpErrorRetries 3,
//	p2pErrorRetries 3.
//
// The three time windows are in seconds: utils/stream.ts
// isSegmentInTimeWindow compares playback.position + window·rate with the
// segment's startTime, both in seconds. So the HTTP and P2P windows (50 and
// 100 minutes) cover every live window and most titles, and the 15 s
// high-demand window is the one that shapes traffic.
func P2PMLDefaults() Scheduler {
	return Scheduler{
		Preset:             PresetP2PML,
		HighDemandS:        15,
		HTTPWindowS:        3000,
		P2PWindowS:         6000,
		SimultaneousHTTP:   2,
		SimultaneousP2P:    3,
		P2PNotReceivingMs:  2000,
		HTTPNotReceivingMs: 3000,
		P2PRetries:         3,
		HTTPRetries:        3,
	}
}

// inTimeWindow is p2p-media-loader's isSegmentInTimeWindow (utils/stream.ts)
// for a segment whose start is aheadS seconds after the playhead (a
// segment not yet played: its end is after the playhead): in the window
// unless position + window < startTime.
func inTimeWindow(aheadS, windowS float64) bool { return !(windowS < aheadS) }

// peerUpdateLatencyMs is PEER_UPDATE_LATENCY in hybrid-loader.ts.
const peerUpdateLatencyMs = 1000

// seedingTimeout is the delay of hybrid-loader.ts setIntervalLoading's
// next random-HTTP round: Math.random() · PEER_UPDATE_LATENCY · peers +
// PEER_UPDATE_LATENCY ms, peers being the connected peers of the current
// swarm; u is the uniform draw in [0, 1).
func seedingTimeout(u float64, peers int) float64 {
	return u*peerUpdateLatencyMs*float64(peers) + peerUpdateLatencyMs
}

// seedingPicks replays loadRandomThroughHttp's draw (hybrid-loader.ts) for
// candidates segments that are HTTP-downloadable, not P2P-downloadable
// (no neighbour has or is loading them) and not stored, with freeHTTP
// free HTTP slots and peers connected peers: it returns how many of the
// (shuffled) candidates are loaded, one uniform draw per candidate taken
// from next. It returns 0 without a connected peer (the function returns
// early) or a free slot.
//
//	safeRandomSegmentsCount = min(candidates, simultaneousHttpDownloads · (peers + 1))
//	probability = safeRandomSegmentsCount / (peers + 1)
//	for each shuffled index: load if probability ≥ 1 or random ≤ probability;
//	probability--; stop when ≤ 0 or the slots are full
func seedingPicks(candidates, peers, simultaneousHTTP, freeHTTP int, next func() float64) int {
	if peers == 0 || freeHTTP <= 0 || candidates == 0 {
		return 0
	}
	pc := peers + 1
	safe := candidates
	if m := simultaneousHTTP * pc; m < safe {
		safe = m
	}
	p := float64(safe) / float64(pc)
	loaded := 0
	for i := 0; i < safe; i++ {
		if loaded >= freeHTTP {
			break
		}
		if p >= 1 || next() <= p {
			loaded++
		}
		p--
		if p <= 0 {
			break
		}
	}
	return loaded
}

// choosePeer is P2PLoader.downloadSegment's choice (p2p/loader.ts) among
// the peers that have the segment loaded and are not busy uploading to
// us: one peer is taken as it is; otherwise a random choice weighted by
// each peer's measured download bandwidth, where peers measured at no more
// than 10 % of the fastest (baseSpeed = max(1, 0.1·max)) weigh baseSpeed,
// lowered to provenWeight / unproven when the unproven peers would
// outweigh the proven ones; all unmeasured (max 0): uniform. u is the
// uniform draw in [0, 1); bw holds the bandwidths (bit/s, or any unit: the
// rule is scale-free except for the floor of 1).
func choosePeer(bw []float64, u float64) int {
	n := len(bw)
	if n <= 1 {
		return 0
	}
	maxSpeed := 0.0
	for _, b := range bw {
		if b > maxSpeed {
			maxSpeed = b
		}
	}
	if !(maxSpeed > 0) {
		k := int(u * float64(n))
		if k >= n {
			k = n - 1
		}
		return k
	}
	base := math.Max(1, maxSpeed*0.1)
	unproven, provenW := 0, 0.0
	for _, b := range bw {
		if b <= base {
			unproven++
		} else {
			provenW += b
		}
	}
	adj := base
	if unproven > 0 && provenW > 0 && float64(unproven)*base > provenW {
		adj = provenW / float64(unproven)
	}
	// utils.ts getWeightedRandomItem: r = random · total; walk until r ≤ 0
	total := 0.0
	for _, b := range bw {
		total += math.Max(b, adj)
	}
	r := u * total
	for i, b := range bw {
		r -= math.Max(b, adj)
		if r <= 0 {
			return i
		}
	}
	return n - 1
}
