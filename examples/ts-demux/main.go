// Command ts-demux is a tour of streamkit's MPEG-TS reader on the embedded
// sample: it multiplexes the 360p video and the AAC track into a transport
// stream whose clock wraps around 2^33 in the middle, then reads it back
// the way ffprobe -show_packets lists it: programs and PCR, tracks, access
// units with their timestamps, and what damaged input turns into.
//
//	go run ./examples/ts-demux
package main

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"sort"
	"strings"

	"github.com/streamkit-go/streamkit/media"
	_ "github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/ts"
)

func main() {
	log.SetFlags(0)
	data, inputSamples := buildTS()
	inputNames := []string{sample.Video360, sample.Audio}
	fmt.Printf("streamkit MPEG-TS reader tour: %s + %s muxed into %d bytes (%d packets of %d)\n",
		sample.Video360, sample.Audio, len(data), len(data)/ts.PacketSize, ts.PacketSize)
	fmt.Println(strings.Repeat("=", 72))

	// 1. Headers only: PAT, PMT, the first PES of each stream, the tail.
	r, err := ts.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("1. NewReader reads the headers: PAT -> PMT -> elementary streams")
	for _, p := range r.Programs() {
		fmt.Printf("   program %d: PMT on PID %#x, PCR on PID %#x, PCR %d -> %d (27 MHz ticks, raw)\n",
			p.Number, p.PMTPID, p.PCRPID, p.FirstPCR, p.LastPCR)
	}
	for _, t := range r.Tracks() {
		fmt.Printf("   stream %d: PID %#x %-5s %-4s %-12s start %.3f s, duration %.3f s",
			t.Index, t.ID, t.Kind, t.Codec, t.CodecString, t.Seconds(t.StartPTS), t.Seconds(t.Duration))
		if t.Kind == media.KindVideo {
			fmt.Printf(", %dx%d %s fps\n", t.Width, t.Height, t.FrameRate)
		} else {
			fmt.Printf(", %d Hz %s\n", t.SampleRate, t.ChannelLayout)
		}
	}
	fmt.Println("   (the start is negative: the first timestamps sit less than 60 s before")
	fmt.Println("   the 33-bit wrap, so the timeline starts just below zero, as in ffprobe)")
	fmt.Println()

	// 2. Samples: PES packets reassembled and cut into access units.
	fmt.Println("2. Samples() cuts the PES payloads into access units, in file order")
	shown := map[int]int{}
	count := map[int]int{}
	var lastDTS = map[int]int64{}
	monotonic := true
	for s, err := range r.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		if d, ok := lastDTS[s.TrackID]; ok && s.DTS <= d {
			monotonic = false
		}
		lastDTS[s.TrackID] = s.DTS
		count[s.TrackID]++
		if shown[s.TrackID] < 4 {
			shown[s.TrackID]++
			fmt.Printf("   PID %#x #%d  dts %8d  pts %8d  %5d bytes  key=%-5v  PES at byte %d\n",
				s.TrackID, s.Index, s.DTS, s.PTS, s.Size, s.Sync, s.Pos)
		}
	}
	for i, t := range r.Tracks() {
		fmt.Printf("   PID %#x: %d access units (%s had %d)\n", t.ID, count[t.ID], inputNames[i], inputSamples[i])
	}
	fmt.Printf("   DTS strictly increasing across the 2^33 wrap: %v\n", monotonic)
	fmt.Println("   - a video access unit is complete only when the next one starts, so it")
	fmt.Println("     comes out after audio that was multiplexed beside it;")
	fmt.Println("   - video pts != dts is B-frame reordering;")
	fmt.Println("   - this writer puts one ADTS frame in each audio PES; ffmpeg's packs several,")
	fmt.Println("     and the reader then stamps the later ones by interpolation, as ffprobe does;")
	fmt.Println("   - PCR wraps at 2^33 too: last < first above, in raw ticks.")
	fmt.Println()

	// 3. Damage: a cut file and flipped continuity counters.
	fmt.Println("3. Hostile input")
	cut := data[:len(data)/2+100]
	r2, err := ts.NewReader(bytes.NewReader(cut), int64(len(cut)))
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for _, err := range r2.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Printf("   cut at byte %d: %d samples (the cut PES's partial payload too, as ffmpeg), and warnings:\n", len(cut), n)
	for _, w := range r2.Warnings() {
		fmt.Printf("   - %v\n", w)
	}
	strict, err := ts.NewReader(bytes.NewReader(cut), int64(len(cut)), ts.WithStrict(true))
	if err != nil {
		log.Fatal(err)
	}
	sn := 0
	for _, err := range strict.Samples() {
		if err != nil {
			var pe *media.PosError
			fmt.Printf("   ts.WithStrict(true): %d samples, then\n   %v\n   (errors.Is ErrTruncated: %v; a *media.PosError: %v)\n",
				sn, err, errors.Is(err, media.ErrTruncated), errors.As(err, &pe))
			break
		}
		sn++
	}
	damaged := bytes.Clone(data)
	broken, video := 0, 0
	videoPID := r.Tracks()[0].ID
	for i := 0; i+ts.PacketSize <= len(damaged); i += ts.PacketSize {
		p := damaged[i : i+ts.PacketSize]
		if int(p[1]&0x1f)<<8|int(p[2]) != videoPID || p[3]&0x10 == 0 {
			continue // another PID, or no payload (no counter to check)
		}
		if video++; video%100 == 50 {
			p[3] ^= 0x05 // continuity_counter
			broken++
		}
	}
	r3, err := ts.NewReader(bytes.NewReader(damaged), int64(len(damaged)))
	if err != nil {
		log.Fatal(err)
	}
	n = 0
	for _, err := range r3.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	st := r3.Stats()
	fmt.Printf("   continuity counters broken in %d video packets: still %d samples; %d jumps\n",
		broken, n, st.CCErrors)
	fmt.Println("   counted in Stats (a wrong counter breaks the sequence twice: where it is")
	fmt.Println("   wrong and where it resumes) and skipped as ffprobe does;")
	fmt.Println("   ts.WithStrict(true) makes them fatal")
}

