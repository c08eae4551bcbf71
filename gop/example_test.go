package gop_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
)

// sampleFrames reads the frames of the first video track of an embedded
// sample file.
func sampleFrames(name string) ([]gop.Frame, *media.Track) {
	r, size, err := sample.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	d, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range d.Tracks() {
		if t.Kind == media.KindVideo {
			frames, err := gop.ReadFrames(context.Background(), d, t)
			if err != nil {
				log.Fatal(err)
			}
			return frames, t
		}
	}
	log.Fatalf("%s: no video", name)
	return nil, nil
}

func ExampleAnalyze() {
	frames, track := sampleFrames(sample.Video360)
	rep := gop.Analyze(frames, track.Timescale)
	for _, g := range rep.GOPs {
		fmt.Printf("GOP %d at %.1f s: %d frames, closed=%v (%s), longest B run %d\n", g.Index, g.Start, g.Frames, g.Closed, g.Reason, g.MaxBRun)
	}
	fmt.Printf("key frame every %.1f s, up to %d B-frames, pyramid %v\n",
		rep.Summary.KeyInterval, rep.Summary.MaxBFrames, rep.Summary.Pyramid)
	// Output:
	// GOP 0 at 0.0 s: 50 frames, closed=true (IDR), longest B run 2
	// GOP 1 at 2.0 s: 50 frames, closed=true (IDR), longest B run 2
	// GOP 2 at 4.0 s: 50 frames, closed=true (IDR), longest B run 2
	// GOP 3 at 6.0 s: 50 frames, closed=true (IDR), longest B run 2
	// key frame every 2.0 s, up to 2 B-frames, pyramid true
}

func ExampleCheckAlignment() {
	var rends []gop.Rendition
	for _, name := range sample.Videos() {
		frames, track := sampleFrames(name)
		rends = append(rends, gop.Rendition{Name: name, Frames: frames, Timescale: track.Timescale})
	}
	rep := gop.CheckAlignment(rends, gop.WithSegment(4*time.Second))
	fmt.Println(rep.Checked, "boundaries checked, aligned:", rep.Aligned())

	// A fourth rendition made from the first with key frames every 45
	// frames (1.8 s) instead of 50: its I frame at 4 s is no longer a
	// random-access point.
	shifted := make([]gop.Frame, len(rends[0].Frames))
	copy(shifted, rends[0].Frames)
	for i := range shifted {
		shifted[i].Key = shifted[i].Display%45 == 0
		if !shifted[i].Key {
			shifted[i].RAP = gop.RAPNone
		} else {
			shifted[i].RAP = gop.RAPIDR
		}
	}
	rends = append(rends, gop.Rendition{Name: "keyint45", Frames: shifted, Timescale: rends[0].Timescale})
	if err := gop.CheckAlignment(rends, gop.WithSegment(4*time.Second)).Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1 boundaries checked, aligned: true
	// gop: 1 of 1 segment boundaries misaligned
	//   at 4.000 s (odd one out: keyint45): video_240.mp4 cuts at 4.000 s; video_360.mp4 cuts at 4.000 s; video_480.mp4 cuts at 4.000 s; keyint45: non-IDR I frame (I frame at 4.000 s is not a random-access point);
}

