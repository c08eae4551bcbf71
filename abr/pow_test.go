package abr

import (
	"math"
	"math/rand"
	"testing"
)

func TestPow05(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	check := func(y float64) {
		if got, want := pow05(y), math.Pow(0.5, y); math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("pow05(%v) = %v, math.Pow = %v", y, got, want)
		}
	}
	for _, y := range []float64{0, 1, -1, 0.5, -0.5, 2, 1e-300, 3.5, 0.49999999999, 0.5000000001, 1074, 1075, 1100, -1100, 1 << 21, math.Inf(1), math.Inf(-1), math.NaN(), 1e308} {
		check(y)
		check(-y)
	}
	for i := 0; i < 1_000_000; i++ {
		y := r.ExpFloat64() * math.Pow(10, float64(r.Intn(8)-4))
		if i%2 == 1 {
			y = -y
		}
		check(y)
	}
	for i := 1; i < 200; i++ { // EWMA weights: counts over half-lives
		check(float64(i) / (3000.0 / 3000))
		check(float64(i) / (8000.0 / 3000))
		check(1 / (8000.0 / float64(i*1000)))
	}
}
