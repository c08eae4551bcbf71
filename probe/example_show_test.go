package probe_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/streamkit-go/streamkit/probe"
)

// Two fields of the first two audio packets, selected as ffprobe's
// -show_entries packet=pts,flags -select_streams a would select them, in
// ffprobe's default format.
func ExampleWriteSelected() {
	e, err := probe.ParseEntries("packet=pts,flags")
	if err != nil {
		log.Fatal(err)
	}
	sel, err := probe.ParseStreamSpecifier("a")
	if err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer
	err = probe.WriteSelected(context.Background(), &out, "../testdata/media/h264_b.mp4", probe.Selection{Entries: e, Select: sel})
	if err != nil {
		log.Fatal(err)
	}
	blocks := strings.SplitAfter(out.String(), "[/PACKET]\n")
	fmt.Print(blocks[0], blocks[1])
	// Output:
	// [PACKET]
	// pts=-1024
	// flags=KD
	// [/PACKET]
	// [PACKET]
	// pts=0
	// flags=K_
	// [/PACKET]
}

// Count the PES packets of an MPEG-TS file: only the access unit that
// starts a PES has a position in ffprobe's packet list.
func ExamplePacketsFile() {
	frames, pes := map[int]int{}, map[int]int{}
	err := probe.PacketsFile(context.Background(), "../testdata/media/ts_single.ts", func(p *probe.Packet) error {
		frames[p.StreamIndex]++
		if p.Pos != "" {
			pes[p.StreamIndex]++
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("video: %d frames in %d PES\naudio: %d frames in %d PES\n", frames[0], pes[0], frames[1], pes[1])
	// Output:
	// video: 50 frames in 50 PES
	// audio: 95 frames in 6 PES
}
