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

// Audio frames are packed into PES packets as ffmpeg's mpegts muxer packs
// them (up to 2930 bytes or 350 ms each); WithPESPayloadSize(0) writes one
// frame per PES, the lowest latency and the largest output.
func ExampleWithPESPayloadSize() {
	for _, n := range []int{ts.DefaultPESPayload, 0} {
		r, size, err := sample.Open(sample.Audio)
		if err != nil {
			log.Fatal(err)
		}
		src, err := mp4.NewReader(r, size)
		if err != nil {
			log.Fatal(err)
		}
		var out bytes.Buffer
		if err := ts.Mux(context.Background(), &out, src, ts.WithPESPayloadSize(n)); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("pes_payload_size %4d: %d bytes\n", n, out.Len())
	}
	// Output:
	// pes_payload_size 2930: 81968 bytes
	// pes_payload_size    0: 171644 bytes
}
