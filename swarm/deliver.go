package swarm

import (
	"math"

	"github.com/streamkit-go/streamkit/abr"
)

// Deliver decides where the current peer's request comes from (abr calls
// it inside Step): it is the scheduler. Rules, p2p-media-loader 2.x
// (packages/p2p-media-loader-core/src/hybrid-loader.ts):
//
//  1. processQueue, isHighDemand: a segment starting within
//     highDemandTimeWindow (15 s) of the playhead loads over HTTP when an
//     HTTP slot is free (the player's one outstanding request always finds
//     one here).
//  2. processQueue, else branch: a segment further ahead loads only from
//     peers (isP2PDownloadable: in the P2P window and loaded or loading by a
//     neighbour, p2p/loader.ts isSegmentLoadingOrLoadedBySomeone); it waits
//     until a neighbour has it, or until playback brings it into the
//     high-demand window (rule 1).
//  3. setIntervalLoading / loadRandomThroughHttp: every
//     1 + random·peers seconds the peer HTTP-loads segments nobody around
//     it has or is loading, each with probability ≈ count / (peers + 1)
//     (seedingPicks); no connected peer, no seeding.
//  4. p2p/loader.ts downloadSegment: among the neighbours that have it,
//     a bandwidth-weighted random choice with the 10 % floor (choosePeer).
//  5. Peer request timeout (p2pNotReceivingBytesTimeoutMs 2000): a peer
//     whose first byte would come later than that (its uplink is queued)
//     fails the attempt; the next holder is tried, up to p2pErrorRetries.
//  6. A P2P download still running when the segment enters the high-demand
//     window is aborted for HTTP (shouldSwitchFromP2PToHttp); its bytes are
//     wasted.
//  7. validateP2PSegment: with integrity on, altered data is detected, the
//     peer connection is destroyed (dropped from the neighbours) and the
//     segment is refetched over HTTP at once.
//
// Deliver sees every request made before it in simulated time (the order
// of the event queue): a neighbour's holding is visible once that neighbour
// has requested the segment, with its start and completion times.
func (s *sim) Deliver(v abr.View, seg, q int, bits float64) abr.Delivery {
	id := s.cur
	s.curBits = bits
	p := &s.peers[id]
	T := p.join + v.NetworkTimeMs()
	s.lastP2P, s.lastBad, s.lastUp, s.lastCounted = false, false, -1, false
	sch := &s.sc.Scheduler
	if sch.Preset == PresetCDNOnly {
		return s.http(T, 0)
	}
	g := int32(int(p.s0) + seg)
	bl := v.BufferLevel()
	s.joinSwarm(id, q, T)
	p = &s.peers[id]
	p.reqs++
	connected := s.connected(id, T)
	p.neighSum += float64(connected)
	s.neighSum += float64(connected)
	s.reqs++
	highMs := sch.HighDemandS * 1000
	if h := s.slotOf(id, g); h.g == g && int(h.q) == q && h.done < math.Inf(1) {
		// the seeding timer loaded it over HTTP already (its bytes were
		// counted then)
		d := s.supplied(T, h.start, h.done, false)
		s.lastCounted = true
		return d
	}
	// The loader works ahead of the player: generateQueue (utils/queue.ts)
	// lists every segment from the last requested one through the P2P
	// window, so segment g has been in the queue since it was published
	// (live) or since the peer joined this rendition's swarm, whichever is
	// later; it may be in the cache before the player asks for it.
	deadline := T + (bl - highMs) // g enters the high-demand window
	tq := math.Max(s.avail(g), p.swarmSince)
	if !inTimeWindow(bl/1000, sch.P2PWindowS) {
		tq = math.Max(tq, T+bl-sch.P2PWindowS*1000)
	}
	if inTimeWindow(bl/1000, sch.HighDemandS) && !(deadline > tq) {
		s.res.ByRule.HighDemand++
		return s.http(T, 0) // rule 1: high demand from the start
	}
	// when could a neighbour serve it, and when is someone loading it
	// (the earliest time a neighbour can serve it does not depend on when
	// we ask, only its clamp to the present does: one scan serves every
	// retry below, and the holders it found are kept for choose)
	var rawHave float64
	if m := &s.memo; m.ok && m.id == id && m.g == g && m.q == q && m.t == tq {
		rawHave = m.have // ready() just looked, and nothing changed since
	} else {
		rawHave, _ = s.holdersRaw(id, g, q, true, math.Inf(-1))
	}
	s.memo.ok = false
	tHave := atLeast(rawHave, tq)
	// rule 3 (the seeding timer) runs as its own events (seed); what it
	// loaded is in the peer's own cache, checked above
	t := tq
	failed := 0
	for tHave < deadline {
		t = math.Max(t, tHave)
		k, u := s.choose(id, g, q, t)
		if u < 0 {
			break
		}
		p = &s.peers[id]
		up := &s.peers[u]
		cl, ucl := &s.classes[p.class], &s.classes[up.class]
		lat := (cl.RTTMs + ucl.RTTMs) / 2
		// The uplink is shared by the uploads it serves: bytes start
		// flowing after the round trip, and the download ends when both
		// the downloader's link and the uploader's backlog (its uplink is
		// work-conserving: the bits queued before ours go first) allow.
		start := t + lat
		down := s.downKbps(id, start)
		if !(down > 0) {
			break
		}
		end := start + bits/down
		busy := math.Max(up.upBusy, start)
		if !math.IsInf(up.up, 1) {
			busy += bits / up.up
			end = math.Max(end, busy)
		}
		// rule 5: data comes in messages of up to webRtcMaxMessageSize
		// (64 KiB − 1); a peer slower than one message per
		// p2pNotReceivingBytesTimeoutMs times out. A segment smaller than
		// one message is one message: it times out only when it takes
		// longer than the timeout itself (the rate rule alone failed
		// every sub-message segment below 262 kbit/s, where the real
		// loader gets it whole; found against Go peers, BENCHMARKS.md).
		if (end-start)/math.Max(1, bits/(8*65535)) > sch.P2PNotReceivingMs {
			failed++
			s.res.P2PTimeouts++
			t += sch.P2PNotReceivingMs
			if k >= 0 {
				p.nb[k].bw = 0
			}
			if failed > sch.P2PRetries {
				break
			}
			tHave = atLeast(rawHave, t)
			continue
		}
		rate := bits / (end - start)
		if end > up.leave {
			// the uploader leaves before the transfer ends: the bytes stop
			// and the request times out (rule 5)
			failed++
			s.res.P2PTimeouts++
			t = math.Max(t, up.leave) + sch.P2PNotReceivingMs
			if failed > sch.P2PRetries {
				break
			}
			tHave = atLeast(rawHave, t)
			continue
		}
		if end > deadline { // rule 6
			s.res.WastedBytes += rate * math.Max(0, deadline-start) / 8
			s.res.DuplicateBytes += rate * math.Max(0, deadline-start) / 8
			s.res.P2PAborted++
			break
		}
		if !math.IsInf(up.up, 1) {
			up.upBusy = busy
		}
		if k >= 0 {
			p.nb[k].bw = rate
		}
		bad := up.tamper || s.slotOf(u, g).bad
		if bad {
			s.res.TamperedReceived++
			if s.sc.Integrity.Mode != IntegrityNone { // rule 7
				s.res.TamperedDetected++
				s.res.WastedBytes += bits / 8
				s.res.DuplicateBytes += bits / 8
				up.upBits += bits
				if k >= 0 {
					s.dropNeighbour(id, k)
				}
				s.res.ByRule.Refetched++
				return s.http(T, math.Max(0, end-T))
			}
			s.res.TamperedAccepted++
		}
		if s.sc.Integrity.Mode == IntegrityHash {
			// the segment's hash comes from the origin's sidecar (PeerTube's
			// segments-sha256.json, about 100 bytes an entry, rewritten for
			// every live segment): one fetch per verified segment
			s.res.SidecarBytes += 100 * float64(s.w)
		}
		s.res.ByRule.Peer++
		d := s.supplied(T, start, end, true)
		s.lastBad, s.lastUp = bad, u
		return d
	}
	s.res.ByRule.Deadline++
	return s.http(T, math.Max(0, math.Max(deadline, t)-T))
}

