package mp4_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/streamkit-go/streamkit/mp4"
)

// Open an MP4 file, list its tracks and walk its samples without reading
// any payload.
func ExampleNewReader() {
	f, err := os.Open("../testdata/media/h264_b.mp4")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	r, err := mp4.NewReader(f, st.Size())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("brand:", r.MajorBrand, "faststart:", r.MoovFirst(), "fragmented:", r.Fragmented())
	for _, t := range r.Tracks() {
		fmt.Printf("track %d: %s %s %s, %d samples, %.2f s\n",
			t.ID, t.Kind, t.Codec, t.CodecString, t.SampleCount, t.Seconds(t.Duration))
	}
	keys, n := 0, 0
	for s, err := range r.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		if n < 4 {
			fmt.Printf("track %d sample %d: %d bytes at %d, dts %d pts %d sync %v\n",
				s.TrackID, s.Index, s.Size, s.Offset, s.DTS, s.PTS, s.Sync)
		}
		if s.Sync && s.TrackID == 1 {
			keys++
		}
		n++
	}
	fmt.Println(n, "samples,", keys, "video key frames")
	// Output:
	// brand: isom faststart: false fragmented: false
	// track 1: video h264 avc1.64000C, 50 samples, 2.00 s
	// track 2: audio aac mp4a.40.2, 95 samples, 2.02 s
	// track 1 sample 0: 3182 bytes at 48, dts 0 pts 1024 sync true
	// track 1 sample 1: 1024 bytes at 3230, dts 512 pts 3072 sync false
	// track 2 sample 0: 148 bytes at 4254, dts 0 pts 0 sync true
	// track 1 sample 2: 456 bytes at 4402, dts 1024 pts 2048 sync false
	// 145 samples, 2 video key frames
}

// Read a CMAF media segment with the init segment that describes it.
func ExampleNewSegmentReader() {
	open := func(name string) mp4.Segment {
		b, err := os.ReadFile("../testdata/media/cmaf/" + name)
		if err != nil {
			log.Fatal(err)
		}
		return mp4.Segment{R: bytesReader(b), Size: int64(len(b))}
	}
	r, err := mp4.NewSegmentReader(open("init.mp4"), []mp4.Segment{open("seg_1.m4s"), open("seg_2.m4s")})
	if err != nil {
		log.Fatal(err)
	}
	t := r.Tracks()[0]
	fmt.Println(t.Codec, t.Width, "x", t.Height, "timescale", t.Timescale, "samples", t.SampleCount)
	var buf []byte
	for s, err := range r.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		seg, off := r.Locate(s.Offset)
		if buf, err = r.ReadSample(&s, buf); err != nil {
			log.Fatal(err)
		}
		if s.Sync {
			fmt.Printf("key frame %d: segment %d offset %d, %d bytes, dts %d\n", s.Index, seg, off, len(buf), s.DTS)
		}
	}
	// Output:
	// h264 320 x 180 timescale 12800 samples 50
	// key frame 0: segment 1 offset 388, 3182 bytes, dts 0
	// key frame 25: segment 2 offset 388, 3125 bytes, dts 12800
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
