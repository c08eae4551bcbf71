package segment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/segment"
	"github.com/streamkit-go/streamkit/ts"
)

// modes are the segment layouts every test runs over.
var modes = []struct {
	name string
	opts []segment.Option
}{
	{"cmaf", nil},
	{"cmaf-time", []segment.Option{segment.WithNaming(segment.ByTime)}},
	{"cmaf-byterange", []segment.Option{segment.WithByteRange()}},
	{"ts", []segment.Option{segment.WithTS()}},
	{"ts-byterange", []segment.Option{segment.WithTS(), segment.WithByteRange()}},
}

func sampleInputs(t testing.TB) []segment.Input {
	t.Helper()
	var ins []segment.Input
	for _, n := range append(sample.Videos(), sample.Audio) {
		r, size, err := sample.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		d, err := mp4.NewReader(r, size)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, segment.Input{Name: n, Demuxer: d})
	}
	return ins
}

func fileInputs(t testing.TB, names ...string) []segment.Input {
	t.Helper()
	var ins []segment.Input
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "media", n))
		if err != nil {
			t.Fatal(err)
		}
		d, err := media.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, segment.Input{Name: n, Demuxer: d})
	}
	return ins
}

// readBack returns the bytes of a rendition as a player sees them: the
// init followed by every segment's byte range.
func readBack(t *testing.T, dir string, r *segment.Rendition) []byte {
	t.Helper()
	var out []byte
	if r.Init != nil {
		out = append(out, readRange(t, dir, *r.Init)...)
	}
	for _, s := range r.Segments {
		out = append(out, readRange(t, dir, s.Range)...)
	}
	return out
}

func readRange(t *testing.T, dir string, rg segment.Range) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rg.URI)))
	if err != nil {
		t.Fatal(err)
	}
	if rg.Offset < 0 || rg.Offset+rg.Size > int64(len(b)) {
		t.Fatalf("%s: range %d+%d outside the %d-byte file", rg.URI, rg.Offset, rg.Size, len(b))
	}
	return b[rg.Offset : rg.Offset+rg.Size]
}

// samplesOf reads every sample record of the only track of data.
func samplesOf(t *testing.T, data []byte) (*media.Track, []media.Sample) {
	t.Helper()
	d, err := media.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tracks()) != 1 {
		t.Fatalf("%d tracks, want 1", len(d.Tracks()))
	}
	var out []media.Sample
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		s.Data = nil
		out = append(out, s)
	}
	return d.Tracks()[0], out
}

func TestCutSampleLadder(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			ins := sampleInputs(t)
			p, err := segment.Cut(context.Background(), dir, ins, append(m.opts, segment.WithTargetDuration(2*time.Second))...)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Video) != 3 || len(p.Audio) != 1 {
				t.Fatalf("%d video and %d audio renditions, want 3 and 1", len(p.Video), len(p.Audio))
			}
			for i := 1; i < len(p.Video); i++ {
				if p.Video[i].AverageBandwidth <= p.Video[i-1].AverageBandwidth {
					t.Errorf("video renditions not ordered by bandwidth")
				}
			}
			ref := p.Video[0]
			for _, r := range p.Renditions() {
				if len(r.Segments) != 4 {
					t.Errorf("%s: %d segments, want 4 (8 s at 2 s)", r.ID, len(r.Segments))
				}
				if d := r.Duration(); d < 7.9 || d > 8.1 {
					t.Errorf("%s: duration %.3f s, want 8", r.ID, d)
				}
				if r.Bandwidth < r.AverageBandwidth || r.AverageBandwidth <= 0 {
					t.Errorf("%s: peak %d < average %d", r.ID, r.Bandwidth, r.AverageBandwidth)
				}
				// The source's time zero is at PresentationTimeOffset:
				// the video starts there, the audio earlier by its
				// encoder priming.
				next := r.Segments[0].Start
				if r.Track.Kind == media.KindVideo && next != r.PresentationTimeOffset {
					t.Errorf("%s: starts at %d, source time zero at %d", r.ID, next, r.PresentationTimeOffset)
				}
				for i, s := range r.Segments {
					if s.Number != i+1 || s.Start != next || s.Duration <= 0 || s.Size <= 0 {
						t.Errorf("%s: segment %+v does not follow the previous one (want start %d)", r.ID, s, next)
					}
					next = s.Start + s.Duration
				}
				if r.Track.Kind == media.KindVideo {
					// Aligned boundaries across renditions.
					for i, s := range r.Segments {
						if r.Seconds(s.Start) != ref.Seconds(ref.Segments[i].Start) {
							t.Errorf("%s segment %d starts at %v, %s at %v", r.ID, i+1, r.Seconds(s.Start), ref.ID, ref.Seconds(ref.Segments[i].Start))
						}
					}
					if len(r.IFrames) != 4 {
						t.Errorf("%s: %d key frames, want 4 (2 s GOPs)", r.ID, len(r.IFrames))
					}
				}
			}
		})
	}
}

