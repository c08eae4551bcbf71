package ts

import "github.com/streamkit-go/streamkit/media"

// addStable advances the 90 kHz timestamp ts by num/den seconds the way
// libavformat interpolates timestamps of frames without one
// (av_add_stable): ts is placed on the grid of multiples of num/den,
// moved one step and the offset from the grid is kept, so that rounding
// errors do not accumulate from frame to frame.
func addStable(ts, num, den int64) int64 {
	if num <= 0 || den <= 0 {
		return ts
	}
	m := num * Timescale // increment in 1/(90000*den) units: m/d ticks
	d := den
	if m%d == 0 {
		return ts + m/d
	}
	if m < d {
		return ts
	}
	// old = ts expressed in steps of num/den seconds.
	old := media.Rescale(ts, den, num*Timescale)
	oldTS := media.Rescale(old, num*Timescale, den)
	return media.Rescale(old+1, num*Timescale, den) + ts - oldTS
}
