//go:build linux

package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
	_ "github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/segment"
	"github.com/streamkit-go/streamkit/serve"
)

func requireTools() bool { return testtool.Required() }

// packageSample packages the embedded ladder (2 s segments, so that 8 s
// give four segments per rendition) into a new directory.
func packageSample(t *testing.T, opts ...segment.Option) (string, *segment.Presentation) {
	t.Helper()
	dir := t.TempDir()
	var ins []segment.Input
	for _, n := range append(sample.Videos(), sample.Audio) {
		r, size, err := sample.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		d, err := media.Open(r, size)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, segment.Input{Name: n, Demuxer: d})
	}
	opts = append([]segment.Option{segment.WithTargetDuration(2 * time.Second)}, opts...)
	p, err := segment.Cut(context.Background(), dir, ins, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hls.Write(dir, p); err != nil {
		t.Fatal(err)
	}
	if p.Format == segment.CMAF {
		if _, err := dash.Write(dir, p); err != nil {
			t.Fatal(err)
		}
	}
	return dir, p
}

// playResult is what the player page POSTs in test mode.
type playResult struct {
	Engine         string   `json:"engine"`
	Fatal          []string `json:"fatal"`
	Errors         []string `json:"errors"`
	Levels         []any    `json:"levels"`
	StartLevel     int      `json:"startLevel"`
	SwitchTarget   int      `json:"switchTarget"`
	SwitchedTo     []int    `json:"switchedTo"`
	BufferedLevels []int    `json:"bufferedLevels"`
	MaxTime        float64  `json:"maxTime"`
	Done           bool     `json:"done"`
	Reason         string   `json:"reason"`
}

func TestBrowserPlayback(t *testing.T) {
	bin := testtool.Chromium(t)
	if _, err := serve.FindPlayerJS(""); err != nil {
		if requireTools() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	cmaf, _ := packageSample(t)
	single, _ := packageSample(t, segment.WithByteRange())
	tsDir, _ := packageSample(t, segment.WithTS())
	byTime, _ := packageSample(t, segment.WithNaming(segment.ByTime))
	cases := []struct {
		name, dir, manifest string
	}{
		{"hls.js/CMAF", cmaf, hls.MultivariantName},
		{"dash.js/SegmentTemplate", cmaf, dash.ManifestName},
		{"hls.js/byterange", single, hls.MultivariantName},
		{"dash.js/SegmentBase", single, dash.ManifestName},
		{"hls.js/MPEG-TS", tsDir, hls.MultivariantName},
		{"dash.js/SegmentTimeline-$Time$", byTime, dash.ManifestName},
	}
	// Playback runs in real time and mostly waits: run up to three
	// browsers at once.
	sem := make(chan struct{}, 3)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := play(t, bin, c.dir, c.manifest)
			t.Logf("%s: reason %s, reached %.2f s, levels %d, start %d, target %d, switched %v, buffered %v, non-fatal errors %v",
				res.Engine, res.Reason, res.MaxTime, len(res.Levels), res.StartLevel, res.SwitchTarget, res.SwitchedTo, res.BufferedLevels, res.Errors)
			if len(res.Fatal) > 0 {
				t.Fatalf("fatal player errors: %v", res.Fatal)
			}
			if res.MaxTime <= 5 {
				t.Errorf("playback reached %.2f s, want > 5 s", res.MaxTime)
			}
			if len(res.Levels) != 3 {
				t.Errorf("player saw %d video levels, want 3", len(res.Levels))
			}
			if res.SwitchTarget < 0 || res.SwitchTarget == res.StartLevel {
				t.Fatalf("no forced switch happened (start %d, target %d)", res.StartLevel, res.SwitchTarget)
			}
			if !contains(res.SwitchedTo, res.SwitchTarget) || !contains(res.BufferedLevels, res.SwitchTarget) {
				t.Errorf("forced switch to level %d never reached the screen (switched %v, buffered %v)", res.SwitchTarget, res.SwitchedTo, res.BufferedLevels)
			}
			if !res.Done {
				t.Errorf("player did not finish the test: %s", res.Reason)
			}
		})
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// play serves dir, opens the player page on manifest in headless
// Chromium and waits for the page's report.
func play(t *testing.T, bin, dir, manifest string) playResult {
	t.Helper()
	h, err := serve.Handler(dir)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan playResult, 1)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("POST /_test/report", func(w http.ResponseWriter, r *http.Request) {
		var res playResult
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&res); err != nil {
			res.Fatal = append(res.Fatal, "bad report: "+err.Error())
		}
		select {
		case results <- res:
		default:
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	page := fmt.Sprintf("%s%s?src=%s&test=1&report=/_test/report", srv.URL, serve.PlayerPath, url.QueryEscape("/"+manifest))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	br := testtool.StartChromium(t, bin, page)
	defer br.Stop()
	select {
	case res := <-results:
		return res
	case <-br.Exited():
		t.Fatalf("chromium exited before the page reported: %v\n%s", br.Err(), br.Log(2000))
	case <-ctx.Done():
		t.Fatalf("no report from the player page within 90 s\n%s", br.Log(2000))
	}
	return playResult{}
}
