package probe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/streamkit-go/streamkit/probe"
	"github.com/streamkit-go/streamkit/sample"
)

// Probe a file and print the summary.
func ExampleFile() {
	res, err := probe.File(context.Background(), "../testdata/media/h264_b.mp4")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res)
	// Output:
	// h264_b.mp4: MP4 (mov,mp4,m4a,3gp,3g2,mj2), 52.0 KiB, 2.000 s, 213 kb/s, 2 streams
	//   #0 video h264 High L1.2 (avc1.64000C) 320x180 SAR 1:1 DAR 16:9 yuv420p(progressive), 25 fps, 136 kb/s, 50 frames, start 0.000 s, 2.000 s
	//   #1 audio aac LC (mp4a.40.2) 48000 Hz stereo fltp, 65 kb/s, 95 frames, start 0.000 s, 2.000 s
}

// Probe anything that is an io.ReaderAt, here the demo ladder embedded
// in package sample, and use the typed fields.
func ExampleReader() {
	r, size, err := sample.Open(sample.Video480)
	if err != nil {
		log.Fatal(err)
	}
	res, err := probe.Reader(context.Background(), r, size, sample.Video480)
	if err != nil {
		log.Fatal(err)
	}
	v := res.Streams[0]
	fmt.Printf("%s %dx%d %s fps, %d frames over %.1f s, codecs=%q\n",
		v.CodecName, v.Width, v.Height, v.AvgFrameRate, v.NbFrames, v.Duration(), v.CodecString)
	// Only the headers were read: the moov box, not the frames.
	fmt.Println("read less than 2% of the file:", res.BytesRead*50 < size)
	// Output:
	// h264 854x480 25/1 fps, 200 frames over 8.0 s, codecs="avc1.64001E"
	// read less than 2% of the file: true
}

// The JSON is ffprobe's schema: a script that reads
// `ffprobe -show_format -show_streams -of json` reads this unchanged.
func ExampleResult_WriteJSON() {
	res, err := probe.File(context.Background(), "../testdata/media/ts_single.ts")
	if err != nil {
		log.Fatal(err)
	}
	b, err := res.JSON()
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			StartTime string `json:"start_time"`
			Duration  string `json:"duration"`
			BitRate   string `json:"bit_rate"`
		} `json:"streams"`
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(doc.Format.FormatName, doc.Format.Duration)
	for _, s := range doc.Streams {
		fmt.Printf("%s start=%s duration=%s bit_rate=%q\n", s.CodecName, s.StartTime, s.Duration, s.BitRate)
	}
	// Output:
	// mpegts 2.021333
	// h264 start=1.480000 duration=2.000000 bit_rate=""
	// aac start=1.458667 duration=1.728000 bit_rate="67483"
}

// A CMAF media segment has no moov; probe it with its init segment.
func ExampleWithInitFile() {
	res, err := probe.File(context.Background(), "../testdata/media/cmaf/seg_2.m4s", probe.WithInitFile("../testdata/media/cmaf/init.mp4"))
	if err != nil {
		log.Fatal(err)
	}
	s := res.Streams[0]
	fmt.Printf("%s starts at %.3f s\n", s.CodecName, s.StartTime())
	// Output:
	// h264 starts at 1.000 s
}

// Write the ffprobe-compatible JSON to stdout, as `streamkit probe --json` does.
func ExampleResult_JSON() {
	res, err := probe.File(context.Background(), "../testdata/media/aac.m4a")
	if err != nil {
		log.Fatal(err)
	}
	if err := res.WriteJSON(os.Stdout); err != nil {
		log.Fatal(err)
	}
}
