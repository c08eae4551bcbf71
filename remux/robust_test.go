package remux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/ts"
)

// TestBrokenInputsLeaveNothing feeds truncated and corrupted fixtures to
// every output form with WithStrict (without it, damage the input can be
// read past is a warning, see TestDamagedConformance): the error must say
// what went wrong, and the output directory must hold nothing afterwards
// (no output, no temporary file).
func TestBrokenInputsLeaveNothing(t *testing.T) {
	type tc struct {
		name string
		mod  func([]byte) []byte
	}
	cut := func(frac float64) func([]byte) []byte {
		return func(b []byte) []byte { return b[:int(float64(len(b))*frac)] }
	}
	cases := map[string][]tc{
		// moov first: the sample table points past the end of the file.
		"h264_faststart.mp4": {{"cut at 60%", cut(0.6)}, {"cut at 99%", cut(0.99)}},
		// moov last: cut anywhere loses it.
		"h264_moovend.mp4": {{"cut at 90%", cut(0.9)}},
		// not media at all
		"h264_nob.mp4": {{"garbage", func(b []byte) []byte { return []byte(strings.Repeat("not a media file ", 100)) }},
			{"moov size corrupted", func(b []byte) []byte {
				i := strings.Index(string(b), "moov")
				b[i-4], b[i-3] = 0x7f, 0xff
				return b
			}}},
		"ts_single.ts": {{"sync bytes destroyed", func(b []byte) []byte {
			for i := 0; i < len(b); i += 188 {
				b[i] = 0
			}
			return b
		}}},
	}
	for name, tcs := range cases {
		orig, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tcs {
			for _, to := range []Format{MP4, FMP4, CMAF, TS} {
				t.Run(name+"/"+c.name+"/"+string(to), func(t *testing.T) {
					dir := t.TempDir()
					in := filepath.Join(t.TempDir(), "in")
					if err := os.WriteFile(in, c.mod(append([]byte(nil), orig...)), 0o644); err != nil {
						t.Fatal(err)
					}
					out := filepath.Join(dir, "out")
					err := Remux(context.Background(), in, out, To(to), WithStrict(true))
					if err == nil {
						t.Fatal("no error")
					}
					if !errors.Is(err, media.ErrTruncated) && !errors.Is(err, media.ErrCorrupt) && !errors.Is(err, media.ErrFormat) {
						t.Errorf("error %q wraps none of media.ErrTruncated, ErrCorrupt, ErrFormat", err)
					}
					if strings.Contains(err.Error(), "\n") {
						t.Errorf("multi-line error %q", err)
					}
					assertOnly(t, dir, nil)
				})
			}
		}
	}
}

// TestCancelLeavesNothing cancels the context: the error is
// context.Canceled and no output remains.
func TestCancelLeavesNothing(t *testing.T) {
	for _, to := range []Format{MP4, FMP4, CMAF, TS} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Remux(ctx, filepath.Join(fixtures, "ladder_360.mp4"), filepath.Join(dir, "out"), To(to))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", to, err)
		}
		assertOnly(t, dir, nil)
	}
}