// supplied hands the player a segment the loader fetched over [start,
// end] (from a peer, or over HTTP ahead of the request). The player sees
// p2p-media-loader-hlsjs's timing (fragment-loader.ts getLoadingStat:
// DEFAULT_DOWNLOAD_LATENCY 10 ms, then the segment's bytes at the
// bandwidth the core reports), not the wait for peers. The core reports
// (hybrid-loader.ts getBandwidth) its measured bandwidth over recent
// downloads of every source, not this transfer's own: modelled as the
// fastest of this transfer and the peer's last three downloads. The
// player's clock still advances by the real time, the hidden wait taking
// up the difference; a segment already in the cache costs it only the
// reported transfer.
func (s *sim) supplied(T, start, end float64, p2p bool) abr.Delivery {
	s.lastP2P, s.lastBad, s.lastUp, s.lastCounted = p2p, false, -1, false
	s.lastStart, s.lastDone = start, end
	p := &s.peers[s.cur]
	bits := s.curBits
	rate := bits / math.Max(end-start, 1e-3)
	for _, r := range p.recent {
		rate = math.Max(rate, r)
	}
	const lat = 10
	report := bits / rate
	real := end - T // time from the request to the last byte
	if real < lat+report {
		return abr.Delivery{LatencyMs: lat, TransferMs: report, Supplied: true}
	}
	return abr.Delivery{WaitMs: real - lat - report, LatencyMs: lat, TransferMs: report, Supplied: true, HideWait: true}
}

