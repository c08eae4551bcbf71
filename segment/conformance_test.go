package segment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/hls-m3u8/m3u8"

	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/remux"
	"github.com/streamkit-go/streamkit/segment"
)

// TestPackagingConformance packages every fixture of testdata/media and
// every ../shared/media file with video (CMAF, 2 s target, HLS
// playlists) and checks the result with ffprobe, as a player would see it:
//
//   - timeline: for every rendition, ffprobe of init + all segments gives
//     the source's start (as ffprobe applies the source's edit list)
//     relative to the other tracks, within 1 ms, and the source's
//     duration within one frame; what the source hides before its time
//     zero (AAC priming, a cut's pre-roll) is not counted as shown;
//   - BANDWIDTH of every variant is at least the rate of every one of its
//     segments plus the highest audio segment rate, and at least
//     AVERAGE-BANDWIDTH;
//   - under EXT-X-INDEPENDENT-SEGMENTS, every video segment probed alone
//     (init + segment) presents a key frame first.
//
// Shared files that remux --to cmaf rejects too are skipped, saying why.
// STREAMKIT_SHARED names the shared folder when it is not ../shared.
// Without ffprobe (or ../shared) the test skips; STREAMKIT_REQUIRE_TOOLS=1
// makes a missing ffprobe a failure.
func TestPackagingConformance(t *testing.T) {
	ffprobe := testtool.Path(t, "ffprobe")
	var files []string
	for _, pat := range []string{"*.mp4", "*.ts", "*.m4a"} {
		m, _ := filepath.Glob(filepath.Join("..", "testdata", "media", pat))
		files = append(files, m...)
	}
	shared := filepath.Join("..", "..", "shared", "media")
	if dir := os.Getenv("STREAMKIT_SHARED"); dir != "" {
		shared = filepath.Join(dir, "media") // a checkout whose ../shared lives elsewhere
	}
	if manifest, err := os.ReadFile(filepath.Join(shared, "MANIFEST.tsv")); err != nil {
		t.Log("../shared/media not present: packaging the fixtures only")
	} else {
		for _, line := range strings.Split(string(manifest), "\n")[1:] {
			name, _, _ := strings.Cut(line, "\t")
			switch strings.ToLower(filepath.Ext(name)) {
			case ".mp4", ".ts", ".m4a", ".mov", ".m4v":
				files = append(files, filepath.Join(shared, name))
			}
		}
	}
	for _, file := range files {
		name := filepath.Base(file)
		if rel, err := filepath.Rel(shared, file); err == nil && !strings.HasPrefix(rel, "..") {
			name = "shared:" + strings.ReplaceAll(rel, "/", "_")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // ffprobe runs dominate: let them overlap
			shared := strings.HasPrefix(file, shared)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Skipf("not readable: %v", err)
			}
			d, err := media.Open(bytes.NewReader(b), int64(len(b)))
			if err == nil && shared && !hasVideo(d) {
				t.Skip("no video track")
			}
			dir := t.TempDir()
			var p *segment.Presentation
			if err == nil {
				p, err = segment.Cut(context.Background(), dir, []segment.Input{{Name: filepath.Base(file), Demuxer: d}},
					segment.WithTargetDuration(2*time.Second))
			}
			if err != nil {
				rerr := remux.Remux(context.Background(), file, filepath.Join(t.TempDir(), "cmaf"), remux.To(remux.CMAF))
				if shared && rerr != nil {
					t.Skipf("broken input: package says %v; remux --to cmaf rejects it too: %v", err, rerr)
				}
				t.Fatalf("package: %v (remux --to cmaf: %v)", err, rerr)
			}
			if _, err := hls.Write(dir, p); err != nil {
				t.Fatal(err)
			}
			src := probeStreams(t, ffprobe, file)
			out := checkTimeline(t, ffprobe, dir, p, src)
			checkBandwidth(t, dir, p)
			checkKeyFirst(t, p, out)
		})
	}
}

func hasVideo(d media.Demuxer) bool {
	for _, tr := range d.Tracks() {
		if tr.Kind == media.KindVideo {
			return true
		}
	}
	return false
}