func TestFormatFromPath(t *testing.T) {
	for in, want := range map[string]Format{"a.ts": TS, "b.MP4": MP4, "c.m4s": FMP4, "dir/": CMAF, "out": CMAF, "x.m4a": MP4} {
		if got, err := FormatFromPath(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := FormatFromPath("x.avi"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("x.avi: err = %v", err)
	}
}

// TestTSWrapAround writes MPEG-TS whose 33-bit timestamps wrap in the
// middle (offset one second before 2^33) and remuxes it back to MP4: the
// timeline must come out continuous, every packet at the original time
// plus one constant.
func TestTSWrapAround(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(fixtures, "h264_b.mp4")
	d, closeFn := open(t, src)
	defer closeFn()
	mid := filepath.Join(dir, "wrap.ts")
	f, err := os.Create(mid)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Mux(context.Background(), f, d, ts.WithTimeOffset(1<<33-ts.Timescale)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "back.mp4")
	if err := Remux(context.Background(), mid, out); err != nil {
		t.Fatal(err)
	}
	compareOffset(t, readerPackets(t, src), readerPackets(t, out), false, false, true)
}

// TestSharedMedia remuxes the real-world files of ../shared/media (other
// projects' test vectors, some deliberately broken) into MP4, fMP4 and TS:
// each run either fails with an error wrapping a known sentinel and leaves
// nothing behind, or writes a file our readers open with the same number
// of samples per audio/video track as the input.
func TestSharedMedia(t *testing.T) {
	const shared = "../../shared/media"
	manifest, err := os.ReadFile(filepath.Join(shared, "MANIFEST.tsv"))
	if err != nil {
		t.Skip("../shared/media not present")
	}
	for _, line := range strings.Split(string(manifest), "\n")[1:] {
		name, _, _ := strings.Cut(line, "\t")
		switch filepath.Ext(name) {
		case ".mp4", ".ts", ".m4a", ".mov", ".m4v":
		default:
			continue
		}
		in := filepath.Join(shared, name)
		if _, err := os.Stat(in); err != nil {
			continue
		}
		for _, to := range []Format{MP4, FMP4, TS} {
			t.Run(name+"->"+string(to), func(t *testing.T) {
				dir := t.TempDir()
				out := filepath.Join(dir, "out")
				err := Remux(context.Background(), in, out, To(to))
				if err != nil {
					if !errors.Is(err, mp4.ErrWrite) && !errors.Is(err, ts.ErrWrite) && !errors.Is(err, media.ErrCorrupt) &&
						!errors.Is(err, media.ErrTruncated) && !errors.Is(err, media.ErrUnsupported) && !errors.Is(err, media.ErrFormat) {
						t.Errorf("error %q wraps no known sentinel", err)
					}
					assertOnly(t, dir, nil)
					return
				}
				want, got := sampleCounts(t, in, to != TS), sampleCounts(t, out, false)
				if fmt.Sprint(want) != fmt.Sprint(got) {
					t.Errorf("samples per track %v, input has %v", got, want)
				}
			})
		}
	}
}

// sampleCounts counts the audio/video samples of each track of file; with
// asMP4, AC-3/E-AC-3 tracks are counted as an MP4 holds them (ETSI TS
// 102 366 annex F, as ffmpeg's movenc.c writes them): six audio blocks a
// sample, an incomplete last group left out, payloads without a
// syncword before the first one dropped.
func sampleCounts(t *testing.T, file string, asMP4 bool) []int {
	t.Helper()
	d, closeFn := open(t, file)
	defer closeFn()
	idx := map[int]int{}
	ac3 := map[int]bool{}
	blocks := map[int]int{}
	var n []int
	for _, tr := range d.Tracks() {
		if tr.Kind == media.KindAudio || tr.Kind == media.KindVideo {
			idx[tr.ID] = len(n)
			n = append(n, 0)
			ac3[tr.ID] = asMP4 && (tr.Codec == media.CodecAC3 || tr.Codec == media.CodecEAC3)
		}
	}
	var buf []byte
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		i, ok := idx[s.TrackID]
		if !ok {
			continue
		}
		if !ac3[s.TrackID] {
			n[i]++
			continue
		}
		b, err := d.ReadSample(&s, buf)
		if err != nil {
			t.Fatal(err)
		}
		if s.Data == nil {
			buf = b
		}
		if len(b) < 6 || b[0] != 0x0b || b[1] != 0x77 {
			continue // before the first sample only, or the writer fails
		}
		k := 6 // AC-3 (bsid <= 10), or E-AC-3 with fscod 3
		if b[5]>>3 > 10 && b[4]>>6 != 3 {
			k = [4]int{1, 2, 3, 6}[b[4]>>4&3]
		}
		if blocks[s.TrackID] += k; blocks[s.TrackID] >= 6 {
			blocks[s.TrackID] = 0
			n[i]++
		}
	}
	return n
}

// TestProgress checks that every output form reports progress ending at
// the total.
func TestProgress(t *testing.T) {
	for _, to := range []Format{MP4, FMP4, CMAF, TS} {
		var last, total int64
		calls := 0
		err := Remux(context.Background(), filepath.Join(fixtures, "ladder_360.mp4"), filepath.Join(t.TempDir(), "out"), To(to),
			WithProgress(func(d, tot int64) { last, total = d, tot; calls++ }))
		if err != nil {
			t.Fatal(err)
		}
		if calls < 2 || last == 0 || last != total {
			t.Errorf("%s: %d progress calls, last %d of %d", to, calls, last, total)
		}
	}
}

// TestCMAFWontClobber refuses to replace a directory that holds anything
// but an earlier CMAF output, and replaces one that does.
func TestCMAFWontClobber(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(fixtures, "h264_b.mp4")
	if err := Remux(context.Background(), src, dir, To(CMAF)); err == nil {
		t.Error("no error replacing a directory with other files")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatal("existing file removed")
	}
	out := filepath.Join(dir, "cmaf")
	for range 2 { // the second run replaces the first one's output
		if err := Remux(context.Background(), src, out, To(CMAF)); err != nil {
			t.Fatal(err)
		}
	}
}
