package abr

import "math"

// BBA is BBA-0, the buffer-based algorithm of Huang et al., "A Buffer-Based
// Approach to Rate Adaptation" (SIGCOMM 2014, Algorithm 1), for the Sabre
// model. The rate map f(B) is the lowest bitrate up to the reservoir, the
// highest from reservoir + cushion on, and linear in between; the quality
// changes only when f(B) crosses the next bitrate above the previous one
// (then it becomes the highest bitrate below f(B)) or the next one below
// (then the lowest bitrate above f(B)), which keeps it from oscillating.
// (Where rounding puts f exactly on the top bitrate inside the band, or on
// the lowest just above the reservoir, the quality stays: the paper's
// literal R+ = R_max at the top would switch down there.)
//
// The throughput estimate plays no part. Pensieve's BB baseline
// (PensieveSession with BB) is the same map without the hysteresis, on
// Pensieve's 60 s buffer.
type BBA struct {
	// reservoirMs and cushionMs set the map; both 0 means Pensieve's
	// 5 s and 10 s. A decision never sees more than B − P of buffer (the
	// player waits until a segment fits), so if reservoir + cushion
	// exceeds 90% of that, both are scaled down to fit: the top bitrate
	// stays reachable with a small buffer, such as Sabre's 10 s runs.
	reservoirMs, cushionMs float64

	r, cu float64
	prev  int
}

// NewBBA returns BBA-0 with Pensieve's reservoir (5 s) and cushion (10 s).
func NewBBA(opts ...AlgorithmOption) *BBA { return newBBA(NewConfig(opts...)) }

func newBBA(c Config) *BBA { return &BBA{reservoirMs: c.reservoirMs, cushionMs: c.cushionMs} }

// Init implements Algorithm.
func (a *BBA) Init(v View) {
	a.r, a.cu = a.reservoirMs, a.cushionMs
	if a.r == 0 && a.cu == 0 {
		a.r, a.cu = 5000, 10000
	}
	if fit := 0.9 * math.Max(v.BufferSize()-v.SegmentMs(), 0); a.r+a.cu > fit {
		k := fit / (a.r + a.cu)
		a.r, a.cu = a.r*k, a.cu*k
	}
	a.prev = 0
}

// Decide implements Algorithm.
func (a *BBA) Decide(v View, seg int) (int, float64) {
	a.prev = bbaNext(v.Bitrates(), a.prev, v.BufferLevel(), a.r, a.cu)
	return a.prev, 0
}

// bbaNext is Algorithm 1 of the BBA paper: the next quality after prev at
// buffer level b (ms) with reservoir r and cushion cu (ms), on ladder kb.
func bbaNext(kb []float64, prev int, b, r, cu float64) int {
	top := len(kb) - 1
	switch {
	case b <= r:
		return 0
	case b >= r+cu || cu <= 0:
		return top
	}
	f := kb[0] + (kb[top]-kb[0])*(b-r)/cu
	up, down := min(prev+1, top), max(prev-1, 0)
	switch {
	case up != prev && f >= kb[up]:
		q := 0 // the highest bitrate below f
		for q+1 <= top && kb[q+1] < f {
			q++
		}
		return q
	case down != prev && f <= kb[down]:
		q := top // the lowest bitrate above f
		for q-1 >= 0 && kb[q-1] > f {
			q--
		}
		return q
	}
	return prev
}
