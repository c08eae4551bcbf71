// Command remux is a tour of streamkit's remuxing on the embedded sample:
// MP4 to MPEG-TS and back with identical samples, fragmented MP4 and CMAF,
// and faststart — what changes in the bytes and what never does.
//
//	go run ./examples/remux
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/remux"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/ts"
)

func main() {
	log.SetFlags(0)
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "streamkit-remux-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	b, err := sample.Bytes(sample.Video360)
	if err != nil {
		log.Fatal(err)
	}
	in := filepath.Join(dir, "in.mp4")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		log.Fatal(err)
	}

	fmt.Println("streamkit remux tour: sample", sample.Video360)
	fmt.Println(strings.Repeat("=", 60))
	src := open(in)
	t := src.Tracks()[0]
	fmt.Printf("input: %d bytes, %s %s %dx%d, timescale %d, %d samples\n\n",
		len(b), t.Codec, t.CodecString, t.Width, t.Height, t.Timescale, t.SampleCount)

	// 1. MP4 -> MPEG-TS.
	fmt.Println("1. MP4 -> MPEG-TS   (streamkit remux in.mp4 out.ts)")
	tsPath := filepath.Join(dir, "out.ts")
	must(remux.Remux(ctx, in, tsPath))
	tsd := open(tsPath)
	tt := tsd.Tracks()[0]
	fmt.Printf("   %d bytes = %d packets of 188; video on PID %#x, PAT/PMT before every key frame\n",
		size(tsPath), size(tsPath)/ts.PacketSize, tt.ID)
	m0, t0 := first(src), first(tsd)
	fmt.Printf("   first frame: MP4 %d bytes shown at %.3f s -> TS %d bytes shown at %.3f s\n",
		m0.Size, t.Seconds(m0.PTS+mp4.EditShift(t)), t0.Size, tt.Seconds(t0.PTS))
	fmt.Printf("   the %d extra bytes: 4-byte lengths became start codes, plus an access unit\n", int(t0.Size)-int(m0.Size))
	fmt.Printf("   delimiter and the SPS/PPS a decoder joining here needs; every timestamp moved\n")
	fmt.Printf("   by the same %.1f s (ts.DefaultTimeOffset, as ffmpeg does).\n\n", float64(ts.DefaultTimeOffset)/ts.Timescale)

	// 2. MPEG-TS -> MP4: the same samples again.
	fmt.Println("2. MPEG-TS -> MP4   (streamkit remux out.ts back.mp4)")
	back := filepath.Join(dir, "back.mp4")
	must(remux.Remux(ctx, tsPath, back))
	bd := open(back)
	same := hashes(src) == hashes(bd)
	fmt.Printf("   %d bytes; avcC rebuilt from the in-band SPS/PPS; first PTS is time zero again\n", size(back))
	fmt.Printf("   every sample payload identical to the input's (SHA-256 over all samples): %v\n\n", same)

	// 3. Fragmented MP4 and CMAF.
	fmt.Println("3. MP4 -> fragmented MP4 and CMAF   (--to fmp4 / OUT/)")
	frag := filepath.Join(dir, "frag.mp4")
	must(remux.Remux(ctx, in, frag, remux.To(remux.FMP4)))
	fr, err := mp4.NewReader(bytes.NewReader(read(frag)), size(frag))
	must(err)
	fmt.Printf("   %d bytes: init (moov without samples) + %d moof/mdat fragments, each cut at a key\n", size(frag), len(fr.Fragments()))
	fmt.Println("   frame once 2 s have passed (--frag-duration)")
	cm := filepath.Join(dir, "cmaf")
	must(remux.Remux(ctx, in, cm+"/"))
	_ = filepath.WalkDir(cm, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			fmt.Printf("   %-24s %6d bytes\n", rel, size(p))
		}
		return nil
	})
	fmt.Println("   CMAF: one track per directory, brand cmfc, every segment styp+moof(tfdt)+mdat")
	fmt.Println("   starting with a key frame: what HLS and DASH packagers serve.")
	fmt.Println()

	// 4. Faststart.
	fmt.Println("4. faststart   (streamkit remux --faststart late.mp4 web.mp4)")
	late := filepath.Join(dir, "late.mp4")
	f, err := os.Create(late)
	must(err)
	must(mp4.WriteProgressive(ctx, f, open(in), mp4.WithMoovAtEnd()))
	must(f.Close())
	web := filepath.Join(dir, "web.mp4")
	must(remux.Remux(ctx, late, web, remux.WithFaststart()))
	lr, wr := reader(late), reader(web)
	fmt.Printf("   recorder layout (moov after mdat): a player fetches all %d bytes before the first frame\n", size(late))
	fmt.Printf("   after faststart: moov at byte %d, playback can start after %d bytes\n", wr.MoovOffset(), firstPlayable(wr))
	fmt.Printf("   same size (%v), same samples (%v); only moov moved and its chunk offsets were patched,\n",
		size(late) == size(web), hashes(lr) == hashes(wr))
	fmt.Println("   while mdat was streamed with io.Copy: memory stays flat on multi-GB files.")
}

func open(path string) media.Demuxer {
	f, err := os.Open(path)
	must(err)
	st, err := f.Stat()
	must(err)
	d, err := media.Open(f, st.Size())
	must(err)
	return d
}

func reader(path string) *mp4.Reader {
	b := read(path)
	r, err := mp4.NewReader(bytes.NewReader(b), int64(len(b)))
	must(err)
	return r
}

// firstPlayable is how many bytes a progressive download needs before the
// first video frame can be decoded: the headers plus that frame.
func firstPlayable(r *mp4.Reader) int64 {
	for s, err := range r.Samples() {
		must(err)
		return s.Offset + int64(s.Size)
	}
	return 0
}

func first(d media.Demuxer) media.Sample {
	id := d.Tracks()[0].ID
	for s, err := range media.TrackSamples(d, id) {
		must(err)
		if s.Data != nil {
			s.Data = nil
		}
		return s
	}
	return media.Sample{}
}

// hashes digests every payload of the first track.
func hashes(d media.Demuxer) [32]byte {
	h := sha256.New()
	var buf []byte
	id := d.Tracks()[0].ID
	for s, err := range media.TrackSamples(d, id) {
		must(err)
		buf, err = d.ReadSample(&s, buf)
		must(err)
		h.Write(buf)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func size(p string) int64 {
	st, err := os.Stat(p)
	must(err)
	return st.Size()
}

func read(p string) []byte {
	b, err := os.ReadFile(p)
	must(err)
	return b
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
