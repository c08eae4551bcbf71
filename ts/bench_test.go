package ts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/ts"
)

// benchFiles are demultiplexed by BenchmarkDemux: the committed fixtures,
// a real 1080p MPEG-2 file from ../shared/media when present, and any
// file named by $STREAMKIT_BENCH_TS (BENCHMARKS.md uses a 60 s 720p
// H.264+AAC file made with ffmpeg).
func benchFiles(b *testing.B) map[string]string {
	files := map[string]string{
		"ts_single": filepath.Join("..", "testdata", "media", "ts_single.ts"),
		"ts_multi":  filepath.Join("..", "testdata", "media", "ts_multi.ts"),
	}
	if p := filepath.Join("..", "..", "shared", "media", "fetched", "androidx", "ts", "bbb_2500ms.ts"); fileExists(p) {
		files["bbb_2500ms"] = p
	}
	if p := os.Getenv("STREAMKIT_BENCH_TS"); p != "" {
		files["env"] = p
	}
	return files
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// BenchmarkDemux measures Samples over a whole file held in memory
// (MB/s of transport stream); allocations per op are those of one pass
// (per-track state), not per packet.
func BenchmarkDemux(b *testing.B) {
	for name, path := range benchFiles(b) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			r, err := ts.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n := 0
				for _, err := range r.Samples() {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n == 0 {
					b.Fatal("no samples")
				}
			}
			b.ReportMetric(float64(r.Stats().Packets), "packets/op")
		})
	}
}

// BenchmarkOpen measures NewReader: headers, probe window and tail.
func BenchmarkOpen(b *testing.B) {
	for name, path := range benchFiles(b) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := ts.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSteadyStateAllocs checks that demultiplexing allocates per pass,
// not per packet: a file twice as long costs (almost) no more allocations.
func TestSteadyStateAllocs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ts_single.ts"))
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(b []byte) float64 {
		r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(3, func() {
			for _, err := range r.Samples() {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	one := allocs(data)
	four := allocs(bytes.Repeat(data, 4))
	packets := float64(3 * len(data) / ts.PacketSize)
	if per := (four - one) / packets; per > 0.01 {
		t.Errorf("%.0f allocations for 1x, %.0f for 4x: %.3f per extra packet", one, four, per)
	}
}
