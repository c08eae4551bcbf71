package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
)

func init() {
	var addr, playerJS, shapeFile string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "serve DIR [--addr 127.0.0.1:8080] [--player-js DIR] [--shape SCENARIO [--seed N]]",
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

With --shape SCENARIO every client (the X-Streamkit-Client header, else
the streamkit_client cookie, else the remote IP) gets its own shaped link
whose timeline starts at its first request: bandwidth phases or a trace,
latency and jitter, TCP-style loss, and faults per request class
(playlist, init, segment, part). Scenario files: testdata/shape/; the
model: go doc github.com/streamkit-go/streamkit/shape.

Stop with Ctrl-C.`,
		Example: `  streamkit package -o out && streamkit serve out
  streamkit serve out --shape testdata/shape/bandwidth-drop.json --seed 7
  streamkit serve out --addr 0.0.0.0:8080 --player-js ./web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fi, err := os.Stat(args[0])
			if err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("serve: %s is not a directory", args[0])
			}
			var opts []serve.Option
			if playerJS != "" {
				opts = append(opts, serve.WithPlayerJS(playerJS))
			}
			h, err := serve.Handler(args[0], opts...)
			if h == nil {
				return err
			}
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "streamkit: warning: %v (files are served, the player page will not play)\n", err)
			}
			if h, err = shape.Wrap(h, shapeFile, seed); err != nil {
				return err
			}
			if shapeFile != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "shaping each client with %s (seed %d)\n", shapeFile, seed)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				srv.Shutdown(sctx)
			}()
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s on http://%s/ (Ctrl-C to stop)\n", args[0], ln.Addr())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().StringVar(&playerJS, "player-js", "", "directory with the hls.js and dashjs npm packages")
	cmd.Flags().StringVar(&shapeFile, "shape", "", "shape each client's link and inject faults: a scenario JSON (see testdata/shape) or a trace file abr reads")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the shaper's random draws (jitter, loss, fault rates)")
	rootCmd.AddCommand(cmd)
}
