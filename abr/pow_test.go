package abr

import (
	"math"
	"math/big"
	"math/rand"
	"sync"
	"testing"
)

// exactPow05 is 0.5^y to about 200 bits: 2^−y = 2^−n · e^(−f·ln2) with
// y = n + f, the exponential by its Taylor series after halving the
// argument 32 times.
func exactPow05(y float64) *big.Float {
	const prec = 256
	bf := func(x float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(x) }
	ln2 := bigLn2()
	n := math.Floor(y)
	x := bf(y)
	x.Sub(x, bf(n)) // y − floor(y), in 256 bits
	x.Mul(x, ln2)
	x.Neg(x)
	x.SetMantExp(x, -32)
	// e^x by Taylor
	sum, term := bf(1), bf(1)
	for k := 1; k < 40; k++ {
		term.Mul(term, x)
		term.Quo(term, bf(float64(k)))
		sum.Add(sum, term)
	}
	for i := 0; i < 32; i++ {
		sum.Mul(sum, sum)
	}
	return sum.SetMantExp(sum, -int(n))
}

var bigLn2 = sync.OnceValue(func() *big.Float {
	// ln 2 = Σ 1/(k·2^k)
	const prec = 256
	bf := func(x float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(x) }
	ln2 := bf(0)
	for k := 1; k < 260; k++ {
		term := bf(1)
		term.SetMantExp(term, -k)
		term.Quo(term, bf(float64(k)))
		ln2.Add(ln2, term)
	}
	return ln2
})

// ulpErr is |got − exact| in units of got's last place.
func ulpErr(got float64, exact *big.Float) float64 {
	d := new(big.Float).SetPrec(256).SetFloat64(got)
	d.Sub(d, exact)
	e, _ := d.Float64()
	return math.Abs(e) / (math.Nextafter(got, math.Inf(1)) - got)
}

func TestPow05(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var ys []float64
	for i := 0; i < 10000; i++ {
		y := r.ExpFloat64() * math.Pow(10, float64(r.Intn(6)-3))
		if i%4 == 1 {
			y = -y
		}
		ys = append(ys, y)
	}
	for i := 1; i < 200; i++ { // EWMA weights: counts over half-lives, transfer times
		ys = append(ys, float64(i), float64(i)/(8000.0/3000), 1/(8000.0/float64(i*1000)), float64(i)*37.25/3000)
	}
	ys = append(ys, 0, 0.5, 1, 2, -1, 1e-300, 1e-17, 0.49999999999, 0.5000000001, 999.9, -999.9)
	worst, rounded := 0.0, 0
	for _, y := range ys {
		got := pow05(y)
		ex := exactPow05(y)
		want, _ := ex.Float64() // correctly rounded
		e := ulpErr(got, ex)
		if e > worst {
			worst = e
		}
		if got == want {
			rounded++
		}
		if e > 0.51 {
			t.Errorf("pow05(%v) = %v, %.3f ulp from 0.5^y = %v", y, got, e, want)
		}
		if mp := math.Pow(0.5, y); math.Abs(got-mp) > 2*math.Abs(math.Nextafter(mp, 0)-mp) {
			t.Errorf("pow05(%v) = %v, math.Pow %v: more than 2 ulp apart", y, got, mp)
		}
	}
	share := float64(rounded) / float64(len(ys))
	t.Logf("%d inputs: worst %.4f ulp, %.3f%% correctly rounded", len(ys), worst, 100*share)
	if share < 0.99 {
		t.Errorf("only %.2f%% of results correctly rounded", 100*share)
	}
	// outside the table's range it is math.Pow
	for _, y := range []float64{1000, -1000, 1075, 1e308, math.Inf(1), math.Inf(-1), math.NaN()} {
		if got, want := pow05(y), math.Pow(0.5, y); math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("pow05(%v) = %v, want %v", y, got, want)
		}
	}
}

func BenchmarkPow05(b *testing.B) {
	ys := make([]float64, 1024)
	for i := range ys {
		ys[i] = float64(i%400) * 7.31 / 3000
	}
	b.Run("pow05", func(b *testing.B) {
		s := 0.0
		for i := 0; i < b.N; i++ {
			s += pow05(ys[i&1023])
		}
		_ = s
	})
	b.Run("math.Pow", func(b *testing.B) {
		s := 0.0
		for i := 0; i < b.N; i++ {
			s += math.Pow(0.5, ys[i&1023])
		}
		_ = s
	})
}

// TestExp2Table recomputes the literal exp2Table: 2^(i/128) from √2
// iterated seven times in 256-bit arithmetic, split into the nearest
// float64 and the nearest float64 to the rest.
func TestExp2Table(t *testing.T) {
	const prec = 256
	c := new(big.Float).SetPrec(prec).SetInt64(2)
	for j := 0; j < 7; j++ {
		c.Sqrt(c) // 2^(1/128)
	}
	x := new(big.Float).SetPrec(prec).SetInt64(1)
	rest := new(big.Float).SetPrec(prec)
	for i := range exp2Table {
		hi, _ := x.Float64()
		rest.Sub(x, new(big.Float).SetPrec(prec).SetFloat64(hi))
		lo, _ := rest.Float64()
		if got := exp2Table[i]; math.Float64bits(got[0]) != math.Float64bits(hi) || math.Float64bits(got[1]) != math.Float64bits(lo) {
			t.Fatalf("exp2Table[%d] = {%x, %x}, want {%x, %x}", i, got[0], got[1], hi, lo)
		}
		x.Mul(x, c)
	}
}
