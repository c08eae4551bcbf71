package abr

import (
	"math"
	"math/rand"
	"path/filepath"
	"reflect"
	"testing"
)

// TestFirstFiringSound: at every state up to the step firstFiring returns,
// THROUGHPUT's rule, evaluated in float64 on the step-by-step sums as the
// tick loop makes them, keeps downloading; and the answer is tight: in
// most lines where the rule fires, it fires within a few steps after it.
func TestFirstFiringSound(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	l := &Ladder{SegmentMs: 3000, Kbps: []float64{300, 750, 1200, 2850, 4300, 8000}}
	for i := 0; i < 4; i++ {
		l.Sizes = append(l.Sizes, []float64{0.9e6, 2.25e6, 3.6e6, 8.55e6, 12.9e6, 24e6})
	}
	tp := NewThroughput()
	s, err := NewSession(l, constTrace(5000, 20), tp)
	if err != nil {
		t.Fatal(err)
	}
	v := View{s}
	fired, tight, proven := 0, 0, 0
	for i := 0; i < 200000; i++ {
		q := 1 + r.Intn(5)
		size := l.Sizes[0][q] * (0.5 + r.Float64())
		w := float64(240 + r.Intn(20000))
		cmb := 50 * w
		ttfb := float64(r.Intn(200)) + r.Float64()*float64(r.Intn(2))
		t0 := ttfb + 1 + r.Float64()*4000
		if i%5 == 0 {
			t0 = 500 - 50*float64(r.Intn(8)) - r.Float64()*1e-6 // T reaches 500 at a step, give or take an ulp
		}
		g0 := 12000 + r.Float64()*size*0.9
		if i%3 == 0 {
			g0 = math.Floor(g0) // integer sums: ties at the rule's threshold are exact
		}
		if !(g0 < size) || !(t0 > ttfb) {
			continue
		}
		kmax := float64(r.Intn(80))
		p := Progress{Index: 1, Quality: q, SizeBits: size, Downloaded: g0, TimeMs: t0, TTFBMs: ttfb}
		k := tp.firstFiring(v, &p, 0, 50, cmb, kmax)
		if k > int(kmax) {
			t.Fatalf("case %d: K %d beyond kmax %v", i, k, kmax)
		}
		if k >= 0 {
			proven++
		}
		first := -1
		for j := 0; j <= int(kmax); j++ {
			st := p
			st.TimeMs = addSteps(t0, 50, j)
			st.Downloaded = addSteps(g0, cmb, j)
			if st.Downloaded >= size {
				break
			}
			if tp.Abandon(v, &st, 0) >= 0 {
				first = j
				break
			}
		}
		if first >= 0 && first <= k {
			t.Fatalf("case %d (%+v, w %v): the rule fires at step %d, firstFiring proved silence up to %d", i, p, w, first, k)
		}
		if first >= 0 {
			fired++
			if first <= k+3 {
				tight++
			}
		}
	}
	if proven < 10000 || fired < 10000 {
		t.Fatalf("too few useful cases: %d proven, %d fired", proven, fired)
	}
	// (the rule also needs a lower sustainable quality and a smaller size
	// estimate, which firstFiring does not model, so it may fire later)
	if tight < fired/2 {
		t.Errorf("firstFiring is loose: within 3 steps of the firing in %d of %d lines", tight, fired)
	}
}

// firstFiringTraces are synthetic traces with the edges the jump must get
// right: periods as short as a step and shorter, period ends on the 50 ms
// grid, bandwidths at the 12000-bit step floor (240 kbit/s) and either
// side of it, a trace shorter than one download (it loops), latency that
// puts the 500 ms threshold on a step.
func firstFiringTraces() []*Trace {
	var ts []*Trace
	mk := func(name string, ps ...Period) { ts = append(ts, &Trace{Name: name, Periods: ps}) }
	mk("grid", Period{1000, 3000, 50}, Period{500, 800, 50}, Period{2000, 6000, 50}, Period{150, 400, 50})
	mk("short", Period{30, 5000, 20}, Period{50, 300, 20}, Period{70, 9000, 20}, Period{20, 240, 20}, Period{400, 1200, 20})
	mk("floor", Period{1000, 240, 10}, Period{1000, 239, 10}, Period{1000, 241, 10}, Period{800, 8000, 10})
	mk("drop", Period{3000, 12000, 100}, Period{2500, 500, 100}, Period{1000, 700, 100})
	mk("loop", Period{1250, 900, 0}, Period{750, 2500, 0})
	mk("crash", Period{4000, 20000, 40}, Period{6000, 300, 40}, Period{1000, 20000, 40}, Period{6000, 260, 40})
	return ts
}

// TestFirstFiringIsExact: sessions of the rules that jump to their first
// possible firing (THROUGHPUT, DYNAMIC, and DYNAMICDASH while THROUGHPUT
// is active), in Exact mode, give every metric and per-segment record bit
// for bit as the tick loop that calls the rule at every 50 ms state
// (withSkip(false)), over the synthetic edge traces above (scaled to move
// the edges around), the testdata traces and, without -short, every trace
// of ../shared's 4G and 3G sets and the first FCC ones; and the jump is taken.
func TestFirstFiringIsExact(t *testing.T) {
	traces := firstFiringTraces()
	var scaled []*Trace
	for _, tr := range traces {
		for _, f := range []float64{0.37, 0.8, 1.9, 4.3} {
			scaled = append(scaled, tr.Scale(f))
		}
	}
	traces = append(traces, scaled...)
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	if !testing.Short() {
		for _, d := range []string{"4Glogs", "3Glogs", "hd_fs"} {
			if more, err := TraceFiles(filepath.Join(sharedABR, "sabre", d)); err == nil {
				files = append(files, more[:min(40, len(more))]...)
			}
		}
	}
	for _, f := range files {
		tr, err := LoadTrace(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		traces = append(traces, tr)
	}
	var mans []Manifest
	for _, m := range []string{"bbb.json", "bbb4k.json"} {
		l, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", m))
		if err != nil {
			t.Fatal(err)
		}
		mans = append(mans, l, Looped(l, 120000))
	}
	jumps := 0
	run := func(m Manifest, tr *Trace, name string, buf float64, skip bool) (Metrics, []SegmentRecord) {
		alg, _ := New(name)
		var recs []SegmentRecord
		s, err := NewSession(m, tr, alg, WithBuffer(buf), WithExact(true), withSkip(skip),
			WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))
		if err != nil {
			t.Fatal(err)
		}
		met, err := s.Run()
		if err != nil {
			t.Fatal(err)
		}
		jumps += s.jumps
		return met, recs
	}
	sessions := 0
	for i, tr := range traces {
		m := mans[i%len(mans)]
		for _, name := range []string{"throughput", "dynamic", "dynamicdash"} {
			for _, buf := range []float64{10000, 25000} {
				m0, r0 := run(m, tr, name, buf, false)
				m1, r1 := run(m, tr, name, buf, true)
				sessions++
				if m1 != m0 || !reflect.DeepEqual(r1, r0) {
					for k := range r0 {
						if k < len(r1) && r0[k] != r1[k] {
							t.Errorf("%s %s buffer %v: download %d: tick loop %+v, with the jump %+v", tr.Name, name, buf, k, r0[k], r1[k])
							break
						}
					}
					t.Errorf("%s %s buffer %v: the jump changed the result", tr.Name, name, buf)
				}
			}
		}
	}
	if jumps < sessions {
		t.Errorf("only %d jumps in %d sessions: the test would prove little", jumps, sessions)
	}
	t.Logf("%d sessions, %d jumps", sessions, jumps)
}
