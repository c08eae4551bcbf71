package ts_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// refPacket is one packet of `ffprobe -show_packets -of json`.
type refPacket struct {
	CodecType   string `json:"codec_type"`
	StreamIndex int    `json:"stream_index"`
	PTS         *int64 `json:"pts"`
	DTS         *int64 `json:"dts"`
	Duration    *int64 `json:"duration"`
	Size        string `json:"size"`
	Pos         string `json:"pos"`
	Flags       string `json:"flags"`
}

type refPackets struct {
	Packets []refPacket `json:"packets"`
}

func loadRef(t *testing.T, b []byte) []refPacket {
	t.Helper()
	var r refPackets
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("parsing ffprobe packets: %v", err)
	}
	return r.Packets
}

// ffprobeAvailable reports whether ffprobe can be run; with
// STREAMKIT_REQUIRE_TOOLS=1 its absence fails the test.
func ffprobeAvailable(t *testing.T) bool {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		if testtool.Required() {
			t.Fatalf("ffprobe not installed and STREAMKIT_REQUIRE_TOOLS=1")
		}
		return false
	}
	return true
}

// liveProbe runs ffprobe once per file (packets, streams and programs)
// and caches the result for the tests that compare with it.
func liveProbe(t *testing.T, path string) []byte {
	t.Helper()
	liveMu.Lock()
	defer liveMu.Unlock()
	if b, ok := liveCache[path]; ok {
		return b
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_packets", "-show_streams", "-show_programs", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	liveCache[path] = out
	return out
}

var (
	liveMu    sync.Mutex
	liveCache = map[string][]byte{}
)

func liveRef(t *testing.T, path string) []refPacket {
	t.Helper()
	return loadRef(t, liveProbe(t, path))
}

func openFile(t *testing.T, path string, opts ...ts.Option) *ts.Reader {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)), opts...)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", path, err)
	}
	return r
}

// deviation relaxes the comparison for a known, documented difference.
type deviation struct {
	// noTimes skips pts/dts comparison of a stream.
	noTimes map[int]bool
	// only compares just these stream indexes (nil: all with samples).
	only []int
	// dropTrailing drops this many trailing ffprobe packets of a stream
	// (ffprobe emits a frame cut by the end of the file).
	dropTrailing map[int]int
	// noDuration skips the duration comparison of a stream.
	noDuration map[int]bool
	// noSize skips the size comparison of a stream.
	noSize map[int]bool
	// truncated: the file ends inside a packet or PES; Samples must read
	// to the end (the cut PES included, as ffprobe does) and Warnings
	// report it, wrapping media.ErrTruncated; WithStrict makes it the
	// error that ends Samples.
	truncated bool
}

