package mp4

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
)

// TestCutMoovLikeFFprobe cuts h264_moovend.mp4 (mdat first, moov last)
// inside every box of its moov, at the box's 9th byte and its middle,
// and compares with a live ffprobe on the same bytes: the file is
// refused where ffprobe refuses it; otherwise the same streams (type and
// codec name) with the same number of packets each (repairCutMoov,
// checkCutTrak).
func TestCutMoovLikeFFprobe(t *testing.T) {
	ffprobe := testtool.Path(t, "ffprobe")
	whole, err := os.ReadFile(filepath.Join(fixtures, "h264_moovend.mp4"))
	if err != nil {
		t.Skip(err)
	}
	boxes, err := ReadBoxes(bytes.NewReader(whole), int64(len(whole)))
	if err != nil {
		t.Fatal(err)
	}
	var cuts []int64
	var walk func(bs []*Box, in bool)
	walk = func(bs []*Box, in bool) {
		for _, b := range bs {
			inside := in || b.Type == "moov"
			if inside {
				cuts = append(cuts, b.Offset+9, b.Offset+b.Size/2)
			}
			walk(b.Children, inside)
		}
	}
	walk(boxes, false)
	if len(cuts) < 40 {
		t.Fatalf("only %d cuts", len(cuts))
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, cut := range cuts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b := whole[:cut]
			f := filepath.Join(dir, fmt.Sprint(i, ".mp4"))
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Error(err)
				return
			}
			out, ferr := exec.Command(ffprobe, "-v", "error", "-count_packets", "-show_entries",
				"stream=codec_type,codec_name,nb_read_packets", "-of", "json", f).Output()
			want := "refused"
			if ferr == nil {
				var doc struct {
					Streams []struct {
						CodecType string `json:"codec_type"`
						CodecName string `json:"codec_name"`
						Packets   string `json:"nb_read_packets"`
					} `json:"streams"`
				}
				if err := json.Unmarshal(out, &doc); err != nil {
					t.Error(err)
					return
				}
				want = ""
				for _, s := range doc.Streams {
					if s.Packets == "" {
						s.Packets = "0" // a stream without an index
					}
					want += fmt.Sprintf("[%s %s %s]", s.CodecType, s.CodecName, s.Packets)
				}
			}
			got := "refused"
			r, err := NewReader(bytes.NewReader(b), int64(len(b)))
			if err == nil {
				n := map[int]int{}
				for s, err := range r.Samples() {
					if err != nil {
						break
					}
					n[s.TrackID]++
				}
				got = ""
				for _, tr := range r.Tracks() {
					codec := string(tr.Codec)
					if tr.Kind != media.KindVideo && tr.Kind != media.KindAudio {
						codec = ""
					}
					got += fmt.Sprintf("[%s %s %d]", tr.Kind, codec, n[tr.ID])
				}
				if len(r.Warnings()) == 0 {
					t.Errorf("cut at %d: no warning", cut)
				}
			}
			if got != want {
				t.Errorf("cut at %d: %s, ffprobe %s (%v)", cut, got, want, err)
			}
		}()
	}
	wg.Wait()
}

// TestCutMoofLikeFFprobe cuts h264_frag.mp4 inside every box of its last
// moof (at bytes 10, 12 and the middle of each) and checks that
// NewReader refuses the file exactly where a live ffprobe does
// (cutInTrun), and otherwise reads it with a warning.
func TestCutMoofLikeFFprobe(t *testing.T) {
	ffprobe := testtool.Path(t, "ffprobe")
	whole, err := os.ReadFile(filepath.Join(fixtures, "h264_frag.mp4"))
	if err != nil {
		t.Skip(err)
	}
	boxes, err := ReadBoxes(bytes.NewReader(whole), int64(len(whole)))
	if err != nil {
		t.Fatal(err)
	}
	var last *Box
	for _, b := range boxes {
		if b.Type == "moof" {
			last = b
		}
	}
	if last == nil {
		t.Fatal("no moof")
	}
	var cuts []int64
	var walk func(b *Box)
	walk = func(b *Box) {
		cuts = append(cuts, b.Offset+10, b.Offset+12, b.Offset+b.Size/2)
		for _, c := range b.Children {
			walk(c)
		}
	}
	walk(last)
	dir := t.TempDir()
	refused := 0
	for i, cut := range cuts {
		b := whole[:cut]
		f := filepath.Join(dir, fmt.Sprint(i, ".mp4"))
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ferr := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=nb_streams", "-of", "json", f).Run()
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		switch {
		case (ferr != nil) != (err != nil):
			t.Errorf("cut at %d: error %v, ffprobe's %v", cut, err, ferr)
		case err == nil && len(r.Warnings()) == 0:
			t.Errorf("cut at %d: no warning", cut)
		case err != nil:
			refused++
		}
	}
	if refused == 0 || refused == len(cuts) {
		t.Errorf("%d of %d cuts refused: the test no longer tells the rules apart", refused, len(cuts))
	}
}
