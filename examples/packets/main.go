// Command packets lists packets the way ffprobe -show_packets does, picks
// fields and streams with ffprobe's -show_entries and -select_streams
// syntax, and uses that to show how the MPEG-TS writer packs audio frames
// into PES packets as ffmpeg does.
//
//	go run ./examples/packets
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/probe"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/ts"
)

func main() {
	log.SetFlags(0)
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "streamkit-packets-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	fmt.Println("Packets, like ffprobe -show_packets, on the embedded sample's audio")
	fmt.Println(strings.Repeat("=", 66))
	fmt.Println()

	// The sample's AAC track, as an MP4 file on disk.
	r, size, err := sample.Open(sample.Audio)
	if err != nil {
		log.Fatal(err)
	}
	m4a := filepath.Join(dir, sample.Audio)
	b, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil {
		log.Fatal(err)
	}
	must(os.WriteFile(m4a, b, 0o644))

	// 1. The first packets of the MP4, three fields each.
	fmt.Println("1. streamkit probe --show-entries packet=pts,duration,size,pos,flags audio.m4a")
	fmt.Println()
	e, err := probe.ParseEntries("packet=pts,duration,size,pos,flags")
	must(err)
	var out bytes.Buffer
	must(probe.WriteSelected(ctx, &out, m4a, probe.Selection{Entries: e}))
	blocks := strings.SplitAfter(out.String(), "[/PACKET]\n")
	fmt.Print(indent(strings.Join(blocks[:2], "")))
	fmt.Printf("   ... %d packets in all: one AAC frame each (1024 samples, 21.3 ms).\n", len(blocks)-1)
	fmt.Println("   The first has pts -1024 and flags KD: encoder priming the edit list")
	fmt.Println("   hides (D = discard); ffprobe shows it the same way.")
	fmt.Println()

	// 2. The same audio as MPEG-TS, packed as ffmpeg packs it, and one
	//    frame per PES for comparison.
	fmt.Println("2. The same frames in MPEG-TS: how many PES packets carry them?")
	fmt.Println()
	for _, c := range []struct {
		name string
		opts []ts.WriteOption
	}{
		{"packed.ts", nil},
		{"one-per-pes.ts", []ts.WriteOption{ts.WithPESPayloadSize(0)}},
	} {
		d, err := mp4.NewReader(r, size)
		must(err)
		path := filepath.Join(dir, c.name)
		f, err := os.Create(path)
		must(err)
		must(ts.Mux(ctx, f, d, c.opts...))
		must(f.Close())
		st, err := os.Stat(path)
		must(err)
		// Only the frame that starts a PES has a position in ffprobe's
		// packet list: count them.
		frames, pes := 0, 0
		must(probe.PacketsFile(ctx, path, func(p *probe.Packet) error {
			frames++
			if p.Pos != "" {
				pes++
			}
			return nil
		}))
		fmt.Printf("   %-15s %6d bytes  %d frames in %d PES packets\n", c.name, st.Size(), frames, pes)
	}
	fmt.Println()
	fmt.Println("   packed.ts is what ffmpeg -c copy -f mpegts writes, to the byte count: up")
	fmt.Println("   to 2930 bytes or 350 ms of audio per PES. One frame per PES pays a PES")
	fmt.Println("   header and a half-empty 188-byte packet every 21 ms: about twice the size")
	fmt.Println("   at 64 kbit/s, and HLS BANDWIDTH grows with it.")
	fmt.Println()

	// 3. Stream selection and ffprobe's JSON.
	fmt.Println("3. streamkit probe --show-packets --select-streams a:0 --json packed.ts (first packet)")
	fmt.Println()
	sel, err := probe.ParseStreamSpecifier("a:0")
	must(err)
	out.Reset()
	must(probe.WriteSelected(ctx, &out, filepath.Join(dir, "packed.ts"), probe.Selection{Packets: true, Select: sel, JSON: true}))
	first, _, _ := strings.Cut(out.String(), "        },")
	fmt.Print(indent(first + "        },\n        ...\n"))
	fmt.Println()
	fmt.Println("   Byte for byte what ffprobe -show_packets -of json prints, side data")
	fmt.Println("   (the PES stream_id) included.")
	fmt.Println()
	fmt.Println("Next: streamkit probe --show-packets --json FILE, or --show-entries packet=pts,flags.")
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   ") + "\n"
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
