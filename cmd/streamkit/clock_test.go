package main

import (
	"image"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/pixclock"
)

// TestClockCmd runs `streamkit clock` for a fifth of a second (real
// time, so the pacing is only checked loosely) and reads its frames back.
func TestClockCmd(t *testing.T) {
	before := time.Now()
	out, err := runCLI(t, "clock", "--size", "64x44", "--fps", "25", "--duration", "200ms")
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(head, "YUV4MPEG2 W64 H44 F25:1") {
		t.Fatalf("header %q", head)
	}
	fs := 6 + 64*44*3/2
	if len(rest) != 5*fs {
		t.Fatalf("%d bytes, want 5 frames of %d", len(rest), fs)
	}
	var last time.Time
	for i := range 5 {
		f := []byte(rest[i*fs : (i+1)*fs])
		got, err := pixclock.Decode(&image.Gray{Pix: f[6 : 6+64*44], Stride: 64, Rect: image.Rect(0, 0, 64, 44)})
		if err != nil || got.Before(before.Truncate(time.Millisecond)) || got.Before(last) || got.After(time.Now()) {
			t.Errorf("frame %d: %v, %v (started %v)", i, got, err, before)
		}
		last = got
	}
	for _, bad := range [][]string{{"--size", "640"}, {"--size", "33x44"}, {"--fps", "0"}, {"--duration", "-1s"}} {
		if _, err := runCLI(t, append([]string{"clock"}, bad...)...); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