// compare checks our samples against ffprobe's packets stream by stream:
// count, size, key flag, pts, dts, duration and pos where ffprobe gives it.
func compare(t *testing.T, r *ts.Reader, ref []refPacket, dev deviation) {
	t.Helper()
	tracks := r.Tracks()
	got := map[int][]media.Sample{}
	var iterErr error
	for s, err := range r.Samples() {
		if err != nil {
			iterErr = err
			break
		}
		for _, tr := range tracks {
			if tr.ID == s.TrackID {
				s.Data = nil
				got[tr.Index] = append(got[tr.Index], s)
			}
		}
	}
	if iterErr != nil {
		t.Fatalf("Samples: %v", iterErr)
	}
	truncated := false
	for _, w := range r.Warnings() {
		truncated = truncated || w.Truncated()
	}
	if truncated != dev.truncated {
		t.Errorf("truncation warning %v, want %v (warnings %v)", truncated, dev.truncated, r.Warnings())
	}
	want := map[int][]refPacket{}
	for _, p := range ref {
		want[p.StreamIndex] = append(want[p.StreamIndex], p)
	}
	for si, ps := range want {
		if dev.only != nil && !contains(dev.only, si) {
			continue
		}
		if n := dev.dropTrailing[si]; n > 0 && n <= len(ps) {
			ps = ps[:len(ps)-n]
		}
		ss := got[si]
		if len(ss) != len(ps) {
			t.Errorf("stream %d: %d samples, ffprobe has %d packets", si, len(ss), len(ps))
		}
		errs := 0
		for i := 0; i < len(ss) && i < len(ps) && errs < 5; i++ {
			s, p := ss[i], ps[i]
			var diffs []string
			if size, _ := strconv.Atoi(p.Size); uint32(size) != s.Size && !dev.noSize[si] {
				diffs = append(diffs, fmt.Sprintf("size %d want %d", s.Size, size))
			}
			if key := len(p.Flags) > 0 && p.Flags[0] == 'K'; key != s.Sync {
				diffs = append(diffs, fmt.Sprintf("sync %v want %v", s.Sync, key))
			}
			if !dev.noTimes[si] {
				if p.PTS != nil && *p.PTS != s.PTS {
					diffs = append(diffs, fmt.Sprintf("pts %d want %d", s.PTS, *p.PTS))
				}
				if p.DTS != nil && *p.DTS != s.DTS {
					diffs = append(diffs, fmt.Sprintf("dts %d want %d", s.DTS, *p.DTS))
				}
				if p.Duration != nil && *p.Duration != int64(s.Duration) && !dev.noDuration[si] {
					diffs = append(diffs, fmt.Sprintf("duration %d want %d", s.Duration, *p.Duration))
				}
			}
			if pos, err := strconv.ParseInt(p.Pos, 10, 64); err == nil && pos != s.Pos {
				diffs = append(diffs, fmt.Sprintf("pos %d want %d", s.Pos, pos))
			}
			if len(diffs) > 0 {
				errs++
				t.Errorf("stream %d sample %d: %v", si, i, diffs)
			}
		}
	}
	for si, ss := range got {
		if _, ok := want[si]; !ok && len(ss) > 0 && (dev.only == nil || contains(dev.only, si)) {
			t.Errorf("stream %d: %d samples, ffprobe has none", si, len(ss))
		}
	}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// fixtures returns the TS files generated for this repository
// (testdata/media/*.ts), each of which must have committed ffprobe
// references beside it.
func fixtures(t testing.TB) []string {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "media", "*.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 5 {
		t.Fatalf("%d TS fixtures in testdata/media, want at least 5", len(paths))
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

func TestFixturesAgainstFFprobeReferences(t *testing.T) {
	for _, name := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "media", name)
			refb, err := os.ReadFile(path + ".packets.json")
			if err != nil {
				t.Fatalf("reference: %v", err)
			}
			r := openFile(t, path)
			compare(t, r, loadRef(t, refb), deviation{})
		})
	}
}