// measured records a download rate (kbit/s) of the peer's loader.
func (p *peer) measured(kbps float64) {
	if kbps > 0 && !math.IsInf(kbps, 1) {
		p.recent[p.nrecent%len(p.recent)] = kbps
		p.nrecent++
	}
}

// avail is when segment g is published (live) — −∞ for VOD.
func (s *sim) avail(g int32) float64 {
	if !s.live {
		return math.Inf(-1)
	}
	return float64(g+1)*s.segMs - s.preMs
}

// http answers "from the trace" after wait ms (plus the CDN's RTT).
func (s *sim) http(T, wait float64) abr.Delivery {
	w := wait + s.sc.CDN.RTTMs
	s.lastStart, s.lastDone = T+w, -1
	s.lastP2P, s.lastBad, s.lastUp, s.lastCounted = false, false, -1, false
	if s.sc.Integrity.Mode == IntegrityHash && s.sc.Scheduler.Preset != PresetCDNOnly {
		// data from the origin is trusted; its hash still has to be known
		// before it is served to others
		s.res.SidecarBytes += 100 * float64(s.w)
	}
	// (a wait for peers is hidden from the player, as above)
	return abr.Delivery{WaitMs: w, HideWait: wait > 0}
}

// downKbps is the peer's own download rate (its trace) at wall time t.
func (s *sim) downKbps(id int32, t float64) float64 {
	p := &s.peers[id]
	tr := &s.classes[p.class].traces[p.trace]
	return tr.kbpsAt(t - p.join)
}

// holders returns, for the neighbours of id at time ≥ t, the earliest time
// one of them can serve g at quality q (loaded, announced, connection
// ready) and the earliest time one is known to be loading it over HTTP.
func (s *sim) holders(id, g int32, q int, t float64) (tHave, tLoad float64) {
	tHave, tLoad = s.holdersRaw(id, g, q, false, math.Inf(-1))
	return atLeast(tHave, t), tLoad
}

func atLeast(v, t float64) float64 {
	if v < t {
		return t
	}
	return v
}

// loadingBy reports whether a neighbour of id is known at t to hold or
// load g at quality q (holders' tLoad ≤ t), stopping at the first such
// neighbour.
func (s *sim) loadingBy(id, g int32, q int, t float64) bool {
	_, load := s.holdersRaw(id, g, q, false, t)
	return load <= t
}

// cand is a neighbour holding the requested segment, as holdersRaw found
// it: what choose needs to test it at any time t, without another look at
// its ring.
type cand struct {
	k, j         int32   // neighbour slot and peer
	ready, avail float64 // connection up; announced (done + announce latency)
	leave        float64
}

