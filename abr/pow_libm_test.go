package abr

import (
	"math"
	"math/rand"
	"testing"

	"github.com/streamkit-go/streamkit/abr/internal/libm"
)

// TestPow05MatchesLibm compares pow05 with the C library's pow, which is
// what Sabre's Python calls (MODELS.md §0.2, Appendix A): on glibc both are
// correctly rounded nearly always, so they agree far more often than
// math.Pow does.
func TestPow05MatchesLibm(t *testing.T) {
	if !libm.Available {
		t.Skip("built without cgo: no C library to compare with")
	}
	r := rand.New(rand.NewSource(2))
	const n = 200000
	same, sameGo := 0, 0
	for i := 0; i < n; i++ {
		var y float64
		switch i % 3 {
		case 0:
			y = r.Float64() * 5000 / 3000 // transfer time / half-life
		case 1:
			y = r.Float64() * 200 // accumulated weight / half-life
		default:
			y = float64(r.Intn(400)) / (8000.0 / 3000) // sample count / latency half-life
		}
		c := libm.Pow(0.5, y)
		if pow05(y) == c {
			same++
		}
		if math.Pow(0.5, y) == c {
			sameGo++
		}
	}
	t.Logf("equal to libm pow: pow05 %.3f%%, math.Pow %.3f%%", 100*float64(same)/n, 100*float64(sameGo)/n)
	if float64(same)/n < 0.995 {
		t.Errorf("pow05 equals libm's pow(0.5, y) in only %.3f%% of %d inputs", 100*float64(same)/n, n)
	}
}