// probed is what ffprobe says of one stream: its kind and frame timing,
// and from its packets where it starts and ends.
type probed struct {
	Index      int    `json:"index"`
	CodecType  string `json:"codec_type"`
	FrameRate  string `json:"avg_frame_rate"`
	Rate       string `json:"sample_rate"`
	FrameSize  int    `json:"frame_size"`
	start, end float64
	// pts and key of every packet, in decode order.
	pts []float64
	key []bool
}

// frame is the duration of one frame of the stream in seconds.
func (s probed) frame() float64 {
	if s.CodecType == "audio" {
		r, _ := strconv.ParseFloat(s.Rate, 64)
		n := float64(s.FrameSize)
		if n == 0 {
			n = 1024
		}
		if r > 0 {
			return n / r
		}
		return 0.032
	}
	num, den, ok := strings.Cut(s.FrameRate, "/")
	a, _ := strconv.ParseFloat(num, 64)
	b, _ := strconv.ParseFloat(den, 64)
	if !ok || a <= 0 || b <= 0 {
		return 0.1
	}
	return b / a
}

// probeStreams runs ffprobe on file. A stream starts at its first packet
// that is shown: packets flagged for discard (what an edit list hides)
// and presentation times before zero (what a CMAF header's edit list
// keeps before zero, which ffprobe does not flag in fragments) do not
// count. It ends where its last packet does.
func probeStreams(t *testing.T, ffprobe, file string) map[int]probed {
	t.Helper()
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries",
		"stream=index,codec_type,avg_frame_rate,sample_rate,frame_size:packet=stream_index,pts_time,duration_time,flags",
		"-of", "json", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var doc struct {
		Streams []probed
		Packets []struct {
			Stream   int    `json:"stream_index"`
			PTS      string `json:"pts_time"`
			Duration string `json:"duration_time"`
			Flags    string `json:"flags"`
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	m := map[int]probed{}
	for _, s := range doc.Streams {
		s.start, s.end = math.Inf(1), math.Inf(-1)
		m[s.Index] = s
	}
	for _, p := range doc.Packets {
		s, ok := m[p.Stream]
		pts, err := strconv.ParseFloat(p.PTS, 64)
		if !ok || err != nil {
			continue
		}
		d, _ := strconv.ParseFloat(p.Duration, 64)
		s.end = max(s.end, pts+d)
		if !strings.Contains(p.Flags, "D") {
			s.start = min(s.start, max(pts, 0))
		}
		s.pts = append(s.pts, pts)
		s.key = append(s.key, strings.HasPrefix(p.Flags, "K"))
		m[p.Stream] = s
	}
	return m
}

// checkTimeline returns ffprobe's view of every rendition (init + all
// segments), by rendition ID.
func checkTimeline(t *testing.T, ffprobe, dir string, p *segment.Presentation, src map[int]probed) map[string]probed {
	t.Helper()
	type got struct {
		r        *segment.Rendition
		src, out probed
	}
	var all []got
	outs := map[string]probed{}
	for _, r := range p.Renditions() {
		s, ok := src[r.Track.Index]
		if !ok {
			t.Errorf("%s: source stream %d not in ffprobe's list", r.ID, r.Track.Index)
			continue
		}
		file := filepath.Join(t.TempDir(), r.ID+".mp4")
		if err := os.WriteFile(file, readBack(t, dir, r), 0o644); err != nil {
			t.Fatal(err)
		}
		o := probeStreams(t, ffprobe, file)[0]
		outs[r.ID] = o
		all = append(all, got{r, s, o})
		if d := math.Abs((o.end - o.start) - (s.end - s.start)); d > s.frame()+0.001 {
			t.Errorf("%s: shown for %.4f s (from %.4f), source %.4f s (from %.4f): off by %.4f s, more than a frame (%.4f s)",
				r.ID, o.end-o.start, o.start, s.end-s.start, s.start, d, s.frame())
		}
	}
	// Offsets between tracks: every track against the first.
	for _, g := range all[1:] {
		ref := all[0]
		// Outputs may start elsewhere than the source (MPEG-TS time
		// stamps start at 1.4 s); the offsets between tracks must match.
		want := g.src.start - ref.src.start
		have := g.out.start - ref.out.start
		if math.Abs(have-want) > 0.001 {
			t.Errorf("%s starts %.4f s after %s, source %.4f s (shown from %.4f and %.4f, source %.4f and %.4f)",
				g.r.ID, have, ref.r.ID, want, g.out.start, ref.out.start, g.src.start, ref.src.start)
		}
	}
	return outs
}

// segmentRates returns the bit rate of every segment of a media playlist,
// from the playlist's EXTINF and the bytes on disk.
func segmentRates(t *testing.T, dir, uri string) (rates []float64, avg float64) {
	t.Helper()
	mp, ok := playlist(t, dir, uri).(*m3u8.MediaPlaylist)
	if !ok {
		t.Fatalf("%s is not a media playlist", uri)
	}
	var bits, secs float64
	for _, s := range mp.GetAllSegments() {
		size := s.Limit
		if size == 0 {
			fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s.URI)))
			if err != nil {
				t.Fatal(err)
			}
			size = fi.Size()
		}
		if s.Duration > 0 {
			rates = append(rates, float64(size)*8/s.Duration)
		}
		bits += float64(size) * 8
		secs += s.Duration
	}
	return rates, bits / secs
}

