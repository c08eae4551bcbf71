package live

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
)

// Origin serves a Packager over HTTP: LL-HLS (or plain HLS) and LL-DASH
// over the same init segments, parts and segments.
//
//	PREFIX/master.m3u8                multivariant playlist
//	PREFIX/manifest.mpd               MPD, SegmentTemplate $Number$
//	PREFIX/manifest-timeline.mpd      MPD, SegmentTimeline $Time$
//	PREFIX/time                       UTCTiming source (xs:dateTime)
//	PREFIX/NAME/media.m3u8            media playlist (_HLS_msn, _HLS_part, _HLS_skip)
//	PREFIX/NAME/init_G.mp4            CMAF header of generation G
//	PREFIX/NAME/seg_N.m4s             segment N (chunked while in progress)
//	PREFIX/NAME/part_N_I.m4s          part I of segment N (blocking when next)
//	PREFIX/NAME/t_T.m4s               the segment starting at time T ($Time$)
//	/                                 player page (?clock=1: pixel clock latency)
//	/js/NAME                          player libraries (WithPlayerJS)
//
// Parts and segments carry Server-Timing: sk-arrive (ingest arrival of
// their first frame) and sk-publish (publication), Unix ms.
//
// Nothing is read from a file system: a path that is not one of these is
// a 404, so path traversal has nothing to reach.
type Origin struct {
	p      *Packager
	prefix string
	js     map[string]string
}

// OriginOption configures an Origin.
type OriginOption func(*Origin)

// WithPrefix sets the URL path the stream is served under (default
// "/live/").
func WithPrefix(prefix string) OriginOption {
	return func(o *Origin) {
		prefix = "/" + strings.Trim(prefix, "/") + "/"
		if prefix == "//" {
			prefix = "/"
		}
		o.prefix = prefix
	}
}

// WithPlayerJS gives the files of the player libraries the player page
// loads: keys "hls.js", "dash.js", "shaka.js" (paths on disk).
func WithPlayerJS(files map[string]string) OriginOption {
	return func(o *Origin) { o.js = files }
}

