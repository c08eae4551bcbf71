package media

import (
	"math"
	"math/bits"
)

// Rescale returns a·b/c rounded to the nearest integer, halves away from
// zero: libavutil's av_rescale_rnd with AV_ROUND_NEAR_INF, the rounding
// ffprobe and libavformat use for every timestamp conversion. So
// Rescale(-3, 1, 2) is -2 (not -1, as truncating a shifted quotient
// gives) and Rescale(1001, 48000, 90000) is 534.
//
// The product is computed in 128 bits, so a·b may exceed int64 as long as
// the result fits. A result outside int64 gives math.MinInt64
// (AV_NOPTS_VALUE, as ffmpeg returns). c ≤ 0 gives 0: there is no time
// base to convert to (ffmpeg returns AV_NOPTS_VALUE; every caller here
// treats an unknown timescale as "no shift").
//
// This is the one timestamp conversion of the module: mp4, ts, gop, probe
// and the packagers all call it, so that the same tick count maps to the
// same value everywhere.
func Rescale(a, b, c int64) int64 {
	if c <= 0 {
		return 0
	}
	neg := (a < 0) != (b < 0)
	ua, ub := absU(a), absU(b)
	hi, lo := bits.Mul64(ua, ub)
	lo, carry := bits.Add64(lo, uint64(c)/2, 0)
	hi += carry
	if hi >= uint64(c) {
		return math.MinInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if neg {
		if q > 1<<63 {
			return math.MinInt64
		}
		return -int64(q)
	}
	if q > math.MaxInt64 {
		return math.MinInt64
	}
	return int64(q)
}

func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// EditShift returns the number of ticks (of t.Timescale) by which the
// track's edit list moves its samples on the presentation timeline: the
// summed duration of the leading empty edits (rescaled from
// t.MovieTimescale with [Rescale]) minus the media_time of the first real
// edit. Sample timestamps are raw (container) times; the presentation
// time a player and ffprobe show is
//
//	Sample.PTS + EditShift(t)
//
// libavformat's mov demuxer applies exactly this shift to the pts and dts
// of every packet, whether the samples are described in moov or in movie
// fragments. An AAC track with one edit at media_time 1024 (encoder
// priming) gives -1024; a video track whose B-frames delay presentation
// by two frames has media_time = that delay, so its first frame is shown
// at 0; an empty first edit of 0.5 s adds 0.5 s. Only the first real edit
// counts: later edits change which samples are shown, not this offset.
// No edits (and MPEG-TS) give 0.
//
// A hostile edit list whose shift does not fit in ±2^62 ticks (an empty
// edit whose duration overflows when rescaled, or a huge media_time) is
// ignored, giving 0, rather than wrapping around into a plausible value.
func EditShift(t *Track) int64 {
	const limit = 1 << 62
	var empty int64
	for _, e := range t.Edits {
		if e.MediaTime == -1 {
			v := Rescale(e.Duration, int64(t.Timescale), int64(t.MovieTimescale))
			if v == math.MinInt64 || v > limit || v < -limit || empty+v > limit || empty+v < -limit {
				return 0
			}
			empty += v
			continue
		}
		if e.MediaTime > limit || e.MediaTime < -limit {
			return 0
		}
		return empty - e.MediaTime
	}
	return empty
}