// TestReadBackMatchesInput reads each packaged rendition back with
// streamkit's own readers and compares its samples with the input's.
func TestReadBackMatchesInput(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			ins := sampleInputs(t)
			p, err := segment.Cut(context.Background(), dir, ins, m.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range p.Renditions() {
				in := ins[i]
				want := collect(t, in.Demuxer)
				_, got := samplesOf(t, readBack(t, dir, r))
				isTS := strings.HasPrefix(m.name, "ts")
				if isTS && r.Track.Kind == media.KindAudio {
					// MPEG-TS leaves out the audio the source's edit
					// list hides before zero (encoder priming).
					tr := in.Demuxer.Tracks()[0]
					for len(want) > 0 && want[0].PTS+media.EditShift(tr)+int64(want[0].Duration) <= 0 {
						want = want[1:]
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%s: %d samples, want %d", r.ID, len(got), len(want))
				}
				for k := range got {
					g, w := got[k], want[k]
					if g.Sync != w.Sync && r.Track.Kind == media.KindVideo {
						t.Fatalf("%s sample %d: sync %v, want %v", r.ID, k, g.Sync, w.Sync)
					}
					if !isTS && g.Size != w.Size {
						t.Fatalf("%s sample %d: %d bytes, want %d", r.ID, k, g.Size, w.Size)
					}
					// Timestamps relative to the first sample, in seconds
					// (TS rescales to 90 kHz).
					gs := float64(g.PTS-got[0].PTS) / float64(tsOf(r, isTS))
					ws := float64(w.PTS-want[0].PTS) / float64(r.Timescale)
					if d := gs - ws; d > 1e-4 || d < -1e-4 {
						t.Fatalf("%s sample %d: relative PTS %.5f s, want %.5f s", r.ID, k, gs, ws)
					}
				}
			}
		})
	}
}

func tsOf(r *segment.Rendition, isTS bool) uint32 {
	if isTS {
		return ts.Timescale
	}
	return r.Timescale
}

