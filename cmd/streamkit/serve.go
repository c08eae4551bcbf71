package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/internal/httpserver"
	"github.com/streamkit-go/streamkit/p2pplayer"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
	"github.com/streamkit-go/streamkit/tracker"
)

func init() { registerAs("serve", newServeCmd) }

// newServeCmd builds the serve command; its flags are locals of this call.
func newServeCmd() *cobra.Command {
	var addr, playerJS, accessLog string
	var dotfiles, listDirs bool
	var maxConns, maxRanges int
	var readHeader, idle, write, grace time.Duration
	var shapeFile string
	var seed uint64
	var withTracker bool
	var tf trackerFlags
	cmd := &cobra.Command{
		Use:   "serve DIR [--addr 127.0.0.1:8080] [--player-js DIR] [--shape SCENARIO [--seed N]] [--tracker]",
		Short: "Serve packaged HLS/DASH over HTTP with a browser player page",
		Long: `serve serves the files below DIR over HTTP with the MIME types players
expect (m3u8, mpd, m4s, mp4, ts), CORS headers and range requests, and a
player page: open http://ADDR/ for the list of presentations, or
http://ADDR/_player/?src=/master.m3u8 (hls.js) and
http://ADDR/_player/?src=/manifest.mpd (dash.js).

The player libraries come from a local npm install of hls.js and dashjs,
never from a CDN: --player-js DIR, else $` + serve.EnvPlayerJS + `, else
./node_modules, else ~/.cache/streamkit/playerjs. Install them with

  npm install --prefix ~/.cache/streamkit/playerjs hls.js@1.7.4 dashjs@5.2.1

Safe to expose: only files inside DIR are served (a symbolic link out of
it is 404), no directory listings (--list-dirs) and no names starting
with a dot (--allow-dotfiles); at most --max-ranges byte ranges per
request; request headers must arrive within --read-header-timeout,
keep-alive connections close after --idle-timeout, and a client that
stops reading is cut off once one write has waited --write-timeout (a
slow but steady download is not). At --max-conns the connection idle
longest is closed to admit a new client. Ctrl-C (or SIGTERM) stops
accepting and lets running transfers finish for --grace.

With --shape SCENARIO every client (the X-Streamkit-Client header, else
the streamkit_client cookie, else the remote IP) gets its own shaped link
whose timeline starts at its first request: bandwidth phases or a trace,
latency and jitter, TCP-style loss, and faults per request class
(playlist, init, segment, part). Scenario files: testdata/shape/; the
model: go doc github.com/streamkit-go/streamkit/shape.

With --tracker the WebTorrent tracker of 'streamkit tracker' answers at
ws://ADDR/announce beside the files (p2p-media-loader's announceTrackers),
unshaped; a plain GET of /announce returns its counters. Its peers' open
WebSockets count against --max-conns and are never evicted, so they may
hold at most --tracker-max-conns of them (half by default) and file
clients always have the rest. Ctrl-C closes them with 1001 (going away)
at once; the files' grace period is not spent waiting for them.`,
		Example: `  streamkit package -o out && streamkit serve out
  streamkit serve out --addr 0.0.0.0:8080 --player-js ./web
  streamkit serve out --access-log - --max-conns 10000
  streamkit serve out --shape testdata/shape/bandwidth-drop.json --seed 7
  streamkit serve out --tracker`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fi, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("serve: %s is not a directory", args[0])
			}
			opts := []serve.Option{serve.WithMaxRanges(maxRanges)}
			if playerJS != "" {
				opts = append(opts, serve.WithPlayerJS(playerJS))
			}
			if dotfiles {
				opts = append(opts, serve.WithDotfiles())
			}
			if listDirs {
				opts = append(opts, serve.WithDirListings())
			}
			h, err := serve.Handler(args[0], opts...)
			if h == nil {
				return err
			}
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "streamkit: warning: %v (files are served, the player page will not play)\n", err)
			}
			if h, err = shape.Wrap(h, shapeFile, shape.WithSeed(seed)); err != nil {
				return err
			}
			if shapeFile != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "shaping each client with %s (seed %d)\n", shapeFile, seed)
			}
			sopts := []httpserver.Option{
				httpserver.WithMaxConns(maxConns), httpserver.WithReadHeaderTimeout(readHeader),
				httpserver.WithIdleTimeout(idle), httpserver.WithWriteTimeout(write), httpserver.WithGracePeriod(grace),
			}
			switch accessLog {
			case "":
			case "-":
				sopts = append(sopts, httpserver.WithAccessLog(cmd.ErrOrStderr()))
			default:
				f, err := os.OpenFile(accessLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
				if err != nil {
					return err
				}
				defer f.Close()
				sopts = append(sopts, httpserver.WithAccessLog(f))
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s on http://%s/ (Ctrl-C to stop)\n", args[0], ln.Addr())
			if !withTracker {
				return httpserver.New(h, sopts...).Serve(ctx, ln)
			}
			// The command composes the two: serve knows nothing of the
			// tracker, the tracker nothing of files. An exact match and
			// not an http.ServeMux, whose path cleaning (redirects for
			// "//x" or "/a/../b") would change what the files answer.
			var tr *tracker.Server
			p2p := p2pPage(playerJS, cmd.ErrOrStderr())
			srv := httpserver.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == trackerPath {
					tr.ServeHTTP(w, r)
					return
				}
				if strings.HasPrefix(r.URL.Path, p2pplayer.Path) {
					p2p.ServeHTTP(w, r)
					return
				}
				h.ServeHTTP(w, r)
			}), sopts...)
			if !cmd.Flags().Changed("tracker-max-conns") {
				tf.maxConns = max(1, srv.MaxConns()/2)
			}
			tr = tracker.New(tf.options()...)
			fmt.Fprintf(cmd.OutOrStdout(), "WebTorrent tracker on ws://%s%s (at most %d peers' connections)\n", ln.Addr(), trackerPath, tf.maxConns)
			fmt.Fprintf(cmd.OutOrStdout(), "P2P player: http://%s%s?src=/PLAYLIST.m3u8[&pubkey=/KEY.pub]\n", ln.Addr(), p2pplayer.Path)
			return serveWithTracker(ctx, srv, ln, tr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	f.StringVar(&playerJS, "player-js", "", "directory with the hls.js and dashjs npm packages")
	f.StringVar(&accessLog, "access-log", "", "append an access log line per request to FILE (- for stderr)")
	f.BoolVar(&dotfiles, "allow-dotfiles", false, "serve names starting with a dot (.env, .git)")
	f.BoolVar(&listDirs, "list-dirs", false, "list directory contents")
	f.IntVar(&maxConns, "max-conns", httpserver.DefaultMaxConns, "most connections open at once (the longest idle is closed for a new client)")
	f.IntVar(&maxRanges, "max-ranges", serve.DefaultMaxRanges, "most byte ranges in one request (more: 416)")
	f.DurationVar(&readHeader, "read-header-timeout", httpserver.DefaultReadHeaderTimeout, "time a client has to send its request header")
	f.DurationVar(&idle, "idle-timeout", httpserver.DefaultIdleTimeout, "keep-alive connections close after this long without a request")
	f.DurationVar(&write, "write-timeout", httpserver.DefaultWriteTimeout, "cut a client off when one write waits this long (renewed on every write)")
	f.DurationVar(&grace, "grace", httpserver.DefaultGracePeriod, "on Ctrl-C/SIGTERM, time running transfers get to finish")
	f.StringVar(&shapeFile, "shape", "", "shape each client's link and inject faults: a scenario JSON (see testdata/shape) or a trace file abr reads")
	f.Uint64Var(&seed, "seed", 1, "seed of the shaper's random draws (jitter, loss, fault rates)")
	f.BoolVar(&withTracker, "tracker", false, "also run a WebTorrent tracker at ws://ADDR"+trackerPath+" for p2p-media-loader")
	tf.register(f, "tracker-", 0, "most tracker WebSocket connections at once (more get HTTP 503); default: half of --max-conns")
	return cmd
}