// playlist decodes the HLS playlist uri below dir.
func playlist(t *testing.T, dir, uri string) m3u8.Playlist {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(uri)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pl, _, err := m3u8.DecodeFrom(f, true)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func checkBandwidth(t *testing.T, dir string, p *segment.Presentation) {
	t.Helper()
	mv, ok := playlist(t, dir, hls.MultivariantName).(*m3u8.MasterPlaylist)
	if !ok {
		t.Fatal("master.m3u8 is not a multivariant playlist")
	}
	audioPeak := map[string]float64{}
	for _, v := range mv.Variants {
		for _, a := range v.Alternatives {
			if a.Type == "AUDIO" && a.URI != "" {
				rates, _ := segmentRates(t, dir, a.URI)
				for _, r := range rates {
					audioPeak[a.GroupId] = max(audioPeak[a.GroupId], r)
				}
			}
		}
	}
	for _, v := range mv.Variants {
		if v.Iframe {
			continue
		}
		rates, _ := segmentRates(t, dir, v.URI)
		for i, r := range rates {
			if need := r + audioPeak[v.Audio]; float64(v.Bandwidth) < need*0.999 {
				t.Errorf("%s: BANDWIDTH %d below segment %d's rate %.0f (with the audio group's peak %.0f)",
					v.URI, v.Bandwidth, i+1, need, audioPeak[v.Audio])
			}
		}
		if v.AverageBandwidth > v.Bandwidth {
			t.Errorf("%s: AVERAGE-BANDWIDTH %d above BANDWIDTH %d", v.URI, v.AverageBandwidth, v.Bandwidth)
		}
	}
}

// checkKeyFirst checks every video segment of a rendition under
// EXT-X-INDEPENDENT-SEGMENTS in ffprobe's view of the rendition: among
// the segment's packets (its samples, in decode order), the one presented
// first must be a key frame.
func checkKeyFirst(t *testing.T, p *segment.Presentation, outs map[string]probed) {
	t.Helper()
	for _, r := range p.Video {
		o, ok := outs[r.ID]
		if !r.Independent || !ok {
			continue
		}
		at := 0
		for _, s := range r.Segments {
			end := at + s.Samples
			if end > len(o.pts) {
				t.Errorf("%s: ffprobe lists %d packets, the segments hold %d or more", r.ID, len(o.pts), end)
				break
			}
			first := at
			for i := at; i < end; i++ {
				if o.pts[i] < o.pts[first] {
					first = i
				}
			}
			if at < end && !o.key[first] {
				t.Errorf("%s segment %d is under EXT-X-INDEPENDENT-SEGMENTS but presents a non-key frame first (pts %.4f)",
					r.ID, s.Number, o.pts[first])
			}
			at = end
		}
	}
}
