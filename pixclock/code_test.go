package pixclock_test

import (
	"bytes"
	"errors"
	"image"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/pixclock"
)

func frame(t testing.TB, w, h int, at time.Time) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	if err := pixclock.Draw(img, at); err != nil {
		t.Fatal(err)
	}
	return img
}

// scale is a box-filter resize, the kind a player or ffmpeg applies.
func scale(src *image.Gray, w, h int) *image.Gray {
	dst := image.NewGray(image.Rect(0, 0, w, h))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	for y := range h {
		for x := range w {
			var sum, n int
			for yy := y * sh / h; yy < max((y+1)*sh/h, y*sh/h+1); yy++ {
				for xx := x * sw / w; xx < max((x+1)*sw/w, x*sw/w+1); xx++ {
					sum += int(src.Pix[yy*src.Stride+xx])
					n++
				}
			}
			dst.Pix[y*dst.Stride+x] = byte(sum / n)
		}
	}
	return dst
}

func TestRoundTrip(t *testing.T) {
	times := []time.Time{time.UnixMilli(0), time.UnixMilli(pixclock.MaxMillis), time.Date(2026, 12, 6, 14, 50, 1, 999e6, time.UTC)}
	for _, at := range times {
		for _, sz := range [][2]int{{640, 360}, {1920, 1080}, {32, 22}, {401, 301}} {
			got, err := pixclock.Decode(frame(t, sz[0], sz[1], at))
			if err != nil || !got.Equal(at) {
				t.Errorf("%dx%d %v: got %v, %v", sz[0], sz[1], at, got, err)
			}
		}
		big := frame(t, 1280, 720, at)
		for _, sz := range [][2]int{{320, 180}, {160, 90}, {97, 53}, {640, 480}} {
			got, err := pixclock.Decode(scale(big, sz[0], sz[1]))
			if err != nil || !got.Equal(at) {
				t.Errorf("1280x720 scaled to %dx%d: got %v, %v", sz[0], sz[1], got, err)
			}
		}
	}
	// A sub-image (a stride wider than the plane) reads the same.
	img := frame(t, 640, 360, times[2])
	wide := image.NewGray(image.Rect(0, 0, 700, 400))
	for y := range 360 {
		copy(wide.Pix[(y+20)*wide.Stride+30:], img.Pix[y*img.Stride:(y+1)*img.Stride])
	}
	if got, err := pixclock.Decode(wide.SubImage(image.Rect(30, 20, 670, 380)).(*image.Gray)); err != nil || !got.Equal(times[2]) {
		t.Errorf("sub-image: %v, %v", got, err)
	}
	if err := pixclock.Draw(img, time.UnixMilli(-1)); !errors.Is(err, pixclock.ErrRange) {
		t.Errorf("negative time: %v", err)
	}
}

