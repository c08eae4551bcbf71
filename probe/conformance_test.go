package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/streamkit-go/streamkit/internal/testtool"
)

// The conformance tests compare our JSON with ffprobe's, field by field:
// the committed references in testdata/media (made by testdata/gen.sh) and,
// when ffprobe is installed, a live ffprobe run. Strings and integers must
// be equal; durations and start times may differ by one frame (video) or
// one audio frame; bit rates by 1 %.

const mediaDir = "../testdata/media"

// fixtures lists every fixture that has a committed ffprobe reference.
func fixtures(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"*.mp4", "*.m4a", "*.ts", "cmaf/*.mp4", "fields/*.mp4", "fields/*.ts"} {
		m, err := filepath.Glob(filepath.Join(mediaDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 25 {
		t.Fatalf("found %d fixtures in %s; run testdata/gen.sh", len(out), mediaDir)
	}
	sort.Strings(out)
	return out
}

// doc is the part of ffprobe's JSON the comparison reads.
type doc struct {
	Streams []map[string]any `json:"streams"`
	Format  map[string]any   `json:"format"`
}

func decode(t testing.TB, b []byte) doc {
	t.Helper()
	var d doc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decoding JSON: %v\n%s", err, b)
	}
	return d
}

// Fields compared, by kind of comparison.
var (
	formatExact = []string{"filename", "nb_streams", "nb_programs", "format_name", "format_long_name", "size", "probe_score"}
	streamExact = []string{"index", "codec_name", "codec_long_name", "profile", "codec_type", "codec_tag_string", "codec_tag",
		"width", "height", "sample_aspect_ratio", "display_aspect_ratio", "pix_fmt", "level", "r_frame_rate",
		"avg_frame_rate", "time_base", "nb_frames", "sample_rate", "channels", "channel_layout", "id",
		"sample_fmt", "is_avc", "nal_length_size",
		"coded_width", "coded_height", "has_b_frames", "color_range", "color_space", "color_transfer",
		"color_primaries", "field_order", "bits_per_raw_sample", "bits_per_sample"}
	// streamTags are the stream tags streamkit reads (language is
	// compared on its own).
	streamTags = []string{"creation_time", "handler_name", "vendor_id", "encoder"}
	formatTags = []string{"major_brand", "minor_version", "compatible_brands", "creation_time"}
)

// tolerance for a stream's times in seconds: one frame or audio frame.
func tolerance(s map[string]any) float64 {
	if s["codec_type"] == "video" {
		if r := str(s["r_frame_rate"]); r != "" {
			var n, d float64
			if _, err := fmt.Sscanf(r, "%g/%g", &n, &d); err == nil && n > 0 {
				return d/n + 1e-6
			}
		}
		return 0.05
	}
	if sr, err := strconv.ParseFloat(str(s["sample_rate"]), 64); err == nil && sr > 0 {
		fs := 1024.0
		switch s["codec_name"] {
		case "ac3", "eac3":
			fs = 1536
		case "mp2", "mp3":
			fs = 1152
		case "opus":
			fs = 960
		}
		return fs/sr + 1e-6
	}
	return 0.05
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return fmt.Sprint(v)
}

// compare reports every difference between our document and ffprobe's.
// skip names fields not to compare (documented by the caller).
func compare(got, want doc, skip map[string]bool) []string {
	var diffs []string
	add := func(f string, a ...any) { diffs = append(diffs, fmt.Sprintf(f, a...)) }
	for _, k := range formatExact {
		if skip[k] {
			continue
		}
		if g, w := got.Format[k], want.Format[k]; !sameValue(g, w) {
			add("format.%s = %v (%T), ffprobe %v (%T)", k, g, g, w, w)
		}
	}
	if !skip["tags"] {
		gt, _ := got.Format["tags"].(map[string]any)
		wt, _ := want.Format["tags"].(map[string]any)
		for _, k := range formatTags {
			if w, ok := wt[k]; ok && !sameValue(gt[k], w) {
				add("format.tags.%s = %v, ffprobe %v", k, gt[k], w)
			}
		}
	}
	// Format times: within the finest tolerance of its streams.
	ftol := 0.05
	for _, s := range want.Streams {
		ftol = math.Min(ftol, tolerance(s))
	}
	for _, k := range []string{"start_time", "duration"} {
		if !skip["format."+k] {
			cmpTime(&diffs, "format."+k, got.Format[k], want.Format[k], ftol)
		}
	}
	if !skip["format.bit_rate"] {
		// bit_rate is size*8/duration: a duration inside its tolerance
		// moves it by up to ftol/duration, on top of the 1 %.
		slack := 0.0
		if d, ok := num(want.Format["duration"]); ok && d > 0 {
			slack = ftol / d
		}
		cmpRateTol(&diffs, "format.bit_rate", got.Format["bit_rate"], want.Format["bit_rate"], 0.01+slack)
	}
	if len(got.Streams) != len(want.Streams) {
		add("%d streams, ffprobe %d", len(got.Streams), len(want.Streams))
		return diffs
	}
	for i, w := range want.Streams {
		g := got.Streams[i]
		for _, k := range streamExact {
			if skip[k] {
				continue
			}
			if gv, wv := g[k], w[k]; !sameValue(gv, wv) {
				add("streams[%d].%s = %v, ffprobe %v", i, k, gv, wv)
			}
		}
		tol := tolerance(w)
		for _, k := range []string{"start_time", "duration"} {
			if !skip[k] {
				cmpTime(&diffs, fmt.Sprintf("streams[%d].%s", i, k), g[k], w[k], tol)
			}
		}
		// start_pts and duration_ts in time_base ticks, same tolerance.
		if tb := str(w["time_base"]); tb != "" && str(g["time_base"]) == tb {
			var n, d float64
			if _, err := fmt.Sscanf(tb, "%g/%g", &n, &d); err == nil && n > 0 {
				ticks := tol * d / n
				for _, k := range []string{"start_pts", "duration_ts"} {
					if !skip[k] {
						cmpNum(&diffs, fmt.Sprintf("streams[%d].%s", i, k), g[k], w[k], ticks)
					}
				}
			}
		}
		if !skip["bit_rate"] {
			cmpRate(&diffs, fmt.Sprintf("streams[%d].bit_rate", i), g["bit_rate"], w["bit_rate"])
		}
		if !skip["language"] {
			gl, wl := tag(g, "language"), tag(w, "language")
			if gl != wl {
				add("streams[%d].tags.language = %q, ffprobe %q", i, gl, wl)
			}
		}
		if !skip["tags"] {
			for _, k := range streamTags {
				if gv, wv := tag(g, k), tag(w, k); gv != wv {
					add("streams[%d].tags.%s = %q, ffprobe %q", i, k, gv, wv)
				}
			}
		}
		if !skip["disposition"] {
			gd, _ := g["disposition"].(map[string]any)
			wd, _ := w["disposition"].(map[string]any)
			if (gd == nil) != (wd == nil) {
				add("streams[%d].disposition present = %v, ffprobe %v", i, gd != nil, wd != nil)
			}
			for k, wv := range wd {
				if gv := gd[k]; wd != nil && gd != nil && !sameValue(gv, wv) {
					add("streams[%d].disposition.%s = %v, ffprobe %v", i, k, gv, wv)
				}
			}
		}
		if !skip["rotation"] {
			if gr, wr := rotation(g), rotation(w); gr != wr {
				add("streams[%d] rotation = %v, ffprobe %v", i, gr, wr)
			}
		}
	}
	return diffs
}

// sameValue compares two JSON values by type and text: "2" and 2 differ,
// because a script reading ffprobe JSON relies on the type.
func sameValue(a, b any) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	if _, ok := a.(json.Number); ok {
		if _, ok := b.(json.Number); !ok {
			return false
		}
	}
	if _, ok := a.(string); ok {
		if _, ok := b.(string); !ok {
			return false
		}
	}
	return str(a) == str(b)
}

