package segment_test

import (
	"context"
	"flag"
	"testing"

	"github.com/streamkit-go/streamkit/internal/golden"
	"github.com/streamkit-go/streamkit/segment"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.sha256 from the current output")

// goldenFile holds the SHA-256 of what Cut writes for a few fixture sets.
// How payloads reach the writers (the MPEG-TS spool, read-ahead windows,
// output buffers) must not change a byte of the segments; a deliberate
// change of the output is recorded with
//
//	go test ./segment -run TestGoldenSegments -update
//
// and the diff of the golden file reviewed with it.
const goldenFile = "testdata/golden.sha256"

// TestGoldenSegments packages MP4 and MPEG-TS fixtures into CMAF
// segments, byte-range CMAF and MPEG-TS segments and compares the hash of
// every file written (the spool must not be among them).
func TestGoldenSegments(t *testing.T) {
	sets := map[string][]string{
		"ladder":    {"ladder_270.mp4", "ladder_360.mp4", "aac.m4a"},
		"ts_single": {"ts_single.ts"},
		"ts_multi":  {"ts_multi.ts"},
		"ts_ac3":    {"ts_ac3.ts"},
		"h264_b":    {"h264_b.mp4"},
	}
	forms := map[string][]segment.Option{
		"cmaf":      nil,
		"byterange": {segment.WithByteRange()},
		"ts":        {segment.WithTS()},
	}
	got := map[string]string{}
	for set, names := range sets {
		for form, opts := range forms {
			dir := t.TempDir()
			key := set + " " + form
			opts = append([]segment.Option{segment.WithTargetDuration(1e9)}, opts...)
			if _, err := segment.Cut(context.Background(), dir, fileInputs(t, names...), opts...); err != nil {
				got[key] = "error"
				continue
			}
			h, err := golden.HashTree(dir)
			if err != nil {
				t.Fatal(err)
			}
			got[key] = h
		}
	}
	golden.Check(t, goldenFile, "SHA-256 of segment.Cut outputs (go test ./segment -run TestGoldenSegments -update)", got, *updateGolden)
}
