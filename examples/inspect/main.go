// Command inspect is a guided tour of streamkit's probe on the embedded
// sample ladder: what is in each file, what every field means, and how
// little of the file had to be read to know it.
//
//	go run ./examples/inspect
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/probe"
	"github.com/streamkit-go/streamkit/sample"
)

func main() {
	log.SetFlags(0)

	fmt.Println("streamkit probe tour: the demo ladder embedded in package sample")
	fmt.Println(strings.Repeat("=", 66))
	fmt.Println()

	// 1. One file in detail.
	name := sample.Video360
	r, size, err := sample.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	res, err := probe.Reader(context.Background(), r, size, name)
	if err != nil {
		log.Fatal(err)
	}
	detail := res
	fmt.Printf("1. %s, field by field\n\n", name)
	f := res.Format
	explain("format_name", f.Name, "ffprobe's name for the container family; every ISO BMFF file (MP4, M4A, MOV, CMAF) shows this list")
	explain("size", fmt.Sprint(f.Size), "bytes in the file")
	explain("duration", fmt.Sprintf("%.3f s", float64(f.Duration)/1e6), "from the movie header (mvhd) for MP4; the longest stream otherwise")
	explain("bit_rate", fmt.Sprintf("%d b/s", f.BitRate), "size*8/duration: what the whole file costs to deliver, container overhead included")
	v := res.Streams[0]
	fmt.Println()
	explain("codec_name", v.CodecName, "the coding format: H.264/AVC")
	explain("profile / level", fmt.Sprintf("%s / %d", v.Profile, v.Level),
		fmt.Sprintf("decoder capability needed; H.264 level_idc %d means level %d.%d", v.Level, v.Level/10, v.Level%10))
	explain("codecs (RFC 6381)", v.CodecString, "what goes in an HLS CODECS= attribute or a DASH @codecs: avc1.PPCCLL = profile, constraints, level in hex")
	explain("width x height", fmt.Sprintf("%dx%d", v.Width, v.Height), "coded picture size after cropping, from the SPS")
	explain("sample/display aspect", fmt.Sprintf("%d:%d / %d:%d", v.SampleAspectRatio.Num, v.SampleAspectRatio.Den, v.DisplayAspectRatio.Num, v.DisplayAspectRatio.Den), "pixel shape, and the picture shape it gives")
	explain("time_base", v.TimeBase.String(), "timestamps count in these units (the track's mdhd timescale)")
	explain("r_frame_rate", v.RFrameRate.String(), "the base rate: the shortest frame duration turned into a rate")
	explain("avg_frame_rate", v.AvgFrameRate.String(), "frames divided by duration; differs from r_frame_rate for variable frame rate")
	explain("start_time", fmt.Sprintf("%.3f s", v.StartTime()), "first presentation time after the edit list (B-frame delay removed)")
	explain("duration", fmt.Sprintf("%.3f s", v.Duration()), "track duration")
	explain("nb_frames", fmt.Sprint(v.NbFrames), "sample count from the sample table, known without reading a frame")
	explain("bit_rate", fmt.Sprintf("%d b/s", v.BitRate), "payload bytes*8 over the sample-table duration: the video alone")
	fmt.Println()
	fmt.Printf("   To learn all this the probe read %d of %d bytes (%.1f %%): the moov box only.\n\n",
		res.BytesRead, size, 100*float64(res.BytesRead)/float64(size))

	// 2. The whole ladder, as a packager sees it.
	fmt.Println("2. The ladder: one row per rendition, what an HLS master playlist needs")
	fmt.Println()
	fmt.Printf("   %-14s %-16s %-6s %-12s %-6s %s\n", "file", "picture/sound", "fps", "codecs", "kb/s", "duration")
	for _, n := range append(sample.Videos(), sample.Audio) {
		r, size, err := sample.Open(n)
		if err != nil {
			log.Fatal(err)
		}
		res, err := probe.Reader(context.Background(), r, size, n)
		if err != nil {
			log.Fatal(err)
		}
		s := res.Streams[0]
		dims, fps := "audio", "-"
		if s.CodecType == "video" {
			dims = fmt.Sprintf("%dx%d", s.Width, s.Height)
			fps = s.AvgFrameRate.String()
		} else {
			dims = fmt.Sprintf("%d Hz %s", s.SampleRate, s.ChannelLayout)
		}
		fmt.Printf("   %-14s %-16s %-6s %-12s %-6d %.2f s\n", n, dims, fps, s.CodecString, (s.BitRate+500)/1000, s.Duration())
	}
	fmt.Println()
	fmt.Println("   BANDWIDTH in a master playlist is the peak rate of the muxed segments;")
	fmt.Println("   the average bit_rate above is the starting point (AVERAGE-BANDWIDTH).")
	fmt.Println()

	// 3. The same data in ffprobe's JSON.
	fmt.Printf("3. ffprobe-compatible JSON (streamkit probe --json %s), a few keys of stream 0:\n", name)
	fmt.Println()
	b, err := detail.JSON()
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Streams []map[string]any `json:"streams"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"codec_name", "profile", "width", "height", "r_frame_rate", "duration", "bit_rate", "streamkit"} {
		if val, ok := doc.Streams[0][k]; ok {
			j, _ := json.Marshal(val)
			fmt.Printf("   %-16s %s\n", fmt.Sprintf("%q:", k), j)
		}
	}
	fmt.Println()
	fmt.Println("   Numbers such as duration and bit_rate are strings, exactly as ffprobe")
	fmt.Println("   writes them, so jq filters written for ffprobe keep working; streamkit's")
	fmt.Println("   extras (the RFC 6381 codecs string) sit under the \"streamkit\" key.")
	fmt.Println()
	// 4. What ffprobe learns beyond the basics, from parameter sets and
	// container metadata (no frame decoded).
	fmt.Printf("4. %s, the fields that tell how to decode and present it\n\n", name)
	explain("coded size", fmt.Sprintf("%dx%d", v.CodedWidth, v.CodedHeight), "what the decoder allocates (HEVC pads to its block size)")
	explain("has_b_frames", fmt.Sprint(v.HasBFrames), "frames the decoder holds back before output: the B-frame reorder depth (SPS VUI, MP4 ctts order)")
	explain("field_order", v.FieldOrder, "progressive, or tt/bb for interlaced: from the first frame's headers or an MP4 fiel box")
	color := v.ColorRange
	if color == "" {
		color = "(not signalled)"
	}
	explain("color_range", color, "tv = limited 16-235, pc = full; absent when the stream does not say")
	explain("bits_per_raw_sample", fmt.Sprint(v.BitsPerRawSample), "bit depth of the decoded samples")
	var disp []string
	for i, n := range media.DispositionNames {
		if v.Disposition&(1<<i) != 0 {
			disp = append(disp, n)
		}
	}
	explain("disposition", strings.Join(disp, ","), "MP4: an enabled track is a default one; MPEG-TS: audio_type (hearing/visual impaired)")
	for _, tg := range v.Tags {
		explain("tags."+tg.Key, tg.Value, map[string]string{
			"handler_name":  "the hdlr box's name: what the muxer called the track",
			"vendor_id":     "the sample entry's vendor code ([0][0][0][0]: none)",
			"encoder":       "the sample entry's compressorname",
			"creation_time": "mdhd creation time (1904 epoch) as ISO 8601",
		}[tg.Key])
	}
	fmt.Println()

	fmt.Println("Next: streamkit probe FILE on your own media; add --json for scripts. FILE may")
	fmt.Println("be - (standard input) or an http(s) URL, read with Range requests.")
}

// explain prints one field: name, value, and what it means.
func explain(field, value, meaning string) {
	fmt.Printf("   %-22s %-18s %s\n", field, value, meaning)
}
