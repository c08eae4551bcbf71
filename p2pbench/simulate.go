package p2pbench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/swarm"
)

// Go peer facts the scenario copies (package peer's defaults and
// behaviour; peer/follow.go and peer/peer.go).
const (
	goPeerOffers   = 5 // offers per announce (bittorrent-tracker's client)
	goPeerHoldBack = 3 // segments behind the live edge a following peer starts
	goPeerTries    = 8 // holders tried for one segment before the origin
	goPeerTimeout  = 2 * time.Second
	// loopbackSetupS is WebRTC set-up between two Go peers on loopback
	// without STUN (host candidates only, DTLS, SCTP): well under a
	// second on an idle machine; Report's measured column replaces it.
	loopbackSetupS = 0.3
)

// manifest is one rendition with the measured segment sizes, looped.
type manifest struct {
	segMs float64
	kbps  float64
	bits  []float64
}

func (m *manifest) SegmentDuration() float64     { return m.segMs }
func (m *manifest) Bitrates() []float64          { return []float64{m.kbps} }
func (m *manifest) NumSegments() int             { return len(m.bits) }
func (m *manifest) SegmentSize(i, _ int) float64 { return m.bits[i] }

// Scenario is the experiment of cfg as a swarm simulator scenario, with
// the rendition m measured (its segment sizes are the manifest Simulate
// passes). Mapping, field by field:
//
//   - stream: live, the measured segment duration, hold-back 3 segments
//     (where a Go peer starts), the origin's 30 s window; long enough for
//     the last peer's whole session.
//   - audience: cfg.Peers arriving over cfg.JoinOver (Poisson, where the
//     real run spaces them evenly), each staying cfg.Duration.
//   - one class "loopback": download 1 Gbit/s (the origin is not shaped),
//     1 ms latency and RTT, every uplink exactly cfg.UplinkKbps
//     (unlimited when 0).
//   - tracker: announce every cfg.Announce; neighbours twice the Go peer's
//     five offers (it sends five and answers about as many), at most
//     MaxPeers and N−1; join delay 0.1 s; set-up loopbackSetupS.
//   - scheduler p2pml with the Go peer's rules where they differ: no
//     seeding timer; P2P timeout 2 s and 7 retries (8 holders tried); and
//     a high-demand window that puts the HTTP deadline where the Go peer's
//     falls on average. A simulated live player at the hold-back asks for
//     a segment with (hold-back − 1) segments buffered, at its join phase
//     after publication (uniform over a segment: half a segment on
//     average), so p2pml's deadline comes seg/2 + (hold-back − 1)·seg −
//     high-demand after publication; the Go peer sees a segment half a
//     playlist reload (target/2, a quarter segment) after publication on
//     average, then waits a uniform part of its P2P wait (half of it on
//     average) for a peer. Equating the two gives
//     high-demand = (hold-back − 0.75)·seg − P2PWait/2 (3.5 s for 2 s
//     segments and the 2 s wait; with a P2PDeadline shorter than half
//     the wait, the deadline takes its place).
//
// What this cannot express (and BENCHMARKS.md measures the cost of): the
// simulator's neighbours are the peers a viewer found through its own
// announces (it cannot download from a peer that connected to it), a
// simulated player's deadline keeps the same phase for every segment
// where the Go peer draws a new wait each time, and a Go peer that sees a
// neighbour loading a segment waits a whole P2P wait longer.
func Scenario(cfg Config, m *Measured) (*swarm.Scenario, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if m == nil || len(m.SegmentBytes) == 0 || !(m.SegmentS > 0) {
		return nil, fmt.Errorf("%w: no measured rendition", ErrConfig)
	}
	seg := m.SegmentS
	wait := cfg.P2PWait.Seconds() / 2
	if d := cfg.P2PDeadline.Seconds(); d > 0 && d < wait {
		wait = d // the Go peer's deadline comes first
	}
	hd := (goPeerHoldBack-0.75)*seg - wait
	if hd < 0.001 {
		hd = 0.001
	}
	neigh := min(2*goPeerOffers, cfg.MaxPeers, max(cfg.Peers-1, 1))
	// the rendition also as a one-rung ladder with the measured spread,
	// so that the scenario alone (--report json) reruns with
	// streamkit swarm run; Simulate passes the exact sizes
	var mean, dev float64
	for _, b := range m.SegmentBytes {
		mean += float64(b)
	}
	mean /= float64(len(m.SegmentBytes))
	for _, b := range m.SegmentBytes {
		dev = math.Max(dev, math.Abs(float64(b)-mean)/mean)
	}
	sc := &swarm.Scenario{
		Name:    fmt.Sprintf("loopback %d Go peers, uplink %s", cfg.Peers, uplinkName(cfg.UplinkKbps)),
		Seed:    cfg.Seed,
		BucketS: 1,
		Stream: swarm.Stream{Live: true, DurationS: (cfg.Duration + cfg.JoinOver).Seconds() + 4*seg,
			HoldBackS: goPeerHoldBack * seg, WindowS: m.WindowS, SegmentS: seg,
			LadderKbps: []float64{mean * 8 / seg / 1000}, VBR: math.Min(math.Max(dev, 0.001), 0.99)},
		Audience: swarm.Audience{Peers: cfg.Peers, Arrival: "poisson", ArriveS: math.Max(cfg.JoinOver.Seconds(), 0.001),
			Session: "fixed", SessionS: cfg.Duration.Seconds()},
		Classes: []swarm.Class{{Name: "loopback", Share: 1, DownKbps: 1e6, LatencyMs: 1, RTTMs: 1,
			UpMedianKbps: cfg.UplinkKbps, UpUnlimited: cfg.UplinkKbps == 0}},
		Tracker: swarm.Tracker{AnnounceS: cfg.Announce.Seconds(), JoinDelayS: 0.1, Neighbours: neigh, SetupS: loopbackSetupS},
		Scheduler: swarm.Scheduler{Preset: swarm.PresetP2PML, HighDemandS: hd, DisableRandomHTTP: true,
			P2PNotReceivingMs: float64(goPeerTimeout.Milliseconds()), P2PRetries: goPeerTries - 1},
		ABR:       swarm.ABR{Algorithm: "throughput"},
		Integrity: swarm.Integrity{Mode: swarm.IntegrityNone},
	}
	return sc, sc.Validate()
}

