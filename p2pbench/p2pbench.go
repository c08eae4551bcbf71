package p2pbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/peer"
	"github.com/streamkit-go/streamkit/shape"
	"github.com/streamkit-go/streamkit/tracker"
)

// ErrConfig reports a configuration that cannot be run.
var ErrConfig = errors.New("p2pbench: invalid configuration")

// Config is one experiment. Zero fields take the defaults listed.
type Config struct {
	Peers      int           // Go peers following the stream (default 10; at most 1000)
	UplinkKbps float64       // each peer's uplink in kbit/s (0: unshaped, loopback speed)
	Duration   time.Duration // from the first peer's start to the end (default 60 s)
	Warmup     time.Duration // left out of the steady-state window (default a third of Duration)
	JoinOver   time.Duration // peers start evenly spread over this (default 10 s)
	P2PWait    time.Duration // peer.WithP2PWait (default 2 s, the Go peer's)
	// P2PDeadline is peer.WithP2PDeadline (0, the default: none).
	P2PDeadline time.Duration
	Announce    time.Duration // tracker announce interval (default 120 s, the tracker's)
	MaxPeers    int           // peer.WithMaxPeers (default 20, the Go peer's)
	Seed        uint64        // the simulator's seed (default 1)
	// Logf, when set, gets a line of the swarm's counters every LogEvery
	// (default 5 s) while the swarm runs.
	Logf     func(format string, a ...any)
	LogEvery time.Duration
}

