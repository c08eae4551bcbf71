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

// Package one GOP-aligned CMAF segment the way a packager does: the
// sample times are given on the presentation's timeline (here the
// source's, whose edit list hides the video's 1024-tick B-frame delay),
// the CMAF header's edit list says where time zero is, and the segment
// holds one moof+mdat per GOP, whose byte ranges an I-frame playlist
// lists. A sidx indexes segments for byte-range (on-demand) delivery.
func ExampleFragmenter_WriteSegment() {
	r, size, err := sample.Open(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	src, err := mp4.NewReader(r, size)
	if err != nil {
		log.Fatal(err)
	}
	track := src.Tracks()[0]
	f, err := mp4.NewCMAFFragmenter(track, mp4.WithPresentationOffset(mp4.EditShift(track)*-1))
	if err != nil {
		log.Fatal(err)
	}
	var init bytes.Buffer
	if err := f.WriteInit(&init); err != nil {
		log.Fatal(err)
	}
	// The first two GOPs, one fragment each.
	var gops [][]mp4.FragmentSample
	for s, err := range src.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		if s.Sync {
			if len(gops) == 2 {
				break
			}
			gops = append(gops, nil)
		}
		data, err := src.ReadSample(&s, nil)
		if err != nil {
			log.Fatal(err)
		}
		gops[len(gops)-1] = append(gops[len(gops)-1], mp4.FragmentSample{Sample: s, Data: data})
	}
	var seg bytes.Buffer
	frags, err := f.WriteSegment(&seg, gops, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("init %d bytes, segment %d bytes\n", init.Len(), seg.Len())
	for i, fr := range frags {
		fmt.Printf("GOP %d: moof at %d, key frame ends at %d, tfdt %d, %d samples\n",
			i+1, fr.Offset, fr.FirstSampleEnd, fr.BaseMediaDecodeTime, fr.Samples)
	}
	index := mp4.AppendSidx(nil, &mp4.Sidx{ReferenceID: 1, Timescale: track.Timescale,
		References: []mp4.SidxRef{{Size: uint32(seg.Len()), Duration: uint32(frags[0].Duration + frags[1].Duration), StartsWithSAP: true, SAPType: 1}}})
	back, err := mp4.ParseSidx(index, 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sidx: %d bytes, %d reference of %d bytes\n", len(index), len(back.References), back.References[0].Size)
	// Output:
	// init 700 bytes, segment 51369 bytes
	// GOP 1: moof at 28, key frame ends at 4188, tfdt 0, 50 samples
	// GOP 2: moof at 28197, key frame ends at 31201, tfdt 25600, 50 samples
	// sidx: 44 bytes, 1 reference of 51369 bytes
}
