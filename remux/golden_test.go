package remux

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/internal/golden"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.sha256 from the current output")

// goldenFile holds the SHA-256 of every remux output of every fixture.
// The I/O strategy of the readers and writers (read-ahead windows, output
// buffers, copy_file_range runs) must never change a byte of the output:
// this test catches any change. A deliberate change of the output (a new
// box, another PES packing) is recorded with
//
//	go test ./remux -run TestGoldenOutputs -update
//
// and the diff of the golden file reviewed with it.
const goldenFile = "testdata/golden.sha256"

// TestGoldenOutputs remuxes every fixture into every form (MP4, fMP4, TS,
// CMAF and, for MP4 input, faststart) and compares the hashes of the
// outputs with those recorded; an input a form refuses records the
// refusal, so that a form newly failing shows up too.
func TestGoldenOutputs(t *testing.T) {
	ents, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	type job struct {
		name string
		opts []Option
		out  string
	}
	got := map[string]string{}
	for _, e := range ents {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || (ext != ".mp4" && ext != ".m4a" && ext != ".ts") {
			continue
		}
		jobs := []job{
			{"mp4", []Option{To(MP4)}, "o.mp4"},
			{"fmp4", []Option{To(FMP4)}, "o.m4s"},
			{"ts", []Option{To(TS)}, "o.ts"},
			{"cmaf", []Option{To(CMAF)}, "o"},
		}
		if ext != ".ts" {
			jobs = append(jobs, job{"faststart", []Option{To(MP4), WithFaststart()}, "f.mp4"})
		}
		for _, j := range jobs {
			dir := t.TempDir()
			out := filepath.Join(dir, j.out)
			key := name + " " + j.name
			if err := Remux(context.Background(), filepath.Join(fixtures, name), out, j.opts...); err != nil {
				got[key] = "error"
				continue
			}
			h, err := golden.HashTree(out)
			if err != nil {
				t.Fatal(err)
			}
			got[key] = h
		}
	}
	golden.Check(t, goldenFile, "SHA-256 of remux outputs of testdata/media (go test ./remux -run TestGoldenOutputs -update)", got, *updateGolden)
}