// NewOrigin returns the HTTP handler of p.
func NewOrigin(p *Packager, opts ...OriginOption) *Origin {
	o := &Origin{p: p, prefix: "/live/"}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// Prefix returns the URL path the stream is served under.
func (o *Origin) Prefix() string { return o.prefix }

// Cache-Control values. Parts, segments and init segments never change
// once published (a URI names one immutable object: MSNs and init
// generations only grow), so a CDN keeps them; a blocking playlist
// response answers one (msn, part) question and stays right for a short
// while; a plain playlist or MPD request asks for the newest state and must
// reach the origin.
const (
	ccImmutable = "public, max-age=31536000, immutable"
	ccLive      = "no-cache"
	ccError     = "no-store"
	ccGone      = "public, max-age=1"
)

// Header values of the hot paths (a held playlist or part answered the
// instant its part is published), built once. Assigning a shared slice
// to the header map skips Header.Set's key canonicalisation and the
// one-element slice it allocates per value; net/http and its HTTP/2
// server only read the values (a handler that changes one replaces the
// slice, as Header.Set does).
var (
	hvAllowOrigin = []string{"*"}
	hvExpose      = []string{"Content-Length, Date, Age, Server-Timing"}
	hvM3U8        = []string{"application/vnd.apple.mpegurl"}
	hvMP4         = []string{"video/mp4"}
	hvLive        = []string{ccLive}
	hvImmutable   = []string{ccImmutable}
)

func (o *Origin) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = hvAllowOrigin
	h["Access-Control-Expose-Headers"] = hvExpose
	switch req.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Range")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		o.fail(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	path := req.URL.Path
	if path == "/" || path == o.prefix {
		o.page(w, req)
		return
	}
	if rest, ok := strings.CutPrefix(path, "/js/"); ok {
		o.playerJS(w, req, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, o.prefix)
	if !ok {
		o.fail(w, http.StatusNotFound, "not found")
		return
	}
	switch rest {
	case "master.m3u8":
		o.master(w, req)
		return
	case "manifest.mpd", "manifest-timeline.mpd":
		o.manifest(w, req, rest == "manifest-timeline.mpd")
		return
	case "time":
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", ccError)
		w.Write([]byte(o.p.cfg.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z")))
		return
	}
	if name, ok := strings.CutSuffix(rest, ".integrity.json"); ok && !strings.Contains(name, "/") {
		o.sidecar(w, req, name)
		return
	}
	name, file, ok := strings.Cut(rest, "/")
	r := o.p.Rendition(name)
	if !ok || r == nil {
		o.fail(w, http.StatusNotFound, "not found")
		return
	}
	switch {
	case file == "media.m3u8":
		o.playlist(w, req, r)
	case strings.HasPrefix(file, "init_") && strings.HasSuffix(file, ".mp4"):
		g, err := parseQueryNumber(file[len("init_") : len(file)-len(".mp4")])
		if err != nil || g > 1<<30 {
			o.fail(w, http.StatusNotFound, "not found")
			return
		}
		o.p.mu.Lock()
		b := r.inits[int(g)]
		o.p.mu.Unlock()
		if b == nil {
			o.fail(w, http.StatusNotFound, "no such init segment")
			return
		}
		o.write(w, req, "video/mp4", ccImmutable, b)
	case strings.HasPrefix(file, "seg_") && strings.HasSuffix(file, ".m4s"):
		msn, err := parseQueryNumber(file[len("seg_") : len(file)-len(".m4s")])
		if err != nil {
			o.fail(w, http.StatusNotFound, "not found")
			return
		}
		o.segment(w, req, r, func() (*Segment, bool) { return r.find(msn), msn == r.nextMSN })
	case strings.HasPrefix(file, "t_") && strings.HasSuffix(file, ".m4s"):
		t, err := parseQueryNumber(file[len("t_") : len(file)-len(".m4s")])
		if err != nil {
			o.fail(w, http.StatusNotFound, "not found")
			return
		}
		o.segment(w, req, r, func() (*Segment, bool) {
			for _, s := range r.segs {
				if s.StartPTS == t {
					return s, false
				}
			}
			return nil, false
		})
	case strings.HasPrefix(file, "part_") && strings.HasSuffix(file, ".m4s"):
		a, b, ok := strings.Cut(file[len("part_"):len(file)-len(".m4s")], "_")
		msn, err1 := parseQueryNumber(a)
		idx, err2 := parseQueryNumber(b)
		if !ok || err1 != nil || err2 != nil || idx > 1<<20 {
			o.fail(w, http.StatusNotFound, "not found")
			return
		}
		o.part(w, req, r, msn, int(idx))
	default:
		o.fail(w, http.StatusNotFound, "not found")
	}
}

// sidecar serves a rendition's signed integrity sidecar (WithSigner). It
// changes with every publish, like a playlist.
func (o *Origin) sidecar(w http.ResponseWriter, req *http.Request, name string) {
	r := o.p.Rendition(name)
	if r == nil {
		o.fail(w, http.StatusNotFound, "not found")
		return
	}
	o.p.mu.Lock()
	b := r.sidecar
	o.p.mu.Unlock()
	if b == nil {
		o.fail(w, http.StatusNotFound, "no integrity sidecar (the packager does not sign, or has published nothing yet)")
		return
	}
	o.write(w, req, "application/json", ccLive, b)
}

func (o *Origin) fail(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	if code == http.StatusNotFound {
		h.Set("Cache-Control", ccGone)
	} else {
		h.Set("Cache-Control", ccError)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write([]byte(msg + "\n"))
}

// writeShared is write with header values built once (see hvM3U8).
func (o *Origin) writeShared(w http.ResponseWriter, req *http.Request, ctype, cc, clen []string, b []byte) {
	h := w.Header()
	h["Content-Type"] = ctype
	h["Cache-Control"] = cc
	h["Content-Length"] = clen
	if req.Method == http.MethodHead {
		return
	}
	w.Write(b)
}

func (o *Origin) write(w http.ResponseWriter, req *http.Request, ctype, cc string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cc)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if req.Method == http.MethodHead {
		return
	}
	w.Write(b)
}

// await parks the request until cond holds (checked under the packager
// lock), the stream ends, the request's context is done, drain closes
// (the server's shutdown has begun: a blocking reload or a preload hint
// answers at once rather than holding the grace period; nil never
// closes), or the hold timeout passes (ErrTimeout). Each wake-up comes
// from a publish on r: no polling. When the hold timeout passes, extend
// (if not nil; called under the packager lock) may give a longer wait.
func (o *Origin) await(ctx context.Context, drain <-chan struct{}, r *Rendition, cond func() bool, extend func(now time.Time) time.Duration) error {
	var timer Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		o.p.mu.Lock()
		ok, ended, ch, hold := cond(), o.p.ended, r.notify, o.p.holdTimeout()
		o.p.mu.Unlock()
		if ok || ended {
			return nil
		}
		if timer == nil {
			timer = o.p.cfg.clock.NewTimer(hold)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-drain:
			return errDraining
		case <-timer.C():
			if extend == nil {
				return ErrTimeout
			}
			o.p.mu.Lock()
			d := extend(o.p.cfg.clock.Now())
			o.p.mu.Unlock()
			if d <= 0 {
				return ErrTimeout
			}
			timer = o.p.cfg.clock.NewTimer(d)
		}
	}
}

// firstWaitSlack: a first playlist request waits for segment 0 up to
// HoldLimit plus this, while the source publishes parts.
const firstWaitSlack = 5 * time.Second

// errDraining ends a wait when the server's shutdown begins.
var errDraining = errors.New("live: server shutting down")

// holdFailed answers a request whose wait failed.
func (o *Origin) holdFailed(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrTimeout) {
		o.fail(w, http.StatusServiceUnavailable, "the awaited media did not arrive within three target durations")
		return
	}
	// The client left or the server is shutting down: nobody reads this.
	o.fail(w, http.StatusServiceUnavailable, "shutting down")
}

func (o *Origin) playlist(w http.ResponseWriter, req *http.Request, r *Rendition) {
	br, err := ParseBlockRequest(req.URL.RawQuery)
	if err != nil {
		o.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	ll := o.p.cfg.ll
	skip := br.Skip && ll
	blocking := ll && br.MSN >= 0
	// The conditions run under the packager lock; the one that holds
	// takes the playlist rendered for the current publish in the same
	// critical section, so a woken request locks once.
	var resp *renderedPlaylist
	if blocking {
		first, last := true, int64(0)
		err = o.await(req.Context(), httpserver.DrainingOf(req.Context()), r, func() bool {
			if first {
				first, last = false, r.lastComplete()
				if br.MSN > last+2 {
					return true // answered 400 below
				}
			}
			if !r.ready(br.MSN, br.Part) {
				return false
			}
			resp = o.p.playlistResponse(r, skip)
			return true
		}, nil)
		if err == nil && br.MSN > last+2 {
			o.fail(w, http.StatusBadRequest, "_HLS_msn="+strconv.FormatInt(br.MSN, 10)+" is more than two segments past the last ("+strconv.FormatInt(last, 10)+")")
			return
		}
	} else {
		// Something to list: a complete segment. In LL-HLS the parts of
		// the first segment exist earlier, but a playlist of parts alone
		// has no EXTINF, and players take it for an empty one: hls.js
		// reports levelEmptyError and retries, Shaka Player 5.2 fails the
		// stream. The first non-blocking request waits for segment 0 (a
		// blocking request follows a playlist and names what it awaits).
		//
		// Segment 0 lasts the source's first GOP, which may be longer
		// than the hold timeout (3 target durations; an encoder with a
		// 10 s GOP behind ingest). The spec's 503 is for blocking
		// requests the media did not satisfy in time; a 503 here costs
		// hls.js 1.7 one of its two playlist error retries (1 s, then
		// backoff) and Shaka 5.2 one of its two manifest attempts. So
		// this wait goes on while the source is alive (a part of r
		// published within the hold timeout), up to HoldLimit +
		// firstWaitSlack (13 s for 2 s segments): below Serve's default
		// write timeout (HoldLimit + 10 s), which would reset an HTTP/2
		// stream waiting longer. hls.js gives a playlist 10 s to its
		// first byte and then retries at once (timeoutRetry), so a first
		// GOP up to about 20 s reaches it; Shaka 5.2 waits 10 s for the
		// response headers (connectionTimeout) on each of its two
		// attempts.
		start, limit := o.p.cfg.clock.Now(), o.p.HoldLimit()+firstWaitSlack
		err = o.await(req.Context(), httpserver.DrainingOf(req.Context()), r, func() bool {
			if r.lastComplete() >= 0 && len(r.segs) > 0 && r.segs[0].Complete {
				resp = o.p.playlistResponse(r, skip)
				return true
			}
			return false
		}, func(now time.Time) time.Duration {
			seg := r.open()
			if seg == nil || len(seg.Parts) == 0 {
				return 0
			}
			quiet, hold := now.Sub(seg.Parts[len(seg.Parts)-1].Published), o.p.holdTimeout()
			if quiet >= hold {
				return 0 // the source stalled: 503
			}
			return min(hold-quiet, start.Add(limit).Sub(now))
		})
	}
	if err != nil {
		o.holdFailed(w, err)
		return
	}
	if resp == nil { // the stream ended while the request waited
		o.p.mu.Lock()
		resp = o.p.playlistResponse(r, skip)
		o.p.mu.Unlock()
	}
	cc := hvLive
	if blocking {
		cc = resp.cc
	}
	o.writeShared(w, req, hvM3U8, cc, resp.clen, resp.body)
}

func (o *Origin) master(w http.ResponseWriter, req *http.Request) {
	ref := o.firstRendition()
	err := o.await(req.Context(), httpserver.DrainingOf(req.Context()), ref, func() bool { return len(ref.segs) > 0 }, nil)
	if err != nil {
		o.holdFailed(w, err)
		return
	}
	o.p.mu.Lock()
	text := o.p.multivariant()
	o.p.mu.Unlock()
	o.write(w, req, "application/vnd.apple.mpegurl", ccLive, []byte(text))
}

func (o *Origin) firstRendition() *Rendition {
	o.p.mu.Lock()
	defer o.p.mu.Unlock()
	if len(o.p.rends) == 0 {
		return &Rendition{notify: make(chan struct{})}
	}
	return o.p.rends[0]
}

func (o *Origin) manifest(w http.ResponseWriter, req *http.Request, timeline bool) {
	ref := o.firstRendition()
	err := o.await(req.Context(), httpserver.DrainingOf(req.Context()), ref, func() bool { return len(o.p.periods) > 0 && len(o.p.rends) > 0 }, nil)
	if err != nil {
		o.holdFailed(w, err)
		return
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	mopts := []MPDOption{WithUTCTiming(scheme + "://" + req.Host + o.prefix + "time")}
	if timeline {
		mopts = append(mopts, WithTimeline())
	}
	mpd, err := o.p.MPD(o.p.cfg.clock.Now(), mopts...)
	if err != nil {
		o.fail(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	o.write(w, req, "application/dash+xml", ccLive, mpd)
}

// part serves part idx of segment msn. The part the playlist's preload
// hint names (the next one of the segment in progress, or the first of
// the next segment) is held until it is complete.
func (o *Origin) part(w http.ResponseWriter, req *http.Request, r *Rendition, msn int64, idx int) {
	var pt *Part
	lookup := func() (found, never bool) {
		s := r.find(msn)
		if s == nil {
			// Not yet started is fine only for the next segment's part 0.
			return false, !(msn == r.nextMSN && idx == 0)
		}
		if idx < len(s.Parts) {
			pt = s.Parts[idx]
			return true, false
		}
		return false, s.Complete || idx > len(s.Parts)
	}
	o.p.mu.Lock()
	found, never := lookup()
	o.p.mu.Unlock()
	if !found && !never {
		err := o.await(req.Context(), httpserver.DrainingOf(req.Context()), r, func() bool {
			f, n := lookup()
			return f || n
		}, nil)
		if err != nil {
			o.holdFailed(w, err)
			return
		}
		o.p.mu.Lock()
		found, _ = lookup()
		o.p.mu.Unlock()
	}
	if !found {
		o.fail(w, http.StatusNotFound, "no such part (outside the window, or never produced)")
		return
	}
	h := w.Header()
	if pt.clen == nil { // a part not made by flushPart
		serverTiming(h, pt.Arrived, pt.Published, false)
		o.write(w, req, "video/mp4", ccImmutable, pt.Data)
		return
	}
	if pt.timing != nil {
		h["Server-Timing"] = pt.timing
		h["Timing-Allow-Origin"] = hvAllowOrigin
	}
	o.writeShared(w, req, hvMP4, hvImmutable, pt.clen, pt.Data)
}

// serverTiming stamps a part or segment response with the ingest arrival
// of its first frame and its publication (Unix ms, as Server-Timing
// descriptions, which the Resource Timing API hands to the page beside
// the fetch's own times): the origin's half of the glass-to-glass stage
// budget (package latency). A segment sent while in progress (chunked,
// LL-DASH) is marked "chunked" and carries its first part's times.
func serverTiming(h http.Header, arrived, published time.Time, chunked bool) {
	if v := serverTimingValue(arrived, published, chunked); v != "" {
		h.Set("Server-Timing", v)
		h.Set("Timing-Allow-Origin", "*")
	}
}

// serverTimingValue is serverTiming's header value, "" when a time is
// missing.
func serverTimingValue(arrived, published time.Time, chunked bool) string {
	if arrived.IsZero() || published.IsZero() {
		return ""
	}
	v := fmt.Sprintf(`sk-arrive;desc="%d", sk-publish;desc="%d"`, arrived.UnixMilli(), published.UnixMilli())
	if chunked {
		v += ", sk-chunked"
	}
	return v
}

// segment serves a segment: at once when complete; while in progress
// (requested early by an LL-DASH client thanks to availabilityTimeOffset)
// with chunked transfer encoding, each part sent as it is published.
func (o *Origin) segment(w http.ResponseWriter, req *http.Request, r *Rendition, find func() (*Segment, bool)) {
	o.p.mu.Lock()
	s, next := find()
	o.p.mu.Unlock()
	if s == nil && next {
		err := o.await(req.Context(), httpserver.DrainingOf(req.Context()), r, func() bool { s, _ = find(); return s != nil }, nil)
		if err != nil {
			o.holdFailed(w, err)
			return
		}
	}
	if s == nil {
		o.fail(w, http.StatusNotFound, "no such segment (outside the window)")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", ccImmutable)
	o.p.mu.Lock()
	parts, complete, published := append([]*Part(nil), s.Parts...), s.Complete, s.Published
	o.p.mu.Unlock()
	switch {
	case complete && len(parts) > 0:
		serverTiming(h, parts[0].Arrived, published, false)
	case len(parts) > 0:
		serverTiming(h, parts[0].Arrived, parts[0].Published, true)
	case !complete:
		// Requested before its first part (LL-DASH clients ask early):
		// nothing to stamp yet but that it comes chunk by chunk.
		h.Set("Server-Timing", "sk-chunked")
		h.Set("Timing-Allow-Origin", "*")
	}
	if complete {
		var n int
		for _, p := range parts {
			n += len(p.Data)
		}
		h.Set("Content-Length", strconv.Itoa(n))
		if req.Method == http.MethodHead {
			return
		}
		for _, p := range parts {
			if _, err := w.Write(p.Data); err != nil {
				return
			}
		}
		return
	}
	if req.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(w)
	sent := 0
	for {
		for ; sent < len(parts); sent++ {
			if _, err := w.Write(parts[sent].Data); err != nil {
				return
			}
		}
		if complete {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		// Not released by the drain: a segment in progress is a transfer,
		// which the grace period lets finish (it ends within a segment).
		err := o.await(req.Context(), nil, r, func() bool { return s.Complete || len(s.Parts) > sent }, nil)
		if err != nil {
			// The response has begun: ending it early without the final
			// chunk tells the client (and a CDN) it is incomplete.
			panic(http.ErrAbortHandler)
		}
		o.p.mu.Lock()
		parts, complete = append(parts[:0], s.Parts...), s.Complete
		ended := o.p.ended
		o.p.mu.Unlock()
		if ended && !complete {
			panic(http.ErrAbortHandler)
		}
	}
}

func (o *Origin) playerJS(w http.ResponseWriter, req *http.Request, name string) {
	path, ok := o.js[name]
	if !ok {
		o.fail(w, http.StatusNotFound, "player library "+name+" not configured")
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		o.fail(w, http.StatusNotFound, "player library "+name+" not readable")
		return
	}
	o.write(w, req, "text/javascript; charset=utf-8", "public, max-age=3600", b)
}

// HoldLimit is the longest a request can be held: a segment streamed
// while in progress lasts up to a segment plus the hold timeout (three
// target durations). Servers set WriteTimeout above it.
func (p *Packager) HoldLimit() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg.segment + p.holdTimeout()
}
