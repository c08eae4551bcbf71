package remux

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// TestNothingToWrite: an MP4 cut before its first sample, or inside its
// first (video) sample, is refused with one line that says where; a cut
// after the first sample is written. h264_faststart.mp4 has its moov
// first (ending at byte 2915) and its first sample, video, at
// 2931–6113.
func TestNothingToWrite(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "h264_faststart.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		cut  int
		want string // in the error; "" for success
	}{
		{2925, "no sample before the damage"},
		{4000, "the only sample, video sample 0 of track 1 at byte 2931, is cut by the end of the file at byte 4000"},
		{len(b) / 2, ""},
	} {
		in := filepath.Join(dir, "cut.mp4")
		if err := os.WriteFile(in, b[:c.cut], 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.mp4")
		os.Remove(out)
		err := Remux(context.Background(), in, out, To(MP4))
		if c.want == "" {
			if err != nil {
				t.Errorf("cut at %d: %v", c.cut, err)
			}
			continue
		}
		if !errors.Is(err, ErrNothingToWrite) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("cut at %d: %v, want one line with ErrNothingToWrite and %q", c.cut, err, c.want)
		}
		if _, serr := os.Stat(out); serr == nil {
			t.Errorf("cut at %d: refused but %s exists", c.cut, out)
		}
	}
}

// TestNothingToWriteEAC3: MPEG-TS holding five one-block E-AC-3 frames
// (sample_eac3.ts cut at its first tenth) has no MP4 sample to give:
// ffmpeg's MP4 muxer writes six blocks a sample and leaves an incomplete
// last group out, so ffmpeg -c copy writes an MP4 without a packet.
// Remux refuses it in one line; with twelve frames it writes two samples.
func TestNothingToWriteEAC3(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		frames, want int
	}{{5, 0}, {12, 2}} {
		in := filepath.Join(dir, "eac3.ts")
		var b bytes.Buffer
		tr := &media.Track{ID: 1, Kind: media.KindAudio, Codec: media.CodecEAC3, Timescale: 90000, SampleRate: 48000, Channels: 2}
		w, err := ts.NewWriter(&b, []*media.Track{tr})
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.frames {
			// 64-byte independent syncframe: 1 block, 48 kHz, stereo, bsid 16.
			f := bytes.Repeat([]byte{byte(i)}, 64)
			copy(f, []byte{0x0B, 0x77, 0x00, 0x1F, 0x04, 0x80})
			s := &media.Sample{TrackID: 1, Index: int64(i), DTS: int64(i) * 480, PTS: int64(i) * 480, Duration: 480, Size: 64, Sync: true}
			if err := w.WriteSample(s, f); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.mp4")
		os.Remove(out)
		err = Remux(context.Background(), in, out, To(MP4))
		if c.want == 0 {
			if !errors.Is(err, ErrNothingToWrite) || !strings.Contains(err.Error(), "5 frames (5 audio blocks) do not fill a 6-block sample") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%d frames: %v, want one line with ErrNothingToWrite", c.frames, err)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("refused but %s exists", out)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d frames: %v", c.frames, err)
		}
		if got := sampleCounts(t, out, false); len(got) != 1 || got[0] != c.want {
			t.Errorf("%d frames: samples %v, want [%d]", c.frames, got, c.want)
		}
	}
}
