package media

import (
	"math"
	"math/big"
	"testing"
)

// TestRescale pins the rounding of av_rescale_rnd(a, b, c, AV_ROUND_NEAR_INF):
// nearest, halves away from zero, symmetric for negative values, exact for
// products beyond 64 bits.
func TestRescale(t *testing.T) {
	cases := []struct{ a, b, c, want int64 }{
		{-3, 1, 2, -2}, // halves away from zero, not towards +inf
		{3, 1, 2, 2},
		{-1, 1, 2, -1},
		{1, 1, 3, 0},
		{-1, 1, 3, 0},
		{1001, 48000, 90000, 534}, // 533.87: rounded, not truncated
		{-1001, 48000, 90000, -534},
		{1024, 90000, 48000, 1920},
		{-1024, 90000, 44100, -2090}, // -2089.8
		{0, 1, 1, 0},
		{10, 3, 4, 8}, // 7.5
		{1 << 40, 90000, 48000, 2061584302080},
		{5, -1, 2, -3},
		// a·b overflows int64; the quotient fits.
		{1 << 62, 90000, 1 << 40, 377487360000},
		{-(1 << 62), 90000, 1 << 40, -377487360000},
		{math.MaxInt64, 1, 1, math.MaxInt64},
		{math.MinInt64 + 1, 1, 1, math.MinInt64 + 1},
		{8_589_934_592_000_000, 90000, 48000, 16_106_127_360_000_000}, // 2^33 s of 1 GHz ticks
		// Results outside int64: AV_NOPTS_VALUE.
		{math.MaxInt64, 2, 1, math.MinInt64},
		{math.MaxInt64, 1 << 40, 3, math.MinInt64},
		// No time base.
		{5, 1, 0, 0},
		{5, 1, -7, 0},
	}
	for _, c := range cases {
		if got := Rescale(c.a, c.b, c.c); got != c.want {
			t.Errorf("Rescale(%d, %d, %d) = %d, want %d", c.a, c.b, c.c, got, c.want)
		}
	}
}

// TestRescaleBig checks Rescale against exact big-integer arithmetic over
// a spread of large and negative values.
func TestRescaleBig(t *testing.T) {
	vals := []int64{-1 << 62, -123456789012345, -90001, -3, -1, 0, 1, 2, 3, 1001, 90000, 1 << 33, 987654321098765, 1<<62 + 12345}
	muls := []int64{1, 2, 1000, 1001, 44100, 48000, 90000, 1 << 32, 1_000_000_000}
	for _, a := range vals {
		for _, b := range muls {
			for _, c := range muls {
				x := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
				neg := x.Sign() < 0
				x.Abs(x)
				x.Add(x, big.NewInt(c/2))
				x.Quo(x, big.NewInt(c))
				if neg {
					x.Neg(x)
				}
				want := int64(math.MinInt64)
				if x.IsInt64() {
					want = x.Int64()
				}
				if got := Rescale(a, b, c); got != want {
					t.Fatalf("Rescale(%d, %d, %d) = %d, want %d", a, b, c, got, want)
				}
			}
		}
	}
}

func TestEditShift(t *testing.T) {
	cases := []struct {
		name string
		tr   Track
		want int64
	}{
		{"none", Track{Timescale: 48000}, 0},
		{"aac priming", Track{Timescale: 48000, MovieTimescale: 1000, Edits: []Edit{{Duration: 10000, MediaTime: 1024, RateInt: 1}}}, -1024},
		{"b-frame delay", Track{Timescale: 15360, MovieTimescale: 1000, Edits: []Edit{{Duration: 10000, MediaTime: 1024, RateInt: 1}}}, -1024},
		// 1001 movie ticks of 1/90000 s at 48 kHz: 533.87 → 534.
		{"empty edit rounded", Track{Timescale: 48000, MovieTimescale: 90000, Edits: []Edit{{Duration: 1001, MediaTime: -1}, {Duration: 90000, MediaTime: 0}}}, 534},
		{"empty then media", Track{Timescale: 90000, MovieTimescale: 1000, Edits: []Edit{{Duration: 500, MediaTime: -1}, {Duration: 1000, MediaTime: 3003}}}, 45000 - 3003},
		// Hostile: an empty edit whose rescale overflows, two that wrap
		// around together, a huge media_time: ignored, never wrapped.
		{"overflowing empty edit", Track{Timescale: 90000, MovieTimescale: 1, Edits: []Edit{{Duration: 1 << 62, MediaTime: -1}, {Duration: 1, MediaTime: 1}}}, 0},
		{"empty edits summing past the bound", Track{Timescale: 1, MovieTimescale: 1, Edits: []Edit{{Duration: 1 << 61, MediaTime: -1}, {Duration: 1<<62 - 1, MediaTime: -1}, {Duration: 1, MediaTime: 0}}}, 0},
		{"huge media time", Track{Timescale: 1, MovieTimescale: 1, Edits: []Edit{{Duration: 1, MediaTime: 1<<63 - 1}}}, 0},
	}
	for _, c := range cases {
		if got := EditShift(&c.tr); got != c.want {
			t.Errorf("%s: EditShift = %d, want %d", c.name, got, c.want)
		}
	}
}

func BenchmarkRescale(b *testing.B) {
	var s int64
	for i := 0; b.Loop(); i++ {
		s += Rescale(int64(i)*1001, 48000, 90000)
	}
	_ = s
}
