// Command damaged-input shows how streamkit reads files that are cut short
// or corrupt, the way ffprobe and ffmpeg -c copy read them: everything
// that is there is used, and the damage is reported as media.Warning
// values with their byte offsets. Strict reading refuses the same input.
//
//	go run ./examples/damaged-input
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/probe"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/ts"
)

func main() {
	log.SetFlags(0)
	full, err := sample.Bytes(sample.Video360)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("streamkit damaged-input tour: %s (%d bytes), cut and corrupted in memory\n", sample.Video360, len(full))
	fmt.Println(strings.Repeat("=", 72))

	// 1. An MP4 whose mdat is cut: a download that stopped at 60 %.
	cut := full[:len(full)*6/10]
	fmt.Printf("1. MP4 cut at byte %d of %d (moov is at the front, mdat loses its tail)\n", len(cut), len(full))
	all := countSamples(full, nil)
	r, err := mp4.NewReader(bytes.NewReader(cut), int64(len(cut)))
	if err != nil {
		log.Fatal(err)
	}
	n := countSamples(cut, r)
	fmt.Printf("   %d of %d samples read; the one the cut falls in comes shortened, as ffmpeg's\n", n, all)
	fmt.Println("   mov demuxer hands over a partial packet; the read stops at the first sample")
	fmt.Println("   that starts past the end. Warnings (offset = where the data is missing):")
	for _, w := range r.Warnings() {
		fmt.Printf("   - %v\n", w)
	}
	// The cut mdat is found while opening: strict reading refuses the
	// file there, before any sample is read.
	if _, err := mp4.NewReader(bytes.NewReader(cut), int64(len(cut)), mp4.WithStrict(true)); err != nil {
		fmt.Printf("   mp4.WithStrict(true) refuses instead:\n   %v\n", err)
	} else {
		log.Fatal("mp4.WithStrict(true) read the cut file")
	}
	fmt.Println()

	// 2. probe: the warnings in ffprobe's JSON, under a key ffprobe does not use.
	fmt.Println("2. probe.Reader on the cut file: streams as ffprobe lists them, and")
	res, err := probe.Reader(context.Background(), bytes.NewReader(cut), int64(len(cut)), "cut.mp4")
	if err != nil {
		log.Fatal(err)
	}
	js, err := json.MarshalIndent(res.Warnings, "   ", "  ")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("   \"streamkit_warnings\": %s\n", js)
	fmt.Println("   (streamkit probe --json prints this after \"format\"; the CLI prints one")
	fmt.Println("   line per warning on stderr; --strict on probe, frames, gop, remux and")
	fmt.Println("   package refuses damaged input)")
	fmt.Println()

	// 3. MPEG-TS: garbage in the middle, and a cut last packet.
	var tsBuf bytes.Buffer
	d, err := media.Open(bytes.NewReader(full), int64(len(full)))
	if err != nil {
		log.Fatal(err)
	}
	if err := ts.Mux(context.Background(), &tsBuf, d); err != nil {
		log.Fatal(err)
	}
	clean := tsBuf.Bytes()
	// 77 bytes of junk spliced in at a packet boundary shift the packet
	// grid; the last packet loses 100 bytes.
	mid := len(clean) / 2 / ts.PacketSize * ts.PacketSize
	junk := bytes.Repeat([]byte{0xAA}, 77)
	damaged := append(append(append([]byte(nil), clean[:mid]...), junk...), clean[mid:len(clean)-100]...)
	fmt.Printf("3. The same video as MPEG-TS (%d bytes): 77 bytes of junk at byte %d, last packet cut\n", len(clean), mid)
	tr, err := ts.NewReader(bytes.NewReader(damaged), int64(len(damaged)))
	if err != nil {
		log.Fatal(err)
	}
	got := 0
	for _, err := range tr.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		got++
	}
	cr, err := ts.NewReader(bytes.NewReader(clean), int64(len(clean)))
	if err != nil {
		log.Fatal(err)
	}
	want := 0
	for range cr.Samples() {
		want++
	}
	st := tr.Stats()
	fmt.Printf("   %d of %d samples; %d resync(s), %d bytes skipped to the next 0x47 grid\n", got, want, st.Resyncs, st.SkippedBytes)
	for _, w := range tr.Warnings() {
		fmt.Printf("   - %v\n", w)
	}
	fmt.Println("   (a packet counts only when the next one starts with 0x47 too, and a resync")
	fmt.Println("   needs sync bytes one and two packets apart, so junk that happens to hold")
	fmt.Println("   0x47 is not taken for a packet; the packet before the junk goes with it)")
}

// countSamples returns how many samples Samples yields for b (through r
// when given), failing on an error.
func countSamples(b []byte, r *mp4.Reader) int {
	if r == nil {
		var err error
		if r, err = mp4.NewReader(bytes.NewReader(b), int64(len(b))); err != nil {
			log.Fatal(err)
		}
	}
	n := 0
	for _, err := range r.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	return n
}
