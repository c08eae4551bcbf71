// Package playtest plays a stream in a real browser player — hls.js or
// dash.js in headless Chromium, driven from Go with chromedp — and
// records what the viewer got: startup time, stalls, the played bitrate
// timeline and its switches, dropped frames, live latency, errors.
//
// Serve the presentation with [Mux] in front (the playtest page and the
// player libraries are served unshaped, the media through whatever
// shaper you give it, so that a scenario's timeline starts with the
// player's first manifest request), then [Run] the page:
//
//	files, _ := serve.Handler(dir)
//	shaped, _ := shape.Wrap(files, "testdata/shape/outage.json", shape.WithSeed(1))
//	srv := httptest.NewServer(playtest.Mux(files, shaped))
//	res, err := playtest.Run(ctx, srv.URL, "/master.m3u8", playtest.WithDuration(20*time.Second))
//
// Simulate runs the simulator's preset of the same player (package abr's
// hlsjs or dashjs) over the same scenario and segment sizes, and Compare
// sets its prediction beside the real run against the calibration goals
// (mean played bitrate within 10 %, stall time within 1 s, switches
// within 2); testdata/calibration holds the calibration set that
// `streamkit playtest --calibrate` runs.
//
// Chromium is Debian's chromium (or $STREAMKIT_CHROMIUM, or chromium,
// chromium-browser, google-chrome on PATH), started headless with a new
// empty profile and the flags of serve's browser test; hls.js and dash.js
// come from the player cache serve uses (serve.FindPlayerJS).
package playtest

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/streamkit-go/streamkit/internal/chromium"
)

//go:embed web/playtest.html
var web embed.FS

// PagePath is where Mux serves the playtest page.
const PagePath = "/_playtest/"

// EnvChromium names the environment variable that points at a Chromium
// binary.
const EnvChromium = chromium.Env

// ErrNoChromium means no Chromium binary was found.
var ErrNoChromium = errors.New("playtest: Chromium not found (apt-get install chromium, or set " + EnvChromium + ")")

// FindChromium returns the Chromium to run: $STREAMKIT_CHROMIUM, else the
// first of chromium, chromium-browser, google-chrome on PATH
// (internal/chromium, which the browser tests use too).
func FindChromium() (string, error) {
	p, err := chromium.Find()
	if err != nil {
		return "", ErrNoChromium
	}
	return p, nil
}

// Mux serves the playtest page at PagePath and the player libraries
// (serve's /_player/ paths) from unshaped, and everything else from
// shaped.
func Mux(unshaped, shaped http.Handler) http.Handler {
	page, _ := web.ReadFile("web/playtest.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == PagePath:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(page)
		case strings.HasPrefix(r.URL.Path, "/_player/"):
			unshaped.ServeHTTP(w, r)
		default:
			shaped.ServeHTTP(w, r)
		}
	})
}

// Server is a loopback HTTP server for a playtest.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	Addr string
	srv  *http.Server
}

// MaxConns bounds the connections a playtest Server accepts: one browser
// opens a handful.
const MaxConns = 64

// Serve starts h on 127.0.0.1 with a free port, read-header, idle and
// write timeouts and at most MaxConns connections.
func Serve(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10}}
	s.URL = "http://" + s.Addr
	go s.srv.Serve(&limitListener{Listener: ln, sem: make(chan struct{}, MaxConns)})
	return s, nil
}

// Close shuts the server down, letting responses in flight finish for up
// to 5 s.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	release func()
	once    sync.Once
}

// NetConn lets shape reach the TCP socket to reset it (SO_LINGER 0).
func (c *limitConn) NetConn() net.Conn { return c.Conn }

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// Players Run knows.
var Players = []string{"hlsjs", "dashjs"}

// Option configures Run.
type Option func(*config)

type config struct {
	player   string
	duration time.Duration
	chromium string
}

// WithPlayer picks the player: "hlsjs" (the default) or "dashjs" (see
// Players). Run refuses any other name.
func WithPlayer(name string) Option { return func(c *config) { c.player = name } }

// WithDuration bounds how long Run watches (default 30 s; zero or negative
// keeps the default); the run ends early when playback ends or fails.
func WithDuration(d time.Duration) Option { return func(c *config) { c.duration = d } }

// WithChromium sets the Chromium binary (default FindChromium).
func WithChromium(bin string) Option { return func(c *config) { c.chromium = bin } }

// Stall is one rebuffering event after playback started.
type Stall struct {
	AtS       float64 `json:"at_s"`
	DurationS float64 `json:"duration_s"`
	PositionS float64 `json:"position_s"`
	Ongoing   bool    `json:"ongoing,omitempty"` // still stalled when the run ended
}