func num(v any) (float64, bool) {
	if v == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(str(v), 64)
	return f, err == nil
}

func cmpTime(diffs *[]string, name string, g, w any, tol float64) {
	if !sameKind(g, w) {
		*diffs = append(*diffs, fmt.Sprintf("%s = %v (%T), ffprobe %v (%T)", name, g, g, w, w))
		return
	}
	gf, ok1 := num(g)
	wf, ok2 := num(w)
	if ok1 && ok2 && math.Abs(gf-wf) > tol {
		*diffs = append(*diffs, fmt.Sprintf("%s = %v, ffprobe %v (tolerance %.4f)", name, g, w, tol))
	}
}

func cmpNum(diffs *[]string, name string, g, w any, tol float64) {
	cmpTime(diffs, name, g, w, tol+0.5)
}

func cmpRate(diffs *[]string, name string, g, w any) { cmpRateTol(diffs, name, g, w, 0.01) }

func cmpRateTol(diffs *[]string, name string, g, w any, rel float64) {
	if !sameKind(g, w) {
		*diffs = append(*diffs, fmt.Sprintf("%s = %v (%T), ffprobe %v (%T)", name, g, g, w, w))
		return
	}
	gf, ok1 := num(g)
	wf, ok2 := num(w)
	if ok1 && ok2 && math.Abs(gf-wf) > rel*wf {
		*diffs = append(*diffs, fmt.Sprintf("%s = %v, ffprobe %v (more than %.1f%% apart)", name, g, w, 100*rel))
	}
}

