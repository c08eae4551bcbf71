package mp4

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

func segmentOf(t *testing.T, path string) Segment {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	return Segment{R: bytes.NewReader(b), Size: int64(len(b))}
}

// TestSegmentReaderFixture reads the CMAF fixture's init and media
// segments separately and checks them against ffprobe's packets for the
// same bytes concatenated (init_and_segs.mp4).
func TestSegmentReaderFixture(t *testing.T) {
	dir := filepath.Join(fixtures, "cmaf")
	segs, _ := filepath.Glob(filepath.Join(dir, "seg_*.m4s"))
	if len(segs) == 0 {
		t.Skip("no CMAF fixture")
	}
	sortNatural(segs)
	var ms []Segment
	for _, s := range segs {
		ms = append(ms, segmentOf(t, s))
	}
	r, err := NewSegmentReader(segmentOf(t, filepath.Join(dir, "init.mp4")), ms)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Fragmented() || len(r.Fragments()) < len(segs) {
		t.Errorf("Fragmented %v with %d moofs for %d segments", r.Fragmented(), len(r.Fragments()), len(segs))
	}
	comparePackets(t, r, loadPackets(t, filepath.Join(dir, "init_and_segs.mp4.packets.json")), false)

	// Offsets map back to the segment files.
	for s, err := range r.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		seg, local := r.Locate(s.Offset)
		if seg < 1 || seg > len(segs) {
			t.Fatalf("sample %d at %d: segment %d", s.Index, s.Offset, seg)
		}
		raw, _ := os.ReadFile(segs[seg-1])
		got, err := r.ReadSample(&s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, raw[local:local+int64(s.Size)]) {
			t.Fatalf("sample %d: payload differs from %s at %d", s.Index, segs[seg-1], local)
		}
	}
}

// sortNatural sorts seg_2 before seg_10.
func sortNatural(s []string) {
	key := func(p string) (int, string) { return len(p), p }
	for i := 1; i < len(s); i++ {
		for j := i; j > 0; j-- {
			li, pi := key(s[j])
			lj, pj := key(s[j-1])
			if li < lj || li == lj && pi < pj {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
	}
}

// sharedSegments are init + media segment sets from ../shared/media.
var sharedSegments = []struct {
	init string
	segs []string
}{
	{"androidx/cmaf_multi_segment/video_init.mp4", []string{"androidx/cmaf_multi_segment/video_1.m4s", "androidx/cmaf_multi_segment/video_2.m4s", "androidx/cmaf_multi_segment/video_3.m4s"}},
	{"androidx/cmaf_multi_segment/audio_init.mp4", []string{"androidx/cmaf_multi_segment/audio_1.m4s", "androidx/cmaf_multi_segment/audio_2.m4s"}},
	{"androidx/dash_multi_track/init-stream0.m4s", []string{"androidx/dash_multi_track/chunk-stream0-00001.m4s"}},
	{"androidx/dash_multi_track/init-stream1.m4s", []string{"androidx/dash_multi_track/chunk-stream1-00001.m4s"}},
	{"androidx/hls_multi_segment/init.mp4", []string{"androidx/hls_multi_segment/playlist0.m4s", "androidx/hls_multi_segment/playlist1.m4s"}},
	{"mp4ff/v300_init_seg/init.mp4", []string{"mp4ff/v300_init_seg/1.m4s"}},
	{"mp4ff/a48_init_seg/init.mp4", []string{"mp4ff/a48_init_seg/1.m4s"}},
	{"mp4ff/hvc1_init_seg/init.mp4", []string{"mp4ff/hvc1_init_seg/1.m4s"}},
	{"shaka/multiple_trun/init.mp4", []string{"shaka/multiple_trun/segment.mp4"}},
	{"shaka/sintel_video/init.mp4", []string{"shaka/sintel_video/segment.mp4"}},
	{"shaka/sintel_audio/init.mp4", []string{"shaka/sintel_audio/segment.mp4"}},
	{"shaka/hls_mp4_muxed_aac_h264/init.mp4", []string{"shaka/hls_mp4_muxed_aac_h264/hls11.m4s"}},
	{"shaka/dash_mpd_alternate/init.mp4", []string{"shaka/dash_mpd_alternate/0001.m4s", "shaka/dash_mpd_alternate/0002.m4s"}},
}

// TestSegmentReaderShared checks init + media segments from other
// projects against a live ffprobe of the concatenated bytes.
func TestSegmentReaderShared(t *testing.T) {
	root := "../../shared/media/fetched"
	if _, err := os.Stat(root); err != nil {
		t.Skip("../shared/media absent")
	}
	ffprobe := needTool(t, "ffprobe")
	for _, c := range sharedSegments {
		t.Run(c.init, func(t *testing.T) {
			init := segmentOf(t, filepath.Join(root, c.init))
			all, _ := os.ReadFile(filepath.Join(root, c.init))
			var ms []Segment
			for _, s := range c.segs {
				ms = append(ms, segmentOf(t, filepath.Join(root, s)))
				b, _ := os.ReadFile(filepath.Join(root, s))
				all = append(all, b...)
			}
			r, err := NewSegmentReader(init, ms)
			if err != nil {
				t.Fatal(err)
			}
			tmp := filepath.Join(t.TempDir(), "cat.mp4")
			if err := os.WriteFile(tmp, all, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(ffprobe, "-v", "error", "-show_packets", "-show_entries",
				"packet=codec_type,stream_index,pts,dts,duration,size,flags", "-of", "json", tmp).Output()
			if err != nil {
				t.Fatalf("ffprobe: %v", err)
			}
			comparePackets(t, r, parsePackets(t, out), true)
		})
	}
}

// TestFFmpegVariants remuxes a fixture with ffmpeg's MP4 muxer options
// (negative composition offsets in ctts v1 and trun v1, fragments with
// and without samples in moov, one moof per track, implicit base
// offsets, sidx, CMAF) and compares each against a live ffprobe.
func TestFFmpegVariants(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg")
	ffprobe := needTool(t, "ffprobe")
	src := filepath.Join(fixtures, "h264_b.mp4")
	if _, err := os.Stat(src); err != nil {
		t.Skip(err)
	}
	variants := map[string]string{
		"ctts_v1_negative":        "+negative_cts_offsets",
		"frag_empty_moov_neg_cts": "frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets",
		"frag_samples_in_moov":    "frag_keyframe",
		"separate_moof":           "frag_keyframe+empty_moov+separate_moof+omit_tfhd_offset",
		"dash_global_sidx":        "frag_keyframe+empty_moov+dash+global_sidx",
		"cmaf":                    "cmaf",
		"faststart":               "+faststart",
	}
	dir := t.TempDir()
	for name, flags := range variants {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name+".mp4")
			cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-y", "-i", src, "-map", "0", "-c", "copy", "-movflags", flags, out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg -movflags %s: %v\n%s", flags, err, b)
			}
			r := openFile(t, out)
			pk, err := exec.Command(ffprobe, "-v", "error", "-show_packets", "-show_entries",
				"packet=codec_type,stream_index,pts,dts,duration,size,flags", "-of", "json", out).Output()
			if err != nil {
				t.Fatal(err)
			}
			comparePackets(t, r, parsePackets(t, pk), true)
		})
	}
}

