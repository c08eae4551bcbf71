package pixclock_test

import (
	"fmt"
	"image"
	"time"

	"github.com/streamkit-go/streamkit/pixclock"
)

// A frame carries its capture time in its pixels; scaled down (as a
// player's canvas or an encoder's scaler does), it still reads back.
func ExampleDecode() {
	captured := time.Date(2026, 12, 6, 15, 4, 5, 678e6, time.UTC)
	img := image.NewGray(image.Rect(0, 0, 640, 360))
	if err := pixclock.Draw(img, captured); err != nil {
		panic(err)
	}
	small := image.NewGray(image.Rect(0, 0, 160, 90))
	for y := range 90 {
		for x := range 160 {
			small.Pix[y*160+x] = img.Pix[(y*4+1)*640+x*4+1]
		}
	}
	t, err := pixclock.Decode(small)
	fmt.Println(t.UTC().Format(time.RFC3339Nano), err)

	_, err = pixclock.Decode(image.NewGray(image.Rect(0, 0, 160, 90)))
	fmt.Println(err)
	// Output:
	// 2026-12-06T15:04:05.678Z <nil>
	// pixclock: unreadable: no sync row (contrast 0)
}
