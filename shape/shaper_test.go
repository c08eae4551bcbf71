package shape

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/abr"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// blob serves n bytes for every path, with a Content-Length.
func blob(n int) http.Handler {
	body := bytes.Repeat([]byte{'x'}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
}

// timedRecorder records when (on the fake clock) each write reached the
// "network".
type timedRecorder struct {
	*httptest.ResponseRecorder
	clk  *FakeClock
	bins map[int]int64 // second since t0 -> bytes
	t0   time.Time
}

func (r *timedRecorder) Write(p []byte) (int, error) {
	s := int(math.Floor(r.clk.Now().Sub(r.t0).Seconds()))
	r.bins[s] += int64(len(p))
	return r.ResponseRecorder.Write(p)
}

// download fetches url back to back until the fake clock passes until and
// returns bytes per 1-second bin of the client's timeline.
func download(t *testing.T, h http.Handler, clk *FakeClock, until time.Duration, url string, hdr map[string]string) map[int]int64 {
	t.Helper()
	rec := &timedRecorder{clk: clk, bins: map[int]int64{}, t0: clk.Now()}
	for n := 0; clk.Now().Sub(rec.t0) < until; n++ {
		if n > 100000 {
			t.Fatal("too many requests")
		}
		rec.ResponseRecorder = httptest.NewRecorder()
		req := httptest.NewRequest("GET", url, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	return rec.bins
}

// expectedBins integrates the scenario's rate per second (bytes).
func expectedBins(sc *Scenario, seconds int) []float64 {
	p := newPlan(sc)
	out := make([]float64, seconds)
	for s := range out {
		out[s] = p.integrate(float64(s), float64(s+1), math.Inf(1), math.Inf(1)) / 8
	}
	return out
}

func checkBins(t *testing.T, got map[int]int64, want []float64, tol float64) {
	t.Helper()
	for s, w := range want {
		g := float64(got[s])
		if w == 0 {
			if g != 0 {
				t.Errorf("second %d: %v bytes during an outage", s, g)
			}
			continue
		}
		if math.Abs(g-w)/w > tol {
			t.Errorf("second %d: %.0f bytes, want %.0f ±%.0f%%", s, g, w, tol*100)
		}
	}
}

// TestThroughputFollowsPhases is the acceptance check on the fake clock:
// a client downloading 256 KiB segments back to back receives, per
// 1-second bin, the bytes the scenario's phases carry, within 5 % (the
// remainder is the chunk that straddles a bin edge).
func TestThroughputFollowsPhases(t *testing.T) {
	sc := &Scenario{Name: "drop", Phases: []Phase{
		{DurationS: 10, Kbps: 4000}, {DurationS: 10, Kbps: 300}, {DurationS: 5, Kbps: 0}, {DurationS: 5, Kbps: 2500},
	}}
	clk := NewFakeClock(epoch)
	s, err := New(sc, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	got := download(t, s.Handler(blob(256<<10)), clk, 30*time.Second, "/v/seg_1.m4s", nil)
	checkBins(t, got, expectedBins(sc, 29), 0.05)
}

// TestThroughputFollowsTrace: the same with a trace in one of abr's
// formats (CSV, looping, 1-second steps).
func TestThroughputFollowsTrace(t *testing.T) {
	tr, err := abr.ParseTrace([]byte("time_s,kbps\n0,3000\n1,800\n2,1500\n3,5000\n4,200\n"), "steps.csv", 0)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := FromTrace(tr)
	if err != nil {
		t.Fatal(err)
	}
	clk := NewFakeClock(epoch)
	s, err := New(sc, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	got := download(t, s.Handler(blob(100<<10)), clk, 12*time.Second, "/seg.m4s", nil)
	checkBins(t, got, expectedBins(sc, 11), 0.05)
}

// TestLatencyPerRequest: each request waits its phase's latency before its
// first byte, and jitter stays within its bounds.
func TestLatencyPerRequest(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 100, Kbps: 8000, LatencyMs: 200, JitterMs: 50}}}
	clk := NewFakeClock(epoch)
	var evs []Event
	s, _ := New(sc, WithClock(clk), WithObserver(func(e Event) { evs = append(evs, e) }), WithSeed(3))
	h := s.Handler(blob(1000)) // 1 ms of data
	var lo, hi time.Duration = time.Hour, 0
	for range 200 {
		t0 := clk.Now()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/a.m4s", nil))
		d := clk.Now().Sub(t0)
		lo, hi = min(lo, d), max(hi, d)
	}
	// 1000 B at 8 Mbit/s is 1 ms
	if lo < 150*time.Millisecond || hi > 251*time.Millisecond || hi-lo < 80*time.Millisecond {
		t.Errorf("request times %v..%v, want within 150..251 ms and spread by the ±50 ms jitter", lo, hi)
	}
	if len(evs) != 200 || evs[0].Class != ClassSegment {
		t.Errorf("%d events, first %+v", len(evs), evs[0])
	}
}

// TestLossFollowsMathis: with loss, long-run throughput is the TCP
// sawtooth's, MSS/RTT·√(3/(2p)) (Mathis et al. 1997), not the link rate.
func TestLossFollowsMathis(t *testing.T) {
	for _, c := range []struct{ p, rttMs float64 }{{0.01, 50}, {0.002, 100}, {0.02, 20}} {
		sc := &Scenario{Phases: []Phase{{DurationS: 1000, Kbps: 50000, LatencyMs: c.rttMs, Loss: c.p}}}
		clk := NewFakeClock(epoch)
		var bytes int64
		var losses int
		s, _ := New(sc, WithClock(clk), WithSeed(7), WithObserver(func(e Event) { bytes += e.Bytes; losses = e.Losses }))
		h := s.Handler(blob(4 << 20))
		var busy time.Duration
		for clk.Now().Sub(epoch) < 300*time.Second {
			t0 := clk.Now()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/a.m4s", nil))
			busy += clk.Now().Sub(t0) - time.Duration(c.rttMs*float64(time.Millisecond)) // minus the request latency
		}
		got := float64(bytes) * 8 / busy.Seconds()
		want := mss * 8 / (c.rttMs / 1000) * math.Sqrt(1.5/c.p)
		t.Logf("p=%v rtt=%vms: %.2f Mbit/s, Mathis %.2f Mbit/s, %d loss events", c.p, c.rttMs, got/1e6, want/1e6, losses)
		if r := got / want; r < 0.6 || r > 1.4 {
			t.Errorf("p=%v rtt=%v ms: %.2f Mbit/s is %.2fx the Mathis rate %.2f Mbit/s", c.p, c.rttMs, got/1e6, r, want/1e6)
		}
		if losses == 0 {
			t.Error("no loss events")
		}
	}
}

// TestClientsIsolated: each client has its own link and timeline.
func TestClientsIsolated(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 5, Kbps: 2000}, {DurationS: 5, Kbps: 200}}}
	clk := NewFakeClock(epoch)
	s, _ := New(sc, WithClock(clk))
	h := s.Handler(blob(64 << 10))
	a := download(t, h, clk, 7*time.Second, "/s.m4s", map[string]string{DefaultClientHeader: "a"})
	// b starts 7 s later, in its own phase 0, at the full rate
	b := download(t, h, clk, 3*time.Second, "/s.m4s", map[string]string{DefaultClientHeader: "b"})
	checkBins(t, a, expectedBins(sc, 6), 0.05)
	checkBins(t, b, expectedBins(sc, 2), 0.05)
	// requests without the header share the remote address's link
	if k1, k2 := DefaultClientKey(httptest.NewRequest("GET", "/", nil)), DefaultClientKey(&http.Request{RemoteAddr: "192.0.2.1:999", Header: http.Header{}}); k1 != "ip:192.0.2.1" || k2 != k1 {
		t.Errorf("keys %q %q", k1, k2)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: DefaultClientCookie, Value: "p1"})
	if k := DefaultClientKey(r); k != "c:p1" {
		t.Errorf("cookie key %q", k)
	}
}

