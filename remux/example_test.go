package remux_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/streamkit-go/streamkit/remux"
	"github.com/streamkit-go/streamkit/sample"
)

// Remux a file into MPEG-TS and back, and into a CMAF directory. The
// output form comes from the name (or remux.To).
func ExampleRemux() {
	dir, err := os.MkdirTemp("", "remux-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	b, err := sample.Bytes(sample.Video240)
	if err != nil {
		log.Fatal(err)
	}
	in := filepath.Join(dir, "in.mp4")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, out := range []string{"out.ts", "back.mp4", "cmaf/"} {
		src := in
		if out == "back.mp4" {
			src = filepath.Join(dir, "out.ts")
		}
		if err := remux.Remux(ctx, src, filepath.Join(dir, out)); err != nil {
			log.Fatal(err)
		}
		f, _ := remux.FormatFromPath(out)
		fmt.Println(out, "->", f)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "cmaf", "track1", "*"))
	fmt.Println("CMAF files for track 1:", len(segs))
	// Output:
	// out.ts -> ts
	// back.mp4 -> mp4
	// cmaf/ -> cmaf
	// CMAF files for track 1: 5
}