func (c *Config) defaults() error {
	if c.Peers == 0 {
		c.Peers = 10
	}
	if c.Duration == 0 {
		c.Duration = 60 * time.Second
	}
	if c.Warmup == 0 {
		c.Warmup = c.Duration / 3
	}
	if c.JoinOver == 0 {
		c.JoinOver = 10 * time.Second
	}
	if c.P2PWait == 0 {
		c.P2PWait = 2 * time.Second
	}
	if c.Announce == 0 {
		c.Announce = 120 * time.Second
	}
	if c.MaxPeers == 0 {
		c.MaxPeers = 20
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.LogEvery <= 0 {
		c.LogEvery = 5 * time.Second
	}
	switch {
	case c.Peers < 1 || c.Peers > 1000:
		return fmt.Errorf("%w: %d peers: want 1 to 1000", ErrConfig, c.Peers)
	case c.UplinkKbps < 0 || math.IsNaN(c.UplinkKbps) || math.IsInf(c.UplinkKbps, 0):
		return fmt.Errorf("%w: uplink %v kbit/s", ErrConfig, c.UplinkKbps)
	case c.Duration < 5*time.Second || c.Duration > 24*time.Hour:
		return fmt.Errorf("%w: duration %v: want 5 s to 24 h", ErrConfig, c.Duration)
	case c.Warmup < 0 || c.Warmup >= c.Duration-time.Second:
		return fmt.Errorf("%w: warm-up %v must leave at least a second of %v", ErrConfig, c.Warmup, c.Duration)
	case c.JoinOver < 0 || c.JoinOver >= c.Duration:
		return fmt.Errorf("%w: join-over %v must be shorter than the duration %v", ErrConfig, c.JoinOver, c.Duration)
	case c.P2PWait < 0 || c.P2PDeadline < 0 || c.Announce < time.Second || c.MaxPeers < 1:
		return fmt.Errorf("%w: p2p wait, announce interval (at least 1 s) and max peers must be positive", ErrConfig)
	}
	return nil
}

// Sample is the swarm's counters at one moment of a run.
type Sample struct {
	T                   time.Duration // since the first peer started
	Running             int           // peers started
	HTTPBytes, P2PBytes int64         // players' bytes so far (init segments included)
	Links               int64         // connected peer pairs, counted from both ends
}

// Measured is what a real run measured.
type Measured struct {
	// Offload is P2P / (HTTP + P2P) bytes over the steady-state window
	// [Warmup, Duration]; OffloadAll over the whole run.
	Offload, OffloadAll float64
	// HTTPBytes and P2PBytes are the window's bytes. Delivered is their
	// sum over what the peers would need to keep up with the stream
	// (peers × bitrate × window): below 1 the peers fell behind the live
	// edge (the Go peer waits for peers without a playback deadline).
	HTTPBytes, P2PBytes int64
	Delivered           float64
	// SegmentS and BitrateKbps describe the followed rendition;
	// SegmentBytes are the sizes of the segments in its playlist at the
	// end (the simulator loops them).
	SegmentS     float64
	BitrateKbps  float64
	SegmentBytes []int64
	WindowS      float64 // the live playlist's window
	// LinksMean is the mean number of peers a peer was connected to over
	// the window; FirstLinkS the median and slowest time from a peer's
	// start to its first connection (-1: never connected).
	LinksMean                       float64
	FirstLinkMedianS, FirstLinkMaxS float64
	// CPUCores is the process's CPU time over wall time (1.0: one core
	// busy); NumCPU the machine's.
	CPUCores float64
	NumCPU   int
	// PeersFailed stopped before the end (FirstError says why).
	PeersFailed int
	FirstError  string
	// Load1 is the machine's one-minute load average at the end (Linux's
	// /proc/loadavg; 0 elsewhere): other work competing for the cores.
	Load1  float64
	Series []Sample
}

// liveWindow is the live packager's playlist window (live.WithWindow).
const liveWindow = 30 * time.Second

// Measure runs the real swarm: the live origin and the tracker on
// 127.0.0.1, then cfg.Peers Go peers (loopback WebRTC only), until
// cfg.Duration after the first one started.
func Measure(ctx context.Context, cfg Config) (*Measured, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pack := live.New(live.WithLowLatency(false), live.WithWindow(liveWindow))
	src, err := live.NewSampleSource(pack, live.WithLoops(1_000_000))
	if err != nil {
		return nil, err
	}
	origin := live.NewOrigin(pack)
	trk := tracker.New(tracker.WithInterval(cfg.Announce))
	mux := http.NewServeMux()
	mux.Handle("/announce", trk)
	mux.Handle("/", origin)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := httpserver.New(mux, httpserver.WithMaxConns(4*cfg.Peers+64), httpserver.WithGracePeriod(time.Second))
	var bg sync.WaitGroup
	srvCtx, stopSrv := context.WithCancel(context.Background())
	bg.Add(2)
	go func() { defer bg.Done(); _ = srv.Serve(srvCtx, ln) }()
	srcCtx, stopSrc := context.WithCancel(ctx)
	go func() { defer bg.Done(); _ = src.Run(srcCtx) }()
	defer func() {
		stopSrc()
		trk.Shutdown(context.Background())
		stopSrv()
		bg.Wait()
	}()

	base := "http://" + ln.Addr().String()
	playlist := base + origin.Prefix() + "v0/media.m3u8"
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 2 * cfg.Peers, IdleConnTimeout: 30 * time.Second}}
	defer client.CloseIdleConnections()
	if err := waitSegments(ctx, client, playlist, 3); err != nil {
		return nil, err
	}

	var shaper *shape.Shaper
	if cfg.UplinkKbps > 0 {
		sc := &shape.Scenario{Name: "uplink", Phases: []shape.Phase{{DurationS: shape.MaxDurationS, Kbps: cfg.UplinkKbps}}}
		if shaper, err = shape.New(sc, shape.WithMaxClients(cfg.Peers)); err != nil {
			return nil, err
		}
	}
	peers := make([]*peer.Peer, cfg.Peers)
	for i := range peers {
		opts := []peer.Option{peer.WithTracker("ws://" + ln.Addr().String() + "/announce"), peer.WithLoopbackOnly(),
			peer.WithHTTPClient(client), peer.WithP2PWait(cfg.P2PWait), peer.WithMaxPeers(cfg.MaxPeers),
			peer.WithP2PDeadline(cfg.P2PDeadline)}
		if shaper != nil {
			opts = append(opts, peer.WithUplink(shaper.Pacer("peer-"+strconv.Itoa(i))))
		}
		if peers[i], err = peer.New(playlist, opts...); err != nil {
			return nil, err
		}
	}

	cpu0 := cpuTime()
	t0 := time.Now()
	end := t0.Add(cfg.Duration)
	runCtx, stopPeers := context.WithDeadline(ctx, end)
	defer stopPeers()
	var wg sync.WaitGroup
	errs := make([]error, len(peers))
	started := make([]time.Time, len(peers))
	firstLink := make([]time.Duration, len(peers))
	running := 0
	m := &Measured{NumCPU: runtime.NumCPU()}
	var win0 *Sample
	var linkSum float64
	var linkN int
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	nextSample := t0
	var nextLog time.Duration
	for {
		now := time.Now()
		for running < len(peers) && now.Sub(t0) >= time.Duration(running)*cfg.JoinOver/time.Duration(len(peers)) {
			i := running
			started[i], firstLink[i] = now, -1
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = peers[i].Run(runCtx)
			}()
			running++
		}
		for i := range running {
			if firstLink[i] < 0 && peers[i].Stats().Peers > 0 {
				firstLink[i] = now.Sub(started[i])
			}
		}
		if !now.Before(nextSample) || !now.Before(end) {
			s := Sample{T: now.Sub(t0), Running: running}
			for _, p := range peers[:running] {
				st := p.Stats()
				s.HTTPBytes += st.HTTPBytes
				s.P2PBytes += st.P2PBytes
				s.Links += st.Peers
			}
			m.Series = append(m.Series, s)
			if s.T >= cfg.Warmup {
				if win0 == nil {
					win0 = &m.Series[len(m.Series)-1]
				}
				linkSum += float64(s.Links) / float64(running)
				linkN++
			}
			if cfg.Logf != nil && (s.T >= nextLog || !now.Before(end)) {
				for nextLog <= s.T {
					nextLog += cfg.LogEvery
				}
				cfg.Logf("%5.0fs  peers %4d  links %5.1f/peer  origin %8.1f MB  peers %8.1f MB  offload %5.1f%%",
					s.T.Seconds(), running, float64(s.Links)/float64(running), float64(s.HTTPBytes)/1e6,
					float64(s.P2PBytes)/1e6, 100*share(s.P2PBytes, s.HTTPBytes))
			}
			for !nextSample.After(now) {
				nextSample = nextSample.Add(time.Second)
			}
			if !now.Before(end) {
				break
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			stopPeers()
			wg.Wait()
			return nil, ctx.Err()
		}
	}
	// the rendition, while the origin still runs
	if err := m.describe(ctx, client, playlist); err != nil {
		stopPeers()
		wg.Wait()
		return nil, err
	}
	stopPeers()
	wg.Wait()
	m.CPUCores = (cpuTime() - cpu0).Seconds() / time.Since(t0).Seconds()
	m.Load1 = loadAverage()
	// A peer that stopped early (its tracker connection dropped on a
	// starved machine) is counted, not fatal: the others' figures stand.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			m.PeersFailed++
			if m.FirstError == "" {
				m.FirstError = err.Error()
			}
		}
	}
	if m.PeersFailed == len(peers) {
		return nil, fmt.Errorf("p2pbench: every peer stopped early: %s", m.FirstError)
	}
	last := m.Series[len(m.Series)-1]
	m.OffloadAll = share(last.P2PBytes, last.HTTPBytes)
	if win0 != nil {
		m.HTTPBytes, m.P2PBytes = last.HTTPBytes-win0.HTTPBytes, last.P2PBytes-win0.P2PBytes
		m.Offload = share(m.P2PBytes, m.HTTPBytes)
		if need := float64(cfg.Peers) * m.BitrateKbps * 1000 / 8 * (last.T - win0.T).Seconds(); need > 0 {
			m.Delivered = float64(m.HTTPBytes+m.P2PBytes) / need
		}
	}
	if linkN > 0 {
		m.LinksMean = linkSum / float64(linkN)
	}
	fl := make([]float64, len(firstLink))
	for i, d := range firstLink {
		fl[i] = d.Seconds()
		if d < 0 {
			fl[i] = math.Inf(1)
		}
	}
	slices.Sort(fl)
	m.FirstLinkMedianS, m.FirstLinkMaxS = fl[len(fl)/2], fl[len(fl)-1]
	for _, p := range []*float64{&m.FirstLinkMedianS, &m.FirstLinkMaxS} {
		if math.IsInf(*p, 1) {
			*p = -1
		}
	}
	return m, nil
}

