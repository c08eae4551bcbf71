package segment_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/segment"
	"github.com/streamkit-go/streamkit/ts"
)

// TestLeadingAC3Bytes: an AC-3 track from MPEG-TS whose first PES starts
// inside a frame has a first sample without a syncframe (the bytes
// before the first one, as libavformat gives them); the packager leaves
// it out, as ffmpeg's fMP4 muxers do, and builds the sample entry from
// the first syncframe.
func TestLeadingAC3Bytes(t *testing.T) {
	tr := &media.Track{ID: 1, Kind: media.KindAudio, Codec: media.CodecAC3, Timescale: 90000, SampleRate: 48000, Channels: 2, FrameSize: 1536}
	var b bytes.Buffer
	w, err := ts.NewWriter(&b, []*media.Track{tr})
	if err != nil {
		t.Fatal(err)
	}
	// 128-byte AC-3 syncframe: 48 kHz, 32 kbit/s, bsid 8, stereo.
	frame := make([]byte, 128)
	copy(frame, []byte{0x0B, 0x77, 0, 0, 0x00, 0x40, 0x40})
	// The first PES: a frame's tail, then four whole frames; then a PES
	// a frame, stamped with its frame's time (frame i at i*2880).
	pes1 := bytes.Repeat([]byte{0x55}, 37)
	for range 4 {
		pes1 = append(pes1, frame...)
	}
	payloads := [][]byte{pes1}
	for range 36 {
		payloads = append(payloads, frame)
	}
	for i, p := range payloads {
		ts := int64(i) * 2880
		if i > 0 {
			ts = int64(i+3) * 2880
		}
		s := &media.Sample{TrackID: 1, Index: int64(i), DTS: ts, PTS: ts, Duration: 2880, Size: uint32(len(p)), Sync: true}
		if err := w.WriteSample(s, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	d, err := ts.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	first := true
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		if first && s.Size != 37 {
			t.Fatalf("first sample %d bytes, want the 37 before the first syncframe", s.Size)
		}
		first = false
	}
	dir := t.TempDir()
	pkg, err := segment.Cut(context.Background(), dir, []segment.Input{{Name: "ac3.ts", Demuxer: d}})
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, dir, pkg, 2880)
	// The bytes before the first syncframe are not packaged (ffmpeg's
	// fMP4 muxers drop them): 40 samples, not 41.
	n := 0
	for _, r := range pkg.Renditions() {
		for _, seg := range r.Segments {
			n += seg.Samples
		}
	}
	if n != 40 {
		t.Errorf("%d samples packaged, want the 40 syncframes", n)
	}
	// The first syncframe, which shares the dropped bytes' PES, takes the
	// PES's time rather than the reader's interpolated one (the next
	// frame's): the segments last exactly the 40 frames.
	a := pkg.Renditions()[0]
	if len(a.Segments) == 0 || a.Segments[0].Start != 0 {
		t.Fatalf("segments %+v: want the first at 0", a.Segments)
	}
	var dur int64
	for _, seg := range a.Segments {
		dur += seg.Duration
	}
	if dur != 40*2880 {
		t.Errorf("segments last %d ticks, want 40 frames of 2880", dur)
	}
}

// TestSharedAC3LeadingBytes: sample_ac3.ts (../shared/media) starts
// inside an AC-3 frame, and its first syncframe shares that PES; the
// reader stamps it by interpolation onto the next frame's time, as
// libavformat does. Packaged, the first syncframe takes the PES's time:
// the segment's samples are 2880 ticks apart from the first.
func TestSharedAC3LeadingBytes(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "media", "fetched", "androidx", "ts", "sample_ac3.ts")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no shared media: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	d, err := ts.NewReader(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkg, err := segment.Cut(context.Background(), dir, []segment.Input{{Name: "sample_ac3.ts", Demuxer: d}})
	if err != nil {
		t.Fatal(err)
	}
	checkSteps(t, dir, pkg, 2880)
}

// checkSteps reads back the first samples of the first rendition's first
// CMAF segment and fails unless their DTS are step ticks apart.
func checkSteps(t *testing.T, dir string, pkg *segment.Presentation, step int64) {
	t.Helper()
	r := pkg.Renditions()[0]
	open := func(rel string) mp4.Segment {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return mp4.Segment{R: bytes.NewReader(b), Size: int64(len(b))}
	}
	sr, err := mp4.NewSegmentReader(open(r.Init.URI), []mp4.Segment{open(r.Segments[0].URI)})
	if err != nil {
		t.Fatal(err)
	}
	var dts []int64
	for s, err := range sr.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		if dts = append(dts, s.DTS); len(dts) == 5 {
			break
		}
	}
	for i := 1; i < len(dts); i++ {
		if dts[i]-dts[i-1] != step {
			t.Fatalf("packaged DTS %v: want steps of %d from the first", dts, step)
		}
	}
}