func uplinkName(kbps float64) string {
	if kbps == 0 {
		return "unshaped"
	}
	return fmt.Sprintf("%g kbit/s", kbps)
}

// Simulated is the simulator's prediction.
type Simulated struct {
	Offload    float64 // over the same steady-state window
	OffloadAll float64 // over the whole run
	Result     *swarm.Result
}

// Simulate runs sc with the measured rendition and takes the offload over
// the same window as the measurement: simulated time 0 is the first
// arrival's, as the real run's 0 is the first peer's start.
func Simulate(ctx context.Context, cfg Config, sc *swarm.Scenario, m *Measured) (*Simulated, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	man := &manifest{segMs: m.SegmentS * 1000, kbps: m.BitrateKbps}
	for _, b := range m.SegmentBytes {
		man.bits = append(man.bits, float64(b)*8)
	}
	r, err := swarm.Run(ctx, sc, swarm.WithManifest(man))
	if err != nil {
		return nil, err
	}
	var cdn, p2p float64
	from, to := cfg.Warmup.Seconds(), cfg.Duration.Seconds()
	t0 := math.Inf(1)
	for _, p := range r.Series {
		if p.Concurrent > 0 && p.TimeS < t0 {
			t0 = p.TimeS
		}
	}
	if math.IsInf(t0, 1) {
		t0 = 0
	}
	for _, p := range r.Series {
		t := p.TimeS - t0
		if t >= from && t < to {
			cdn += p.CDNMbps
			p2p += p.PeerMbps
		}
	}
	s := &Simulated{OffloadAll: r.Offload, Result: r}
	if cdn+p2p > 0 {
		s.Offload = p2p / (cdn + p2p)
	}
	return s, nil
}