// sameKind: both absent, or both present with the same JSON type.
func sameKind(a, b any) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b)
}

func tag(s map[string]any, k string) string {
	t, _ := s["tags"].(map[string]any)
	return str(t[k])
}

func rotation(s map[string]any) string {
	l, _ := s["side_data_list"].([]any)
	for _, e := range l {
		m, _ := e.(map[string]any)
		if m["side_data_type"] == "Display Matrix" {
			return str(m["rotation"])
		}
	}
	return ""
}

func ourJSON(t testing.TB, path string, opts ...Option) doc {
	t.Helper()
	res, err := File(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("probe %s: %v", path, err)
	}
	b, err := res.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

// fixtureSkip lists fields not compared for some fixtures, and why.
var fixtureSkip = map[string]map[string]bool{
	// An init segment has no samples. ffprobe learns profile, level and
	// pix_fmt by decoding a frame, so it prints none of them (level -99)
	// and an r_frame_rate of timescale/1; streamkit reads them from the
	// avcC and the SPS VUI, which is more useful and still ffprobe's
	// schema.
	"cmaf/init.mp4":             {"profile": true, "pix_fmt": true, "level": true, "r_frame_rate": true},
	"fields/h264_colr_init.mp4": {"profile": true, "pix_fmt": true, "level": true, "r_frame_rate": true},
}

func TestConformanceReferences(t *testing.T) {
	for _, path := range fixtures(t) {
		rel, _ := filepath.Rel(mediaDir, path)
		t.Run(rel, func(t *testing.T) {
			ref, err := os.ReadFile(path + ".ffprobe.json")
			if err != nil {
				t.Fatalf("no committed reference: %v (run testdata/gen.sh refs)", err)
			}
			got := ourJSON(t, path)
			for _, d := range compare(got, decode(t, ref), fixtureSkip[filepath.ToSlash(rel)]) {
				t.Error(d)
			}
		})
	}
}

// ffprobePath returns ffprobe's path, skipping (or failing in CI) when it
// is not installed.
func ffprobePath(t testing.TB) string {
	t.Helper()
	return testtool.Path(t, "ffprobe")
}

// liveFFprobe runs ffprobe from inside the file's folder, as gen.sh does.
func liveFFprobe(t testing.TB, ffprobe, path string) (doc, error) {
	t.Helper()
	cmd := exec.Command(ffprobe, "-v", "error", "-show_format", "-show_streams", "-of", "json", filepath.Base(path))
	cmd.Dir = filepath.Dir(path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return doc{}, fmt.Errorf("ffprobe %s: %v: %s", path, err, stderr.String())
	}
	var d doc
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return doc{}, err
	}
	return d, nil
}

func TestConformanceLiveFFprobe(t *testing.T) {
	ffprobe := ffprobePath(t)
	for _, path := range fixtures(t) {
		rel, _ := filepath.Rel(mediaDir, path)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			want, err := liveFFprobe(t, ffprobe, path)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range compare(ourJSON(t, path), want, fixtureSkip[filepath.ToSlash(rel)]) {
				t.Error(d)
			}
		})
	}
}