// Switch is a change of the played rendition (the first entry is the
// rendition playback started with).
type Switch struct {
	TS        float64 `json:"t_s"`
	Kbps      float64 `json:"kbps"`
	Level     int     `json:"level"`
	Height    int     `json:"height"`
	PositionS float64 `json:"position_s"`
}

// Abandon is one download the player abandoned.
type Abandon struct {
	TS        float64 `json:"t_s"`
	PositionS float64 `json:"position_s"`
	Level     int     `json:"level"`
}

// Sample is the player's state every half second.
type Sample struct {
	TS           float64  `json:"t_s"`
	PositionS    float64  `json:"position_s"`
	BufferS      float64  `json:"buffer_s"`
	LiveLatencyS *float64 `json:"live_latency_s,omitempty"`
	// EstimateKbps is the player's own bandwidth estimate (hls.js
	// bandwidthEstimate, dash.js getAverageThroughput of video): what
	// its ABR decides with, to set beside the simulator's.
	EstimateKbps *float64 `json:"estimate_kbps,omitempty"`
}

// Frag is one fragment hls.js buffered, with its own stats (seconds on
// the page's clock): its ABR samples bytes over parsed − request less the
// smaller of the first byte's wait and its TTFB estimate.
type Frag struct {
	SN           int     `json:"sn"`
	Level        int     `json:"level"`
	Bytes        int64   `json:"bytes"`
	RequestS     float64 `json:"request_s"`
	FirstByteS   float64 `json:"first_byte_s"`
	LoadedS      float64 `json:"loaded_s"`
	ParsedS      float64 `json:"parsed_s"`
	BufferedS    float64 `json:"buffered_s"`
	EstimateKbps float64 `json:"estimate_kbps"` // after the sample
}

// Result is the QoE of one run. Times are seconds since the player was
// created.
type Result struct {
	Player     string   `json:"player"`
	Engine     string   `json:"engine"`
	Src        string   `json:"src"`
	StartupS   float64  `json:"startup_s"` // -1: never started
	Stalls     []Stall  `json:"stalls"`
	StallCount int      `json:"stall_count"`
	StallS     float64  `json:"stall_s"`
	Bitrate    []Switch `json:"bitrate"`
	// BitrateFrom says where Bitrate comes from: "rendered" (the height
	// of the frames shown, each rendition having its own) or "player"
	// (the player's events: hls.js FRAG_CHANGED, dash.js
	// QUALITY_CHANGE_RENDERED), which Reported keeps in any case.
	BitrateFrom   string   `json:"bitrate_from"`
	Reported      []Switch `json:"reported,omitempty"`
	Switches      int      `json:"switches"`
	MeanKbps      float64  `json:"mean_played_kbps"` // time-weighted over the played timeline
	DroppedFrames int      `json:"dropped_frames"`
	TotalFrames   int      `json:"total_frames"`
	Samples       []Sample `json:"samples"`
	Errors        []string `json:"errors"`
	Fatal         []string `json:"fatal"`
	// Abandoned lists the video downloads the player's ABR gave up on
	// (hls.js FRAG_LOAD_EMERGENCY_ABORTED, dash.js
	// FRAGMENT_LOADING_ABANDONED): level is the level being downloaded
	// (-1 when dash.js does not say).
	Abandoned []Abandon `json:"abandoned"`
	// Downloads is the shaper's log of the run's shaped requests and
	// Link what it says about the link the player got (CheckLink).
	Downloads []Download `json:"downloads,omitempty"`
	// LoadAvg is the machine's 1-minute load average when the run began
	// and when it ended (Linux; empty elsewhere): a player on a loaded
	// machine parses and appends late, which its bandwidth samples and
	// its timers feel.
	LoadAvg []float64 `json:"load_avg_1m,omitempty"`
	// Frags is hls.js's own timing of every main fragment it buffered
	// (its FRAG_BUFFERED stats), what its bandwidth estimator samples.
	Frags     []Frag     `json:"frags,omitempty"`
	Link      *LinkCheck `json:"link,omitempty"`
	Ended     bool       `json:"ended"`      // played to the end (or stuck within 1 s of it for 2 s)
	EndGapS   float64    `json:"end_gap_s"`  // how far from the end playback stopped, when stuck
	DurationS float64    `json:"duration_s"` // of the presentation (0 for live)
	Live      bool       `json:"live"`
	ElapsedS  float64    `json:"elapsed_s"`
	PositionS float64    `json:"position_s"`
}