// Report is one comparison.
type Report struct {
	Config   Config
	Measured *Measured
	// Simulated is the scenario built from the configuration alone;
	// SimulatedDiscovery the same with the discovery the run measured
	// (neighbours = mean connections, set-up = median time to the first
	// connection).
	// SimulatedPatient moves the HTTP deadline as late as a live player
	// at the hold-back can afford (high-demand window 1 ms: the segment
	// is needed (hold-back − 1) segments after it is asked for), the
	// nearest p2pml comes to the Go peer's patience with a peer that has
	// the segment (up to 8 holders, 2 s without bytes each, no deadline).
	Simulated, SimulatedDiscovery, SimulatedPatient *Simulated
	Scenario                                        *swarm.Scenario
}

// Run measures the real swarm of cfg and simulates the same scenario.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	m, err := Measure(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sc, err := Scenario(cfg, m)
	if err != nil {
		return nil, err
	}
	sim, err := Simulate(ctx, cfg, sc, m)
	if err != nil {
		return nil, err
	}
	dsc := *sc
	dsc.Tracker.Neighbours = max(1, int(math.Round(m.LinksMean)))
	if m.FirstLinkMedianS > 0 {
		dsc.Tracker.SetupS = m.FirstLinkMedianS
		dsc.Tracker.JoinDelayS = 0.001
	}
	simD, err := Simulate(ctx, cfg, &dsc, m)
	if err != nil {
		return nil, err
	}
	psc := *sc
	psc.Scheduler.HighDemandS = 0.001
	simP, err := Simulate(ctx, cfg, &psc, m)
	if err != nil {
		return nil, err
	}
	return &Report{Config: cfg, Measured: m, Simulated: sim, SimulatedDiscovery: simD, SimulatedPatient: simP, Scenario: sc}, nil
}

// Summary is the report's figures for JSON output (without the time
// series and the simulator's full result).
type Summary struct {
	Peers              int             `json:"peers"`
	UplinkKbps         float64         `json:"uplink_kbps"`
	P2PDeadlineS       float64         `json:"p2p_deadline_s"`
	DurationS          float64         `json:"duration_s"`
	WarmupS            float64         `json:"warmup_s"`
	BitrateKbps        float64         `json:"bitrate_kbps"`
	SegmentS           float64         `json:"segment_s"`
	Measured           float64         `json:"measured_offload"`
	MeasuredAll        float64         `json:"measured_offload_whole_run"`
	Delivered          float64         `json:"measured_delivered_share"`
	Simulated          float64         `json:"simulated_offload"`
	SimulatedAll       float64         `json:"simulated_offload_whole_run"`
	SimulatedDiscovery float64         `json:"simulated_offload_measured_discovery"`
	SimulatedPatient   float64         `json:"simulated_offload_latest_deadline"`
	DiffPoints         float64         `json:"difference_points"`
	LinksMean          float64         `json:"links_per_peer"`
	FirstLinkMedianS   float64         `json:"first_link_median_s"`
	FirstLinkMaxS      float64         `json:"first_link_max_s"`
	CPUCores           float64         `json:"cpu_cores"`
	NumCPU             int             `json:"num_cpu"`
	Load1              float64         `json:"load_average_1m"`
	PeersFailed        int             `json:"peers_stopped_early"`
	SimDeadlineHTTP    int             `json:"sim_deadline_http"`
	SimHighDemandHTTP  int             `json:"sim_high_demand_http"`
	SimPeerRequests    int             `json:"sim_peer_requests"`
	SimP2PTimeouts     int             `json:"sim_p2p_timeouts"`
	SimNeighboursMean  float64         `json:"sim_neighbours_mean"`
	Scenario           *swarm.Scenario `json:"scenario"`
}

