package abr

import "math"

var ln05 = math.Log(0.5)

// pow05 returns math.Pow(0.5, y), bit for bit, faster: for x = 0.5 the
// squaring loop of math.Pow only multiplies by powers of two, so the result
// is Exp(yf·ln 0.5) scaled by 2^-yi (or its reciprocal scaled by 2^yi for
// negative y), both exact. TestPow05 checks it against math.Pow.
func pow05(y float64) float64 {
	switch {
	case y == 0:
		return 1
	case y == 1:
		return 0.5
	case y == 0.5 || y == -0.5 || math.IsNaN(y) || math.IsInf(y, 0):
		return math.Pow(0.5, y)
	}
	yi, yf := math.Modf(math.Abs(y))
	if yi >= 1<<20 {
		return math.Pow(0.5, y)
	}
	a1 := 1.0
	if yf != 0 {
		if yf > 0.5 {
			yf--
			yi++
		}
		a1 = math.Exp(yf * ln05)
	}
	if y < 0 {
		return math.Ldexp(1/a1, int(yi))
	}
	return math.Ldexp(a1, -int(yi))
}
