package pixclock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"github.com/streamkit-go/streamkit/live"
)

// Y4MWriter writes raw 4:2:0 video as yuv4mpegpipe: one header, then
// "FRAME\n" and the Y, U and V planes of each frame. The chroma is flat
// grey: the code lives in luma only, so an encoder's chroma subsampling
// cannot touch it.
type Y4MWriter struct {
	w       *bufio.Writer
	width   int
	height  int
	fps     int
	wrote   bool
	chroma  []byte
	lumaImg *image.Gray
}

// ErrSize: a frame size Y4M 4:2:0 cannot carry or the code cannot fit.
var ErrSize = errors.New("pixclock: bad frame size")

// NewY4MWriter returns a writer of width × height frames at fps frames
// per second. Width and height are even (4:2:0) and at least MinWidth ×
// MinHeight; at most 7680 × 4320.
func NewY4MWriter(w io.Writer, width, height, fps int) (*Y4MWriter, error) {
	if width < MinWidth || height < MinHeight || width%2 != 0 || height%2 != 0 || width > 7680 || height > 4320 {
		return nil, fmt.Errorf("%w: %dx%d (even, %dx%d to 7680x4320)", ErrSize, width, height, MinWidth, MinHeight)
	}
	if fps < 1 || fps > 240 {
		return nil, fmt.Errorf("%w: %d fps (1 to 240)", ErrSize, fps)
	}
	c := make([]byte, width/2*height/2)
	for i := range c {
		c[i] = 128
	}
	return &Y4MWriter{
		w: bufio.NewWriterSize(w, width*height*3/2+64), width: width, height: height, fps: fps,
		chroma: c, lumaImg: image.NewGray(image.Rect(0, 0, width, height)),
	}, nil
}

// WriteFrame writes the frame carrying time t and flushes it, so that a
// reader (an encoder) gets every frame the moment it is stamped.
func (y *Y4MWriter) WriteFrame(t time.Time) error {
	if err := Draw(y.lumaImg, t); err != nil {
		return err
	}
	if !y.wrote {
		// Limited-range BT.601 luma, square pixels, progressive.
		if _, err := fmt.Fprintf(y.w, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg XCOLORRANGE=LIMITED\n", y.width, y.height, y.fps); err != nil {
			return err
		}
		y.wrote = true
	}
	y.w.WriteString("FRAME\n")
	y.w.Write(y.lumaImg.Pix)
	y.w.Write(y.chroma)
	y.w.Write(y.chroma)
	return y.w.Flush()
}

// RunOption configures Run.
type RunOption func(*runConfig)

type runConfig struct {
	width, height, fps int
	duration           time.Duration
	frames             int
	onFrame            func(i int, t time.Time)
}

// WithSize sets the frame size (default 640 × 360).
func WithSize(width, height int) RunOption {
	return func(c *runConfig) { c.width, c.height = width, height }
}

// WithFPS sets the frame rate (default 30).
func WithFPS(fps int) RunOption { return func(c *runConfig) { c.fps = fps } }

// WithDuration stops Run after d of frames (default: until ctx ends).
func WithDuration(d time.Duration) RunOption { return func(c *runConfig) { c.duration = d } }

// WithFrames stops Run after n frames.
func WithFrames(n int) RunOption { return func(c *runConfig) { c.frames = n } }

// WithOnFrame calls fn with the index and the stamped time of every
// frame, after it is written (the latency experiment keeps them to map a
// frame back to its capture).
func WithOnFrame(fn func(i int, t time.Time)) RunOption {
	return func(c *runConfig) { c.onFrame = fn }
}

// Run writes clock frames to w as Y4M, paced to clock: frame i is due
// at start + i/fps and stamped with clock.Now() when it is written. A
// writer slower than real time makes frames late, never skipped (the
// encoder numbers frames by count, so a skipped slot would slow video
// time down); the lateness is part of what the stamps measure. Run
// returns nil when the duration or frame count is reached, ctx.Err()
// when ctx ends first, or the write error.
func Run(ctx context.Context, w io.Writer, clock live.Clock, opts ...RunOption) error {
	c := runConfig{width: 640, height: 360, fps: 30}
	for _, o := range opts {
		o(&c)
	}
	y, err := NewY4MWriter(w, c.width, c.height, c.fps)
	if err != nil {
		return err
	}
	if c.duration > 0 {
		n := int((c.duration*time.Duration(c.fps) + time.Second - 1) / time.Second)
		if c.frames == 0 || n < c.frames {
			c.frames = n
		}
	}
	start := clock.Now()
	for i := 0; c.frames == 0 || i < c.frames; i++ {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(c.fps))
		if d := due.Sub(clock.Now()); d > 0 {
			tm := clock.NewTimer(d)
			select {
			case <-tm.C():
			case <-ctx.Done():
				tm.Stop()
				return ctx.Err()
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		t := clock.Now()
		if err := y.WriteFrame(t); err != nil {
			return err
		}
		if c.onFrame != nil {
			c.onFrame(i, t)
		}
	}
	return nil
}
