package probe

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkProbe probes fixtures held in memory (no disk I/O), reporting
// the bytes the probe read per operation as read-B/op.
func BenchmarkProbe(b *testing.B) {
	for _, name := range []string{"h264_faststart.mp4", "h264_moovend.mp4", "h264_frag.mp4", "ts_single.ts", "cmaf/init_and_segs.mp4"} {
		data, err := os.ReadFile(filepath.Join(mediaDir, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var read int64
			for b.Loop() {
				res, err := Reader(context.Background(), bytes.NewReader(data), int64(len(data)), name)
				if err != nil {
					b.Fatal(err)
				}
				read = res.BytesRead
			}
			b.ReportMetric(float64(read), "read-B/op")
		})
	}
}

// BenchmarkProbeHuge probes the synthetic 1.1 GB faststart MP4 of
// TestHeaderOnlyHugeFile (90 000 samples): the cost is the sample tables.
func BenchmarkProbeHuge(b *testing.B) {
	v := hugeMP4(b, 90000, 12500)
	b.ReportAllocs()
	for b.Loop() {
		v.reads = 0
		if _, err := Reader(context.Background(), v, v.size, "huge.mp4"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(v.reads), "read-B/op")
}

// BenchmarkProbeFile probes a file on disk named by STREAMKIT_BENCH_FILE
// (BENCHMARKS.md uses it to compare with ffprobe on the same file).
func BenchmarkProbeFile(b *testing.B) {
	path := os.Getenv("STREAMKIT_BENCH_FILE")
	if path == "" {
		b.Skip("STREAMKIT_BENCH_FILE not set")
	}
	b.ReportAllocs()
	var read int64
	for b.Loop() {
		res, err := File(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		read = res.BytesRead
	}
	b.ReportMetric(float64(read), "read-B/op")
}
