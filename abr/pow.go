package abr

import "math"

var ln05 = math.Log(0.5)

// pow05 returns math.Pow(0.5, y), bit for bit, faster: for x = 0.5 the
// squaring loop of math.Pow only multiplies by powers of two, so the result
// is Exp(yf·ln 0.5) scaled by 2^-yi (or its reciprocal scaled by 2^yi for
// negative y), both exact while the result stays a normal number.
// TestPow05 checks it against math.Pow.
func pow05(y float64) float64 {
	if y > 0 && y < 1000 && y != 0.5 && y != 1 {
		yi, yf := math.Modf(y)
		a1 := 1.0
		if yf != 0 {
			if yf > 0.5 {
				yf--
				yi++
			}
			a1 = math.Exp(yf * ln05)
		}
		// 2^-yi is a normal number for yi ≤ 1000, and so is the product
		return a1 * math.Float64frombits(uint64(1023-int64(yi))<<52)
	}
	return math.Pow(0.5, y)
}
