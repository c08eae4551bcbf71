package shape

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// TestRealTimeThroughput is the acceptance check on the wall clock, the
// one real-time test of the package (6 s, loopback only, skipped with
// -short): a Go HTTP client downloading segments back to back from a
// shaped server receives, per 1-second bin, the bytes the scenario
// carries, within 5 %.
func TestRealTimeThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test (6 s); skipped with -short")
	}
	base := runtime.NumGoroutine()
	sc := &Scenario{Name: "rt", Phases: []Phase{{DurationS: 2, Kbps: 4000}, {DurationS: 2, Kbps: 1000}, {DurationS: 2, Kbps: 2500}}}
	s, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler(blob(128 << 10)))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	bins := make([]float64, 6)
	buf := make([]byte, 32<<10)
	t0 := time.Now()
	for req := 0; time.Since(t0) < 6*time.Second && req < 200; req++ {
		resp, err := client.Get(srv.URL + "/seg.m4s")
		if err != nil {
			t.Fatal(err)
		}
		for {
			n, err := resp.Body.Read(buf)
			if s := int(time.Since(t0) / time.Second); s < len(bins) {
				bins[s] += float64(n)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
	}
	want := expectedBins(sc, 6)
	for i := range bins {
		t.Logf("second %d: %7.0f bytes, scenario %7.0f (%+.1f %%)", i, bins[i], want[i], 100*(bins[i]-want[i])/want[i])
		if math.Abs(bins[i]-want[i]) > 0.05*want[i] {
			t.Errorf("second %d: %.0f bytes, want %.0f ±5%%", i, bins[i], want[i])
		}
	}
	tr.CloseIdleConnections()
	srv.Close()
	checkNoLeak(t, base)
}
