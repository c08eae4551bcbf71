package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/p2pplayer"
	"github.com/streamkit-go/streamkit/pixclock"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
	"github.com/streamkit-go/streamkit/tracker"
)

func init() { registerAs("live", newLiveCmd) }

// liveOptions are the choices of `streamkit live`.
type liveOptions struct {
	listen           string
	segment, part    time.Duration
	window, duration time.Duration
	ll               bool
	out              string
	cert, key        string
	playerJS         string
	maxConns         int
	shape            string // scenario file shaping each client's link
	seed             uint64
	tracker          bool     // a WebTorrent tracker at /announce
	sign, streamID   string   // private key file signing every part and segment; the stream id signed
	ingest           []string // --ingest URLs: take streams from encoders (live_ingest.go)
	publishKey       string
	maxStreams       int
	maxBitrate       int64
}

func newLiveCmd() *cobra.Command {
	var o liveOptions
	cmd := &cobra.Command{
		Use:   "live [--listen ADDR] [--segment 2s] [--part 200ms] [--window 30s] [--ll=true|false] [--out DIR] [--duration D] [--shape SCENARIO [--seed N]] [--tracker] [--sign KEY [--stream-id ID]] [FILE...]",
		Short: "Play files as a live LL-HLS and LL-DASH stream from a built-in origin",
		Long: `live plays encoded files as a live stream, in real time and looping with
continuous timestamps, and serves it as Low-Latency HLS and low-latency
DASH from one set of CMAF parts and segments.

FILE... are the inputs ` + "`streamkit package`" + ` takes: one MP4 or MPEG-TS file per
video rendition (key frames aligned across them), plus audio-only files;
without files, the embedded sample ladder plays. Segments are cut at key
frames near --segment and split into parts (CMAF chunks) of --part.

On start it prints the entry points, one per line:

  hls: http://HOST:PORT/live/master.m3u8
  dash: http://HOST:PORT/live/manifest.mpd

and serves a player page at / with hls.js (low-latency mode), dash.js
(low-latency mode) and Shaka Player showing the live latency. The player
libraries come from a local npm install (--player-js DIR, else $` + serve.EnvPlayerJS + `,
else ./node_modules, else ~/.cache/streamkit/playerjs):

  npm install --prefix ~/.cache/streamkit/playerjs hls.js@1.7.4 dashjs@5.2.1 shaka-player@5.2.12

The origin speaks HTTP/1.1 and HTTP/2 (h2c; h2 over TLS with --cert and
--key), holds blocking playlist requests (_HLS_msn, _HLS_part) and preload
hints until the part exists, answers delta updates (_HLS_skip=YES), and
streams DASH segments in progress with chunked transfer encoding.
--ll=false serves plain live HLS (no parts) and DASH without
availabilityTimeOffset, for comparison. --out DIR also writes every file
there (atomically) for an external web server. --duration stops the
stream cleanly (EXT-X-ENDLIST, a static MPD) and exits; Ctrl-C too.

With --shape SCENARIO every client (the X-Streamkit-Client header, else
the streamkit_client cookie, else the remote IP) gets its own shaped link
to the origin, as with serve --shape: bandwidth phases or a trace,
latency, loss and faults per request class (playlist, init, segment,
part), seeded by --seed. Scenario files: testdata/shape/.

With --tracker the origin also runs a WebTorrent tracker (see streamkit
tracker) at /announce and prints its URL as a third entry point,

  tracker: ws://HOST:PORT/announce

for p2p-media-loader's announceTrackers. Shutdown closes its WebSockets
(close code 1001) when the drain begins.

With --sign KEY (a private key from streamkit keygen) every init segment,
part and segment is signed as it is published, before any playlist lists
it, into one sidecar per rendition served at PREFIX/NAME.integrity.json
(and mirrored with --out); entries leave it with the window. --stream-id
is the stream id signed (default: live). Peers verify with the public
key (package integrity, js/integrity.mjs, streamkit verify).

` + ingestUsage,
		Example: `  streamkit live                                  # the sample ladder, LL-HLS + LL-DASH on 127.0.0.1:8080
  streamkit live --duration 30s --out /tmp/live   # 30 s, mirrored to /tmp/live
  streamkit live --ll=false --segment 4s r240.mp4 r480.mp4 audio.m4a
  streamkit live --listen 0.0.0.0:8443 --cert cert.pem --key key.pem
  streamkit live --shape testdata/shape/segment-5xx.json --seed 7
  streamkit live --tracker                        # and a P2P tracker at ws://127.0.0.1:8080/announce
  streamkit keygen live && streamkit live --sign live.key --stream-id match-42
  streamkit live --ingest rtmp://127.0.0.1:1935 --ingest srt://127.0.0.1:9000 --ingest udp://127.0.0.1:5000 --publish-key s3cret`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLive(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	f.DurationVar(&o.segment, "segment", 2*time.Second, "target segment duration (segments start at the first key frame at or after it)")
	f.DurationVar(&o.part, "part", 200*time.Millisecond, "part (CMAF chunk) target duration")
	f.DurationVar(&o.window, "window", 30*time.Second, "how much media stays available (playlist and time-shift window)")
	f.BoolVar(&o.ll, "ll", true, "low latency: LL-HLS parts, blocking reload, LL-DASH chunks")
	f.StringVar(&o.out, "out", "", "also write every file to this directory (for an external web server)")
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until Ctrl-C)")
	f.StringVar(&o.cert, "cert", "", "TLS certificate (PEM) for HTTPS and h2")
	f.StringVar(&o.key, "key", "", "TLS key (PEM)")
	f.StringVar(&o.playerJS, "player-js", "", "directory with the hls.js, dashjs and shaka-player npm packages")
	f.IntVar(&o.maxConns, "max-conns", 20000, "maximum open connections")
	f.StringVar(&o.shape, "shape", "", "shape each client's link and inject faults: a scenario JSON (see testdata/shape) or a trace file abr reads")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the shaper's random draws (jitter, loss, fault rates)")
	f.BoolVar(&o.tracker, "tracker", false, "also run a WebTorrent tracker (p2p-media-loader) at /announce")
	f.StringVar(&o.sign, "sign", "", "sign every part and segment with this private key (streamkit keygen) into RENDITION.integrity.json sidecars")
	f.StringVar(&o.streamID, "stream-id", "live", "stream id signed into the sidecars")
	f.StringArrayVar(&o.ingest, "ingest", nil, "take live streams from encoders: rtmp://HOST:PORT, srt://HOST:PORT, udp://HOST:PORT (repeatable; see above)")
	f.StringVar(&o.publishKey, "publish-key", "", "with --ingest: refuse publishes without this key")
	f.IntVar(&o.maxStreams, "max-streams", 16, "with --ingest: most concurrent publishers")
	f.Int64Var(&o.maxBitrate, "max-bitrate", 50_000_000, "with --ingest: most bit/s per publisher (measured over 2 s)")
	return cmd
}

// runLive opens the inputs, starts the packager, the source and the
// origin, and runs until ctx is done, --duration passes or the source
// fails.
func runLive(ctx context.Context, stdout, stderr io.Writer, o liveOptions, files []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if (o.cert == "") != (o.key == "") {
		return errors.New("live: --cert and --key go together")
	}
	if o.part <= 0 || o.segment <= 0 || o.part > o.segment {
		return fmt.Errorf("live: --part %v must be positive and at most --segment %v", o.part, o.segment)
	}
	if o.window < o.segment {
		return fmt.Errorf("live: --window %v is shorter than a segment (%v)", o.window, o.segment)
	}
	var signer *integrity.Signer
	if o.sign != "" {
		priv, err := integrity.ReadPrivateKeyFile(o.sign)
		if err != nil {
			return fmt.Errorf("live: --sign: %w", err)
		}
		if signer, err = integrity.NewSigner(priv, o.streamID); err != nil {
			return fmt.Errorf("live: %w", err)
		}
	}
	if len(o.ingest) > 0 && len(files) > 0 {
		return errors.New("live: --ingest takes streams from encoders: give no FILE")
	}
	if len(o.ingest) > 0 && (o.out != "" || signer != nil || o.shape != "" || o.tracker) {
		return errors.New("live: --ingest does not take --out, --sign, --shape or --tracker yet")
	}
	var inputs []live.Input
	closeAll := func() {}
	var err error
	if len(o.ingest) == 0 {
		inputs, closeAll, err = liveInputs(files)
	}
	if err != nil {
		return err
	}
	defer closeAll()
	opts := []live.Option{
		live.WithSegmentDuration(o.segment), live.WithPartDuration(o.part), live.WithWindow(o.window),
		live.WithLowLatency(o.ll),
		live.WithEvents(func(e live.Event) {
			if e.Kind == live.EventDrift || e.Kind == live.EventLongSegment {
				fmt.Fprintln(stderr, "streamkit: warning:", e.Message)
			}
		}),
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
		opts = append(opts, live.WithMirror(o.out))
	}
	if signer != nil {
		opts = append(opts, live.WithSigner(signer))
	}
	if len(o.ingest) > 0 {
		sopts := []live.ServeOption{live.WithMaxConns(o.maxConns)}
		if o.cert != "" {
			sopts = append(sopts, live.WithTLS(o.cert, o.key))
		}
		js := findLivePlayerJS(o.playerJS)
		return runLiveIngest(ctx, stdout, stderr, o, opts, js, sopts)
	}
	p := live.New(opts...)
	src, err := live.NewFileSource(p, inputs)
	if err != nil {
		return err
	}
	var oopts []live.OriginOption
	if js := findLivePlayerJS(o.playerJS); len(js) > 0 {
		oopts = append(oopts, live.WithPlayerJS(js))
	}
	if len(findLivePlayerJS(o.playerJS)) < 3 {
		fmt.Fprintln(stderr, "streamkit: warning: hls.js, dashjs or shaka-player not found (the player page says which); the stream is served anyway")
	}
	origin := live.NewOrigin(p, oopts...)
	// The shaper wraps the origin alone: a held blocking reload is shaped
	// like any response once it answers, and its deadline moves are the
	// shaper's (it sets the write deadline before each write).
	shaped, err := shape.Wrap(origin, o.shape, shape.WithSeed(o.seed))
	if err != nil {
		return err
	}
	handler := shaped
	sopts := []live.ServeOption{live.WithMaxConns(o.maxConns)}
	if o.cert != "" {
		sopts = append(sopts, live.WithTLS(o.cert, o.key))
	}
	var tr *tracker.Server
	if o.tracker {
		// One port for media and discovery: the tracker is a handler on
		// the origin's mux, outside the shaper (a WebSocket is hijacked;
		// shaping is about media). Its connections are hijacked, so the
		// drain neither waits for nor closes them: OnShutdown does.
		tr = tracker.New()
		mux := http.NewServeMux()
		mux.Handle("/announce", tr)
		mux.Handle(p2pplayer.Path, p2pPage(o.playerJS, stderr))
		mux.Handle("/", shaped)
		handler = mux
		sopts = append(sopts, live.WithOnShutdown(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			tr.Shutdown(sctx)
		}))
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if o.cert != "" {
		scheme = "https"
	}
	base := scheme + "://" + displayAddr(ln.Addr()) + origin.Prefix()
	fmt.Fprintf(stdout, "hls: %smaster.m3u8\ndash: %smanifest.mpd\n", base, base)
	if tr != nil {
		ws := "ws"
		if o.cert != "" {
			ws = "wss"
		}
		fmt.Fprintf(stdout, "tracker: %s://%s/announce\n", ws, displayAddr(ln.Addr()))
		fmt.Fprintf(stdout, "p2p player: %s://%s%s?src=%smaster.m3u8\n", scheme, displayAddr(ln.Addr()), p2pplayer.Path, origin.Prefix())
	}
	fmt.Fprintf(stderr, "player: %s://%s/ (Ctrl-C to stop)\n", scheme, displayAddr(ln.Addr()))
	if signer != nil {
		fmt.Fprintf(stderr, "signing stream %q with key %s: %sNAME.integrity.json\n", signer.Stream(), signer.KeyID(), base)
	}
	if o.shape != "" {
		fmt.Fprintf(stderr, "shaping each client with %s (seed %d)\n", o.shape, o.seed)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	served := make(chan error, 1)
	go func() {
		// + the pixel clock decoder: the page's ?clock=1 reads `streamkit clock` frames.
		served <- live.Serve(srvCtx, ln, pixclock.ServeScript(handler), p, sopts...)
	}()
	srcErr := src.Run(ctx)
	if errors.Is(srcErr, context.Canceled) || errors.Is(srcErr, context.DeadlineExceeded) {
		srcErr = nil
	}
	// End the stream (EXT-X-ENDLIST, a static MPD; held requests are
	// answered), then drain the server.
	endErr := p.End()
	stopServer()
	serveErr := <-served
	return errors.Join(srcErr, endErr, serveErr)
}

// liveInputs opens files (or the embedded ladder without any).
func liveInputs(files []string) ([]live.Input, func(), error) {
	if len(files) == 0 {
		in, err := live.SampleInputs()
		return in, func() {}, err
	}
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	var inputs []live.Input
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, f)
		fi, err := f.Stat()
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		d, err := media.Open(f, fi.Size())
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		inputs = append(inputs, live.Input{Name: name, Demuxer: d})
	}
	return inputs, closeAll, nil
}

