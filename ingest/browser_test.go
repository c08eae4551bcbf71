//go:build linux

package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/serve"
)

// browserReport is what the live player page posts (see live/web).
type browserReport struct {
	Fatal   []string `json:"fatal"`
	Errors  []string `json:"errors"`
	Samples []struct {
		T      float64 `json:"t"`
		Frames int     `json:"frames"`
	} `json:"samples"`
}

// TestBrowserReconnect: hls.js in headless Chromium plays a stream
// published over RTMP by ffmpeg, in real time; the publisher is killed
// and started again mid-run, and the player keeps playing across the
// discontinuity.
func TestBrowserReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 12 s in real time in Chromium")
	}
	needFFmpeg(t)
	bin := testtool.Chromium(t)
	js, jsErr := serve.FindPlayerJS("")
	if jsErr != nil {
		testtool.Missing(t, fmt.Sprintf("needs hls.js ($%s): %v", serve.EnvPlayerJS, jsErr))
	}
	h := newHarness(t, ingest.WithPlayerJS(js))
	url := "rtmp://" + h.rtmp + "/live/cam"
	loop := []string{"-stream_loop", "-1"}
	pub := func() *exec.Cmd {
		args := append([]string{"-nostdin", "-loglevel", "error", "-re"}, loop...)
		args = append(args, "-i", videoFile, "-re")
		args = append(args, loop...)
		args = append(args, "-i", audioFile, "-map", "0:v", "-map", "1:a", "-c", "copy", "-f", "flv", url)
		cmd := exec.Command("ffmpeg", args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	first := pub()
	// gortmplib reads 2 s of media before it reports a publisher's
	// tracks: in real time the stream appears after those 2 s.
	h.logServed("cam")

	reports := make(chan browserReport, 1)
	mux := http.NewServeMux()
	mux.Handle("/", h.srv)
	mux.HandleFunc("POST /_test/report", func(w http.ResponseWriter, r *http.Request) {
		var rep browserReport
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&rep); err != nil {
			rep.Fatal = append(rep.Fatal, "bad report: "+err.Error())
		}
		select {
		case reports <- rep:
		default:
		}
	})
	web := httptest.NewServer(mux)
	defer web.Close()
	const seconds = 12
	page := fmt.Sprintf("%s/live/cam/?test=hls.js&seconds=%d&report=/_test/report", web.URL, seconds)
	br := testtool.StartChromium(t, bin, page)
	defer br.Stop()
	time.Sleep(5 * time.Second)
	first.Process.Kill()
	first.Wait()
	h.waitGone("cam")
	pub()
	ctx, cancel := context.WithTimeout(context.Background(), (seconds+40)*time.Second)
	defer cancel()
	var rep browserReport
	select {
	case rep = <-reports:
	case <-br.Exited():
		t.Fatalf("chromium exited early: %v\n%s", br.Err(), br.Log(2000))
	case <-ctx.Done():
		t.Fatal("no report from the player")
	}
	n := len(rep.Samples)
	if len(rep.Fatal) > 0 || n < 2 {
		t.Fatalf("hls.js: fatal %v, errors %v, %d samples", rep.Fatal, rep.Errors, n)
	}
	from, last := rep.Samples[max(n-20, 0)], rep.Samples[n-1]
	t.Logf("hls.js: %d frames decoded in %.1f s; last 5 s: frames %d → %d; non-fatal errors %v", last.Frames, last.T, from.Frames, last.Frames, rep.Errors)
	if last.Frames <= from.Frames+25 {
		t.Errorf("hls.js stopped after the reconnection: frames %d → %d, time %.2f → %.2f over the last samples", from.Frames, last.Frames, from.T, last.T)
	}
	_, pl := h.get("/live/cam/v0/media.m3u8")
	if !containsLine(string(pl), "#EXT-X-DISCONTINUITY") {
		t.Errorf("no discontinuity in the playlist:\n%s", pl)
	}
}

func containsLine(s, line string) bool {
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		if s[:i] == line {
			return true
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return false
}
