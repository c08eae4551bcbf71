package pixclock_test

import (
	"image"
	"os"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/pixclock"
)

// FuzzDecode feeds hostile planes of hostile sizes to Decode: it must
// not panic, and what it accepts must draw back to the same code.
func FuzzDecode(f *testing.F) {
	good := frame(f, 64, 44, time.UnixMilli(1_765_000_000_123))
	f.Add(good.Pix, 64, 44, 64)
	f.Add(good.Pix[:100], 64, 44, 64)
	f.Add([]byte{1, 2, 3}, 1<<30, 1<<30, 1)
	if b, err := os.ReadFile("testdata/x264_320x180.gray"); err == nil {
		f.Add(b, 320, 180, 320)
	}
	f.Fuzz(func(t *testing.T, pix []byte, w, h, stride int) {
		if w < 0 || h < 0 || w > 1<<20 || h > 1<<20 {
			return
		}
		img := &image.Gray{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, w, h)}
		at, err := pixclock.Decode(img)
		if err != nil {
			return
		}
		// Accepted: redrawing the time gives a plane that decodes the same.
		again, err := pixclock.Decode(frame(t, 64, 44, at))
		if err != nil || !again.Equal(at) {
			t.Fatalf("decoded %v, which does not round-trip (%v, %v)", at, again, err)
		}
	})
}