// loadAverage reads the one-minute load average (0 when unknown).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

func share(p2p, http int64) float64 {
	if p2p+http <= 0 {
		return 0
	}
	return float64(p2p) / float64(p2p+http)
}

// describe reads the rendition's playlist and its segments' sizes.
func (m *Measured) describe(ctx context.Context, client *http.Client, playlist string) error {
	body, err := get(ctx, client, playlist, 1<<20)
	if err != nil {
		return err
	}
	base, err := url.Parse(playlist)
	if err != nil {
		return err
	}
	var durs float64
	var bytes int64
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if d, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			d, _, _ = strings.Cut(d, ",")
			f, err := strconv.ParseFloat(d, 64)
			if err != nil || !(f > 0) {
				return fmt.Errorf("p2pbench: %s: bad #EXTINF %q", playlist, line)
			}
			durs += f
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, err := base.Parse(line)
		if err != nil {
			return err
		}
		b, err := get(ctx, client, u.String(), 64<<20)
		if err != nil {
			return err
		}
		m.SegmentBytes = append(m.SegmentBytes, int64(len(b)))
		bytes += int64(len(b))
	}
	if len(m.SegmentBytes) == 0 {
		return fmt.Errorf("p2pbench: %s lists no segment", playlist)
	}
	m.SegmentS = durs / float64(len(m.SegmentBytes))
	m.BitrateKbps = float64(bytes) * 8 / durs / 1000
	m.WindowS = liveWindow.Seconds()
	return nil
}

func get(ctx context.Context, client *http.Client, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("p2pbench: GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("p2pbench: GET %s: more than %d bytes", u, limit)
	}
	return b, err
}

// waitSegments waits until the playlist lists n segments.
func waitSegments(ctx context.Context, client *http.Client, playlist string, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if b, err := get(ctx, client, playlist, 1<<20); err == nil && strings.Count(string(b), "#EXTINF") >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("p2pbench: no %d segments in %s: %w", n, playlist, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