// TestStrictOpenDamage: damage NewReader finds while opening (the last
// mdat or fragment cut short, garbage after the movie) is a warning when
// reading leniently and, with WithStrict, the error NewReader and
// NewSegmentReader fail with, positioned at the damaged box.
func TestStrictOpenDamage(t *testing.T) {
	whole, err := os.ReadFile(filepath.Join(fixtures, "h264_faststart.mp4"))
	if err != nil {
		t.Skip(err)
	}
	boxes, err := ReadBoxes(bytes.NewReader(whole), int64(len(whole)))
	if err != nil {
		t.Fatal(err)
	}
	var mdat int64 = -1
	for _, b := range boxes {
		if b.Type == "mdat" {
			mdat = b.Offset
		}
	}
	if mdat < 0 {
		t.Fatal("no mdat in h264_faststart.mp4")
	}
	garbage := append(append([]byte{}, whole...), 0, 0, 0, 3, 'j', 'u', 'n', 'k', 1, 2, 3, 4)
	seg := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixtures, "cmaf", name))
		if err != nil {
			t.Skip(err)
		}
		return b
	}
	init, seg2 := seg("init.mp4"), seg("seg_2.m4s")
	cutSeg := seg2[:len(seg2)/2]
	cases := []struct {
		name string
		open func(opts ...Option) (*Reader, error)
		at   int64 // offset of the error
	}{
		{"mdat cut", func(opts ...Option) (*Reader, error) {
			b := whole[:len(whole)-1000]
			return NewReader(bytes.NewReader(b), int64(len(b)), opts...)
		}, mdat},
		{"garbage after the movie", func(opts ...Option) (*Reader, error) {
			return NewReader(bytes.NewReader(garbage), int64(len(garbage)), opts...)
		}, int64(len(whole))},
		{"segment cut (--init)", func(opts ...Option) (*Reader, error) {
			return NewSegmentReader(Segment{R: bytes.NewReader(init), Size: int64(len(init))},
				[]Segment{{R: bytes.NewReader(cutSeg), Size: int64(len(cutSeg))}}, opts...)
		}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.open()
			if err != nil {
				t.Fatalf("lenient: %v", err)
			}
			if len(r.Warnings()) == 0 {
				t.Fatal("lenient: no warning")
			}
			w := r.Warnings()[0]
			_, err = c.open(WithStrict(true))
			var pe *media.PosError
			if !errors.As(err, &pe) {
				t.Fatalf("strict: %v, want a *media.PosError", err)
			}
			if pe.Offset != w.Offset || pe.What != w.What {
				t.Errorf("strict error %v, lenient warning %v: want the same place", pe, w)
			}
			if c.at >= 0 && pe.Offset != c.at {
				t.Errorf("strict error at %d, want %d", pe.Offset, c.at)
			}
		})
	}
}