// TestMaxClients: links are bounded; the least recently used goes.
func TestMaxClients(t *testing.T) {
	clk := NewFakeClock(epoch)
	s, _ := New(&Scenario{Phases: []Phase{{DurationS: 1, Kbps: 1e5}}}, WithClock(clk), WithMaxClients(3))
	h := s.Handler(blob(10))
	for i := range 10 {
		clk.Advance(time.Second)
		r := httptest.NewRequest("GET", "/x.m4s", nil)
		r.Header.Set(DefaultClientHeader, fmt.Sprint(i))
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if n := len(s.links); n != 3 {
		t.Errorf("%d links kept, want 3", n)
	}
	if s.links["h:9"] == nil || s.links["h:0"] != nil {
		t.Error("wrong link evicted")
	}
}

// TestSeedDeterministic: the same seed gives the same faults and delays
// per client; another seed does not.
func TestSeedDeterministic(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 60, Kbps: 5000, LatencyMs: 40, JitterMs: 30, Loss: 0.01}},
		Faults: []Fault{{Class: "segment", Kind: FaultStatus, Status: 503, Rate: 0.2}}}
	run := func(seed uint64) string {
		clk := NewFakeClock(epoch)
		var b strings.Builder
		s, _ := New(sc, WithClock(clk), WithSeed(seed), WithObserver(func(e Event) { fmt.Fprintf(&b, "%v %s %d|", e.End, e.Fault, e.Losses) }))
		h := s.Handler(blob(50000))
		for range 100 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/s.m4s", nil))
		}
		return b.String()
	}
	first, again := run(1), run(1)
	if first != again {
		t.Error("same seed, different runs")
	}
	if first == run(2) {
		t.Error("different seeds, same run")
	}
}