// TestLadderFixtures checks the committed ladder: 270p and 360p line up,
// the misaligned rendition is named with its key frame times.
func TestLadderFixtures(t *testing.T) {
	load := func(name string) gop.Rendition {
		path := "../testdata/media/" + name
		f, err := os.Open(path)
		if err != nil {
			t.Skipf("fixture missing: %v", err)
		}
		defer f.Close()
		st, _ := f.Stat()
		d, err := mp4.NewReader(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range d.Tracks() {
			if tr.Kind == media.KindVideo {
				frames, err := gop.ReadFrames(context.Background(), d, tr)
				if err != nil {
					t.Fatal(err)
				}
				return gop.Rendition{Name: name, Frames: frames, Timescale: tr.Timescale}
			}
		}
		t.Fatalf("%s: no video", name)
		return gop.Rendition{}
	}
	a, b, bad := load("ladder_270.mp4"), load("ladder_360.mp4"), load("ladder_misaligned.mp4")
	if rep := gop.CheckAlignment([]gop.Rendition{a, b}); !rep.Aligned() || rep.Checked != 2 {
		t.Errorf("270/360 ladder: %v (checked %d)", rep.Error(), rep.Checked)
	}
	// 2 s segments: the odd rendition has no key frame at 2 s and 4 s.
	rep := gop.CheckAlignment([]gop.Rendition{a, b, bad}, gop.WithSegment(2*time.Second))
	checkMisaligned(t, rep, "[2.0 4.0]")
	// Every key frame: 1.8, 2, 3.6, 4 and 5.4 s all disagree.
	rep = gop.CheckAlignment([]gop.Rendition{a, b, bad})
	checkMisaligned(t, rep, "[1.8 2.0 3.6 4.0 5.4]")
}

func checkMisaligned(t *testing.T, rep *gop.AlignmentReport, want string) {
	t.Helper()
	if rep.Aligned() {
		t.Fatal("misaligned rendition not detected")
	}
	var times []float64
	for _, m := range rep.Misaligned {
		times = append(times, m.Time)
		if len(m.Odd) != 1 || m.Odd[0] != "ladder_misaligned.mp4" {
			t.Errorf("at %.3f s odd one out %v, want ladder_misaligned.mp4", m.Time, m.Odd)
		}
	}
	if got := fmt.Sprintf("%.1f", times); got != want {
		t.Errorf("misaligned at %s, want %s\n%v", got, want, rep.Error())
	}
}

// BenchmarkReadFrames measures the whole `streamkit frames` pipeline on
// one file (MP4 reader, payload reads, analysis, presentation order): one
// op is the whole file. STREAMKIT_GOP_BENCH_FILE picks another file.
func BenchmarkReadFrames(b *testing.B) {
	path := os.Getenv("STREAMKIT_GOP_BENCH_FILE")
	if path == "" {
		path = "../testdata/media/ladder_360.mp4"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skip(err)
	}
	r := bytesReaderAt(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	frames := 0
	for i := 0; i < b.N; i++ {
		d, err := media.Open(r, int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range d.Tracks() {
			if t.Kind != media.KindVideo {
				continue
			}
			fr, err := gop.ReadFrames(context.Background(), d, t)
			if err != nil {
				b.Fatal(err)
			}
			frames = len(fr)
			break
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(frames), "frames/op")
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func ExampleAnalyzeTrack() {
	r, size, err := sample.Open(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	d, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	rep, _, err := gop.AnalyzeTrack(context.Background(), d, d.Tracks()[0])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Summary)
	// Output:
	// 200 frames in 4 GOPs over 8.00 s; fixed GOP of 50 frames (2.00 s), all closed; up to 2 consecutive B-frames (B-pyramid), reorder depth 1; I 4 (mean 2.3 KiB), P 68 (mean 732 B), B 128 (mean 274 B)
}

func ExampleReadFrames() {
	r, size, err := sample.Open(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	d, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	frames, err := gop.ReadFrames(context.Background(), d, d.Tracks()[0])
	if err != nil {
		log.Fatal(err)
	}
	// Decode order: the P frame shown fourth is decoded second, before the
	// two B frames shown between; the first of them is itself a reference
	// for the second (a B-pyramid).
	for _, f := range frames[:4] {
		fmt.Printf("decode %d display %d %s key=%v ref=%v\n", f.Index, f.Display, f.Type, f.Key, f.Reference)
	}
	// Output:
	// decode 0 display 0 I key=true ref=true
	// decode 1 display 3 P key=false ref=true
	// decode 2 display 1 B key=false ref=true
	// decode 3 display 2 B key=false ref=false
}

// A Collector analyses payloads the caller reads itself, in decode
// order: a packager that reads every payload to write it gets the frames
// without reading the file a second time.
func ExampleCollector() {
	r, size, err := sample.Open(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	d, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	t := d.Tracks()[0]
	c, err := gop.NewCollector(t)
	if err != nil {
		log.Fatal(err)
	}
	var buf []byte
	for s, err := range media.TrackSamples(d, t.ID) {
		if err != nil {
			log.Fatal(err)
		}
		if buf, err = d.ReadSample(&s, buf); err != nil {
			log.Fatal(err)
		}
		// ... write buf somewhere, then:
		if err := c.Add(&s, buf); err != nil {
			log.Fatal(err)
		}
	}
	frames, err := c.Frames()
	if err != nil {
		log.Fatal(err)
	}
	keys := 0
	for _, f := range frames {
		if f.Key {
			keys++
		}
	}
	fmt.Printf("%d frames, %d key frames, frame 1 shown %s\n", len(frames), keys, frames[1].Type)
	// Output:
	// 200 frames, 4 key frames, frame 1 shown P
}

func ExampleSplitNALUnits() {
	// An access unit as stored in MP4: 4-byte lengths, then an SPS header
	// byte and an IDR slice (truncated here for the example).
	au := []byte{0, 0, 0, 2, 0x67, 0x64, 0, 0, 0, 3, 0x65, 0x88, 0x84}
	_ = gop.SplitNALUnits(au, 4, func(nal []byte, off int) error {
		fmt.Printf("NAL unit type %d, %d bytes at offset %d\n", nal[0]&0x1f, len(nal), off)
		return nil
	})
	// Output:
	// NAL unit type 7, 2 bytes at offset 4
	// NAL unit type 5, 3 bytes at offset 10
}

// Print the first frames as ffprobe -show_frames -of json would, and read
// them back: FFprobeFrame is the one definition of that schema.
func ExampleFFprobeFrames() {
	frames, track := sampleFrames(sample.Video240)
	rows := gop.FFprobeFrames(track, frames, false)
	var buf bytes.Buffer
	if err := gop.WriteFFprobeFrames(&buf, rows[:3]); err != nil {
		log.Fatal(err)
	}
	back, err := gop.ReadFFprobeFrames(&buf)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range back {
		fmt.Printf("pts %5d (%s s) %s key_frame=%d pkt_size=%s\n", *r.PTS, r.PTSTime, r.PictType, r.KeyFrame, r.PktSize)
	}
	// Output:
	// pts     0 (0.000000 s) I key_frame=1 pkt_size=3264
	// pts   512 (0.040000 s) B key_frame=0 pkt_size=361
	// pts  1024 (0.080000 s) B key_frame=0 pkt_size=241
}

// TestFFprobeFramesRoundTrip holds the hand-written JSON of
// WriteFFprobeFrames and FFprobeFrame's json tags together: every row of
// every fixture reads back equal.
func TestFFprobeFramesRoundTrip(t *testing.T) {
	for _, name := range []string{"h264_b.mp4", "h264_editlist.mp4", "ts_single.ts"} {
		f, err := os.Open("../testdata/media/" + name)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		d, err := media.Open(f, st.Size())
		if err != nil {
			f.Close()
			t.Fatal(err)
		}
		for _, tr := range d.Tracks() {
			if tr.Kind != media.KindVideo {
				continue
			}
			frames, err := gop.ReadFrames(context.Background(), d, tr)
			if err != nil {
				t.Fatal(err)
			}
			for _, all := range []bool{false, true} {
				rows := gop.FFprobeFrames(tr, frames, all)
				var buf bytes.Buffer
				if err := gop.WriteFFprobeFrames(&buf, rows); err != nil {
					t.Fatal(err)
				}
				back, err := gop.ReadFFprobeFrames(&buf)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(rows) == 0 || !reflect.DeepEqual(back, rows) {
					t.Errorf("%s (all=%v): %d rows read back differently (%d)", name, all, len(rows), len(back))
				}
			}
		}
		f.Close()
	}
}
