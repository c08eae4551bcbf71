package abr

import (
	"math"
	"math/big"
)

// pow05 returns 0.5^y, the EWMA weight of Sabre's estimator, which the
// reference computes with the C library's pow. It is evaluated as 2^−y
// with a 128-entry table of 2^(i/128) held as double-double pairs: with
// −128·y = k + r (k integer, |r| ≤ ½, both exact), 0.5^y = 2^⌊k/128⌋ ·
// 2^((k mod 128)/128) · e^z, z = r·ln2/128, |z| ≤ 0.0028, and e^z − 1 is a
// degree-5 polynomial. Every error before the final addition is below
// 2^−60 relative, so the result is the correctly rounded 0.5^y except when
// 0.5^y lies within ~1% of an ulp of a rounding midpoint (TestPow05 checks
// ≤ 0.51 ulp and the correctly rounded share against a 200-bit reference).
//
// Why not math.Pow: it is accurate to about 1 ulp (so it differs from
// glibc's correctly rounded pow in roughly a tenth of the calls, MODELS.md
// §0.2), on amd64 its result depends on whether the CPU has FMA, and its
// exp is a long dependent chain; this is several times faster
// (BENCHMARKS.md: 4.4 vs 40 ns), the same on every machine (no fused
// operations: each product is rounded explicitly), and closer to the
// reference.
func pow05(y float64) float64 {
	if !(y > -1000 && y < 1000) {
		return math.Pow(0.5, y)
	}
	v := -y * 128 // exact: a power-of-two scaling
	kf := math.RoundToEven(v)
	r := v - kf // exact
	k := int64(kf)
	i := k & 127
	m := k >> 7 // floor(k / 128)
	z := float64(r * ln2over128)
	// e^z − 1 = z + z²/2 + z³/6 + z⁴/24 + z⁵/120 (truncation < 2^−61)
	p := float64(z * float64(1+float64(z*float64(0.5+float64(z*float64(1.0/6+float64(z*float64(1.0/24+float64(z*(1.0/120))))))))))
	t := exp2Table[i]
	f := t[0] + (float64(t[0]*p) + t[1])
	return f * math.Float64frombits(uint64(1023+m)<<52) // 2^m, exact: |m| ≤ 1000
}

const ln2over128 = math.Ln2 / 128

// exp2Table[i] = 2^(i/128) as hi + lo (hi the nearest float64, lo the
// nearest float64 to the rest), computed at start-up from √2 iterated in
// 256-bit arithmetic.
var exp2Table = func() (t [128][2]float64) {
	const prec = 256
	c := new(big.Float).SetPrec(prec).SetInt64(2)
	for j := 0; j < 7; j++ {
		c.Sqrt(c) // 2^(1/128)
	}
	x := new(big.Float).SetPrec(prec).SetInt64(1)
	rest := new(big.Float).SetPrec(prec)
	for i := range t {
		hi, _ := x.Float64()
		rest.Sub(x, new(big.Float).SetPrec(prec).SetFloat64(hi))
		lo, _ := rest.Float64()
		t[i] = [2]float64{hi, lo}
		x.Mul(x, c)
	}
	return t
}()
