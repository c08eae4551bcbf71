package shape

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// checkNoLeak fails when goroutines started during the test are still
// running shortly after it (bounded wait).
func checkNoLeak(t *testing.T, base int) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if runtime.NumGoroutine() <= base {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Errorf("%d goroutines left running (had %d):\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
}

// TestFaultRates is the acceptance check: over 10,000 segment requests
// (and 2,000 playlist requests) through a real HTTP server, what the
// client sees — statuses, short bodies, connection resets — falls within
// 3σ of each configured rate.
func TestFaultRates(t *testing.T) {
	base := runtime.NumGoroutine()
	half := 0.5
	sc := &Scenario{Phases: []Phase{{DurationS: 3600, Kbps: 1e6}}, Faults: []Fault{
		{Class: "segment", Kind: FaultStatus, Status: 503, Rate: 0.05},
		{Class: "segment", Kind: FaultStatus, Status: 500, Rate: 0.02},
		{Class: "segment", Kind: FaultStatus, Status: 404, Rate: 0.01},
		{Class: "segment", Kind: FaultTruncate, Rate: 0.03},
		{Class: "segment", Kind: FaultReset, Rate: 0.02, Fraction: &half},
		{Class: "playlist", Kind: FaultStatus, Status: 500, Rate: 0.10},
	}}
	var mu sync.Mutex
	seen := map[string]int{}
	s, err := New(sc, WithClock(NewFakeClock(epoch)), WithSeed(42), WithObserver(func(e Event) {
		mu.Lock()
		seen[e.Class.String()+" "+e.Fault]++
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	const size = 20000
	srv := httptest.NewServer(s.Handler(blob(size)))
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	const nSeg, nPl = 10000, 2000
	type result struct {
		class string
		what  string
	}
	jobs := make(chan string)
	results := make(chan result, 64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for url := range jobs {
				class := "segment"
				if url == "/live/index.m3u8" {
					class = "playlist"
				}
				resp, err := client.Get(srv.URL + url)
				if err != nil {
					results <- result{class, "error: " + err.Error()}
					continue
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case errors.Is(err, syscall.ECONNRESET):
					results <- result{class, "reset"}
				case errors.Is(err, io.ErrUnexpectedEOF):
					results <- result{class, "truncate"}
				case err != nil:
					results <- result{class, "error: " + err.Error()}
				case resp.StatusCode != 200:
					results <- result{class, fmt.Sprint(resp.StatusCode)}
				case n != size:
					results <- result{class, fmt.Sprintf("short %d", n)}
				default:
					results <- result{class, "ok"}
				}
			}
		}()
	}
	go func() {
		for i := range nSeg + nPl {
			if i%6 == 5 {
				jobs <- "/live/index.m3u8"
			} else {
				jobs <- fmt.Sprintf("/live/seg_%d.m4s", i)
			}
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	got := map[string]int{}
	for r := range results {
		got[r.class+" "+r.what]++
	}
	t.Logf("client saw %v", got)
	for _, c := range []struct {
		key  string
		n    int
		rate float64
	}{
		{"segment 503", nSeg, 0.05}, {"segment 500", nSeg, 0.02}, {"segment 404", nSeg, 0.01},
		{"segment truncate", nSeg, 0.03}, {"segment reset", nSeg, 0.02}, {"playlist 500", nPl, 0.10},
		{"segment ok", nSeg, 0.87}, {"playlist ok", nPl, 0.90},
	} {
		mean := float64(c.n) * c.rate
		sigma := math.Sqrt(mean * (1 - c.rate))
		if d := math.Abs(float64(got[c.key]) - mean); d > 3*sigma {
			t.Errorf("%s: %d of %d, want %.0f ± %.0f (3σ)", c.key, got[c.key], c.n, mean, 3*sigma)
		}
	}
	if len(got) != 8 {
		t.Errorf("unexpected outcomes: %v", got)
	}
	client.CloseIdleConnections()
	srv.Close() // waits for the handlers, so every event has been observed
	mu.Lock()
	defer mu.Unlock()
	// the observer agrees with the client
	for k, v := range map[string]string{"segment truncate": "segment truncate", "segment reset": "segment reset", "playlist status": "playlist 500"} {
		if seen[k] != got[v] {
			t.Errorf("observer counted %d %s, client %d", seen[k], k, got[v])
		}
	}
	checkNoLeak(t, base)
}

// TestResetBeforeResponse: a reset with fraction 0 kills the connection
// before any byte; the client gets an error, not a response.
func TestResetBeforeResponse(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 60, Kbps: 1e5}}, Faults: []Fault{{Class: "init", Kind: FaultReset, Rate: 1}}}
	s, _ := New(sc, WithClock(NewFakeClock(epoch)))
	srv := httptest.NewServer(s.Handler(blob(1000)))
	defer srv.Close()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/v/init.mp4")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a reset", resp.StatusCode)
	}
	resp, err = (&http.Client{Transport: tr}).Get(srv.URL + "/v/seg_1.m4s")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("segment: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 1000 {
		t.Errorf("segment: %d bytes", len(b))
	}
}

// TestTruncateWithoutLength: a handler that streams without a
// Content-Length (chunked) is cut at a share of its first write, and the
// client sees the chunked body end early.
func TestTruncateWithoutLength(t *testing.T) {
	frac := 0.25
	sc := &Scenario{Phases: []Phase{{DurationS: 60, Kbps: 1e5}}, Faults: []Fault{{Class: "segment", Kind: FaultTruncate, Rate: 1, Fraction: &frac}}}
	s, _ := New(sc, WithClock(NewFakeClock(epoch)))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			if _, err := w.Write(make([]byte, 4000)); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(s.Handler(h))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/a.ts")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 1000 {
		t.Errorf("read %d bytes, err %v; want 1000 and unexpected EOF", len(b), err)
	}
}