// buildTS multiplexes the embedded video and audio into one MPEG-TS
// program, with timestamps placed 2 s before the 33-bit wrap.
func buildTS() ([]byte, []int) {
	var tracks []*media.Track
	type item struct {
		s       media.Sample
		payload []byte
	}
	var items []item
	counts := make([]int, 2)
	for i, name := range []string{sample.Video360, sample.Audio} {
		ra, size, err := sample.Open(name)
		if err != nil {
			log.Fatal(err)
		}
		d, err := media.Open(ra, size)
		if err != nil {
			log.Fatal(err)
		}
		t := *d.Tracks()[0]
		oldID := t.ID
		t.ID = i + 1 // both files number their track 1
		tracks = append(tracks, &t)
		for s, err := range media.TrackSamples(d, oldID) {
			if err != nil {
				log.Fatal(err)
			}
			p, err := d.ReadSample(&s, nil)
			if err != nil {
				log.Fatal(err)
			}
			s.TrackID = t.ID
			items = append(items, item{s, bytes.Clone(p)})
			counts[i]++
		}
	}
	// Interleave by decoding time, as a muxer must.
	sort.SliceStable(items, func(a, b int) bool {
		ta, tb := tracks[items[a].s.TrackID-1], tracks[items[b].s.TrackID-1]
		return ta.Seconds(items[a].s.DTS) < tb.Seconds(items[b].s.DTS)
	})
	var out bytes.Buffer
	w, err := ts.NewWriter(&out, tracks, ts.WithTimeOffset(1<<33-2*ts.Timescale))
	if err != nil {
		log.Fatal(err)
	}
	for i := range items {
		if err := w.WriteSample(&items[i].s, items[i].payload); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	return out.Bytes(), counts
}
