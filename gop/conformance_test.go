package gop_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	_ "github.com/streamkit-go/streamkit/ts"
)

func parseFFFrames(t *testing.T, b []byte) []gop.FFprobeFrame {
	t.Helper()
	frames, err := gop.ReadFFprobeFrames(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// liveFFprobe runs ffprobe -show_frames on path, or skips (fails when
// STREAMKIT_REQUIRE_TOOLS=1) when ffprobe is not installed. A positive
// limit reads only the first limit seconds (ffprobe -read_intervals).
func liveFFprobe(t *testing.T, path string, limit int) []gop.FFprobeFrame {
	t.Helper()
	bin := testtool.Path(t, "ffprobe")
	args := []string{"-v", "error", "-select_streams", "v", "-show_frames",
		"-show_entries", "frame=media_type,stream_index,key_frame,pts,pict_type,interlaced_frame,top_field_first", "-of", "json"}
	if limit > 0 {
		args = append(args, "-read_intervals", fmt.Sprintf("%%+%d", limit))
	}
	out, err := exec.Command(bin, append(args, path)...).Output()
	if err != nil {
		t.Skipf("ffprobe cannot read %s: %v", path, err)
	}
	return parseFFFrames(t, out)
}

// analyzeFile opens path with the registered readers and analyses every
// video track, keyed by stream index.
func analyzeFile(t *testing.T, path string) (map[int][]gop.Frame, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d, err := media.Open(f, st.Size())
	if err != nil {
		return nil, err
	}
	out := map[int][]gop.Frame{}
	for pos, tr := range d.Tracks() {
		if tr.Kind != media.KindVideo {
			continue
		}
		var opts []gop.Option
		if r, ok := d.(*mp4.Reader); ok {
			opts = append(opts, gop.WithTimestamps(r.FFprobeTimestamps(pos)))
		}
		frames, err := gop.ReadFrames(context.Background(), d, tr, opts...)
		if err != nil {
			return nil, fmt.Errorf("stream %d: %w", tr.Index, err)
		}
		out[tr.Index] = frames
	}
	return out, nil
}

// compareFrames checks pict_type and key_frame (and interlaced_frame and
// top_field_first) of every ffprobe frame against ours (matched by pts) and that our GOP starts are ffprobe's key
// frames. It returns the number of frames compared.
func compareFrames(t *testing.T, ours map[int][]gop.Frame, ff []gop.FFprobeFrame) int {
	t.Helper()
	type key struct {
		stream int
		pts    int64
	}
	byPTS := map[key]*gop.Frame{}
	for si, frames := range ours {
		for i := range frames {
			if !frames[i].Discarded {
				byPTS[key{si, frames[i].PTS}] = &frames[i]
			}
		}
	}
	n, bad := 0, 0
	ffKeys := map[int]map[int64]bool{}
	matched := map[int]map[int64]bool{}
	for _, r := range ff {
		if r.MediaType != "video" || r.PTS == nil {
			continue
		}
		if _, ok := ours[r.StreamIndex]; !ok {
			t.Errorf("ffprobe has video stream %d, we do not", r.StreamIndex)
			return n
		}
		f := byPTS[key{r.StreamIndex, *r.PTS}]
		if f == nil {
			bad++
			if bad <= 5 {
				t.Errorf("stream %d: ffprobe frame pts %d (%s) not found", r.StreamIndex, *r.PTS, r.PictType)
			}
			continue
		}
		n++
		if matched[r.StreamIndex] == nil {
			matched[r.StreamIndex] = map[int64]bool{}
			ffKeys[r.StreamIndex] = map[int64]bool{}
		}
		matched[r.StreamIndex][*r.PTS] = true
		if r.KeyFrame == 1 {
			ffKeys[r.StreamIndex][*r.PTS] = true
		}
		if f.Interlaced != (r.InterlacedFrame == 1) || f.TopFieldFirst != (r.TopFieldFirst == 1) {
			bad++
			if bad <= 5 {
				t.Errorf("stream %d pts %d: ours interlaced=%v tff=%v, ffprobe interlaced_frame=%d top_field_first=%d",
					r.StreamIndex, *r.PTS, f.Interlaced, f.TopFieldFirst, r.InterlacedFrame, r.TopFieldFirst)
			}
		}
		if f.Type.String() != r.PictType || f.Key != (r.KeyFrame == 1) {
			bad++
			if bad <= 5 {
				t.Errorf("stream %d pts %d (decode #%d): ours %s key=%v, ffprobe %s key_frame=%d",
					r.StreamIndex, *r.PTS, f.Index, f.Type, f.Key, r.PictType, r.KeyFrame)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d mismatches in all", bad)
	}
	// GOP boundaries: the starts of gop.Analyze's GOPs among the frames
	// ffprobe printed are exactly ffprobe's key frames.
	for si, frames := range ours {
		rep := gop.Analyze(frames, 1)
		var starts []int64
		for _, g := range rep.GOPs {
			if !g.Partial && matched[si][g.StartPTS] {
				starts = append(starts, g.StartPTS)
			}
		}
		var want []int64
		for p := range ffKeys[si] {
			want = append(want, p)
		}
		sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		if fmt.Sprint(starts) != fmt.Sprint(want) {
			t.Errorf("stream %d: GOP starts %v, ffprobe key frames %v", si, starts, want)
		}
	}
	return n
}

// TestConformanceFixtures compares every video fixture of testdata/media
// with its committed ffprobe -show_frames reference and, where ffprobe is
// installed, with a live run.
func TestConformanceFixtures(t *testing.T) {
	refs, _ := filepath.Glob("../testdata/media/*.frames.json")
	more, _ := filepath.Glob("../testdata/media/*/*.frames.json")
	refs = append(refs, more...)
	if len(refs) == 0 {
		t.Fatal("no ffprobe frame references in ../testdata/media")
	}
	for _, ref := range refs {
		path := strings.TrimSuffix(ref, ".frames.json")
		name, _ := filepath.Rel("../testdata/media", path)
		if !readable(path) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ours, err := analyzeFile(t, path)
			if err != nil {
				if isMissingReader(err) {
					t.Skipf("no reader yet: %v", err)
				}
				t.Fatal(err)
			}
			b, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			ff := parseFFFrames(t, b)
			if n := compareFrames(t, ours, ff); n == 0 && len(ff) > 0 {
				t.Errorf("no frame compared")
			}
			t.Run("live", func(t *testing.T) {
				compareFrames(t, ours, liveFFprobe(t, path, 0))
			})
		})
	}
}

// sharedLimit caps the live ffprobe run on each real file to its first
// minute: every file of ../shared/media but one 6-minute 1080p film is
// shorter, and decoding that one whole would dominate the test suite.
const sharedLimit = 60

// TestConformanceSharedMedia compares the real files under
// ../shared/media with a live ffprobe.
func TestConformanceSharedMedia(t *testing.T) {
	root := "../../shared/media/fetched"
	if _, err := os.Stat(root); err != nil {
		t.Skip("../shared/media not present")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	var files []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			switch strings.ToLower(filepath.Ext(p)) {
			case ".mp4", ".mov", ".ts", ".m4v":
				files = append(files, p)
			}
		}
		return nil
	})
	compared := 0
	for _, p := range files {
		name, _ := filepath.Rel(root, p)
		t.Run(name, func(t *testing.T) {
			ours, err := analyzeFile(t, p)
			if err != nil {
				t.Skipf("not analysable: %v", err)
			}
			if len(ours) == 0 {
				t.Skip("no video track")
			}
			compared += compareFrames(t, ours, liveFFprobe(t, p, sharedLimit))
		})
	}
	t.Logf("%d frames compared over %d files", compared, len(files))
}