// holdersRaw is holders without the clamp to t (it does not depend on
// t). With keep, and neighbours (not everyone connected), it also keeps
// the holders in s.cands for choose. It returns as soon as a tLoad ≤ stop
// is found (then tHave is partial): −∞ looks at every neighbour.
func (s *sim) holdersRaw(id, g int32, q int, keep bool, stop float64) (tHave, tLoad float64) {
	tHave, tLoad = math.Inf(1), math.Inf(1)
	p := &s.peers[id]
	rtt := s.classes[p.class].RTTMs
	ann := s.sc.Scheduler.AnnounceLatencyMs
	slot := int(g) % s.w
	all := s.sc.Tracker.EveryoneConnected
	var list []int32
	var nbs []neighbour
	n := len(p.nb)
	if all {
		list = s.swarms[q]
		n = len(list)
	} else {
		nbs = p.nb
	}
	row := s.heldRow(g, q)
	keep = keep && !all
	if keep {
		s.cands, s.candKey = s.cands[:0], candKey{ok: true, id: id, g: g, q: q}
	}
	for k := 0; k < n; k++ {
		var j int32
		ready := 0.0
		if all {
			j = list[k]
		} else {
			j, ready = nbs[k].j, nbs[k].ready
		}
		// the holding bit first (see heldRow); a set bit, or a ring, implies
		// a live peer
		if j == id || (row != nil && row[j>>6]&(1<<(uint(j)&63)) == 0) {
			continue
		}
		ph := &s.ph[j]
		if ph.rb < 0 {
			continue
		}
		h := &s.rings[slot*s.rcap+int(ph.rb)]
		if h.g != g || int(h.q) != q {
			continue
		}
		a := ann
		if a == 0 {
			a = (rtt + s.classes[ph.cls].RTTMs) / 4
		}
		have := math.Max(h.done+a, ready)
		if have < ph.leave && have < tHave {
			tHave = have
		}
		if load := math.Max(h.start+a, ready); load < tLoad {
			tLoad = load
			if load <= stop {
				return tHave, tLoad
			}
		}
		if keep {
			s.cands = append(s.cands, cand{k: int32(k), j: j, ready: ready, avail: h.done + a, leave: ph.leave})
		}
	}
	return tHave, tLoad
}

// choose picks the neighbour to download g from at time t (rule 4); it
// returns the neighbour slot (for the bandwidth measurement) and the peer.
func (s *sim) choose(id, g int32, q int, t float64) (slot int, peerID int32) {
	p := &s.peers[id]
	var bwBuf [64]float64
	var idBuf [64]int32
	var slotBuf [64]int
	bw, ids, slots := bwBuf[:0], idBuf[:0], slotBuf[:0]
	cl := &s.classes[p.class]
	rs := int(g) % s.w
	row := s.heldRow(g, q)
	ok := func(j int32, ready float64) bool {
		// (a set holding bit, or a ring, implies a live peer)
		if j == id || ready > t || (row != nil && row[j>>6]&(1<<(uint(j)&63)) == 0) || s.ph[j].rb < 0 {
			return false
		}
		h := &s.rings[rs*s.rcap+int(s.ph[j].rb)]
		ann := s.sc.Scheduler.AnnounceLatencyMs
		if ann == 0 {
			ann = (cl.RTTMs + s.classes[s.ph[j].cls].RTTMs) / 4
		}
		return h.g == g && int(h.q) == q && h.done+ann <= t && t < s.ph[j].leave
	}
	if ck := s.candKey; ck.ok && ck.id == id && ck.g == g && ck.q == q && !s.sc.Tracker.EveryoneConnected {
		// the holders Deliver's scan found (the same neighbours in the same
		// order as the loop below would accept)
		for _, c := range s.cands {
			if len(ids) < cap(idBuf) && !(c.ready > t) && c.avail <= t && t < c.leave {
				ids, bw, slots = append(ids, c.j), append(bw, p.nb[c.k].bw), append(slots, int(c.k))
			}
		}
	} else if s.sc.Tracker.EveryoneConnected {
		for _, j := range s.swarms[q] {
			if len(ids) < cap(idBuf) && ok(j, 0) {
				ids, bw, slots = append(ids, j), append(bw, 0), append(slots, -1)
			}
		}
	} else {
		for k, nb := range p.nb {
			if len(ids) < cap(idBuf) && ok(nb.j, nb.ready) {
				ids, bw, slots = append(ids, nb.j), append(bw, nb.bw), append(slots, k)
			}
		}
	}
	if len(ids) == 0 {
		return -1, -1
	}
	c := choosePeer(bw, s.rng.Float64())
	return slots[c], ids[c] // slot −1: everyone connected, no per-connection state
}

