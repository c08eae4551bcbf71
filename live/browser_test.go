//go:build linux

package live

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/serve"
)

// The browser tests play the live stream in headless Chromium with
// hls.js (low-latency mode), dash.js (low latency) and Shaka Player for
// 20 s each, in real time, and measure the live latency of the frame on
// screen (wall clock minus its PDT / producer reference time). They are
// the few real-time tests of the package: what they assert is tolerant
// (playback advances, no fatal error); the latency is logged, not
// asserted, for BENCHMARKS.md.

// playerJS finds hls.js and dash.js as `streamkit serve` does, and Shaka
// Player in the same npm prefix.
func playerJS(t *testing.T) map[string]string {
	t.Helper()
	found, err := serve.FindPlayerJS("")
	if err != nil {
		if testtool.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	js := map[string]string{"hls.js": found["hls.js"], "dash.js": found["dash.js"]}
	// hls.min.js sits in PREFIX/node_modules/hls.js/dist.
	prefix := filepath.Dir(filepath.Dir(filepath.Dir(found["hls.js"])))
	if p := filepath.Join(prefix, "shaka-player", "dist", "shaka-player.compiled.js"); fileExists(p) {
		js["shaka.js"] = p
	}
	return js
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

type liveReport struct {
	Engine string   `json:"engine"`
	Fatal  []string `json:"fatal"`
	Errors []string `json:"errors"`
	// Buffered is the video element's buffered ranges at the end, s.
	Buffered [][2]float64 `json:"buffered"`
	Samples  []struct {
		T       float64  `json:"t"`
		Frames  int      `json:"frames"`
		Dropped int      `json:"dropped"`
		Latency *float64 `json:"latency"`
		Own     *float64 `json:"own"`    // hls.js's own latency estimate
		Target  *float64 `json:"target"` // hls.js's target latency
		Rate    float64  `json:"rate"`
	} `json:"samples"`
}

func TestBrowserLive(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 20 s per player in real time")
	}
	bin := testtool.Chromium(t)
	js := playerJS(t)
	cases := []struct {
		engine string
		ll     bool
		goal   float64 // the latency goal, seconds (logged against)
	}{
		{"hls.js", true, 1.5},
		{"dash.js", true, 1.5},
		{"shaka", true, 1.5},
		{"hls.js", false, 6},
	}
	sem := make(chan struct{}, 2) // two browsers at a time on a small machine
	for _, c := range cases {
		name := c.engine
		if !c.ll {
			name += "/plain-HLS"
		}
		t.Run(name, func(t *testing.T) {
			if js["shaka.js"] == "" && c.engine == "shaka" {
				if testtool.Required() {
					t.Fatal("shaka-player not installed beside hls.js (npm install shaka-player@5.2.12)")
				}
				t.Skip("shaka-player not installed beside hls.js")
			}
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			// Two tries, as in TestBrowserLiveRestart: on a loaded 2-core
			// machine a player can fail once (Shaka 5.2.12 once stopped
			// with "TypeError: Cannot read properties of undefined (reading
			// 'match')" on bytes it played on other runs; the page now
			// reports the stack); a player that cannot play fails both.
			var rep liveReport
			var kinds map[string]int
			for try := 1; try <= 2; try++ {
				var fault liveFault
				if c.engine == "shaka" {
					// Known open bug: Shaka Player 5.2.12 joining this
					// stream in its first seconds fails its load with
					// "TypeError: Cannot read properties of undefined
					// (reading 'match')" in shaka.util.URL.getScheme,
					// called by HlsParser.makeNetworkRequest_ with an
					// undefined URI (seen on an idle machine; on a loaded
					// one it joins later and plays). It joins at 8 s.
					fault.joinAt = 8 * time.Second
				}
				rep, kinds = playLiveFault(t, bin, js, c.engine, c.ll, 20, fault)
				first, last := rep.Samples[0], rep.Samples[len(rep.Samples)-1]
				if len(rep.Fatal) == 0 && last.Frames > first.Frames+100 && last.T >= 8 || try == 2 {
					break
				}
				t.Logf("%s, try %d: fatal %v, frames %d → %d, time %.2f → %.2f (non-fatal errors %v)", name, try, rep.Fatal, first.Frames, last.Frames, first.T, last.T, rep.Errors)
			}
			if c.ll && c.engine != "dash.js" && (kinds["part"] == 0 || kinds["blocking playlist"] == 0) {
				t.Errorf("%s in low-latency mode fetched %d parts with %d blocking reloads: not playing LL-HLS", name, kinds["part"], kinds["blocking playlist"])
			}
			if c.ll && c.engine == "dash.js" && kinds["segment in progress"] == 0 {
				t.Errorf("dash.js fetched %d complete segments and none in progress: not playing LL-DASH", kinds["segment"])
			}
			if !c.ll && kinds["part"]+kinds["blocking playlist"] > 0 {
				t.Errorf("plain HLS: %d part and %d blocking requests", kinds["part"], kinds["blocking playlist"])
			}
			var lats []float64
			for _, s := range rep.Samples {
				if s.Latency != nil && s.T > 0 {
					lats = append(lats, *s.Latency)
				}
			}
			first, last := rep.Samples[0], rep.Samples[len(rep.Samples)-1]
			if len(rep.Fatal) > 0 {
				t.Fatalf("fatal: %v (non-fatal %v)", rep.Fatal, rep.Errors)
			}
			if last.Frames <= first.Frames+100 || last.T < 8 {
				t.Errorf("playback did not advance: frames %d → %d, time %.2f → %.2f", first.Frames, last.Frames, first.T, last.T)
			}
			if len(lats) == 0 {
				t.Fatalf("no latency measured (errors %v)", rep.Errors)
			}
			if s := last; s.Own != nil && s.Target != nil {
				t.Logf("%s: at the end hls.js estimates its latency %.3f s for a target of %.3f s, playback rate %.2f", name, *s.Own, *s.Target, s.Rate)
			}
			slices.Sort(lats)
			med := lats[len(lats)/2]
			t.Logf("%s: live latency median %.3f s (min %.3f, max %.3f; goal %.1f s), %d frames decoded, %d dropped, non-fatal errors %d %.200q",
				name, med, lats[0], lats[len(lats)-1], c.goal, last.Frames, last.Dropped, len(rep.Errors), rep.Errors)
		})
	}
}

// playLiveRestart runs a live stream in real time behind the origin,
// opens the player page in test mode and returns its report, with the
// source restarted (a discontinuity) restartAt into the run, when not 0.
func playLiveRestart(t *testing.T, bin string, js map[string]string, engine string, ll bool, seconds int, restartAt time.Duration) (rep liveReport, kinds map[string]int) {
	return playLiveFault(t, bin, js, engine, ll, seconds, liveFault{restartAt: restartAt})
}

// liveFault is what goes wrong with the source during a browser run.
type liveFault struct {
	// restartAt, when not 0, stops the source then and starts a new one
	// after a discontinuity.
	restartAt time.Duration
	// stallAt and stallFor, when not 0, stop the source from pushing for
	// stallFor, then let it catch up at once, as an encoder that froze.
	stallAt, stallFor time.Duration
	// joinAt, when not 0, opens the player page that long after the
	// source started.
	joinAt time.Duration
}

// playLiveFault is playLiveRestart with any fault of the source.
func playLiveFault(t *testing.T, bin string, js map[string]string, engine string, ll bool, seconds int, fault liveFault) (rep liveReport, kinds map[string]int) {
	t.Helper()
	restartAt := fault.restartAt
	p := New(WithLowLatency(ll))
	src, err := NewSampleSource(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+60)*time.Second)
	defer cancel()
	srcDone := make(chan error, 1)
	switch {
	case fault.stallFor > 0:
		// Driven by hand, in real time, with PushUntil: pushing stops
		// during the stall and catches up after it.
		go func() {
			defer src.Close()
			start := time.Now()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					srcDone <- ctx.Err()
					return
				case <-tick.C:
				}
				el := time.Since(start)
				if el >= fault.stallAt && el < fault.stallAt+fault.stallFor {
					continue
				}
				if _, err := src.PushUntil(el); err != nil {
					srcDone <- err
					return
				}
			}
		}()
	case restartAt == 0:
		go func() { srcDone <- src.Run(ctx) }()
	default:
		go func() {
			first, stop := context.WithTimeout(ctx, restartAt)
			defer stop()
			src.Run(first)
			if ctx.Err() != nil {
				srcDone <- ctx.Err()
				return
			}
			if err := p.Discontinuity(nil); err != nil {
				srcDone <- err
				return
			}
			again, err := NewSampleSource(p, WithStartAt(p.NextTime()))
			if err != nil {
				srcDone <- err
				return
			}
			srcDone <- again.Run(ctx)
		}()
	}
	defer func() {
		cancel()
		<-srcDone
		p.End()
	}()
	reports := make(chan liveReport, 1)
	mux := http.NewServeMux()
	var reqMu sync.Mutex
	kinds = map[string]int{}
	var sampleURIs, emptyPlaylists []string
	origin := NewOrigin(p, WithPlayerJS(js))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := "other"
		u := r.URL.RequestURI()
		switch {
		case strings.Contains(u, "/part_"):
			k = "part"
		case strings.Contains(u, "/seg_") || strings.Contains(u, "/t_"):
			k = "segment"
			if segmentInProgress(p, u) {
				k = "segment in progress"
			}
		case strings.Contains(u, "_HLS_msn"):
			k = "blocking playlist"
		case strings.Contains(u, ".m3u8") || strings.Contains(u, ".mpd"):
			k = "manifest"
		}
		reqMu.Lock()
		kinds[k]++
		if len(sampleURIs) < 40 && k != "other" {
			sampleURIs = append(sampleURIs, u)
		}
		reqMu.Unlock()
		if !strings.Contains(u, ".m3u8") || strings.Contains(u, "master") {
			origin.ServeHTTP(w, r)
			return
		}
		rec := &bodyRecorder{ResponseWriter: w}
		origin.ServeHTTP(rec, r)
		if rec.code == http.StatusServiceUnavailable {
			reqMu.Lock()
			kinds["503"]++
			reqMu.Unlock()
		}
		if rec.code == 0 || rec.code == http.StatusOK {
			if body := rec.buf.String(); !strings.Contains(body, "#EXTINF") {
				reqMu.Lock()
				if len(emptyPlaylists) < 3 {
					emptyPlaylists = append(emptyPlaylists, u+":\n"+body)
				}
				reqMu.Unlock()
			}
		}
	}))
	defer func() {
		reqMu.Lock()
		defer reqMu.Unlock()
		t.Logf("%s requests: %v; first: %v", engine, kinds, sampleURIs)
		for _, e := range emptyPlaylists {
			t.Errorf("%s: the origin served a media playlist without a segment: %s", engine, e)
		}
		kinds = maps.Clone(kinds)
	}()
	mux.HandleFunc("POST /_test/report", func(w http.ResponseWriter, r *http.Request) {
		var rep liveReport
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&rep); err != nil {
			rep.Fatal = append(rep.Fatal, "bad report: "+err.Error())
		}
		select {
		case reports <- rep:
		default:
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer p.End() // releases held requests before srv.Close waits for them

	page := fmt.Sprintf("%s/?test=%s&seconds=%d&report=/_test/report", srv.URL, engine, seconds)
	if fault.joinAt > 0 {
		select {
		case <-time.After(fault.joinAt):
		case <-ctx.Done():
		}
	}
	br := testtool.StartChromium(t, bin, page)
	defer br.Stop()
	select {
	case rep = <-reports:
		if len(rep.Samples) == 0 {
			t.Fatalf("no samples: fatal %v errors %v", rep.Fatal, rep.Errors)
		}
		return rep, kinds
	case <-br.Exited():
		t.Fatalf("chromium exited early: %v\n%s", br.Err(), br.Log(2000))
	case <-ctx.Done():
		t.Fatalf("no report within %d s:\n%s", seconds+60, br.Log(2000))
	}
	return rep, kinds
}

// TestBrowserLiveRestart: the source restarts 8 s into playback (EXT-X-
// DISCONTINUITY, a new DASH Period); the players keep decoding frames.
func TestBrowserLiveRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 20 s per player in real time")
	}
	bin := testtool.Chromium(t)
	js := playerJS(t)
	for _, engine := range []string{"hls.js", "dash.js"} {
		t.Run(engine, func(t *testing.T) {
			// Two tries: on a loaded 2-core machine a player that falls
			// seconds behind in real time can stall at the seam once (seen
			// in CI, and passing when run alone); a player that cannot
			// continue after a restart fails both.
			var why string
			for try := 1; try <= 2; try++ {
				rep, _ := playLiveRestart(t, bin, js, engine, true, 20, 8*time.Second)
				why = restartStall(rep)
				if why == "" {
					return
				}
				t.Logf("%s, try %d: %s", engine, try, why)
			}
			t.Errorf("%s: %s", engine, why)
		})
	}
}

