package shape

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// benchClients runs rounds in which each of n clients (its own link, by
// header) downloads one size-byte segment from h over loopback, and
// reports process CPU per wall second ("cores": the cost of one second of
// shaped traffic for all n clients), CPU per byte, and throughput. The
// clients run in the same process, so the figures include them.
func benchClients(b *testing.B, h http.Handler, n, size int) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	get := func(id int) (int64, error) {
		req, _ := http.NewRequest("GET", srv.URL+"/v/seg_1.m4s", nil)
		req.Header.Set(DefaultClientHeader, fmt.Sprint(id))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return io.Copy(io.Discard, resp.Body)
	}
	var total int64
	var mu sync.Mutex
	round := func() {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := get(i)
				if err != nil {
					b.Error(err)
				}
				mu.Lock()
				total += m
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	round() // connect everyone before measuring
	total = 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, t0 := processCPU(), time.Now()
	for range b.N {
		round()
	}
	wall, cpu := time.Since(t0).Seconds(), processCPU()-cpu0
	b.StopTimer()
	b.ReportMetric(cpu/wall, "cores")
	b.ReportMetric(cpu*1e9/float64(total), "cpu-ns/B")
	b.ReportMetric(float64(total)*8/wall/1e6, "Mbit/s")
}

// BenchmarkShape200Clients: 200 players, each on its own 2 Mbit/s link
// (400 Mbit/s in all), downloading 128 KiB segments (0.5 s each).
func BenchmarkShape200Clients(b *testing.B) {
	s, err := New(&Scenario{Phases: []Phase{{DurationS: 3600, Kbps: 2000}}})
	if err != nil {
		b.Fatal(err)
	}
	benchClients(b, s.Handler(blob(128<<10)), 200, 128<<10)
}

// BenchmarkUnshaped200Clients is the peer: the same 200 clients and
// segments served as fast as loopback allows, for the CPU cost per byte
// without shaping.
func BenchmarkUnshaped200Clients(b *testing.B) {
	benchClients(b, blob(128<<10), 200, 128<<10)
}

// BenchmarkLinkReserve is the shaper's per-chunk hot path: one token
// bucket reservation on a link with loss.
func BenchmarkLinkReserve(b *testing.B) {
	clk := NewFakeClock(epoch)
	s, _ := New(&Scenario{Phases: []Phase{{DurationS: 10, Kbps: 4000, Loss: 0.01, LatencyMs: 40}, {DurationS: 5, Kbps: 300}}, Loop: true}, WithClock(clk))
	l := s.link("k", epoch)
	b.ReportAllocs()
	for range b.N {
		now := clk.Now()
		n := l.chunk(now)
		clk.Advance(l.reserve(now, n, -1).Sub(now))
	}
}