// connected counts the neighbours whose connection is up at t.
func (s *sim) connected(id int32, t float64) int {
	p := &s.peers[id]
	if s.sc.Tracker.EveryoneConnected {
		return len(s.swarms[p.swarm]) - 1
	}
	n := 0
	for _, nb := range p.nb {
		if nb.ready <= t && bit(s.aliveB, nb.j) {
			n++
		}
	}
	return n
}

// joinSwarm puts id in the swarm of rendition q (p2p-media-loader keeps
// one swarm per stream + rendition, StreamUtils.getStreamSwarmId, and
// switches loader when the rendition changes), asking the tracker for
// neighbours; on later requests it re-announces every announce interval
// and replaces neighbours that left or moved to another rendition.
func (s *sim) joinSwarm(id int32, q int, T float64) {
	p := &s.peers[id]
	tk := &s.sc.Tracker
	if int(p.swarm) != q {
		s.leaveSwarm(id)
		p.swarm = int8(q)
		p.spos = int32(len(s.swarms[q]))
		s.swarms[q] = append(s.swarms[q], id)
		p.nb = p.nb[:0]
		p.swarmSince = T
		if !p.seeding && s.sc.Scheduler.Preset == PresetP2PML && !s.sc.Scheduler.DisableRandomHTTP {
			p.seeding = true
			s.push(event{t: T + seedingTimeout(s.rng.Float64(), 0), p: id, kind: evSeed})
		}
		if !tk.EveryoneConnected {
			s.fill(id, T+(tk.JoinDelayS+tk.SetupS)*1000)
		}
		p.nextAnnounce = T + tk.AnnounceS*1000
		return
	}
	if tk.EveryoneConnected || T < p.nextAnnounce {
		return
	}
	for T >= p.nextAnnounce {
		p.nextAnnounce += tk.AnnounceS * 1000
	}
	// drop neighbours that left the swarm
	for k := 0; k < len(p.nb); {
		nb := &s.peers[p.nb[k].j]
		if !nb.alive || int(nb.swarm) != q {
			s.dropNeighbour(id, k)
			continue
		}
		k++
	}
	s.fill(id, T+tk.SetupS*1000)
}

func (s *sim) dropNeighbour(id int32, k int) {
	s.memo.ok, s.candKey.ok = false, false
	p := &s.peers[id]
	last := len(p.nb) - 1
	p.nb[k] = p.nb[last]
	p.nb = p.nb[:last]
}

// fill asks the tracker for peers of id's swarm until it has
// tracker.neighbours connections; each offer connects with the NAT
// matrix's probability and is usable from ready.
func (s *sim) fill(id int32, ready float64) {
	s.memo.ok, s.candKey.ok = false, false
	p := &s.peers[id]
	members := s.swarms[p.swarm]
	want := s.sc.Tracker.Neighbours
	for tries := 0; len(p.nb) < want && tries < 3*want && len(members) > 1; tries++ {
		j := members[s.rng.IntN(len(members))]
		if j == id || contains(p.nb, j) {
			continue
		}
		s.res.ConnectAttempts++
		if s.rng.Float64() >= s.sc.NAT.Success[p.nat][s.peers[j].nat] {
			s.res.ConnectFailures++
			continue
		}
		p.nb = append(p.nb, neighbour{j: j, ready: ready})
	}
}

func contains(a []neighbour, x int32) bool {
	for _, v := range a {
		if v.j == x {
			return true
		}
	}
	return false
}

func (s *sim) leaveSwarm(id int32) {
	s.memo.ok, s.candKey.ok = false, false
	p := &s.peers[id]
	if p.swarm < 0 {
		return
	}
	m := s.swarms[p.swarm]
	last := m[len(m)-1]
	m[p.spos] = last
	s.peers[last].spos = p.spos
	s.swarms[p.swarm] = m[:len(m)-1]
	p.swarm = -1
}

