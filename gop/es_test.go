package gop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// esVector is an elementary stream from testdata/mkrefs.sh with ffprobe's
// verdict for each access unit.
type esVector struct {
	name  string
	codec media.Codec
	es    []byte
	ref   struct {
		FramesReported int `json:"frames_reported"`
		AUs            []struct {
			Pos        int    `json:"pos"`
			Size       int    `json:"size"`
			PTS        int64  `json:"pts"`
			DTS        int64  `json:"dts"`
			PictType   string `json:"pict_type"`
			KeyFrame   *int   `json:"key_frame"`
			Interlaced *int   `json:"interlaced_frame"`
			TFF        *int   `json:"top_field_first"`
		} `json:"aus"`
	}
}

func loadVectors(t testing.TB) []*esVector {
	t.Helper()
	names, err := filepath.Glob("testdata/*.es")
	if err != nil || len(names) == 0 {
		t.Fatalf("no test vectors: %v", err)
	}
	var out []*esVector
	for _, n := range names {
		v := &esVector{name: strings.TrimSuffix(filepath.Base(n), ".es")}
		switch strings.SplitN(v.name, "_", 2)[0] {
		case "h264":
			v.codec = media.CodecH264
		case "hevc":
			v.codec = media.CodecHEVC
		case "av1":
			v.codec = media.CodecAV1
		case "mpeg2":
			v.codec = media.CodecMPEG2Video
		case "mpeg4":
			v.codec = media.CodecMPEG4Video
		default:
			t.Fatalf("%s: unknown codec prefix", n)
		}
		if v.es, err = os.ReadFile(n); err != nil {
			t.Fatal(err)
		}
		j, err := os.ReadFile(strings.TrimSuffix(n, ".es") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(j, &v.ref); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out = append(out, v)
	}
	return out
}

func (v *esVector) au(i int) []byte {
	a := v.ref.AUs[i]
	return v.es[a.Pos : a.Pos+a.Size]
}

// toLengthPrefixed rewrites an Annex B access unit with size-byte length
// prefixes, as MP4 stores it.
func toLengthPrefixed(t testing.TB, au []byte, size int) []byte {
	var out []byte
	err := SplitNALUnits(au, 0, func(nal []byte, _ int) error {
		n := len(nal)
		for i := size - 1; i >= 0; i-- {
			out = append(out, byte(n>>(8*i)))
		}
		out = append(out, nal...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVectorsMatchFFprobe checks pict_type and key_frame of every access
// unit of the committed elementary streams against ffprobe -show_frames.
func TestVectorsMatchFFprobe(t *testing.T) {
	for _, v := range loadVectors(t) {
		modes := []int{0}
		if v.codec == media.CodecH264 || v.codec == media.CodecHEVC {
			modes = []int{0, 4, 2}
		}
		for _, ls := range modes {
			t.Run(v.name+"/len"+string(rune('0'+ls)), func(t *testing.T) {
				tr := &media.Track{ID: 1, Kind: media.KindVideo, Codec: v.codec, Config: media.CodecConfig{NALLengthSize: ls}}
				a, err := NewAnalyzer(tr)
				if err != nil {
					t.Fatal(err)
				}
				checked, keys := 0, 0
				for i, ref := range v.ref.AUs {
					au := v.au(i)
					if ls > 0 {
						au = toLengthPrefixed(t, au, ls)
					}
					s := media.Sample{TrackID: 1, Index: int64(i), PTS: ref.PTS, DTS: ref.DTS, Offset: int64(ref.Pos)}
					f, err := a.Analyze(&s, au)
					if err != nil {
						t.Fatalf("AU %d: %v", i, err)
					}
					if ref.KeyFrame == nil {
						continue // ffprobe did not output this frame
					}
					checked++
					if got := f.Type.String(); got != ref.PictType {
						t.Errorf("AU %d (pts %d): pict_type %s, ffprobe %s", i, ref.PTS, got, ref.PictType)
					}
					if f.Key != (*ref.KeyFrame == 1) {
						t.Errorf("AU %d (pts %d): key_frame %v, ffprobe %d", i, ref.PTS, f.Key, *ref.KeyFrame)
					}
					if f.Key {
						keys++
					}
					if ref.Interlaced != nil && (f.Interlaced != (*ref.Interlaced == 1) || f.TopFieldFirst != (*ref.TFF == 1)) {
						t.Errorf("AU %d (pts %d): interlaced %v tff %v, ffprobe %d %d", i, ref.PTS, f.Interlaced, f.TopFieldFirst, *ref.Interlaced, *ref.TFF)
					}
				}
				if checked != v.ref.FramesReported {
					t.Errorf("matched %d of ffprobe's %d frames", checked, v.ref.FramesReported)
				}
				if keys == 0 {
					t.Errorf("no key frame found")
				}
			})
		}
	}
}
