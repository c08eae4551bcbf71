package abr

import (
	"math"
	"math/rand"
	"testing"
)

// TestAddSteps: n additions in closed form equal n float64 additions one at
// a time, also across powers of two.
func TestAddSteps(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 200000; i++ {
		x := r.Float64() * math.Pow(2, float64(r.Intn(40)))
		if i%5 == 0 {
			x = math.Ldexp(1, r.Intn(30)) - r.Float64()*100 // just below a power of two
		}
		c := float64(1 + r.Intn(2_000_000))
		if i%3 == 0 {
			c = 50
		}
		n := r.Intn(40)
		want := x
		for k := 0; k < n; k++ {
			want += c
		}
		if got := addSteps(x, c, n); got != want {
			t.Fatalf("addSteps(%v, %v, %d) = %v, one by one %v", x, c, n, got, want)
		}
	}
}

// TestFastSteps: the closed-form count of fast steps equals the count the
// step-by-step loop makes (when it gives one).
func TestFastSteps(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	counted, ended := 0, 0
	for i := 0; i < 200000; i++ {
		w := float64(240 + r.Intn(100000))
		cmb := 50 * w
		ttn := r.Float64() * 3000
		if i%4 == 0 {
			ttn = float64(r.Intn(3000)) // whole-millisecond periods
		}
		left := r.Float64() * 1e8
		got0 := 0.0
		if i%2 == 0 {
			// a download under way that may end within the period
			got0 = float64(r.Intn(1<<30)) + r.Float64() // not an integer: partial sums round past a power of two
			if i%6 == 0 {
				got0 = math.Ldexp(1, 20+r.Intn(20)) - float64(r.Intn(4))*cmb - r.Float64() // just below one
			}
			if got0 < 0 {
				got0 = r.Float64()
			}
			left = got0 + r.Float64()*float64(ttn*w)*1.5
			if i%10 == 0 {
				left = got0 + float64(r.Intn(int(ttn*0.02)+2)+1)*cmb // "more than cmb left" fails by equality
			}
		}
		n, gn := fastSteps(ttn, w, cmb, 50, got0, left, math.Inf(1))
		if n == 0 {
			continue
		}
		counted++
		k, tt, got := 0, ttn, got0
		for left-got > cmb && cmb <= float64(tt*w) {
			tt -= 50
			got += cmb
			k++
		}
		if k != n {
			t.Fatalf("ttn %v w %v got %v size %v: fastSteps %d, loop %d", ttn, w, got0, left, n, k)
		}
		if addSteps(got0, cmb, n) != got {
			t.Fatalf("got %v + %d·%v: closed form %v, loop %v", got0, n, cmb, addSteps(got0, cmb, n), got)
		}
		if gn >= 0 && gn != got {
			t.Fatalf("got %v + %d·%v: fastSteps's sum %v, loop %v", got0, n, cmb, gn, got)
		}
		if !(left-got > cmb) {
			ended++
		}
		if tt != ttn-float64(50*n) {
			t.Fatalf("ttn %v: %d steps leave %v, closed form %v", ttn, n, tt, ttn-float64(50*n))
		}
	}
	if counted < 1000 {
		t.Fatalf("closed form used in only %d cases", counted)
	}
	if ended < 1000 {
		t.Fatalf("closed form used for only %d downloads ending in the period", ended)
	}
	if n, _ := fastSteps(1000, 100, 12000, 120, 0, 1e9, math.Inf(1)); n != 0 {
		t.Error("closed form used for a 12000-bit step (ct is not 50)")
	}
}
