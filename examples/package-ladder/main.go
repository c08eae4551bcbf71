// Command package-ladder packages streamkit's embedded sample ladder as HLS
// and DASH from one set of CMAF segments, shows what was written and why,
// reads the result back as an ABR simulator input, and tells you how to
// watch it in a browser.
//
//	go run ./examples/package-ladder
package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/manifest"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/segment"
)

func main() {
	log.SetFlags(0)
	out := filepath.Join(os.TempDir(), "streamkit-package-ladder")
	if err := os.RemoveAll(out); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		log.Fatal(err)
	}

	// 1. Open the inputs: three H.264 renditions (2 s closed GOPs at the
	//    same instants) and one AAC track, 8 s each.
	var inputs []segment.Input
	for _, name := range append(sample.Videos(), sample.Audio) {
		r, size, err := sample.Open(name)
		if err != nil {
			log.Fatal(err)
		}
		d, err := mp4.NewReader(r, size)
		if err != nil {
			log.Fatal(err)
		}
		t := d.Tracks()[0]
		fmt.Printf("input %-14s %s %-12s %s\n", name, t.Kind, t.CodecString, describe(t.Width, t.Height, t.SampleRate))
		inputs = append(inputs, segment.Input{Name: name, Demuxer: d})
	}

	// 2. Cut. Segments start at the first key frame at or after each
	//    target: with 2 s GOPs and a 4 s target, at 0, 4 s. The audio is
	//    cut at the audio frames nearest to the same instants.
	start := time.Now()
	p, err := segment.Cut(context.Background(), out, inputs, segment.WithTargetDuration(4*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\ncut in %v into %s:\n", time.Since(start).Round(time.Millisecond), out)
	for _, r := range p.Renditions() {
		fmt.Printf("  %-11s init %4d B", r.ID, r.Init.Size)
		for _, s := range r.Segments {
			fmt.Printf("  | %s %.3f s %6d B", filepath.Base(s.URI), r.Seconds(s.Duration), s.Size)
		}
		fmt.Printf("\n  %-11s peak %4.0f kb/s, average %4.0f kb/s, %d key frames for the I-frame playlist\n",
			"", float64(r.Bandwidth)/1000, float64(r.AverageBandwidth)/1000, len(r.IFrames))
	}
	fmt.Println("\nEvery segment starts with styp, then one moof+mdat per GOP; the video")
	fmt.Println("boundaries coincide across renditions, so a player can switch at any of them.")
	// The source's timeline is kept: what its edit lists hid before time
	// zero (here the video's B-frame delay) stays before it. The CMAF
	// header's edit list says where zero is, in each track's timescale;
	// ffprobe of init + segments then shows the source's timestamps, and
	// audio and video stay in sync. The MPD says it only once: its
	// SegmentTimeline already counts from the edited zero, with no
	// presentationTimeOffset, because browsers apply the edit list and
	// dash.js/Shaka would shift by presentationTimeOffset again.
	fmt.Println("\nThe source's time zero in each rendition (the init's edit list media_time; the MPD counts from it, no presentationTimeOffset):")
	for _, r := range p.Renditions() {
		fmt.Printf("  %-11s %6d ticks of 1/%d s = %.3f s; first segment starts at %.3f s\n", r.ID,
			r.PresentationTimeOffset, r.Timescale, r.Seconds(r.PresentationTimeOffset),
			r.Seconds(r.Segments[0].Start-r.PresentationTimeOffset))
	}

	// 3. Two manifests over the same files.
	master, err := hls.Write(out, p)
	if err != nil {
		log.Fatal(err)
	}
	mpdPath, err := dash.Write(out, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\n%s (HLS multivariant playlist):\n", master)
	show(master, "#EXT-X-STREAM-INF", "#EXT-X-MEDIA", "#EXT-X-I-FRAME")
	fmt.Println("  BANDWIDTH = peak segment bit rate of the video + the audio; CODECS lists both.")
	media := filepath.Join(out, hls.MediaPlaylistName(p.Video[0]))
	fmt.Printf("\n%s (media playlist):\n", media)
	show(media, "#")
	fmt.Println("  EXT-X-MAP needs version 6; TARGETDURATION is the longest EXTINF rounded.")
	fmt.Printf("\n%s (DASH, same segments):\n", mpdPath)
	show(mpdPath, "<MPD", "<AdaptationSet", "<Representation", "<SegmentTemplate", "<S ")

	// 4. The packaged presentation as ABR input, in one call: segment
	//    sizes come from the files the manifests point at.
	lad, err := manifest.Load(master)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nABR view of %s: %d levels %v kbit/s, %d segments of %.0f ms\n",
		filepath.Base(master), len(lad.Bitrates()), lad.Bitrates(), lad.NumSegments(), lad.SegmentDuration())
	trace := &abr.Trace{Name: "dip", Periods: []abr.Period{
		{DurationMs: 3000, Kbps: 600, LatencyMs: 20},
		{DurationMs: 3000, Kbps: 150, LatencyMs: 20},
	}}
	alg, err := abr.New("throughput")
	if err != nil {
		log.Fatal(err)
	}
	onSegment := func(rec *abr.SegmentRecord) {
		fmt.Printf("  segment %d: level %d (%.0f kbit/s), %.0f ms to download, stall %.0f ms\n",
			rec.Index, rec.Quality, rec.BitrateKbps, rec.TimeMs, rec.RebufMs)
	}
	sess, err := abr.NewSession(abr.Looped(lad, 16000), trace, alg, abr.WithPlayerDefaults(), abr.WithOnSegment(onSegment))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Sabre's throughput rule over 600 kbit/s dropping to 150 kbit/s (the 8 s ladder looped to 16 s):")
	if _, err := sess.Run(); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("\nWatch it in a browser (hls.js and dash.js from a local npm install):\n")
	fmt.Printf("  npm install --prefix ~/.cache/streamkit/playerjs hls.js@1.7.4 dashjs@5.2.1\n")
	fmt.Printf("  go run ./cmd/streamkit serve %s\n", out)
	fmt.Printf("  open http://127.0.0.1:8080/\n")
}

func describe(w, h, rate int) string {
	if w > 0 {
		return fmt.Sprintf("%dx%d", w, h)
	}
	return fmt.Sprintf("%d Hz", rate)
}

// show prints the lines of a file that start with one of the prefixes
// (after indentation), shortened.
func show(path string, prefixes ...string) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		for _, p := range prefixes {
			if strings.HasPrefix(trim, p) {
				if len(line) > 150 {
					line = line[:147] + "..."
				}
				fmt.Println("  " + line)
				n++
				break
			}
		}
		if n >= 14 {
			fmt.Println("  ...")
			return
		}
	}
}
