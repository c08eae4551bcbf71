package latency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/pixclock"
	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/serve"
)

// Mode is one way of delivering the stream: packager settings and the
// player that plays it.
type Mode struct {
	Name       string
	Segment    time.Duration
	Part       time.Duration
	LowLatency bool   // LL-HLS parts, preload hints, blocking reload
	Player     string // the live page's engine: "hls.js", "dash.js", "shaka"
	// Delay is dash.js's target live delay (the page's ?delay=; 0: the
	// MPD's ServiceDescription target, three parts + 400 ms).
	Delay time.Duration
}

// The modes of issue 18.
var (
	// PlainHLS is live HLS with 2 s segments, played by hls.js (which
	// holds back three segments).
	PlainHLS = Mode{Name: "HLS", Segment: 2 * time.Second, Part: 200 * time.Millisecond, Player: "hls.js"}
	// LLHLS is LL-HLS with 1 s segments and 200 ms parts, hls.js in
	// lowLatencyMode (three parts of hold-back).
	LLHLS = Mode{Name: "LL-HLS", Segment: time.Second, Part: 200 * time.Millisecond, LowLatency: true, Player: "hls.js"}
	// LLDASH is LL-DASH (chunked CMAF, availabilityTimeOffset) with 1 s
	// segments of 200 ms chunks, dash.js in low-latency mode.
	LLDASH = Mode{Name: "LL-DASH", Segment: time.Second, Part: 200 * time.Millisecond, LowLatency: true, Player: "dash.js"}
	// Modes are the three, in the order of the comparison table.
	Modes = []Mode{PlainHLS, LLHLS, LLDASH}
)

// DefaultEncoder is the encoder command when ffmpeg is on PATH: x264
// with -tune zerolatency (no lookahead, no B-frames: a frame leaves the
// encoder as soon as it is in), a key frame every second (the 1 s
// segments cut there), publishing to {url} (FLV for rtmp://, MPEG-TS
// otherwise). {fps} is replaced too.
var DefaultEncoder = []string{"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
	"-f", "yuv4mpegpipe", "-i", "-", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
	"-g", "{fps}", "-keyint_min", "{fps}", "-sc_threshold", "0", "-b:v", "1M", "-pix_fmt", "yuv420p",
	"-f", "{format}", "{url}"}

// ErrNoEncoder: no encoder command was given and ffmpeg is not on PATH.
var ErrNoEncoder = errors.New("latency: no encoder (install ffmpeg or give an encoder command)")

// Option configures Run.
type Option func(*config)

type config struct {
	encoder  []string
	duration time.Duration
	warmup   time.Duration
	width    int
	height   int
	fps      int
	chromium string
	playerJS map[string]string
	ingest   func(js map[string]string) Ingest
	log      io.Writer
}

// WithEncoder sets the encoder command: it reads Y4M on stdin and
// publishes to {url} (see Ingest), {fps} and {format} ("flv" or
// "mpegts") replaced. Default DefaultEncoder.
func WithEncoder(argv []string) Option { return func(c *config) { c.encoder = argv } }

// WithDuration sets how long each mode is measured after the player
// started (default 20 s).
func WithDuration(d time.Duration) Option { return func(c *config) { c.duration = d } }

// WithWarmup sets how long after the player starts measuring begins
// (default 10 s: startup and the players' catch-up to their target latency are not steady state).
func WithWarmup(d time.Duration) Option { return func(c *config) { c.warmup = d } }

// WithClockSize sets the clock's frame size and rate (default 640x360, 30).
func WithClockSize(width, height, fps int) Option {
	return func(c *config) { c.width, c.height, c.fps = width, height, fps }
}

// WithChromium sets the Chromium binary (default playtest.FindChromium).
func WithChromium(bin string) Option { return func(c *config) { c.chromium = bin } }

// WithPlayerJS sets the player libraries (keys "hls.js", "dash.js",
// "shaka.js"; default serve.FindPlayerJS).
func WithPlayerJS(files map[string]string) Option { return func(c *config) { c.playerJS = files } }

