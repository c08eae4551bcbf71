package mp4_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/ts"
)

// Move the moov box of a file in front of its media data, so that a
// player can start before downloading everything. Only moov is held in
// memory; the media data is streamed.
func ExampleFaststart() {
	r, size, err := sample.Open(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	src, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	// A file as a recorder writes it: moov at the end.
	var late bytes.Buffer
	if err := mp4.WriteProgressive(context.Background(), &late, src, mp4.WithMoovAtEnd()); err != nil {
		log.Fatal(err)
	}
	var fast bytes.Buffer
	moved, err := mp4.Faststart(&fast, bytes.NewReader(late.Bytes()), int64(late.Len()))
	if err != nil {
		log.Fatal(err)
	}
	out, err := mp4.NewReader(bytes.NewReader(fast.Bytes()), int64(fast.Len()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("moved:", moved, "moov first:", out.MoovFirst(), "same size:", fast.Len() == late.Len())
	// Output:
	// moved: true moov first: true same size: true
}

// Convert MPEG-TS to fragmented MP4: Annex B video becomes length-prefixed
// with an avcC built from the in-band parameter sets, ADTS headers are
// stripped, and the first PTS becomes time zero.
func ExampleWriteFragmented() {
	r, size, err := sample.Open(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	src, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	var tsBuf bytes.Buffer // an MPEG-TS input, made here from the sample
	if err := ts.Mux(context.Background(), &tsBuf, src); err != nil {
		log.Fatal(err)
	}
	in, err := ts.NewReader(bytes.NewReader(tsBuf.Bytes()), int64(tsBuf.Len()))
	if err != nil {
		log.Fatal(err)
	}
	var frag bytes.Buffer
	if err := mp4.WriteFragmented(context.Background(), &frag, in, mp4.WithFragmentDuration(2*time.Second)); err != nil {
		log.Fatal(err)
	}
	out, err := mp4.NewReader(bytes.NewReader(frag.Bytes()), int64(frag.Len()))
	if err != nil {
		log.Fatal(err)
	}
	t := out.Tracks()[0]
	fmt.Printf("%s %s, %d fragments, %.0f s\n", t.CodecTag, t.CodecString, len(out.Fragments()), t.Seconds(t.Duration))
	for s, err := range out.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("first sample: key %v, shown at %.3f s\n", s.Sync, t.Seconds(s.PTS+mp4.EditShift(t)))
		break
	}
	// Output:
	// avc1 avc1.640015, 4 fragments, 8 s
	// first sample: key true, shown at 0.000 s
}
