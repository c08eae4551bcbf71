package ts

import "math/bits"

// rescale returns a*b/c rounded to nearest, halfway away from zero, for
// c > 0 and b >= 0 (libavutil's av_rescale_rnd with AV_ROUND_NEAR_INF),
// without overflowing on 64-bit products.
func rescale(a, b, c int64) int64 {
	neg := a < 0
	if neg {
		a = -a
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	lo, carry := bits.Add64(lo, uint64(c/2), 0)
	hi += carry
	if hi >= uint64(c) {
		return 0 // overflow: cannot happen for timestamps
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if neg {
		return -int64(q)
	}
	return int64(q)
}

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
	old := rescale(ts, den, num*Timescale)
	oldTS := rescale(old, num*Timescale, den)
	return rescale(old+1, num*Timescale, den) + ts - oldTS
}
