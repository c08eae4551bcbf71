package ts_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/ts"
)

// Convert MP4 to MPEG-TS: length-prefixed H.264 becomes Annex B with an
// access unit delimiter and SPS/PPS before every key frame, AAC gets ADTS
// headers, and timestamps move by DefaultTimeOffset (1.4 s, like ffmpeg).
func ExampleMux() {
	r, size, err := sample.Open(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	src, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer
	if err := ts.Mux(context.Background(), &out, src); err != nil {
		log.Fatal(err)
	}
	fmt.Println("whole packets:", out.Len()%ts.PacketSize == 0)
	tr, err := ts.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tr.Tracks() {
		fmt.Printf("PID %#x: %s %s, first PTS %.3f s\n", t.ID, t.Codec, t.CodecString, t.Seconds(t.StartPTS))
	}
	// Output:
	// whole packets: true
	// PID 0x100: h264 avc1.640015, first PTS 1.400 s
}