// seed is one round of the peer's random-HTTP timer (hybrid-loader.ts
// setIntervalLoading → loadRandomThroughHttp), at time t: the candidates
// are the segments of its queue (from the next one its player needs to the
// newest published, at most the ring) that it does not hold and that no
// neighbour has or is loading; seedingPicks says how many it loads, chosen
// at random (the shuffled indices). Then the timer is set again.
func (s *sim) seed(id int32, t float64) {
	p := &s.peers[id]
	if !p.alive || p.sess == nil {
		p.seeding = false
		return
	}
	connected := s.connected(id, t)
	q := int(p.swarm)
	if q >= 0 && connected > 0 {
		first := int(p.s0) + p.next
		last := int(p.s0) + int(p.nseg) - 1
		if s.live {
			if newest := int(math.Floor((t+s.preMs)/s.segMs)) - 1; newest < last {
				last = newest
			}
		}
		if last >= first+s.w {
			last = first + s.w - 1
		}
		var cand [64]int32
		c := cand[:0]
		for g := first; g <= last && len(c) < cap(cand); g++ {
			h := s.slotOf(id, int32(g))
			if h.g == int32(g) && int(h.q) == q {
				continue
			}
			if s.loadingBy(id, int32(g), q, t) {
				continue
			}
			c = append(c, int32(g))
		}
		sch := &s.sc.Scheduler
		n := seedingPicks(len(c), connected, sch.SimultaneousHTTP, sch.SimultaneousHTTP, s.rng.Float64)
		for i := 0; i < n; i++ {
			k := i + s.rng.IntN(len(c)-i)
			c[i], c[k] = c[k], c[i]
			g := c[i]
			bits := s.sizes[int(g)*s.n+q]
			start := t + s.sc.CDN.RTTMs + s.classes[p.class].LatencyMs
			down := s.downKbps(id, start)
			if !(down > 0) {
				continue
			}
			end := start + bits/down
			s.put(id, g, q, false, start, end)
			s.addBits(false, start, end, bits)
			p.cdnBits += bits
			s.res.ByRule.Seeded++
			if s.cfg.onSeg != nil {
				s.cfg.onSeg(g, q, false, bits)
			}
		}
	}
	s.push(event{t: t + seedingTimeout(s.rng.Float64(), connected), p: id, kind: evSeed})
}

// ready reports whether peer id's pending request (at request time T, with
// the buffer level bl) can be decided at processing time now: p2pml's
// answer is known once the segment is high-demand, cached, or held by a
// neighbour; until then the request waits for the swarm (the step is
// processed again later), so that the decision sees every seed and every
// transfer that happens before it. The rendition is the one the player is
// on; if its ABR then switches, Deliver decides with what it knows.
func (s *sim) ready(id int32, now float64) (bool, float64) {
	p := &s.peers[id]
	sch := &s.sc.Scheduler
	if sch.Preset != PresetP2PML || p.swarm < 0 || p.next >= int(p.nseg) {
		return true, 0
	}
	g := p.s0 + int32(p.next)
	q := int(p.swarm)
	T, bl := p.reqT, p.reqBl
	deadline := T + bl - sch.HighDemandS*1000
	tq := math.Max(s.avail(g), p.swarmSince)
	if inTimeWindow(bl/1000, sch.HighDemandS) && !(deadline > tq) || now >= deadline {
		return true, 0
	}
	if h := s.slotOf(id, g); h.g == g && int(h.q) == q {
		return true, 0
	}
	raw, _ := s.holdersRaw(id, g, q, true, math.Inf(-1))
	if have := atLeast(raw, tq); have < deadline {
		s.memo = holdersMemo{ok: true, id: id, g: g, q: q, t: tq, have: raw}
		return true, 0
	}
	return false, math.Min(deadline, now+recheckMs)
}

// recheckMs is how often a waiting request looks at its swarm again
// (p2p-media-loader re-runs its queue on every announcement; a second is
// its PEER_UPDATE_LATENCY).
const recheckMs = 1000

// holdersMemo keeps ready()'s answer for the Deliver that follows it in
// the same step (the same request, neighbours unchanged).
type holdersMemo struct {
	ok      bool
	id, g   int32
	q       int
	t, have float64 // have: holdersRaw's (not clamped)
}

// candKey says whose request s.cands holds.
type candKey struct {
	ok    bool
	id, g int32
	q     int
}
