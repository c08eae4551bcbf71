package pixclock_test

import (
	"io"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/pixclock"
)

// BenchmarkDecode320x180 is the per-frame cost of reading a displayed
// frame (the player page does the same in JavaScript).
func BenchmarkDecode320x180(b *testing.B) {
	img := frame(b, 320, 180, time.UnixMilli(1_765_000_000_000))
	b.ReportAllocs()
	b.SetBytes(int64(len(img.Pix)))
	for b.Loop() {
		if _, err := pixclock.Decode(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFrame640x360 is the cost of one Y4M frame of
// `streamkit clock` (30 of them a second in real time).
func BenchmarkWriteFrame640x360(b *testing.B) {
	y, err := pixclock.NewY4MWriter(io.Discard, 640, 360, 30)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(640 * 360 * 3 / 2)
	t := time.UnixMilli(1_765_000_000_000)
	for b.Loop() {
		t = t.Add(33 * time.Millisecond)
		if err := y.WriteFrame(t); err != nil {
			b.Fatal(err)
		}
	}
}
