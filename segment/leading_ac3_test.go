package segment_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/segment"
	"github.com/streamkit-go/streamkit/ts"
)

// TestLeadingAC3Bytes: an AC-3 track from MPEG-TS whose first PES starts
// inside a frame has a first sample without a syncframe (the bytes
// before the first one, as libavformat gives them); the CMAF sample
// entry is built from the first sample that has one.
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
	payloads := [][]byte{bytes.Repeat([]byte{0x55}, 37)} // a frame's tail
	for range 40 {
		payloads = append(payloads, frame)
	}
	for i, p := range payloads {
		s := &media.Sample{TrackID: 1, Index: int64(i), DTS: int64(i) * 2880, PTS: int64(i) * 2880, Duration: 2880, Size: uint32(len(p)), Sync: true}
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
	if _, err := segment.Cut(context.Background(), t.TempDir(), []segment.Input{{Name: "ac3.ts", Demuxer: d}}); err != nil {
		t.Fatal(err)
	}
}