// displayAddr is a listener address a browser on this machine can use:
// an unspecified IP (0.0.0.0, ::) becomes loopback.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		if ip.To4() == nil && ip != nil {
			ip = net.IPv6loopback
		} else {
			ip = net.IPv4(127, 0, 0, 1)
		}
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// findLivePlayerJS finds hls.js and dash.js where `streamkit serve` looks,
// and Shaka Player beside them.
func findLivePlayerJS(dir string) map[string]string {
	js := map[string]string{}
	if found, err := serve.FindPlayerJS(dir); err == nil {
		js["hls.js"], js["dash.js"] = found["hls.js"], found["dash.js"]
	}
	var dirs []string
	if dir != "" {
		dirs = []string{dir}
	} else {
		if e := os.Getenv(serve.EnvPlayerJS); e != "" {
			dirs = append(dirs, e)
		}
		dirs = append(dirs, ".")
		if home, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(home, ".cache", "streamkit", "playerjs"))
		}
	}
	for _, d := range dirs {
		for _, c := range []string{"node_modules/shaka-player/dist/shaka-player.compiled.js", "shaka-player/dist/shaka-player.compiled.js", "shaka-player.compiled.js"} {
			p := filepath.Join(d, filepath.FromSlash(c))
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				js["shaka.js"] = p
				return js
			}
		}
	}
	return js
}
