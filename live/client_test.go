package live

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A small LL-HLS client for the conformance tests: it reads our playlists
// tag by tag (the things hls-m3u8 does not keep, such as rendition
// reports, are checked here; hls-m3u8 reads them back in TestReadBack).

type plPart struct {
	dur         float64
	uri         string
	independent bool
}

type plSegment struct {
	msn   int64
	dur   float64
	uri   string
	pdt   time.Time
	disc  bool
	parts []plPart
}

type playlist struct {
	version, target int
	partTarget      float64
	control         map[string]string
	seq             int64
	skipped         int
	segs            []plSegment
	trailing        []plPart // parts of the segment in progress
	hint            string
	reports         map[string][2]int64 // URI → LAST-MSN, LAST-PART
	ended           bool
	text            string
}

func attrs(s string) map[string]string {
	m := map[string]string{}
	for s != "" {
		k, rest, _ := strings.Cut(s, "=")
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			v, rest = rest[1:1+end], rest[2+end:]
			rest = strings.TrimPrefix(rest, ",")
		} else {
			v, rest, _ = strings.Cut(rest, ",")
		}
		m[k] = v
		s = rest
	}
	return m
}

func parsePlaylist(t *testing.T, text string) *playlist {
	t.Helper()
	p := &playlist{text: text, reports: map[string][2]int64{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	var cur plSegment
	var parts []plPart
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("bad number %q in\n%s", s, text)
		}
		return v
	}
	for sc.Scan() {
		line := sc.Text()
		tag, val, _ := strings.Cut(line, ":")
		switch tag {
		case "#EXT-X-VERSION":
			p.version = int(num(val))
		case "#EXT-X-TARGETDURATION":
			p.target = int(num(val))
		case "#EXT-X-PART-INF":
			p.partTarget = num(attrs(val)["PART-TARGET"])
		case "#EXT-X-SERVER-CONTROL":
			p.control = attrs(val)
		case "#EXT-X-MEDIA-SEQUENCE":
			p.seq = int64(num(val))
		case "#EXT-X-SKIP":
			p.skipped = int(num(attrs(val)["SKIPPED-SEGMENTS"]))
		case "#EXT-X-DISCONTINUITY":
			cur.disc = true
		case "#EXT-X-PROGRAM-DATE-TIME":
			tm, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				t.Fatal(err)
			}
			cur.pdt = tm
		case "#EXT-X-PART":
			a := attrs(val)
			parts = append(parts, plPart{dur: num(a["DURATION"]), uri: a["URI"], independent: a["INDEPENDENT"] == "YES"})
		case "#EXTINF":
			d, _, _ := strings.Cut(val, ",")
			cur.dur = num(d)
		case "#EXT-X-PRELOAD-HINT":
			p.hint = attrs(val)["URI"]
		case "#EXT-X-RENDITION-REPORT":
			a := attrs(val)
			p.reports[a["URI"]] = [2]int64{int64(num(a["LAST-MSN"])), int64(num(a["LAST-PART"]))}
		case "#EXT-X-ENDLIST":
			p.ended = true
		default:
			if line != "" && !strings.HasPrefix(line, "#") {
				cur.uri = line
				cur.parts = parts
				cur.msn = p.seq + int64(p.skipped) + int64(len(p.segs))
				p.segs = append(p.segs, cur)
				cur, parts = plSegment{}, nil
			}
		}
	}
	p.trailing = parts
	return p
}

// lastPart returns the playlist's last part: (msn, index).
func (p *playlist) lastPart() (int64, int) {
	if len(p.trailing) > 0 {
		return p.seq + int64(p.skipped) + int64(len(p.segs)), len(p.trailing) - 1
	}
	s := p.segs[len(p.segs)-1]
	return s.msn, len(s.parts) - 1
}

type response struct {
	code int
	h    http.Header
	body []byte
	err  error
}

// testOrigin is a test stream behind an HTTP origin on loopback.
type testOrigin struct {
	*testStream
	srv *httptest.Server
	o   *Origin
}

func newTestOrigin(t *testing.T, opts ...Option) *testOrigin {
	t.Helper()
	s := newTestStream(t, opts...)
	o := NewOrigin(s.p)
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	// Runs before srv.Close: releases any request a failed test left held.
	t.Cleanup(func() { s.p.End() })
	return &testOrigin{testStream: s, srv: srv, o: o}
}

func (o *testOrigin) url(path string) string { return o.srv.URL + "/live/" + path }

func (o *testOrigin) get(path string) response {
	return fetch(context.Background(), o.url(path))
}

func fetch(ctx context.Context, url string) response {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return response{err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, h: resp.Header, body: b, err: err}
}

// async starts a request and returns where its response will arrive.
func (o *testOrigin) async(ctx context.Context, path string) <-chan response {
	ch := make(chan response, 1)
	go func() { ch <- fetch(ctx, o.url(path)) }()
	return ch
}

func (o *testOrigin) playlist(t *testing.T, path string) *playlist {
	t.Helper()
	r := o.get(path)
	if r.err != nil || r.code != 200 {
		t.Fatalf("GET %s: %d %v %s", path, r.code, r.err, r.body)
	}
	return parsePlaylist(t, string(r.body))
}

// parked waits until n requests hold a timer on the fake clock: they are
// parked in the origin, waiting for a publish.
// idle waits until no request is parked on the clock any more: a
// finished request's handler stops its timer after the client has its
// body, so a test that parks the next request waits for that first
// (else parked(1) could count the old timer).
func (o *testOrigin) idle(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); o.clock.Timers() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests still parked", o.clock.Timers())
		}
	}
}

func (o *testOrigin) parked(t *testing.T, n int) {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(20*time.Second, func() { close(done) })
	defer timer.Stop()
	if !o.clock.WaitTimers(n, done) {
		t.Fatalf("%d requests never parked (have %d)", n, o.clock.Timers())
	}
}
