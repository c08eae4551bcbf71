package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/p2pbench"
	"github.com/streamkit-go/streamkit/peer"
	"github.com/streamkit-go/streamkit/shape"
)

func init() { registerAs("peer", newPeerCmd) }

// peerFlags are the flags of 'streamkit peer'.
type peerFlags struct {
	seed                    bool
	count, variant          int
	tracker, pubkey, stream string
	loopback, tamper        bool
	duration, every         time.Duration
	p2pWait, ahead          time.Duration
	p2pDeadline             time.Duration
	local                   bool
	uplink                  float64
	warmup, joinOver        time.Duration
	report                  string
}

func newPeerCmd() *cobra.Command {
	var f peerFlags
	cmd := &cobra.Command{
		Use:   "peer URL [--seed | --count N] [--tracker ws://HOST/announce] [--pubkey KEY.pub] | peer --local --count N [--uplink KBPS]",
		Short: "Join a p2p-media-loader swarm as a Go peer: an edge seeder or N headless players",
		Long: `peer joins the swarm that p2p-media-loader 2.x players of the HLS playlist
URL join, through a WebTorrent tracker, and exchanges segments with them
(browsers or other Go peers) over WebRTC data channels.

--seed runs one edge seeder: it fetches every segment from the origin as
soon as the playlist lists it and serves it to the swarm.
--count N runs N headless peers that follow the stream like players: each
gets a segment from a peer that has it, or, after waiting a little for one
to, from the origin, and keeps at most --buffer-ahead of media ahead of its
play clock. Use them for load and swarm experiments.

URL is a media playlist, or a multivariant playlist: then --variant picks
the variant (0: the first listed), and the swarm is the one hls.js players
of that multivariant playlist join for it.

--tracker defaults to ws://HOST/announce on the playlist's host (where
'streamkit serve --tracker' and 'streamkit live --tracker' mount it).
With --pubkey (from 'streamkit keygen') every segment is checked against
the signed integrity sidecar beside its playlist before it is used or
shared, and a peer that sends altered bytes is disconnected. --stream-id
names the stream the sidecar must be signed for (default: the one the
first sidecar names).

--loopback restricts WebRTC to loopback addresses (no STUN/TURN, no mDNS):
for experiments on one machine.

--p2p-deadline D makes a following peer give up on peers for a segment
after D and take it from the origin, cancelling a transfer in progress
(p2p-media-loader's high-demand switch); without it a peer waits as long
as peers send bytes, and on weak uplinks falls behind the live edge.
--uplink KBPS shapes each peer's upload (one token bucket per peer shared
by all its connections, package shape).

Every --every it prints the swarm's counters: peers connected, bytes from
the origin and from peers, and the offload (bytes from peers / all).

--local (no URL) is the real-vs-simulated experiment: it starts the live
origin (the embedded sample ladder) and a tracker on 127.0.0.1, runs the N
peers (WebRTC on loopback only) for --duration (default 60s), joining over
--join-over, measures the offload over the steady-state window after
--warmup, then runs the swarm simulator on the same scenario (segment
sizes, peers, uplink, hold-back, window, the Go peer's scheduler knobs)
and prints both (--report json for a machine-readable summary with the
simulator's scenario). BENCHMARKS.md has the figures for 10, 50 and 200.`,
		Example: `  streamkit peer --seed http://127.0.0.1:8080/video_360p.m3u8
  streamkit peer --count 10 --loopback --duration 60s http://127.0.0.1:8080/master.m3u8
  streamkit peer --count 3 --pubkey origin.pub http://127.0.0.1:8080/live/video/media.m3u8
  streamkit peer --local --count 50 --uplink 200 --duration 90s`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.local {
				if len(args) != 0 {
					return errors.New("peer: --local runs its own origin; leave out the URL")
				}
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			if f.local {
				return runLocalComparison(ctx, f, cmd.OutOrStdout())
			}
			if f.duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, f.duration)
				defer cancel()
			}
			return runPeers(ctx, args[0], f, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.seed, "seed", false, "run one edge seeder")
	fs.IntVar(&f.count, "count", 1, "headless peers to run (following the stream like players)")
	fs.IntVar(&f.variant, "variant", 0, "variant of a multivariant playlist (index in the playlist)")
	fs.StringVar(&f.tracker, "tracker", "", "WebTorrent tracker (default: ws://HOST/announce on the playlist's host)")
	fs.StringVar(&f.pubkey, "pubkey", "", "check segments with the integrity sidecars signed by this public key")
	fs.StringVar(&f.stream, "stream-id", "", "stream id the sidecars must be signed for (default: the first sidecar's)")
	fs.BoolVar(&f.loopback, "loopback", false, "restrict WebRTC to loopback addresses")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (default: at Ctrl-C)")
	fs.DurationVar(&f.every, "every", 5*time.Second, "print the swarm's counters this often")
	fs.DurationVar(&f.p2pWait, "p2p-wait", 2*time.Second, "longest wait for a peer to get a segment nobody has, before the origin")
	fs.DurationVar(&f.p2pDeadline, "p2p-deadline", 0, "give up on peers for a segment after this long and use the origin (0: wait as long as peers send)")
	fs.DurationVar(&f.ahead, "buffer-ahead", 30*time.Second, "media fetched ahead of the play clock (VOD)")
	fs.Float64Var(&f.uplink, "uplink", 0, "shape each peer's upload to this many kbit/s (0: unshaped)")
	fs.BoolVar(&f.local, "local", false, "run origin, tracker and peers on 127.0.0.1 and compare the offload with the swarm simulator's")
	fs.DurationVar(&f.warmup, "warmup", 0, "--local: left out of the steady-state window (default a third of --duration)")
	fs.DurationVar(&f.joinOver, "join-over", 10*time.Second, "--local: peers start evenly spread over this")
	fs.StringVar(&f.report, "report", "text", "--local: text or json")
	fs.BoolVar(&f.tamper, "tamper-for-testing", false, "send altered segment data to peers (to test that they detect it)")
	_ = fs.MarkHidden("tamper-for-testing")
	return cmd
}