// trackerPath is where serve --tracker mounts the tracker.
const trackerPath = "/announce"

// serveWithTracker runs srv on ln until ctx ends. When the server starts
// draining, the tracker closes its WebSockets: net/http neither waits for
// nor closes hijacked connections, so without this the peers would stay
// connected to a stopped server. A server that fails before draining
// shuts the tracker down too; nothing is left running either way.
func serveWithTracker(ctx context.Context, srv *httpserver.Server, ln net.Listener, tr *tracker.Server) error {
	served := make(chan struct{})
	closed := make(chan error, 1)
	go func() {
		select {
		case <-srv.Draining():
		case <-served:
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		closed <- tr.Shutdown(sctx)
	}()
	err := srv.Serve(ctx, ln)
	close(served)
	if terr := <-closed; terr != nil && err == nil {
		err = fmt.Errorf("serve: tracker: %w", terr)
	}
	return err
}

// p2pPage is the P2P player page (package p2pplayer) that serve --tracker
// and live --tracker mount at /_p2p/, with hls.js from where the player
// pages find it; what is missing is a warning, the page says it too.
func p2pPage(playerJS string, stderr io.Writer) http.Handler {
	var opts []p2pplayer.Option
	if found, err := serve.FindPlayerJS(playerJS); err == nil {
		opts = append(opts, p2pplayer.WithHLSJS(found["hls.js"]))
	}
	h, err := p2pplayer.Handler(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "streamkit: warning: %v (the P2P player page will not play)\n", err)
	}
	return h
}
