package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streamkit-go/streamkit/internal/httpserver"
	"github.com/streamkit-go/streamkit/tracker"
)

func init() { registerAs("tracker", newTrackerCmd) }

func newTrackerCmd() *cobra.Command {
	var addr string
	var f trackerFlags
	cmd := &cobra.Command{
		Use:   "tracker [--addr 127.0.0.1:8000]",
		Short: "Run a WebTorrent WebSocket tracker for p2p-media-loader swarms",
		Long: `tracker runs a WebTorrent tracker over WebSocket, the peer discovery that
p2p-media-loader 2.x uses: players announce themselves in a swarm (one per
stream and rendition) with WebRTC offers, the tracker relays each offer to
another peer and the answer back, then the players exchange segments
directly. It answers scrapes and removes peers that stop or disconnect.

Point p2p-media-loader at it with announceTrackers: ["ws://ADDR/"]. A plain
GET of http://ADDR/ returns the counters (connections, swarms, peers,
relayed offers and answers, refusals) as JSON.

Limits: connections, peers per swarm, message size, offers per announce,
announces per second per connection, idle time. Stop with Ctrl-C: clients
get close code 1001 (going away).`,
		Example: `  streamkit tracker --addr 127.0.0.1:8000
  streamkit tracker --addr 0.0.0.0:8000 --max-conns 50000 --max-peers-per-swarm 2000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("tracker: %w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runTracker(ctx, ln, f, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8000", "listen address")
	f.register(cmd.Flags(), "", 10000, "most WebSocket connections at once (more get HTTP 503)")
	return cmd
}

// trackerFlags are the tracker's limits as flags, shared by 'streamkit
// tracker' and 'streamkit serve --tracker'.
type trackerFlags struct {
	interval, idle     time.Duration
	maxConns, maxPeers int
	maxMessage         int64
	announceRate       float64
	origins            []string
}

// register adds the flags to fs, each name after prefix; maxConns is the
// default of the connection limit (0: the caller computes one, as its
// usage says).
func (t *trackerFlags) register(fs *pflag.FlagSet, prefix string, maxConns int, maxConnsUsage string) {
	fs.DurationVar(&t.interval, prefix+"interval", 2*time.Minute, "announce interval told to clients")
	fs.IntVar(&t.maxConns, prefix+"max-conns", maxConns, maxConnsUsage)
	fs.IntVar(&t.maxPeers, prefix+"max-peers-per-swarm", 1000, "most peers in one swarm")
	fs.Int64Var(&t.maxMessage, prefix+"max-message-size", 64<<10, "largest client message in bytes (larger: close code 1009)")
	fs.Float64Var(&t.announceRate, prefix+"announce-rate", 2, "announces per second allowed per connection (token bucket)")
	fs.DurationVar(&t.idle, prefix+"idle-timeout", 5*time.Minute, "close connections silent for this long")
	fs.StringSliceVar(&t.origins, prefix+"allow-origin", nil, "browser origins allowed to connect (host patterns, e.g. player.example.com); default: any")
}

func (t *trackerFlags) options() []tracker.Option {
	return []tracker.Option{
		tracker.WithInterval(t.interval),
		tracker.WithMaxConns(t.maxConns),
		tracker.WithMaxPeersPerSwarm(t.maxPeers),
		tracker.WithMaxMessageSize(t.maxMessage),
		tracker.WithAnnounceRate(t.announceRate),
		tracker.WithIdleTimeout(t.idle),
		tracker.WithOriginPatterns(t.origins...),
	}
}

// runTracker serves the tracker on ln until ctx ends, then closes every
// client connection and drains. It runs on internal/httpserver, as every
// streamkit server does, with room for the tracker's own connection limit
// (which answers 503 beyond it) and a few plain GETs of the counters.
func runTracker(ctx context.Context, ln net.Listener, tf trackerFlags, out io.Writer) error {
	tr := tracker.New(tf.options()...)
	conns := tf.maxConns
	if conns <= 0 {
		conns = 10000
	}
	srv := httpserver.New(tr, httpserver.WithMaxConns(conns+64))
	fmt.Fprintf(out, "tracker on ws://%s/ (stats: http://%s/; Ctrl-C to stop)\n", ln.Addr(), ln.Addr())
	if err := serveWithTracker(ctx, srv, ln, tr); err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	st := tr.Stats()
	fmt.Fprintf(out, "tracker stopped: %d announces, %d offers and %d answers relayed\n", st.Announces, st.OffersRelayed, st.AnswersRelayed)
	return nil
}