// Run opens base+PagePath in headless Chromium to play src (a path on the
// server, e.g. /master.m3u8) with the player WithPlayer names (hls.js by
// default), waits until playback ends, fails, or the WithDuration time passes
// (30 s by default), and returns the QoE recorded.
func Run(ctx context.Context, base, src string, opts ...Option) (*Result, error) {
	opt := config{player: "hlsjs", duration: 30 * time.Second}
	for _, o := range opts {
		o(&opt)
	}
	switch opt.player {
	case "hlsjs", "dashjs":
	default:
		return nil, fmt.Errorf("playtest: unknown player %q (want %s)", opt.player, strings.Join(Players, " or "))
	}
	if opt.duration <= 0 {
		opt.duration = 30 * time.Second
	}
	page := strings.TrimRight(base, "/") + PagePath + "?" + url.Values{"src": {src}, "player": {opt.player}}.Encode()
	load0 := load1()
	b, err := Open(ctx, page, opt.chromium)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	bctx := b.ctx
	deadline := time.Now().Add(opt.duration)
	for time.Now().Before(deadline) {
		done, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`!!(window.__qoe && (window.__qoe.ended || window.__qoe.fatal.length))`))
		if err != nil {
			return nil, fmt.Errorf("playtest: %w", err)
		}
		if done {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	raw, err := chromedp.Run(bctx, chromedp.Evaluate[json.RawMessage](`window.__qoeSnapshot ? window.__qoeSnapshot() : null`))
	if err != nil {
		return nil, fmt.Errorf("playtest: read QoE: %w", err)
	}
	var r Result
	if err := json.Unmarshal(raw, &r); err != nil || r.Player == "" {
		return nil, fmt.Errorf("playtest: the page recorded nothing (%s)", clip(string(raw)))
	}
	r.summarize()
	if l := load1(); l >= 0 && load0 >= 0 {
		r.LoadAvg = []float64{load0, l}
	}
	return &r, nil
}

// Browser is a headless Chromium showing one page, for a program that
// drives its own page (the latency experiment reads the live player
// page's pixel clock): Open starts it, Eval reads from the page, Close
// ends the browser and removes its profile.
type Browser struct {
	ctx    context.Context
	cancel func()
}

// Open starts headless Chromium (bin, or FindChromium when empty) with a
// new empty profile, autoplay allowed and audio muted, and navigates to
// pageURL. The browser ends with ctx or Close.
func Open(ctx context.Context, pageURL, bin string) (*Browser, error) {
	if bin == "" {
		var err error
		if bin, err = FindChromium(); err != nil {
			return nil, err
		}
	}
	// a new empty profile and a short TMPDIR for Chromium's sockets
	tmp, err := os.MkdirTemp("", "skpt")
	if err != nil {
		return nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("mute-audio", true),
		// The players' clocks must be wall time: a headless page counts as
		// hidden to some of Chromium's power savers, which would stretch
		// the players' timers (hls.js's tick, dash.js's scheduler) on a
		// loaded machine and make a player's timing differ from a viewer's.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-features", "IntensiveWakeUpThrottling,CalculateNativeWinOcclusion"),
		chromedp.UserDataDir(tmp),
		chromedp.Env("TMPDIR="+tmp),
		chromedp.WSURLReadTimeout(60*time.Second),
	)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b := &Browser{ctx: bctx, cancel: func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(tmp)
	}}
	if _, err := chromedp.Run(bctx, chromedp.Navigate(pageURL)); err != nil {
		b.Close()
		return nil, fmt.Errorf("playtest: start Chromium (%s): %w", bin, err)
	}
	return b, nil
}

// Eval evaluates the JavaScript expression expr in the page and decodes
// its (JSON) value into out.
func (b *Browser) Eval(expr string, out any) error {
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[json.RawMessage](expr))
	if err != nil {
		return fmt.Errorf("playtest: %w", err)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Close ends the browser and removes its profile.
func (b *Browser) Close() { b.cancel() }

func (r *Result) summarize() {
	r.StallCount = len(r.Stalls)
	r.StallS = 0
	for _, s := range r.Stalls {
		r.StallS += s.DurationS
	}
	r.Switches = max(0, len(r.Bitrate)-1)
	// time-weighted mean of the played bitrate, by playback position
	var sum, span float64
	for i, b := range r.Bitrate {
		end := r.PositionS
		if i+1 < len(r.Bitrate) {
			end = r.Bitrate[i+1].PositionS
		}
		if d := end - b.PositionS; d > 0 {
			sum += b.Kbps * d
			span += d
		}
	}
	if span > 0 {
		r.MeanKbps = sum / span
	}
	if r.Errors == nil {
		r.Errors = []string{}
	}
	if r.Fatal == nil {
		r.Fatal = []string{}
	}
	if r.Abandoned == nil {
		r.Abandoned = []Abandon{}
	}
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
