package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/live"
)

// demoLive is the demo's live section: the sample ladder as an LL-HLS
// stream on a fake clock (no waiting), the tail of a media playlist, and
// a blocking reload held until its part is published.
func demoLive(w io.Writer) error {
	clock := live.NewFakeClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	p := live.New(live.WithClock(clock))
	src, err := live.NewSampleSource(p)
	if err != nil {
		return err
	}
	defer src.Close()
	defer p.End()
	if _, err := src.PushUntil(4300 * time.Millisecond); err != nil {
		return err
	}
	pl, err := p.MediaPlaylist("v1", false)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(pl), "\n")
	fmt.Fprintf(w, "4.3 s into the stream, the end of v1/media.m3u8 (2 s segments cut at key frames, 200 ms parts):\n\n")
	for _, l := range lines[max(len(lines)-10, 0):] {
		fmt.Fprintln(w, "  "+l)
	}
	o := live.NewOrigin(p)
	done := make(chan string, 1)
	go func() {
		rec := httptest.NewRecorder()
		o.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/live/v1/media.m3u8?_HLS_msn=2&_HLS_part=2", nil))
		done <- fmt.Sprintf("%d %s", rec.Code, http.StatusText(rec.Code))
	}()
	clock.WaitTimers(1, nil) // the request is parked in the origin
	fmt.Fprintf(w, "\nGET v1/media.m3u8?_HLS_msn=2&_HLS_part=2 is held: part 2.2 (4.4–4.6 s) does not exist yet.\n")
	if _, err := src.PushUntil(4700 * time.Millisecond); err != nil {
		return err
	}
	fmt.Fprintf(w, "the source reaches 4.6 s, part 2.2 is published, the request is answered: %s\n", <-done)
	fmt.Fprintf(w, "(streamkit live serves this over HTTP for hls.js, dash.js and Shaka; go run ./examples/live-ll-hls)\n")
	return nil
}