// TestConformanceInitSegment probes each CMAF media segment with --init
// and compares with ffprobe on the concatenation init+segment.
func TestConformanceInitSegment(t *testing.T) {
	ffprobe := ffprobePath(t)
	dir := filepath.Join(mediaDir, "cmaf")
	segs, _ := filepath.Glob(filepath.Join(dir, "seg_*.m4s"))
	if len(segs) < 2 {
		t.Fatalf("want at least 2 CMAF segments in %s, found %d", dir, len(segs))
	}
	initPath := filepath.Join(dir, "init.mp4")
	initBytes, err := os.ReadFile(initPath)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, seg := range segs {
		name := filepath.Base(seg)
		t.Run(name, func(t *testing.T) {
			segBytes, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			// ffprobe gets the concatenation under the segment's name, so
			// format.filename matches.
			cat := filepath.Join(tmp, name)
			if err := os.WriteFile(cat, append(append([]byte{}, initBytes...), segBytes...), 0o644); err != nil {
				t.Fatal(err)
			}
			want, err := liveFFprobe(t, ffprobe, cat)
			if err != nil {
				t.Fatal(err)
			}
			got := ourJSON(t, seg, WithInitFile(initPath))
			for _, d := range compare(got, want, nil) {
				t.Error(d)
			}
		})
	}
}

// Real-world files from other projects' test suites (../shared/media,
// listed in MANIFEST.tsv). Every one must probe without a panic; broken
// ones may fail, with an error. Where both ffprobe and streamkit accept a
// file, the fields in realWorldStrict must match and must have the same
// JSON type; every other field of compare() is compared too but a
// difference is logged, not failed, because real files exercise behaviour
// that is ffprobe's own, not the file's:
//
//   - codecs streamkit does not parse (MPEG-2 video, MPEG-4 part 2, MP2/MP3
//     details, timed ID3, bin_data) — ffprobe decodes them;
//   - init segments without samples: ffprobe learns profile, level and
//     pix_fmt by decoding a frame and prints none (level -99,
//     r_frame_rate = timescale/1); streamkit reads them from the config;
//   - ffprobe taking an all-ones mdhd duration ("unknown") literally
//     (143165 s), and its sidx-driven bit_rate when several sidx boxes
//     are present;
//   - MPEG-TS audio bit_rate (a running average over the frames ffprobe's
//     find_stream_info happened to analyse) and avg_frame_rate (from the
//     frames its decoder analysed; 0/0 when too few);
//   - QuickTime-only details (Macintosh language codes, where ffprobe maps
//     code 0 to "eng");
//   - for a media segment probed without its init segment, everything.
//
// The ffprobe-parity stream fields of issue 20 (parityFields: colour,
// field_order, has_b_frames, coded size, bits_per_raw_sample, pix_fmt,
// disposition and the stream tags) are stricter: wherever ffprobe prints
// a value, ours must equal it, for every codec. Where ffprobe prints none
// (an init segment without samples: its decoder saw no frame, so no
// pix_fmt, profile or SPS aspect ratio) ours stays and the difference is
// logged as "ffprobe has none".
//
// The logged differences are listed in the test output (go test -v -run
// RealWorldLive) so that regressions and reader improvements are visible.
//
// readerGaps lists strict differences that come from a container reader or
// from package media rather than from the probe, with the reason; they are
// logged like the soft ones and reported to the package's owner.
var readerGaps = map[string]string{}

var realWorldStrict = map[string]bool{
	"filename": true, "nb_streams": true, "format_name": true, "format_long_name": true, "size": true,
	"index": true, "codec_type": true, "width": true, "height": true, "time_base": true,
	"sample_rate": true, "channels": true, "codec_name": true,
	// Stream fields from parameter sets and container metadata.
	"coded_width": true, "coded_height": true, "color_space": true, "color_transfer": true,
	"color_primaries": true, "bits_per_raw_sample": true, "handler_name": true, "vendor_id": true,
	"encoder": true, "creation_time": true,
}

// parityFields are the stream fields that must equal ffprobe's wherever
// ffprobe has a value (see compareRealWorld); disposition flags count too.
var parityFields = map[string]bool{
	"color_range": true, "color_space": true, "color_transfer": true, "color_primaries": true,
	"field_order": true, "has_b_frames": true, "coded_width": true, "coded_height": true,
	"bits_per_raw_sample": true, "pix_fmt": true,
	"language": true, "handler_name": true, "encoder": true, "creation_time": true, "vendor_id": true,
}

// ffprobeHasNone reports whether a difference from compare is one where
// ffprobe printed no value: compare writes a missing value as <nil>, a
// missing tag as "".
func ffprobeHasNone(d string) bool {
	return strings.HasSuffix(d, "ffprobe <nil>") || strings.HasSuffix(d, `ffprobe ""`) ||
		strings.HasSuffix(d, "disposition present = true, ffprobe false")
}

