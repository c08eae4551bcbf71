package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/pixclock"
)

// ingestListener is one --ingest URL, opened.
type ingestListener struct {
	url   *url.URL
	serve func(ctx context.Context) error
	close func() error // before serve runs (a later --ingest failed to open)
	addr  string       // as bound (port 0 resolved)
}

// openIngest opens the listener of one --ingest URL:
//
//	rtmp://HOST:PORT
//	srt://HOST:PORT[?passphrase=P][&latency=120ms]
//	udp://HOST:PORT[?name=NAME][&iface=IF]   (a multicast HOST joins the group)
func openIngest(srv *ingest.Server, raw string) (*ingestListener, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("live: --ingest %q: want rtmp://HOST:PORT, srt://HOST:PORT or udp://HOST:PORT", raw)
	}
	q := u.Query()
	l := &ingestListener{url: u}
	switch u.Scheme {
	case "rtmp":
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "1935")
		}
		ln, err := net.Listen("tcp", host)
		if err != nil {
			return nil, fmt.Errorf("live: --ingest %s: %w", raw, err)
		}
		l.addr = displayAddr(ln.Addr())
		l.serve = func(ctx context.Context) error { return srv.ServeRTMP(ctx, ln) }
		l.close = ln.Close
	case "srt":
		var opts []ingest.SRTOption
		if p := q.Get("passphrase"); p != "" {
			opts = append(opts, ingest.WithSRTPassphrase(p))
		}
		if v := q.Get("latency"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("live: --ingest %s: latency %q: want a duration such as 200ms", raw, v)
			}
			opts = append(opts, ingest.WithSRTLatency(d))
		}
		ln, err := ingest.ListenSRT(u.Host, opts...)
		if err != nil {
			return nil, fmt.Errorf("live: --ingest %s: %w", raw, err)
		}
		l.addr = ln.Addr().String()
		l.serve = func(ctx context.Context) error { return srv.ServeSRT(ctx, ln) }
		l.close = func() error { ln.Close(); return nil }
	case "udp":
		name := q.Get("name")
		if name == "" {
			name = "udp" + u.Port()
		}
		conn, err := ingest.ListenUDP(u.Host, q.Get("iface"))
		if err != nil {
			return nil, fmt.Errorf("live: --ingest %s: %w", raw, err)
		}
		l.addr = conn.LocalAddr().String()
		u.RawQuery = "name=" + name
		l.serve = func(ctx context.Context) error { return srv.ServeUDP(ctx, conn, name) }
		l.close = conn.Close
	default:
		return nil, fmt.Errorf("live: --ingest %q: scheme %q: want rtmp, srt or udp", raw, u.Scheme)
	}
	return l, nil
}

// publishHint is the URL an encoder publishes to.
func (l *ingestListener) publishHint(key string) string {
	k := ""
	switch l.url.Scheme {
	case "rtmp":
		if key != "" {
			k = "?key=" + key
		}
		return "rtmp://" + l.addr + "/live/NAME" + k
	case "srt":
		if key != "" {
			k = ":" + key
		}
		return "srt://" + l.addr + "?streamid=publish:NAME" + k
	default:
		return "udp://" + l.addr + "?pkt_size=1316 (stream " + l.url.Query().Get("name") + ")"
	}
}

// runLiveIngest is `streamkit live --ingest …`: the listeners feed one
// packager per published stream, served at /live/NAME/.
func runLiveIngest(ctx context.Context, stdout, stderr io.Writer, o liveOptions, base []live.Option, jsFiles map[string]string, sopts []live.ServeOption) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if o.cert != "" {
		scheme = "https"
	}
	httpBase := scheme + "://" + displayAddr(ln.Addr())
	// Publishers log from their goroutines and streams start on theirs:
	// one lock for both outputs (they may be one writer).
	var outMu sync.Mutex
	stdout, stderr = &lockedWriter{mu: &outMu, w: stdout}, &lockedWriter{mu: &outMu, w: stderr}
	iopts := []ingest.Option{
		ingest.WithPackagerOptions(base...),
		ingest.WithPublishKey(o.publishKey),
		ingest.WithMaxStreams(o.maxStreams),
		ingest.WithMaxBitrate(o.maxBitrate),
		ingest.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))),
		ingest.WithOnStart(func(name string) {
			fmt.Fprintf(stdout, "hls: %s/live/%s/master.m3u8\ndash: %s/live/%s/manifest.mpd\n", httpBase, name, httpBase, name)
		}),
	}
	if len(jsFiles) > 0 {
		iopts = append(iopts, ingest.WithPlayerJS(jsFiles))
	}
	srv := ingest.New(iopts...)
	var ls []*ingestListener
	for _, raw := range o.ingest {
		l, err := openIngest(srv, raw)
		if err != nil {
			ln.Close()
			for _, o := range ls {
				o.close()
			}
			return err
		}
		ls = append(ls, l)
	}
	for _, l := range ls {
		fmt.Fprintf(stderr, "ingest: %s\n", l.publishHint(o.publishKey))
	}
	fmt.Fprintf(stderr, "streams: %s/live/NAME/master.m3u8 and manifest.mpd, player %s/live/NAME/ (Ctrl-C to stop)\n", httpBase, httpBase)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	// A failure of the HTTP server or of one ingest listener ends the
	// whole command: an origin that takes streams it cannot serve, or
	// serves with one ingest silently gone, is worse than an exit.
	ctx, failed := context.WithCancel(ctx)
	defer failed()
	srvCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	served := make(chan error, 1)
	go func() {
		err := live.Serve(srvCtx, ln, pixclock.ServeScript(srv), srv.Template(), sopts...) // + the pixel clock decoder for ?clock=1
		if err != nil {
			failed()
		}
		served <- err
	}()
	var wg sync.WaitGroup
	errs := make([]error, len(ls))
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = l.serve(ctx); errs[i] != nil {
				failed()
			}
		}()
	}
	wg.Wait()
	// The listeners end with ctx; then the streams end (EXT-X-ENDLIST)
	// and the HTTP server drains.
	endErr := srv.Close()
	stopServer()
	serveErr := <-served
	return errors.Join(errors.Join(errs...), endErr, serveErr)
}

// ingestUsage documents --ingest in `streamkit live --help`.
var ingestUsage = strings.TrimSpace(`
With --ingest URL (repeatable) the origin takes live streams from encoders
instead of files, each served at /live/NAME/master.m3u8 and
/live/NAME/manifest.mpd (and a player page at /live/NAME/); the two entry
point lines are printed when a stream starts:

  --ingest rtmp://127.0.0.1:1935      publish to rtmp://HOST:1935/live/NAME[?key=K]
  --ingest srt://127.0.0.1:9000[?passphrase=P&latency=200ms]
                                      streamid=publish:NAME[:K], MPEG-TS payload
  --ingest udp://127.0.0.1:5000[?name=NAME]        MPEG-TS, 7×188-byte datagrams
  --ingest udp://239.1.1.1:5000?name=NAME&iface=eth0   multicast

H.264, HEVC, AV1 (Enhanced RTMP) and AAC are packaged as published (no transcoding). Publishes
named NAME_1080, NAME_720, … (or with ?rendition=720) form one ladder at
/live/NAME/; key-frame alignment is checked live. A publisher that
reconnects continues its stream after a discontinuity. --publish-key
refuses publishes without the key (UDP carries none); --max-streams and
--max-bitrate bound the publishers.`)

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