// sharedTS are real-world files from other projects' test suites, read from
// ../shared/media when present. dev lists where we knowingly differ.
var sharedTS = []struct {
	path string
	dev  deviation
}{
	{path: "fetched/androidx/ts/sample_h264.ts"},
	{path: "fetched/androidx/ts/sample_h264_no_access_unit_delimiters.ts"},
	{path: "fetched/androidx/ts/sample_h264_iframes_only.ts"},
	{path: "fetched/androidx/ts/sample_h264_mpeg_audio.ts"},
	{path: "fetched/androidx/ts/sample_h265.ts"},
	{path: "fetched/androidx/ts/sample_h265_rps_pred.ts"},
	{path: "fetched/androidx/ts/sample_h262_mpeg_audio.ts"},
	// The first PES starts inside a frame: the 73 bytes before the first
	// sync frame are a packet of their own (stamped with the PES PTS, the
	// duration of the frame that follows) and the first frame is
	// interpolated (2880, the PTS of the next one too), as in ffprobe.
	// The last frame is cut by the end of the file: both emit what there
	// is of it.
	{path: "fetched/androidx/ts/sample_ac3.ts", dev: deviation{truncated: true}},
	{path: "fetched/androidx/ts/sample_eac3.ts"},
	{path: "fetched/androidx/ts/sample_latm.ts"},
	{path: "fetched/androidx/ts/sample_scte35.ts"},
	// Ends 148 bytes into packet 21: a truncation warning after the samples.
	{path: "fetched/androidx/ts/sample_with_sdt.ts", dev: deviation{truncated: true}},
	// The last PES declares 2360 bytes more than the file holds: both
	// emit what there is of the last frame.
	{path: "fetched/androidx/ts/sample_ait.ts", dev: deviation{truncated: true}},
	{path: "fetched/androidx/ts/bbb_2500ms.ts"},
	{path: "fetched/androidx/hls_cea608/sd-hls0000000000.ts"},
	{path: "fetched/shaka/hls_ts_b_frames/1.ts"},
	{path: "fetched/shaka/hls_ts_muxed_aac_h265/0.ts"},
	{path: "fetched/shaka/hls_ts_muxed_aac_h265/1.ts"},
	{path: "fetched/shaka/hls_ts_muxed_mp3_h264/seg-1-v1-a1.ts"},
	// Irregular video timestamps (0, 2970, 5940, 7470, ...): ffprobe's
	// r_frame_rate guess says 60, ours (smallest step 1530, snapped to a
	// standard rate) 60000/1001, so frame durations differ by 2 ticks.
	{path: "fetched/shaka/hls_ts_muxed_opus_h264/segment.ts", dev: deviation{noDuration: map[int]bool{0: true}}},
	{path: "fetched/shaka/hls_ts_muxed_ac3_h264_s00000.ts"},
	{path: "fetched/shaka/video.ts"},
	{path: "fetched/shaka/audio.ts"},
	// Timed ID3: each PES holds one ID3 tag of 133 bytes (its header's
	// size field says 123 + 10); ffprobe reports 5 bytes less.
	{path: "fetched/shaka/id3-metadata.ts", dev: deviation{noSize: map[int]bool{1: true}}},
	{path: "fetched/shaka/hls_ts_rollover/360p30_h264_48k_160_aac_ts-0000000024.ts"},
	{path: "fetched/shaka/hls_ts_rollover/360p30_h264_48k_160_aac_ts-0000000028.ts"}, // crosses 2^33
	{path: "fetched/shaka/hls_ts_rollover/360p30_h264_48k_160_aac_ts-0000000029.ts"},
}

func sharedDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "media")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		t.Skip("../shared/media not present")
	}
	return dir
}

func TestSharedFilesAgainstLiveFFprobe(t *testing.T) {
	dir := sharedDir(t)
	if !ffprobeAvailable(t) {
		t.Skip("ffprobe not installed")
	}
	for _, c := range sharedTS {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			path := filepath.Join(dir, c.path)
			if _, err := os.Stat(path); err != nil {
				t.Skip("absent")
			}
			r := openFile(t, path)
			compare(t, r, liveRef(t, path), c.dev)
		})
	}
}

func TestTruncatedIsPosError(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ts_single.ts"))
	if err != nil {
		t.Fatal(err)
	}
	cut := b[:len(b)/2+100] // ends inside a packet
	r, err := ts.NewReader(bytes.NewReader(cut), int64(len(cut)))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	// Lenient (ffmpeg's way): every sample, then a positioned warning.
	n := 0
	for _, err := range r.Samples() {
		if err != nil {
			t.Fatalf("lenient read: %v", err)
		}
		n++
	}
	ws := r.Warnings()
	if n == 0 || len(ws) == 0 || !ws[0].Truncated() {
		t.Fatalf("%d samples, warnings %v: want samples and a truncation warning", n, ws)
	}
	if ws[0].Offset <= 0 || ws[0].Offset > int64(len(cut)) {
		t.Errorf("warning offset %d outside the input", ws[0].Offset)
	}
	// Strict: the same damage is the error, at open (the last packet is
	// checked there) or from Samples.
	var last error
	strictN := 0
	r, last = ts.NewReader(bytes.NewReader(cut), int64(len(cut)), ts.WithStrict(true))
	if last == nil {
		for _, err := range r.Samples() {
			if err == nil {
				strictN++
			}
			last = err
		}
	}
	var pe *media.PosError
	if !errors.As(last, &pe) || !errors.Is(last, media.ErrTruncated) {
		t.Fatalf("got %v, want *media.PosError wrapping ErrTruncated", last)
	}
	if pe.Offset <= 0 || pe.Offset > int64(len(cut)) {
		t.Errorf("offset %d outside the input", pe.Offset)
	}
	if strictN >= n {
		t.Errorf("strict read gave %d samples, lenient %d: the cut sample should be missing", strictN, n)
	}
}
