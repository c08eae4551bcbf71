package shape

import (
	"fmt"
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
// carries, within 5 %. The bucket holds 64 KiB (200 ms at 2.5 Mbit/s) so
// that a server goroutine the scheduler of a shared machine wakes late
// catches up; a run that still misses is repeated once, and only two
// misses in a row fail.
func TestRealTimeThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test (6 s); skipped with -short")
	}
	base := runtime.NumGoroutine()
	sc := &Scenario{Name: "rt", BurstBytes: 64 << 10, Phases: []Phase{{DurationS: 2, Kbps: 4000}, {DurationS: 2, Kbps: 1000}, {DurationS: 2, Kbps: 2500}}}
	for try := 1; ; try++ {
		msgs := realTimeRun(t, sc)
		if len(msgs) == 0 {
			break
		}
		if try == 2 {
			for _, m := range msgs {
				t.Error(m)
			}
			break
		}
		t.Logf("run %d missed (%v): a loaded machine; once more", try, msgs)
	}
	checkNoLeak(t, base)
}

func realTimeRun(t *testing.T, sc *Scenario) (misses []string) {
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
			misses = append(misses, fmt.Sprintf("second %d: %.0f bytes, want %.0f ±5%%", i, bins[i], want[i]))
		}
	}
	tr.CloseIdleConnections()
	srv.Close()
	return misses
}