// Summary returns the report's figures.
func (r *Report) Summary() Summary {
	c, m, s := r.Config, r.Measured, r.Simulated
	out := Summary{Peers: c.Peers, UplinkKbps: c.UplinkKbps, P2PDeadlineS: c.P2PDeadline.Seconds(), DurationS: c.Duration.Seconds(), WarmupS: c.Warmup.Seconds(),
		BitrateKbps: m.BitrateKbps, SegmentS: m.SegmentS, Measured: m.Offload, MeasuredAll: m.OffloadAll, Delivered: m.Delivered,
		Simulated: s.Offload, SimulatedAll: s.OffloadAll, DiffPoints: r.DiffPoints(),
		LinksMean: m.LinksMean, FirstLinkMedianS: m.FirstLinkMedianS, FirstLinkMaxS: m.FirstLinkMaxS,
		CPUCores: m.CPUCores, NumCPU: m.NumCPU, Load1: m.Load1, PeersFailed: m.PeersFailed, Scenario: r.Scenario}
	if d := r.SimulatedDiscovery; d != nil {
		out.SimulatedDiscovery = d.Offload
	}
	if p := r.SimulatedPatient; p != nil {
		out.SimulatedPatient = p.Offload
	}
	if s.Result != nil {
		out.SimDeadlineHTTP, out.SimHighDemandHTTP, out.SimPeerRequests = s.Result.ByRule.Deadline, s.Result.ByRule.HighDemand, s.Result.ByRule.Peer
		out.SimP2PTimeouts, out.SimNeighboursMean = s.Result.P2PTimeouts, s.Result.NeighboursMean
	}
	return out
}

// DiffPoints is measured minus simulated offload, in percentage points.
func (r *Report) DiffPoints() float64 { return 100 * (r.Measured.Offload - r.Simulated.Offload) }

// String is the report as a few lines of text.
func (r *Report) String() string {
	var b strings.Builder
	c, m := r.Config, r.Measured
	fmt.Fprintf(&b, "%d Go peers on loopback, uplink %s, %v (steady window %v–%v), rendition %.0f kbit/s in %.1f s segments",
		c.Peers, uplinkName(c.UplinkKbps), c.Duration, c.Warmup, c.Duration, m.BitrateKbps, m.SegmentS)
	if c.P2PDeadline > 0 {
		fmt.Fprintf(&b, ", P2P deadline %v", c.P2PDeadline)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "measured offload   %5.1f %%  (whole run %.1f %%; window: %.1f MB from the origin, %.1f MB from peers, %.0f %% of what keeping up needs)\n",
		100*m.Offload, 100*m.OffloadAll, float64(m.HTTPBytes)/1e6, float64(m.P2PBytes)/1e6, 100*m.Delivered)
	fmt.Fprintf(&b, "simulated offload  %5.1f %%  (whole run %.1f %%; %d neighbours, set-up %.1f s)  difference %+.1f points\n",
		100*r.Simulated.Offload, 100*r.Simulated.OffloadAll, r.Scenario.Tracker.Neighbours, r.Scenario.Tracker.SetupS, r.DiffPoints())
	if d := r.SimulatedDiscovery; d != nil {
		fmt.Fprintf(&b, "simulated with the measured discovery %5.1f %%  (%.1f connections per peer, first connection after %.1f s median, %.1f s slowest)\n",
			100*d.Offload, m.LinksMean, m.FirstLinkMedianS, m.FirstLinkMaxS)
	}
	if p := r.SimulatedPatient; p != nil {
		fmt.Fprintf(&b, "simulated with the latest HTTP deadline a player can afford %5.1f %%\n", 100*p.Offload)
	}
	if res := r.Simulated.Result; res != nil {
		fmt.Fprintf(&b, "simulator's requests: %d from peers, %d HTTP at the deadline, %d HTTP high-demand (start-up), %d P2P timeouts, %d P2P aborted for HTTP, %.1f neighbours connected at a request, rebuffer ratio %.3f\n",
			res.ByRule.Peer, res.ByRule.Deadline, res.ByRule.HighDemand, res.P2PTimeouts, res.P2PAborted, res.NeighboursMean, res.RebufferRatio)
	}
	if m.PeersFailed > 0 {
		fmt.Fprintf(&b, "%d peers stopped early (first: %s)\n", m.PeersFailed, m.FirstError)
	}
	fmt.Fprintf(&b, "CPU %.2f of %d cores (load average %.1f)", m.CPUCores, m.NumCPU, m.Load1)
	if c.UplinkKbps > 0 && m.BitrateKbps > 0 {
		fmt.Fprintf(&b, "; upload bound U/D = %.0f %%", 100*math.Min(1, c.UplinkKbps/m.BitrateKbps))
	}
	b.WriteString("\n")
	return b.String()
}