func readable(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestConformanceSample compares the embedded demo ladder with a live
// ffprobe.
func TestConformanceSample(t *testing.T) {
	files, _ := filepath.Glob("../sample/media/*.mp4")
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			ours, err := analyzeFile(t, p)
			if err != nil {
				t.Fatal(err)
			}
			if n := compareFrames(t, ours, liveFFprobe(t, p, 0)); n == 0 {
				t.Error("no frame compared")
			}
		})
	}
}

// TestConformanceSharedSegments joins each init segment of ../shared/media
// with its media segments (init.mp4 + 1.m4s + 2.m4s ...) and compares the
// result with a live ffprobe, so fragmented files that are only playable
// that way are covered too.
func TestConformanceSharedSegments(t *testing.T) {
	root := "../../shared/media/fetched"
	if _, err := os.Stat(root); err != nil {
		t.Skip("../shared/media not present")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	var inits []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), "init") {
			inits = append(inits, p)
		}
		return nil
	})
	for _, in := range inits {
		dir, base := filepath.Split(in)
		key := strings.TrimSuffix(strings.Replace(base, "init", "", 1), filepath.Ext(base))
		entries, _ := os.ReadDir(dir)
		var segs []string
		for _, e := range entries {
			n := e.Name()
			ext := filepath.Ext(n)
			if n == base || strings.Contains(n, "init") || (ext != ".m4s" && ext != ".mp4") || !strings.Contains(n, key) {
				continue
			}
			segs = append(segs, n)
		}
		if len(segs) == 0 {
			continue
		}
		sort.Slice(segs, func(i, j int) bool { return naturalLess(segs[i], segs[j]) })
		name, _ := filepath.Rel(root, in)
		t.Run(name, func(t *testing.T) {
			joined, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range segs {
				b, err := os.ReadFile(filepath.Join(dir, s))
				if err != nil {
					t.Fatal(err)
				}
				joined = append(joined, b...)
			}
			p := filepath.Join(t.TempDir(), "joined.mp4")
			if err := os.WriteFile(p, joined, 0o644); err != nil {
				t.Fatal(err)
			}
			ours, err := analyzeFile(t, p)
			if err != nil {
				t.Skipf("not analysable: %v", err)
			}
			if len(ours) == 0 {
				t.Skip("no video track")
			}
			if n := compareFrames(t, ours, liveFFprobe(t, p, sharedLimit)); n == 0 {
				t.Errorf("no frame compared (%d segments)", len(segs))
			}
		})
	}
}

// naturalLess orders "seg2" before "seg10".
func naturalLess(a, b string) bool {
	num := func(s string) (string, int) {
		s = strings.TrimSuffix(s, filepath.Ext(s))
		i := len(s)
		for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
			i--
		}
		n := 0
		for _, c := range s[i:] {
			n = n*10 + int(c-'0')
		}
		return s[:i], n
	}
	pa, na := num(a)
	pb, nb := num(b)
	if pa != pb {
		return pa < pb
	}
	return na < nb
}
