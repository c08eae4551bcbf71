package pixclock_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"time"

	"github.com/streamkit-go/streamkit/live"
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

// Run paces frames to a clock; on a fake clock, driven here by a
// goroutine that jumps to each timer, it runs without sleeping.
func ExampleRun() {
	clk := live.NewFakeClock(time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC))
	go func() {
		for clk.WaitTimers(1, nil) {
			at, _ := clk.Next()
			clk.Set(at)
		}
	}()
	var y4m bytes.Buffer
	err := pixclock.Run(context.Background(), &y4m, clk, pixclock.WithSize(320, 180), pixclock.WithFPS(25),
		pixclock.WithFrames(3), pixclock.WithOnFrame(func(i int, t time.Time) {
			fmt.Println("frame", i, t.Format("15:04:05.000"))
		}))
	header, _, _ := bytes.Cut(y4m.Bytes(), []byte("\n"))
	fmt.Println(string(header), err)
	// Output:
	// frame 0 15:00:00.000
	// frame 1 15:00:00.040
	// frame 2 15:00:00.080
	// YUV4MPEG2 W320 H180 F25:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED <nil>
}