// TestBrowserLiveStall: the source stalls for 10 s, 6 s into playback.
// Held blocking reloads get 503 after three target durations, playlists
// stay served, and hls.js resumes playing once the source catches up.
func TestBrowserLiveStall(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 28 s in real time")
	}
	bin := testtool.Chromium(t)
	js := playerJS(t)
	var why string
	for try := 1; try <= 2; try++ {
		rep, kinds := playLiveFault(t, bin, js, "hls.js", true, 28, liveFault{stallAt: 6 * time.Second, stallFor: 10 * time.Second})
		if kinds["503"] == 0 {
			t.Errorf("no held request got 503 during the 10 s stall (requests %v)", kinds)
		}
		why = restartStall(rep)
		if why == "" {
			return
		}
		t.Logf("try %d: %s", try, why)
	}
	t.Errorf("hls.js after the stall: %s", why)
}

// restartStall says why a restart or stall run did not keep playing ("" when it
// did): a fatal error, or fewer than 25 frames decoded over the last 5 s
// of the run, well after the restart.
func restartStall(rep liveReport) string {
	if len(rep.Fatal) > 0 {
		return fmt.Sprintf("fatal: %v (non-fatal %v)", rep.Fatal, rep.Errors)
	}
	n := len(rep.Samples)
	from, last := rep.Samples[max(n-20, 0)], rep.Samples[n-1]
	if last.Frames <= from.Frames+25 {
		return fmt.Sprintf("not playing at the end: frames %d → %d, time %.2f → %.2f over the last 5 s, buffered %v (non-fatal errors: %v)", from.Frames, last.Frames, from.T, last.T, rep.Buffered, rep.Errors)
	}
	return ""
}

// bodyRecorder keeps a copy of what a handler writes.
type bodyRecorder struct {
	http.ResponseWriter
	code int
	buf  strings.Builder
}

func (b *bodyRecorder) WriteHeader(code int) { b.code = code; b.ResponseWriter.WriteHeader(code) }
func (b *bodyRecorder) Write(p []byte) (int, error) {
	if b.buf.Len() < 64<<10 {
		b.buf.Write(p)
	}
	return b.ResponseWriter.Write(p)
}
func (b *bodyRecorder) Flush() {
	if f, ok := b.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
