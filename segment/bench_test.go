package segment_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/segment"
)

// BenchmarkCut packages the embedded sample ladder (3 renditions + audio,
// 630 KB) from memory into a temporary directory; bytes/s count input
// bytes.
func BenchmarkCut(b *testing.B) {
	var total int64
	for _, n := range append(sample.Videos(), sample.Audio) {
		buf, _ := sample.Bytes(n)
		total += int64(len(buf))
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				dir := b.TempDir()
				if _, err := segment.Cut(context.Background(), dir, sampleInputs(b), m.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCutFiles packages the ladder in $STREAMKIT_PACKAGE_BENCH_DIR
// (every *.mp4 and *.m4a there, read from disk), for comparison with
// ffmpeg -c copy -f hls / -f dash on the same files (BENCHMARKS.md).
func BenchmarkCutFiles(b *testing.B) {
	dir := os.Getenv("STREAMKIT_PACKAGE_BENCH_DIR")
	if dir == "" {
		b.Skip("set STREAMKIT_PACKAGE_BENCH_DIR to a directory with a ladder (*.mp4, *.m4a)")
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.mp4"))
	audio, _ := filepath.Glob(filepath.Join(dir, "*.m4a"))
	names = append(names, audio...)
	sort.Strings(names)
	if len(names) == 0 {
		b.Skip("no *.mp4 in " + dir)
	}
	var total int64
	for _, n := range names {
		fi, err := os.Stat(n)
		if err != nil {
			b.Fatal(err)
		}
		total += fi.Size()
	}
	open := func() ([]segment.Input, func()) {
		var ins []segment.Input
		var files []*os.File
		for _, n := range names {
			f, err := os.Open(n)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
			fi, _ := f.Stat()
			d, err := media.Open(f, fi.Size())
			if err != nil {
				b.Fatal(err)
			}
			ins = append(ins, segment.Input{Name: n, Demuxer: d})
		}
		return ins, func() {
			for _, f := range files {
				f.Close()
			}
		}
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				ins, done := open()
				out := b.TempDir()
				if _, err := segment.Cut(context.Background(), out, ins, m.opts...); err != nil {
					b.Fatal(err)
				}
				done()
			}
		})
	}
}

// BenchmarkCutTSInput packages an MPEG-TS fixture (its payloads go through
// the spool file) into CMAF segments; -benchmem shows the allocation no
// longer follows the payload bytes.
func BenchmarkCutTSInput(b *testing.B) {
	name := filepath.Join("..", "testdata", "media", "ts_single.ts")
	fi, err := os.Stat(name)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		d, err := media.Open(f, fi.Size())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := segment.Cut(context.Background(), b.TempDir(), []segment.Input{{Name: "ts_single.ts", Demuxer: d}}); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
