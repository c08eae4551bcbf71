// Command live-latency measures glass-to-glass latency — from the moment
// a frame is captured to the moment it is on screen — for plain HLS,
// LL-HLS and LL-DASH on this machine, and splits it into a stage budget:
// encoder+ingest, packaging, delivery, player buffer.
//
//	go run ./examples/live-latency
//
// It needs ffmpeg (the encoder), Chromium and the player libraries
// (hls.js, dash.js in ~/.cache/streamkit/playerjs or $STREAMKIT_PLAYER_JS);
// without them it says what is missing and stops.
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"github.com/streamkit-go/streamkit/latency"
	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/serve"
)

func main() {
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal("live-latency: ", err)
	}
}

func run() error {
	var missing []string
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		missing = append(missing, "ffmpeg (the encoder: apt-get install ffmpeg)")
	}
	if _, err := playtest.FindChromium(); err != nil {
		missing = append(missing, "Chromium (apt-get install chromium, or set "+playtest.EnvChromium+")")
	}
	if _, err := serve.FindPlayerJS(""); err != nil {
		missing = append(missing, "hls.js and dash.js (npm install --prefix ~/.cache/streamkit/playerjs hls.js dashjs, or set "+serve.EnvPlayerJS+")")
	}
	if len(missing) > 0 {
		fmt.Println("live-latency: skipped, not installed:")
		for _, m := range missing {
			fmt.Println("  -", m)
		}
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Println(`Each mode: streamkit clock (640x360, 30 fps, the capture time in the pixels)
  | ffmpeg libx264 -tune zerolatency, a key frame every second, RTMP
  → ingest → live packager → origin → player page in headless Chromium,
which reads the capture time back from every frame it displays.
Measuring 15 s per mode after a 10 s warm-up…`)
	res, err := latency.Run(ctx, latency.Modes, latency.WithDuration(15*time.Second), latency.WithLog(os.Stdout))
	if err != nil {
		return err
	}
	fmt.Println()
	if err := latency.WriteTable(os.Stdout, res); err != nil {
		return err
	}
	svg := filepath.Join(os.TempDir(), "live-latency.svg")
	var b bytes.Buffer
	if err := latency.WriteSVG(&b, res); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(svg, b.Bytes()); err != nil {
		return err
	}
	fmt.Printf("\nlatency over time and the stage budgets: %s\n", svg)
	fmt.Print(`
Reading the budget (means over the measured frames, ms):
  encoder+ingest  capture → the frame's last byte at the ingest. x264 zerolatency keeps no
                  frame back; without it, lookahead and B-frames hold a second or more.
  packaging       arrival → publication. A part is published when full (200 ms parts: about
                  half a part on average, plus one frame, because a part is cut when the next
                  frame arrives); plain HLS publishes only whole segments (about half a 2 s
                  segment, plus a frame).
  delivery        publication → the player has it. LL-HLS: the blocking playlist reload and the
                  preload hint are already waiting, so milliseconds; LL-DASH: the chunked
                  segment request is already open; plain HLS: the next playlist poll.
  player buffer   fetched → displayed: the hold-back. hls.js stays three parts behind the live
                  edge in LL-HLS (PART-HOLD-BACK) and three segments in plain HLS (HOLD-BACK),
                  dash.js keeps its target live delay; then the decoder.
The stages are consecutive, so they add up to the total (the last column); a negative stage
would mean the browser's clock and the origin's disagree.
`)
	return nil
}