// WithIngest picks the ingest (default RTMPIngest).
func WithIngest(fn func(playerJS map[string]string) Ingest) Option {
	return func(c *config) { c.ingest = fn }
}

// WithLog writes progress lines to w.
func WithLog(w io.Writer) Option { return func(c *config) { c.log = w } }

// Result is the measurement of one mode.
type Result struct {
	Mode    Mode
	Frames  []Frame // readable frames displayed after the warm-up
	Summary Summary
	Errors  []string // the player's
	Err     error    // the mode could not be measured
	// Stalls counts the times playback waited for data; PlayerTarget
	// is the player's own target latency at the end (hls.js raises it
	// by a second at every stall; 0 when the player has none).
	Stalls       int
	PlayerTarget time.Duration
	// Segments counts the complete LL segments of the measured
	// rendition that still had their frames located at the end, and
	// ShortLastParts those whose last part is under 85 % of the part
	// duration. A short last part is legal (only a segment's last part
	// may be short), but hls.js 1.7.4 can take its segment for fully
	// buffered without fetching it, and stall: with a key frame every
	// second and 200 ms parts there should be none.
	Segments, ShortLastParts int
	// Fetches counts the player's media requests by kind: "part",
	// "chunked segment" (requested while in progress, sent chunk by
	// chunk), "segment" (complete when requested).
	Fetches map[string]int
}

// Run measures glass-to-glass latency for each mode in turn: `streamkit
// clock` frames (pixclock.Run, real time) → the encoder command → the
// ingest → the live packager and origin → the live player page in
// headless Chromium, which reads the capture time from every displayed
// frame. It returns one Result per mode; a mode that fails has Err set
// and the others still run. The error is for what stops every mode (no
// encoder, no Chromium, no player library).
func Run(ctx context.Context, modes []Mode, opts ...Option) ([]Result, error) {
	c := config{duration: 20 * time.Second, warmup: 10 * time.Second, width: 640, height: 360, fps: 30, ingest: RTMPIngest, log: io.Discard}
	for _, o := range opts {
		o(&c)
	}
	if c.encoder == nil {
		if _, err := exec.LookPath("ffmpeg"); err != nil {
			return nil, ErrNoEncoder
		}
		c.encoder = DefaultEncoder
	}
	if c.chromium == "" {
		bin, err := playtest.FindChromium()
		if err != nil {
			return nil, err
		}
		c.chromium = bin
	}
	if c.playerJS == nil {
		js, err := serve.FindPlayerJS("")
		if err != nil {
			return nil, fmt.Errorf("latency: %w", err)
		}
		c.playerJS = js
	}
	var out []Result
	for _, m := range modes {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		fmt.Fprintf(c.log, "%s: %v segments, %v parts, %s …\n", m.Name, m.Segment, m.Part, m.Player)
		r := runMode(ctx, m, &c)
		if r.Err != nil {
			fmt.Fprintf(c.log, "%s: %v\n", m.Name, r.Err)
		}
		out = append(out, r)
	}
	return out, nil
}

// pageData is what the live page's ?clock=1 keeps (window.__clock).
type pageData struct {
	Frames []struct {
		Capture float64 `json:"capture"`
		Display float64 `json:"display"`
	} `json:"frames"`
	Unreadable int `json:"unreadable"`
	Resources  []struct {
		URL     string  `json:"url"`
		Start   float64 `json:"start"`
		End     float64 `json:"end"`
		Publish float64 `json:"publish"`
		Chunked bool    `json:"chunked"`
	} `json:"resources"`
	Error  string   `json:"error"`
	Errors []string `json:"errors"`
	Fatal  []string `json:"fatal"`
	Stalls int      `json:"stalls"`
	Target *float64 `json:"targetLatency"`
}

func msTime(ms float64) time.Time { return time.UnixMicro(int64(math.Round(ms * 1000))) }