// runPeers runs the peers until ctx ends and prints the counters.
func runPeers(ctx context.Context, manifest string, f peerFlags, out io.Writer) error {
	if f.count < 1 || f.count > 1000 {
		return fmt.Errorf("peer: --count %d: want 1 to 1000", f.count)
	}
	if f.seed && f.count != 1 {
		return errors.New("peer: --seed runs one seeder; leave out --count")
	}
	if f.uplink < 0 || math.IsNaN(f.uplink) || math.IsInf(f.uplink, 0) {
		return fmt.Errorf("peer: --uplink %v: want kbit/s, 0 for unshaped", f.uplink)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	vs, err := peer.Variants(ctx, client, manifest)
	if err != nil {
		return err
	}
	if f.variant < 0 || f.variant >= len(vs) {
		return fmt.Errorf("peer: --variant %d: the playlist has %d", f.variant, len(vs))
	}
	v := vs[f.variant]
	mu, err := url.Parse(v.URL)
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	tr := f.tracker
	if tr == "" {
		scheme := "ws"
		if mu.Scheme == "https" {
			scheme = "wss"
		}
		tr = scheme + "://" + mu.Host + "/announce"
	}
	opts := append([]peer.Option{peer.WithTracker(tr), peer.WithHTTPClient(client),
		peer.WithP2PWait(f.p2pWait), peer.WithP2PDeadline(f.p2pDeadline), peer.WithBufferAhead(f.ahead)}, v.Options...)
	if f.loopback {
		opts = append(opts, peer.WithLoopbackOnly())
	}
	if f.seed {
		opts = append(opts, peer.WithSeed())
	}
	if f.tamper {
		opts = append(opts, peer.WithTamperForTesting())
	}
	var shaper *shape.Shaper
	if f.uplink > 0 {
		sc := &shape.Scenario{Name: "uplink", Phases: []shape.Phase{{DurationS: shape.MaxDurationS, Kbps: f.uplink}}}
		if shaper, err = shape.New(sc, shape.WithMaxClients(f.count)); err != nil {
			return fmt.Errorf("peer: --uplink: %w", err)
		}
	}
	var verifiers []*integrity.Verifier
	if f.pubkey != "" {
		pub, err := integrity.ReadPublicKeyFile(f.pubkey)
		if err != nil {
			return fmt.Errorf("peer: %w", err)
		}
		stream := f.stream
		if stream == "" {
			_, sc := integrity.SidecarFor(mu.Path)
			src := integrity.HTTPSource(mu.ResolveReference(&url.URL{Path: "/"}), client)
			b, err := src.Read(ctx, sc[1:], 0, -1, 8<<20)
			if err != nil {
				return fmt.Errorf("peer: sidecar: %w", err)
			}
			var s integrity.Sidecar
			if err := s.Unmarshal(b); err != nil {
				return fmt.Errorf("peer: sidecar: %w", err)
			}
			stream = s.Stream
		}
		for range f.count {
			verifiers = append(verifiers, integrity.NewVerifier(pub, stream))
		}
	}
	var peers []*peer.Peer
	for i := range f.count {
		o := append([]peer.Option(nil), opts...)
		if verifiers != nil {
			o = append(o, peer.WithVerifier(verifiers[i]))
		}
		if shaper != nil {
			o = append(o, peer.WithUplink(shaper.Pacer(fmt.Sprint("peer-", i))))
		}
		p, err := peer.New(v.URL, o...)
		if err != nil {
			return err
		}
		peers = append(peers, p)
	}
	role := "following peers"
	if f.seed {
		role = "seeder"
	}
	fmt.Fprintf(out, "%d %s of %s (info hash %q) via %s\n", f.count, role, v.URL, peers[0].InfoHash(), tr)
	var wg sync.WaitGroup
	errs := make([]error, len(peers))
	start := time.Now()
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Run(ctx)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if f.every <= 0 {
		return fmt.Errorf("peer: --every must be positive, not %v", f.every)
	}
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	report := func() {
		var t peer.Stats
		for _, p := range peers {
			s := p.Stats()
			t.HTTPBytes += s.HTTPBytes
			t.P2PBytes += s.P2PBytes
			t.UploadBytes += s.UploadBytes
			t.Peers += s.Peers
			t.RejectedPeers += s.RejectedPeers
		}
		fmt.Fprintf(out, "%6.0fs  links %3d  origin %8.1f MB  peers %8.1f MB  uploaded %8.1f MB  offload %5.1f%%  rejected %d\n",
			time.Since(start).Seconds(), t.Peers, float64(t.HTTPBytes)/1e6, float64(t.P2PBytes)/1e6,
			float64(t.UploadBytes)/1e6, 100*t.Offload(), t.RejectedPeers)
	}
	for {
		select {
		case <-tick.C:
			report()
			continue
		case <-done:
		}
		break
	}
	report()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
	return nil
}

// runLocalComparison is peer --local: the real swarm on loopback beside
// the simulator's prediction for the same scenario (package p2pbench).
func runLocalComparison(ctx context.Context, f peerFlags, out io.Writer) error {
	if f.seed || f.tracker != "" || f.pubkey != "" {
		return errors.New("peer: --local runs its own origin and tracker; --seed, --tracker and --pubkey do not apply")
	}
	if f.report != "text" && f.report != "json" {
		return fmt.Errorf("peer: --report %q: want text or json", f.report)
	}
	if f.every <= 0 {
		return fmt.Errorf("peer: --every must be positive, not %v", f.every)
	}
	dur := f.duration
	if dur == 0 {
		dur = time.Minute
	}
	cfg := p2pbench.Config{Peers: f.count, UplinkKbps: f.uplink, Duration: dur, Warmup: f.warmup, JoinOver: f.joinOver,
		P2PWait: f.p2pWait, P2PDeadline: f.p2pDeadline, LogEvery: f.every}
	if f.report == "text" {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	}
	r, err := p2pbench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	if f.report == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r.Summary())
	}
	fmt.Fprint(out, "\n", r)
	return nil
}
