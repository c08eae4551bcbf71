package probe

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// FuzzProbe feeds arbitrary bytes to the probe. Seeds are the fixtures:
// small ones whole, the head (where the headers are) of the others.
// Whatever the input, the probe returns a result or an error; a result is
// self-consistent and renders as JSON and text.
func FuzzProbe(f *testing.F) {
	for _, path := range fixtures(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 24<<10 {
			b = b[:4<<10]
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Reader(context.Background(), bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			return
		}
		checkConsistent(t, res)
	})
}