func runMode(parent context.Context, m Mode, c *config) (res Result) {
	res.Mode = m
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	ing := c.ingest(c.playerJS)
	var mu sync.Mutex
	arrivals := map[int]Arrival{} // by clock frame index
	window := c.duration + c.warmup + 60*time.Second
	popts := []live.Option{live.WithSegmentDuration(m.Segment), live.WithPartDuration(m.Part), live.WithLowLatency(m.LowLatency), live.WithWindow(window)}
	url, err := ing.Start(ctx, popts, func(a Arrival) {
		i := int(math.Round(float64(a.DTS) * float64(c.fps) / float64(a.Timescale)))
		mu.Lock()
		if _, ok := arrivals[i]; !ok {
			arrivals[i] = a
		}
		mu.Unlock()
	})
	if err != nil {
		res.Err = err
		return res
	}
	defer ing.Close()
	// The encoder.
	format := "mpegts"
	if strings.HasPrefix(url, "rtmp://") {
		format = "flv"
	}
	argv := make([]string, len(c.encoder))
	for i, a := range c.encoder {
		a = strings.ReplaceAll(a, "{url}", url)
		a = strings.ReplaceAll(a, "{fps}", fmt.Sprint(c.fps))
		argv[i] = strings.ReplaceAll(a, "{format}", format)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		res.Err = err
		return res
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		res.Err = err
		return res
	}
	stderr := &limited{w: &strings.Builder{}, n: 4096}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		res.Err = fmt.Errorf("latency: encoder: %w", err)
		return res
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	captures := map[int64]int{} // capture ms → frame index
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer stdin.Close()
		pixclock.Run(ctx, stdin, live.SystemClock(), pixclock.WithSize(c.width, c.height), pixclock.WithFPS(c.fps),
			pixclock.WithOnFrame(func(i int, t time.Time) {
				mu.Lock()
				captures[t.UnixMilli()] = i
				mu.Unlock()
			}))
	}()
	go func() {
		defer wg.Done()
		ing.Feed(ctx, stdout)
		io.Copy(io.Discard, stdout)
		cmd.Wait()
	}()
	// The stream is up when the packager has a segment.
	var p *live.Packager
	for deadline := time.Now().Add(15 * time.Second); ; {
		if p = ing.Packager(); p != nil {
			if _, ok := p.Locate("v0", 0); ok {
				break
			}
		}
		if time.Now().After(deadline) {
			res.Err = fmt.Errorf("latency: no stream from the encoder within 15 s (%s)", strings.TrimSpace(stderr.String()))
			return res
		}
		select {
		case <-ctx.Done():
			res.Err = ctx.Err()
			return res
		case <-time.After(100 * time.Millisecond):
		}
	}
	// The origin, with the pixel clock decoder beside the player libraries.
	srv, err := playtest.Serve(pixclock.ServeScript(ing.Handler()))
	if err != nil {
		res.Err = err
		return res
	}
	defer srv.Close()
	defer p.End() // answers held requests before the server drains
	page := srv.URL + "/live/" + StreamName + "/?clock=1&seconds=100000&test=" + m.Player
	if m.Delay > 0 {
		page += fmt.Sprintf("&delay=%g", m.Delay.Seconds())
	}
	b, err := playtest.Open(ctx, page, c.chromium)
	if err != nil {
		res.Err = err
		return res
	}
	defer b.Close()
	start := time.Now()
	select {
	case <-ctx.Done():
		res.Err = ctx.Err()
		return res
	case <-time.After(c.warmup + c.duration):
	}
	var pd pageData
	var raw string
	if err = b.Eval(`JSON.stringify(Object.assign({}, window.__clock || {error: "the page has no pixel clock"}, {errors, fatal, targetLatency: window.__clock && window.__clock.target()}))`, &raw); err == nil {
		err = json.Unmarshal([]byte(raw), &pd)
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.Errors = append(pd.Fatal, pd.Errors...)
	res.Stalls = pd.Stalls
	res.Fetches = map[string]int{}
	for _, r := range pd.Resources {
		switch {
		case strings.Contains(r.URL, "/part_"):
			res.Fetches["part"]++
		case r.Chunked:
			res.Fetches["chunked segment"]++
		case strings.Contains(r.URL, "/seg_"):
			res.Fetches["segment"]++
		}
	}
	if pd.Target != nil {
		res.PlayerTarget = time.Duration(*pd.Target * float64(time.Second))
	}
	if pd.Error != "" {
		res.Err = errors.New(pd.Error)
		return res
	}
	// The join: pixels → clock frame → arrival → part/segment → fetch.
	from := start.Add(c.warmup)
	rend := "v0"
	seen := map[int]bool{}
	unreadable := pd.Unreadable
	mu.Lock()
	defer mu.Unlock()
	for _, f := range pd.Frames {
		fr := Frame{Capture: time.UnixMilli(int64(f.Capture)), Displayed: msTime(f.Display)}
		if fr.Displayed.Before(from) {
			continue
		}
		i, ok := captures[int64(f.Capture)]
		if !ok || seen[i] {
			continue // not a frame of this run, or shown again
		}
		seen[i] = true
		fr.Index = i
		if a, ok := arrivals[i]; ok {
			fr.Arrived = a.At
			if loc, ok := p.Locate(rend, a.DTS); ok {
				fr.Published = loc.PartPublish
				if !m.LowLatency {
					fr.Published = loc.SegPublish
				}
				fr.Fetched = fetched(pd, loc, rend)
			}
		}
		res.Frames = append(res.Frames, fr)
	}
	if m.LowLatency {
		res.Segments, res.ShortLastParts = lastParts(p, rend, arrivals, m.Part)
	}
	slices.SortFunc(res.Frames, func(a, b Frame) int { return a.Capture.Compare(b.Capture) })
	res.Summary = Summarize(res.Frames, unreadable)
	if res.Summary.Readable == 0 {
		res.Err = fmt.Errorf("latency: no readable frame displayed (%d unreadable; player errors: %s)", unreadable, strings.Join(res.Errors, "; "))
	}
	return res
}

