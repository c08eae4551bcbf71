package probe

import (
	"context"
	"encoding/json"
	"iter"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// TestVideoDelay checks libavformat's mov_estimate_video_delay on decode-
// order PTS sequences: the most places a PTS moves back in a sorted
// window of 17.
func TestVideoDelay(t *testing.T) {
	for _, c := range []struct {
		name string
		pts  []int64
		want int
	}{
		{"no reordering", []int64{0, 1, 2, 3, 4, 5}, 0},
		{"I P B (one B)", []int64{0, 2, 1, 4, 3, 6, 5}, 1},
		{"I P B B (B-frames not referenced)", []int64{0, 3, 1, 2, 6, 4, 5}, 1},
		{"b-pyramid I P B b b", []int64{0, 4, 2, 1, 3, 8, 6, 5, 7}, 2},
		{"open GOP leading frames", []int64{2, 0, 1, 5, 3, 4}, 1},
		{"B-frame behind two", []int64{0, 6, 3, 1, 2, 9, 7, 8}, 2},
		// A PTS far back only counts the 16 newer entries of the window.
		{"window of 17", append(seq(100, 130), 0), 16},
	} {
		var v videoDelay
		for _, p := range c.pts {
			v.add(p)
		}
		if v.max != c.want {
			t.Errorf("%s: delay %d, want %d", c.name, v.max, c.want)
		}
	}
}

func seq(from, to int64) []int64 {
	var s []int64
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestUndecodedInitFields checks what an init segment (no samples) keeps:
// an HEVC stream its hvcC's reorder depth and colour (libavcodec's hevc
// decoder exports the SPS at init), an H.264 stream only the container's
// colr and fiel values (the h264 decoder exports nothing before a slice).
func TestUndecodedInitFields(t *testing.T) {
	spsColor := media.Color{Range: 2, Described: true, Primaries: 9, Transfer: 16, Matrix: 9}
	boxColor := media.Color{Range: 1, Described: true, Primaries: 1, Transfer: 1, Matrix: 1}
	for _, c := range []struct {
		codec                 media.Codec
		wantB                 int
		wantRange, wantSpace  string
		wantField             string
		containerField, field string
	}{
		{media.CodecHEVC, 2, "pc", "bt2020nc", "progressive", "progressive", "progressive"},
		{media.CodecH264, 0, "tv", "bt709", "", "", "progressive"},
		{media.CodecH264, 0, "tv", "bt709", "tt", "tt", "progressive"},
	} {
		tr := &media.Track{Kind: media.KindVideo, Codec: c.codec, Reorder: 2, Color: spsColor, ContainerColor: boxColor,
			FieldOrder: c.field, ContainerFieldOrder: c.containerField, BitDepth: 8}
		tr.Config.SPS = [][]byte{{0x67}}
		s := newStream(tr)
		undecoded(&s, tr)
		if s.HasBFrames != c.wantB || s.ColorRange != c.wantRange || s.ColorSpace != c.wantSpace || s.FieldOrder != c.wantField {
			t.Errorf("%s: has_b_frames %d, color_range %q, color_space %q, field_order %q; want %d, %q, %q, %q",
				c.codec, s.HasBFrames, s.ColorRange, s.ColorSpace, s.FieldOrder, c.wantB, c.wantRange, c.wantSpace, c.wantField)
		}
		if s.BitsPerRawSample != 0 {
			t.Errorf("%s: bits_per_raw_sample %d without a decoded frame", c.codec, s.BitsPerRawSample)
		}
	}
}

// TestDecoderOpenFields checks the fields ffprobe's decoder context gives
// before any header: coded size = width/height (avcodec_open2) except for
// MPEG-1/2, whose decoder zeroes it and sets the limited range.
func TestDecoderOpenFields(t *testing.T) {
	s := newStream(&media.Track{Kind: media.KindVideo, Codec: media.CodecMPEG4Video, Width: 176, Height: 144})
	if s.CodedWidth != 176 || s.CodedHeight != 144 {
		t.Errorf("mpeg4: coded %dx%d, want 176x144", s.CodedWidth, s.CodedHeight)
	}
	s = newStream(&media.Track{Kind: media.KindVideo, Codec: media.CodecMPEG2Video, Width: 352, Height: 288})
	if s.CodedWidth != 0 || s.CodedHeight != 0 || s.ColorRange != "tv" {
		t.Errorf("mpeg2video: coded %dx%d, color_range %q; want 0x0, tv", s.CodedWidth, s.CodedHeight, s.ColorRange)
	}
	s = newStream(&media.Track{Kind: media.KindVideo, Codec: media.CodecUnknown, Width: 64, Height: 64})
	if s.CodedWidth != 0 {
		t.Errorf("unknown codec: coded_width %d; ffprobe has no decoder, so none", s.CodedWidth)
	}
}

// TestJSONCodecTypeUnknown: ffprobe's JSON writer omits an optional
// codec_type ("unknown"), as for an MPEG-TS AIT or private-data stream.
func TestJSONCodecTypeUnknown(t *testing.T) {
	s := newStream(&media.Track{Kind: media.KindUnknown})
	b, err := json.Marshal(s.json("mpegts"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "codec_type") {
		t.Errorf("codec_type printed for an unknown stream: %s", b)
	}
	s = newStream(&media.Track{Kind: media.KindData})
	if b, _ = json.Marshal(s.json("mpegts")); !strings.Contains(string(b), `"codec_type":"data"`) {
		t.Errorf("data stream JSON lacks codec_type: %s", b)
	}
}

// TestCompareRealWorldParity checks the real-world split: a parity field
// ffprobe has a value for is strict for every codec; one it has none for
// is logged as such.
func TestCompareRealWorldParity(t *testing.T) {
	want := doc{Streams: []map[string]any{{"index": json.Number("0"), "codec_name": "mpeg4", "codec_type": "video",
		"color_range": "tv", "tags": map[string]any{"handler_name": "VideoHandler"}}}}
	got := doc{Streams: []map[string]any{{"index": json.Number("0"), "codec_name": "mpeg4", "codec_type": "video",
		"pix_fmt": "yuv420p", "tags": map[string]any{"handler_name": "VideoHandler", "encoder": "x"}}}}
	strict, soft := compareRealWorld(got, want)
	if len(strict) != 1 || !strings.Contains(strict[0], "color_range") {
		t.Errorf("strict = %q, want the color_range difference only", strict)
	}
	var none int
	for _, d := range soft {
		if strings.HasPrefix(d, "ffprobe has none: ") {
			none++
		}
	}
	if none != 2 {
		t.Errorf("soft = %q, want pix_fmt and tags.encoder as \"ffprobe has none\"", soft)
	}
}

// fakeDemuxer yields fixed sample records.
type fakeDemuxer struct {
	tracks  []*media.Track
	samples []media.Sample
}

func (f *fakeDemuxer) Format() string         { return "mp4" }
func (f *fakeDemuxer) Tracks() []*media.Track { return f.tracks }
func (f *fakeDemuxer) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		for _, s := range f.samples {
			if !yield(s, nil) {
				return
			}
		}
	}
}
func (f *fakeDemuxer) ReadSample(s *media.Sample, buf []byte) ([]byte, error) { return s.Data, nil }

// TestWalkVideoDelay checks that the sample-table walk feeds the delay
// estimate in decode order for MP4 (limit < 0) and not for MPEG-TS, whose
// demuxer libavformat gives no such estimate.
func TestWalkVideoDelay(t *testing.T) {
	tr := &media.Track{ID: 1, Kind: media.KindVideo, Codec: media.CodecH264, Timescale: 25}
	// b-pyramid: I0 P4 B2 b1 b3 in decode order.
	pts := []int64{0, 4, 2, 1, 3, 8, 6, 5, 7}
	d := &fakeDemuxer{tracks: []*media.Track{tr}}
	for i, p := range pts {
		d.samples = append(d.samples, media.Sample{TrackID: 1, Index: int64(i), DTS: int64(i) - 2, PTS: p, Duration: 1, Offset: int64(100 * i), Size: 100})
	}
	for _, c := range []struct {
		limit int64
		want  int
	}{{-1, 2}, {1000, 0}} {
		stats, _, err := walkSamplesAll(context.Background(), d, d.tracks, 10_000, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := stats[1].delay.max; got != c.want {
			t.Errorf("limit %d: delay %d, want %d", c.limit, got, c.want)
		}
	}
}