func collect(t *testing.T, d media.Demuxer) []media.Sample {
	t.Helper()
	var out []media.Sample
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestMisalignedRefused(t *testing.T) {
	dir := t.TempDir()
	_, err := segment.Cut(context.Background(), dir, fileInputs(t, "ladder_270.mp4", "ladder_360.mp4", "ladder_misaligned.mp4"),
		segment.WithTargetDuration(2*time.Second))
	if !errors.Is(err, segment.ErrMisaligned) {
		t.Fatalf("err = %v, want ErrMisaligned", err)
	}
	var me *segment.MisalignedError
	if !errors.As(err, &me) || me.Report == nil {
		t.Fatalf("err %T carries no alignment report", err)
	}
	// Key frames at 0, 1.8, 3.6, 5.4 s against 0, 2, 4 s: both
	// boundaries fail, and the misaligned file is the odd one out.
	if len(me.Report.Misaligned) != 2 {
		t.Errorf("%d misaligned boundaries, want 2: %v", len(me.Report.Misaligned), me.Report)
	}
	for _, b := range me.Report.Misaligned {
		if len(b.Odd) != 1 || b.Odd[0] != "ladder_misaligned.mp4" {
			t.Errorf("boundary %.3f s: odd ones %v, want the misaligned file", b.Time, b.Odd)
		}
	}
	for _, want := range []string{"ladder_misaligned.mp4", "missing keyframe", "2.000", "4.000", "3.600", "5.400"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("report is not one line: %q", err)
	}
	if _, err := segment.Cut(context.Background(), t.TempDir(), fileInputs(t, "ladder_270.mp4", "ladder_360.mp4")); err != nil {
		t.Fatalf("aligned ladder refused: %v", err)
	}
}

// TestCutGrid checks where segments start: at the first key frame at or
// after each multiple of the target.
func TestCutGrid(t *testing.T) {
	for _, c := range []struct {
		target time.Duration
		want   []float64 // segment start times, s
	}{
		{2 * time.Second, []float64{0, 2, 4, 6}},
		{3 * time.Second, []float64{0, 4, 6}},
		{4 * time.Second, []float64{0, 4}},
		{5 * time.Second, []float64{0, 6}},
		{10 * time.Second, []float64{0}},
	} {
		p, err := segment.Cut(context.Background(), t.TempDir(), sampleInputs(t)[:1], segment.WithTargetDuration(c.target))
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		for _, s := range p.Video[0].Segments {
			got = append(got, p.Video[0].Seconds(s.Start-p.Video[0].PresentationTimeOffset))
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("target %v: segments start at %v, want %v", c.target, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	if p, err := segment.Cut(context.Background(), t.TempDir(), fileInputs(t, "aac.m4a")); err != nil || len(p.Video) != 0 || len(p.Audio) != 1 || len(p.Audio[0].Segments) == 0 {
		t.Errorf("audio only: err = %v, want an audio-only presentation", err)
	}
	if _, err := segment.Cut(context.Background(), t.TempDir(), fileInputs(t, "h264_nob.mp4"), segment.WithTargetDuration(time.Millisecond)); err == nil {
		t.Errorf("1 ms target accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := segment.Cut(ctx, t.TempDir(), sampleInputs(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
	if _, err := segment.Cut(context.Background(), t.TempDir(), fileInputs(t, "opus.mp4", "h264_nob.mp4"), segment.WithTS()); !errors.Is(err, segment.ErrCodec) {
		t.Errorf("Opus in TS: err = %v, want ErrCodec", err)
	}
}

// TestInputs packages single files of every kind the readers produce:
// B-frames with an edit list, HEVC, MPEG-TS input (Annex B, ADTS).
func TestInputs(t *testing.T) {
	for _, name := range []string{"h264_b.mp4", "hevc_b_hvc1.mp4", "hevc_b_hev1.mp4", "h264_frag.mp4", "ts_single.ts", "ts_hevc.ts", "av1.mp4"} {
		for _, m := range modes[:4:4] {
			if m.name == "ts" && name == "av1.mp4" {
				continue
			}
			t.Run(name+"/"+m.name, func(t *testing.T) {
				dir := t.TempDir()
				ins := fileInputs(t, name)
				p, err := segment.Cut(context.Background(), dir, ins, append(m.opts, segment.WithTargetDuration(time.Second))...)
				if err != nil {
					t.Fatal(err)
				}
				want := map[int]int{}
				hidden := map[int]int{} // audio wholly before the edit list's zero
				shift := map[int]int64{}
				for _, tr := range ins[0].Demuxer.Tracks() {
					shift[tr.ID] = media.EditShift(tr)
				}
				for s, err := range ins[0].Demuxer.Samples() {
					if err != nil {
						t.Fatal(err)
					}
					want[s.TrackID]++
					if s.PTS+shift[s.TrackID]+int64(s.Duration) <= 0 {
						hidden[s.TrackID]++
					}
				}
				for _, r := range p.Renditions() {
					_, got := samplesOf(t, readBack(t, dir, r))
					if m.name == "ts" && r.Track.Kind == media.KindAudio {
						want[r.Track.ID] -= hidden[r.Track.ID] // MPEG-TS leaves priming out
					}
					if len(got) != want[r.Track.ID] || int64(len(got)) != r.Samples {
						t.Errorf("%s: %d samples read back, %d written, want %d", r.ID, len(got), r.Samples, want[r.Track.ID])
					}
				}
			})
		}
	}
}

// ffprobePackets runs ffprobe -show_packets on data (with -i pipe) and
// returns codec_type, size, flags and timestamps per packet.
type ffPacket struct {
	CodecType string `json:"codec_type"`
	PTS       int64  `json:"pts"`
	DTS       int64  `json:"dts"`
	Duration  int64  `json:"duration"`
	Size      string `json:"size"`
	Flags     string `json:"flags"`
}

func ffprobe(t *testing.T, path string) []ffPacket {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_packets", "-show_entries",
		"packet=codec_type,pts,dts,duration,size,flags", "-of", "json", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ffprobe %s: %v: %s", path, err, ee.Stderr)
		}
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var res struct {
		Packets []ffPacket `json:"packets"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res.Packets
}

func needFFprobe(t *testing.T) {
	testtool.Path(t, "ffprobe")
}

// TestFFprobeReadsSegments checks with the installed ffprobe that every
// segment, with its init, reads without error, and that the
// concatenation of a rendition's segments lists exactly the input's
// packets (sizes, key flags, durations and timestamps relative to the
// first packet; TS payloads change size: Annex B, ADTS).
func TestFFprobeReadsSegments(t *testing.T) {
	needFFprobe(t)
	srcDir := t.TempDir()
	want := map[string][]ffPacket{}
	for mi, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			ins := sampleInputs(t)
			p, err := segment.Cut(context.Background(), dir, ins, append(m.opts, segment.WithTargetDuration(2*time.Second))...)
			if err != nil {
				t.Fatal(err)
			}
			isTS := strings.HasPrefix(m.name, "ts")
			for i, r := range p.Renditions() {
				src := filepath.Join(srcDir, ins[i].Name)
				if _, err := os.Stat(src); err != nil {
					b, _ := sample.Bytes(strings.TrimPrefix(ins[i].Name, "sample:"))
					if err := os.WriteFile(src, b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if want[src] == nil {
					want[src] = ffprobe(t, src)
				}
				want := want[src]
				if isTS {
					// MPEG-TS has no edit list: audio the source hides
					// before its time zero (priming) is left out.
					var shown []ffPacket
					for _, p := range want {
						if !(p.CodecType == "audio" && strings.Contains(p.Flags, "D") && p.PTS+p.Duration <= 0) {
							shown = append(shown, p)
						}
					}
					want = shown
				}
				var all []ffPacket
				for k, s := range r.Segments {
					if mi != 0 && m.name != "ts" {
						break // segment by segment: one CMAF and one TS layout
					}
					var one []byte
					if r.Init != nil {
						one = append(one, readRange(t, dir, *r.Init)...)
					}
					one = append(one, readRange(t, dir, s.Range)...)
					f := filepath.Join(t.TempDir(), fmt.Sprintf("%s_%d", r.ID, k))
					if err := os.WriteFile(f, one, 0o644); err != nil {
						t.Fatal(err)
					}
					pk := ffprobe(t, f)
					if len(pk) != s.Samples {
						t.Errorf("%s segment %d: ffprobe lists %d packets, want %d", r.ID, s.Number, len(pk), s.Samples)
					}
				}
				f := filepath.Join(t.TempDir(), r.ID+"_all")
				if err := os.WriteFile(f, readBack(t, dir, r), 0o644); err != nil {
					t.Fatal(err)
				}
				all = ffprobe(t, f)
				if len(all) != len(want) {
					t.Fatalf("%s: ffprobe lists %d packets, input has %d", r.ID, len(all), len(want))
				}
				scale := int64(1)
				if isTS {
					scale = int64(ts.Timescale) / int64(r.Timescale)
					if int64(ts.Timescale)%int64(r.Timescale) != 0 {
						scale = 0
					}
				}
				for k := range all {
					g, w := all[k], want[k]
					if g.CodecType != w.CodecType || g.Flags[0] != w.Flags[0] || (!isTS && g.Size != w.Size) {
						t.Fatalf("%s packet %d: %+v, input %+v", r.ID, k, g, w)
					}
					if scale == 0 {
						continue
					}
					if (g.PTS-all[0].PTS) != (w.PTS-want[0].PTS)*scale || (g.DTS-all[0].DTS) != (w.DTS-want[0].DTS)*scale {
						t.Fatalf("%s packet %d: relative pts/dts %d/%d, input %d/%d (x%d)", r.ID, k,
							g.PTS-all[0].PTS, g.DTS-all[0].DTS, w.PTS-want[0].PTS, w.DTS-want[0].DTS, scale)
					}
					if !isTS && g.Duration != 0 && g.Duration != w.Duration && k < len(all)-1 {
						t.Fatalf("%s packet %d: duration %d, input %d", r.ID, k, g.Duration, w.Duration)
					}
				}
			}
		})
	}
}

func ExampleCut() {
	// Cut the embedded sample ladder into 4 s CMAF segments.
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var inputs []segment.Input
	for _, name := range append(sample.Videos(), sample.Audio) {
		r, size, _ := sample.Open(name)
		d, err := mp4.NewReader(r, size)
		if err != nil {
			panic(err)
		}
		inputs = append(inputs, segment.Input{Name: name, Demuxer: d})
	}
	p, err := segment.Cut(context.Background(), dir, inputs)
	if err != nil {
		panic(err)
	}
	for _, r := range p.Renditions() {
		fmt.Printf("%s %s: %d segments, init %s, first %s\n", r.ID, r.Track.CodecString, len(r.Segments), r.Init.URI, r.Segments[0].URI)
	}
	// Output:
	// video_240p avc1.640015: 2 segments, init video_240p/init.mp4, first video_240p/seg_1.m4s
	// video_360p avc1.64001E: 2 segments, init video_360p/init.mp4, first video_360p/seg_1.m4s
	// video_480p avc1.64001E: 2 segments, init video_480p/init.mp4, first video_480p/seg_1.m4s
	// audio_und mp4a.40.2: 2 segments, init audio_und/init.mp4, first audio_und/seg_1.m4s
}

// TestTracksKeepRelativeTiming checks that audio and video keep the
// offset between them that the source's presentation timeline gives
// (edit list in MP4, PTS in MPEG-TS), as ffprobe reports it with
// start_time.
func TestTracksKeepRelativeTiming(t *testing.T) {
	for _, name := range []string{"h264_editlist.mp4", "ts_single.ts", "h264_b.mp4", "h264_nob.mp4"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "testdata", "media", name+".ffprobe.json"))
			if err != nil {
				t.Fatal(err)
			}
			var ref struct {
				Streams []struct {
					CodecType string `json:"codec_type"`
					StartTime string `json:"start_time"`
				} `json:"streams"`
			}
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatal(err)
			}
			start := map[string]float64{}
			for _, s := range ref.Streams {
				var v float64
				fmt.Sscan(s.StartTime, &v)
				start[s.CodecType] = v
			}
			p, err := segment.Cut(context.Background(), t.TempDir(), fileInputs(t, name), segment.WithTargetDuration(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			v, a := p.Video[0], p.Audio[0]
			// On the source's timeline (PresentationTimeOffset is its
			// zero); what the source hides before zero (encoder
			// priming) is not presented, and ffprobe's start_time does
			// not count it either.
			shown := func(r *segment.Rendition) float64 {
				return max(r.Seconds(r.Segments[0].Start-r.PresentationTimeOffset), 0)
			}
			got := shown(v) - shown(a)
			want := start["video"] - start["audio"]
			if d := got - want; d > 0.002 || d < -0.002 {
				t.Errorf("video starts %.4f s after audio, source %.4f s (ffprobe start_time video %v audio %v)", got, want, start["video"], start["audio"])
			}
		})
	}
}

// TestVideoAtZeroBesidePriming: a video without B-frames that starts at
// zero stays there (first decode time 0, no presentation offset) when
// the audio's AAC priming starts before it; the priming goes into the
// audio's offset. Moved by the priming, the video was placed before zero
// by hls.js and Chromium's MSE together, which dropped its first GOP:
// hls.js 1.7.4 never started.
func TestVideoAtZeroBesidePriming(t *testing.T) {
	p, err := segment.Cut(context.Background(), t.TempDir(), fileInputs(t, "h264_nob.mp4"), segment.WithTargetDuration(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	v, a := p.Video[0], p.Audio[0]
	if v.Segments[0].Start != 0 || v.PresentationTimeOffset != 0 {
		t.Errorf("video: first segment at %d, presentation offset %d; want 0 and 0", v.Segments[0].Start, v.PresentationTimeOffset)
	}
	if a.Segments[0].Start != 0 || a.PresentationTimeOffset <= 0 {
		t.Errorf("audio: first segment at %d, presentation offset %d; want 0 and the priming", a.Segments[0].Start, a.PresentationTimeOffset)
	}
}

// mangled wraps a demuxer and rewrites its sample records.
type mangled struct {
	media.Demuxer
	fn func(i int, s *media.Sample)
}

func (m mangled) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		i := 0
		for s, err := range m.Demuxer.Samples() {
			if err == nil {
				m.fn(i, &s)
				i++
			}
			if !yield(s, err) {
				return
			}
		}
	}
}

// TestHostileTiming feeds sample records with broken timing: Cut must
// return (an error or a presentation), never panic or hang.
func TestHostileTiming(t *testing.T) {
	cases := []struct {
		name    string
		fn      func(i int, s *media.Sample)
		wantErr string // "" when any outcome but a panic or hang is fine
	}{
		{"all DTS equal", func(i int, s *media.Sample) { s.DTS, s.PTS, s.Duration = 0, 0, 0 }, ""},
		{"DTS decreasing", func(i int, s *media.Sample) { s.DTS, s.PTS = int64(-i*512), int64(-i*512) }, "goes back"},
		{"huge CTO", func(i int, s *media.Sample) { s.PTS = s.DTS + 1<<40 }, ""},
		{"no sync after 0", func(i int, s *media.Sample) { s.Sync = i == 0 }, ""},
		{"no sync at all", func(i int, s *media.Sample) { s.Sync = false }, "no random-access point"},
		{"sizes beyond file", func(i int, s *media.Sample) { s.Size = 1 << 30 }, "past the end"},
		{"timestamps near max", func(i int, s *media.Sample) { s.DTS += 1 << 62; s.PTS += 1 << 62 }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fn := c.fn
			ins := sampleInputs(t)[:1]
			ins[0].Demuxer = mangled{ins[0].Demuxer, fn}
			done := make(chan struct{})
			go func() {
				defer close(done)
				p, err := segment.Cut(context.Background(), t.TempDir(), ins)
				t.Logf("err=%v, presentation=%v", err, p != nil)
				if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
					t.Errorf("err = %v, want one saying %q", err, c.wantErr)
				}
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Cut did not return")
			}
		})
	}
}

// TestIndependence: a segment is independent when it starts with an IDR
// or with a random-access point none of whose leading pictures reference
// the previous GOP, as the GOP analysis marks them (LeadingSkipped).
func TestIndependence(t *testing.T) {
	for _, name := range []string{"h264_opengop.mp4", "h264_b.mp4", "hevc_b_hvc1.mp4", "ts_single.ts", "av1.mp4"} {
		ins := fileInputs(t, name)
		var vt *media.Track
		for _, tr := range ins[0].Demuxer.Tracks() {
			if tr.Kind == media.KindVideo {
				vt = tr
			}
		}
		frames, err := gop.ReadFrames(context.Background(), ins[0].Demuxer, vt)
		if err != nil {
			t.Fatal(err)
		}
		want := true
		for _, f := range frames {
			if f.Leading == gop.LeadingSkipped {
				want = false
			}
		}
		p, err := segment.Cut(context.Background(), t.TempDir(), ins, segment.WithTargetDuration(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		v := p.Video[0]
		if len(v.Segments) < 2 {
			t.Fatalf("%s: %d segments, want several", name, len(v.Segments))
		}
		if v.Independent != want {
			t.Errorf("%s: Independent %v, want %v", name, v.Independent, want)
		}
	}
}