// lastParts counts the complete segments holding the arrived frames and
// those whose last part is shorter than 85 % of part.
func lastParts(p *live.Packager, rend string, arrivals map[int]Arrival, part time.Duration) (segs, short int) {
	last := map[int64]float64{} // segment → its last part's duration, seconds
	for _, a := range arrivals {
		loc, ok := p.Locate(rend, a.DTS)
		if ok && loc.SegComplete && loc.Part == loc.SegParts-1 {
			last[loc.MSN] = float64(loc.PartDuration) / float64(a.Timescale)
		}
	}
	for _, d := range last {
		if d < 0.85*part.Seconds() {
			short++
		}
	}
	return len(last), short
}

// fetched is when the player had the frame at loc: the earliest
// completion of a fetch of its part or its segment.
func fetched(pd pageData, loc live.Location, rend string) time.Time {
	prefix := "/live/" + StreamName + "/" + rend + "/"
	partURL := fmt.Sprintf("%spart_%d_%d.m4s", prefix, loc.MSN, loc.Part)
	segURL := fmt.Sprintf("%sseg_%d.m4s", prefix, loc.MSN)
	var best time.Time
	for _, r := range pd.Resources {
		var at time.Time
		switch {
		case r.URL == partURL:
			at = msTime(r.End)
		case r.URL == segURL && r.Chunked:
			at = msTime(r.Start)
			if loc.PartPublish.After(at) {
				at = loc.PartPublish
			}
		case r.URL == segURL:
			at = msTime(r.End)
		default:
			continue
		}
		if best.IsZero() || at.Before(best) {
			best = at
		}
	}
	return best
}

// limited keeps the first n bytes written.
type limited struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limited) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*strings.Builder).String()
}

func (l *limited) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(l.n, len(b))
		l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}