func sharedMedia(t *testing.T) []string {
	t.Helper()
	root := "../../shared/media"
	manifest, err := os.ReadFile(filepath.Join(root, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("no shared media: %v", err)
	}
	var files []string
	for i, line := range strings.Split(string(manifest), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 2 || f[0] == "" {
			continue
		}
		files = append(files, filepath.Join(root, f[0]))
	}
	return files
}

func TestRealWorldNoPanic(t *testing.T) {
	files := sharedMedia(t)
	for _, path := range files {
		rel := strings.TrimPrefix(path, "../../shared/media/")
		t.Run(rel, func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Skipf("absent: %v", err)
			}
			res, err := File(context.Background(), path)
			if err != nil {
				var pe interface{ Unwrap() error }
				if !errors.As(err, &pe) {
					t.Logf("error without a wrapped cause: %v", err)
				}
				t.Logf("not probed: %v", err)
				return
			}
			if _, err := res.JSON(); err != nil {
				t.Fatal(err)
			}
			_ = res.String()
		})
	}
}

func TestRealWorldLiveFFprobe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ffprobe on every shared file; skipped with -short")
	}
	ffprobe := ffprobePath(t)
	files := sharedMedia(t)
	var compared, logged atomic.Int64
	t.Cleanup(func() {
		t.Logf("%d real-world files compared; %d logged differences outside the strict fields", compared.Load(), logged.Load())
	})
	for _, path := range files {
		ext := strings.ToLower(filepath.Ext(path))
		if ext != ".mp4" && ext != ".ts" && ext != ".m4a" && ext != ".mov" && ext != ".m4s" {
			continue
		}
		rel := strings.TrimPrefix(path, "../../shared/media/")
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(path); err != nil {
				t.Skipf("absent: %v", err)
			}
			want, ferr := liveFFprobe(t, ffprobe, path)
			res, err := File(context.Background(), path)
			if ferr != nil || err != nil || len(want.Streams) == 0 {
				// Either tool rejecting a (deliberately broken or
				// partial) file is fine; only a panic is not.
				t.Logf("ffprobe: %v; streamkit: %v", ferr, err)
				return
			}
			b, err := res.JSON()
			if err != nil {
				t.Fatal(err)
			}
			got := decode(t, b)
			compared.Add(1)
			strict, soft := compareRealWorld(got, want)
			for _, d := range strict {
				if gap, ok := readerGaps[rel]; ok {
					t.Logf("reader gap (%s): %s", gap, d)
					continue
				}
				t.Error(d)
			}
			for _, d := range soft {
				logged.Add(1)
				t.Log("known difference:", d)
			}
		})
	}
}

// parsedCodecs are the codecs whose parameters streamkit parses itself.
var parsedCodecs = map[string]bool{"h264": true, "hevc": true, "av1": true, "aac": true, "ac3": true, "eac3": true, "opus": true}

// compareRealWorld splits the differences into strict ones (fields in
// realWorldStrict, for streams of codecs streamkit parses; parityFields
// and disposition flags of every stream where ffprobe has a value) and
// the rest; a soft difference where ffprobe has no value says so.
func compareRealWorld(got, want doc) (strict, soft []string) {
	all := compare(got, want, nil)
	for _, d := range all {
		field := d
		if k := strings.IndexAny(field, " "); k > 0 {
			field = field[:k]
		}
		name := field[strings.LastIndexByte(field, '.')+1:]
		if strings.HasPrefix(field, "streams[") && (parityFields[name] || strings.Contains(field, ".disposition")) {
			if ffprobeHasNone(d) {
				soft = append(soft, "ffprobe has none: "+d)
			} else {
				strict = append(strict, d)
			}
			continue
		}
		isStrict := realWorldStrict[name]
		if isStrict && strings.HasPrefix(field, "streams[") {
			var i int
			if _, err := fmt.Sscanf(field, "streams[%d]", &i); err == nil && i < len(want.Streams) {
				if !parsedCodecs[str(want.Streams[i]["codec_name"])] {
					isStrict = false
				}
			}
		}
		switch {
		case isStrict:
			strict = append(strict, d)
		case ffprobeHasNone(d):
			soft = append(soft, "ffprobe has none: "+d)
		default:
			soft = append(soft, d)
		}
	}
	return strict, soft
}