// TestAtTimes: an at_s fault fires once, on the first request of its class
// at or after each time.
func TestAtTimes(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 60, Kbps: 1e5}},
		Faults: []Fault{{Class: "playlist", Kind: FaultStatus, Status: 404, AtS: []float64{2, 5, 5.5}}}}
	clk := NewFakeClock(epoch)
	s, _ := New(sc, WithClock(clk))
	h := s.Handler(blob(10))
	var fired []int
	for i := range 10 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/media.m3u8", nil))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/seg.m4s", nil)) // other class: never
		if rec.Code == 404 {
			fired = append(fired, i)
		}
		clk.Advance(time.Second)
	}
	if fmt.Sprint(fired) != "[2 5 6]" {
		t.Errorf("fired at requests %v, want [2 5 6]", fired)
	}
}

func TestSlowFirstByte(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 60, Kbps: 1e5}},
		Faults: []Fault{{Class: "init", Kind: FaultSlowFirstByte, DelayMs: 1500, Rate: 1}}}
	clk := NewFakeClock(epoch)
	s, _ := New(sc, WithClock(clk))
	h := s.Handler(blob(10))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v/init.mp4", nil))
	if d := clk.Now().Sub(epoch); d < 1500*time.Millisecond || d > 1501*time.Millisecond {
		t.Errorf("init took %v, want 1.5 s", d)
	}
}

func TestCanceledRequestStops(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 60, Kbps: 100}}}
	clk := NewFakeClock(epoch)
	s, _ := New(sc, WithClock(clk))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	s.Handler(blob(1<<20)).ServeHTTP(rec, httptest.NewRequest("GET", "/a.m4s", nil).WithContext(ctx))
	if rec.Body.Len() > DefaultBurst {
		t.Errorf("%d bytes written to a gone client", rec.Body.Len())
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		url, rng string
		want     Class
	}{
		{"/master.m3u8", "", ClassPlaylist}, {"/v/index.m3u8?_HLS_msn=5&_HLS_part=1", "", ClassPlaylist},
		{"/manifest.mpd", "", ClassPlaylist}, {"/v/init.mp4", "", ClassInit}, {"/v/seg_1.m4s", "", ClassSegment},
		{"/v/part12.mp4", "", ClassPart}, {"/v/seg_3.m4s?_HLS_part=2", "", ClassPart}, {"/v/v.mp4", "bytes=0-999", ClassInit},
		{"/v/v.mp4", "bytes=1000-1999", ClassSegment}, {"/a/seg.ts", "", ClassSegment}, {"/_player/hls.js", "", ClassOther},
		{"/", "", ClassOther},
	} {
		r := httptest.NewRequest("GET", c.url, nil)
		if c.rng != "" {
			r.Header.Set("Range", c.rng)
		}
		if got := Classify(r); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.url, c.rng, got, c.want)
		}
	}
}