// TestNeverWrong damages frames the ways an encoder and a player do and
// checks that every damaged frame is either right or unreadable.
func TestNeverWrong(t *testing.T) {
	a := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	b := a.Add(33 * time.Millisecond)
	fa, fb := frame(t, 320, 180, a), frame(t, 320, 180, b)
	unreadable := func(name string, img *image.Gray, why string) {
		t.Helper()
		got, err := pixclock.Decode(img)
		if !errors.Is(err, pixclock.ErrUnreadable) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: got %v, %v; want unreadable (%s)", name, got, err, why)
		}
	}
	// Half of one frame's code over the other's: a partial update.
	mixed := image.NewGray(fa.Rect)
	copy(mixed.Pix, fa.Pix[:len(fa.Pix)/2])
	copy(mixed.Pix[len(fa.Pix)/2:], fb.Pix[len(fb.Pix)/2:])
	if got, err := pixclock.Decode(mixed); err == nil && !got.Equal(a) && !got.Equal(b) {
		t.Errorf("mixed frames decode to %v", got)
	}
	// One bit flipped (both of its cells swapped): the CRC catches it.
	flipped := image.NewGray(fa.Rect)
	copy(flipped.Pix, fa.Pix)
	for y := 2 * 180 / 11; y < 3*180/11; y++ { // row 2 (byte 1), bit pair 0
		row := flipped.Pix[y*320:]
		for x := range 40 {
			row[x] = 251 - row[x]
		}
	}
	unreadable("flipped bit", flipped, "checksum")
	unreadable("black", image.NewGray(fa.Rect), "sync")
	// A frame faded to grey: contrast gone.
	faded := image.NewGray(fa.Rect)
	for i, v := range fa.Pix {
		faded.Pix[i] = byte(110 + int(v)/10)
	}
	unreadable("faded", faded, "sync")
	// Half-transparent ghost of the previous frame: weak bits where the
	// two codes differ.
	ghost := image.NewGray(fa.Rect)
	for i := range ghost.Pix {
		ghost.Pix[i] = byte((int(fa.Pix[i]) + int(fb.Pix[i])) / 2)
	}
	unreadable("ghost", ghost, "weak bit")
	// Noise: random frames never decode.
	rng := rand.New(rand.NewPCG(1, 2))
	noise := image.NewGray(fa.Rect)
	for range 300 {
		for i := range noise.Pix {
			noise.Pix[i] = byte(rng.IntN(256))
		}
		if got, err := pixclock.Decode(noise); err == nil {
			t.Fatalf("noise decodes to %v", got)
		}
	}
	// Random cell patterns with a correct sync row: only the CRC stands
	// between them and a wrong time.
	cells := frame(t, 160, 110, a)
	for range 2000 {
		for r := 1; r < pixclock.Rows; r++ {
			for c := 0; c < pixclock.Cols; c += 2 {
				v := byte(pixclock.Black)
				if rng.IntN(2) == 1 {
					v = pixclock.White
				}
				for y := r * 10; y < r*10+10; y++ {
					for x := c * 10; x < c*10+10; x++ {
						cells.Pix[y*160+x] = v
						cells.Pix[y*160+x+10] = pixclock.White + pixclock.Black - v
					}
				}
			}
		}
		if got, err := pixclock.Decode(cells); err == nil {
			t.Fatalf("random cells decode to %v", got)
		}
	}
}

func TestTooSmall(t *testing.T) {
	for _, img := range []*image.Gray{nil, image.NewGray(image.Rect(0, 0, 31, 100)), image.NewGray(image.Rect(0, 0, 100, 21)),
		{Pix: make([]byte, 10), Stride: 40, Rect: image.Rect(0, 0, 40, 40)}} {
		if _, err := pixclock.Decode(img); err == nil {
			t.Errorf("%v decodes", img)
		}
	}
}

func TestY4M(t *testing.T) {
	var buf bytes.Buffer
	stamps := generate(t, &buf, 3, pixclock.WithSize(64, 44), pixclock.WithFPS(25))
	y4m := buf.Bytes()
	head, rest, _ := bytes.Cut(y4m, []byte("\n"))
	if string(head) != "YUV4MPEG2 W64 H44 F25:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED" {
		t.Errorf("header %q", head)
	}
	fs := 6 + 64*44*3/2
	if len(rest) != 3*fs || len(stamps) != 3 {
		t.Fatalf("%d bytes for %d frames", len(rest), len(stamps))
	}
	for i := range 3 {
		f := rest[i*fs : (i+1)*fs]
		if string(f[:6]) != "FRAME\n" {
			t.Fatalf("frame %d starts %q", i, f[:6])
		}
		img := &image.Gray{Pix: f[6 : 6+64*44], Stride: 64, Rect: image.Rect(0, 0, 64, 44)}
		if got, err := pixclock.Decode(img); err != nil || !got.Equal(stamps[i].Truncate(time.Millisecond)) {
			t.Errorf("frame %d: %v, %v, stamped %v", i, got, err, stamps[i])
		}
		if i > 0 && stamps[i].Sub(stamps[i-1]) != 40*time.Millisecond {
			t.Errorf("frame %d paced %v after the previous", i, stamps[i].Sub(stamps[i-1]))
		}
	}
	for _, sz := range [][2]int{{63, 44}, {30, 44}, {64, 20}} {
		if _, err := pixclock.NewY4MWriter(&bytes.Buffer{}, sz[0], sz[1], 30); !errors.Is(err, pixclock.ErrSize) {
			t.Errorf("%v: %v", sz, err)
		}
	}
}
