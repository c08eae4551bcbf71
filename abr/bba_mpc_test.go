package abr

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// bbaCases walk Algorithm 1 of the BBA paper by hand. On the ladder
// 500/1500/4000 kbit/s with reservoir 5 s and cushion 10 s the map is
// f(B) = 500 + 350·(B − 5 s)/1 s: f = 1500 at B ≈ 7.86 s, f = 4000 at 15 s.
var bbaCases = []struct {
	kb     []float64
	r, cu  float64
	prev   int
	bMs    float64
	want   int
	reason string
}{
	{bba3, 5000, 10000, 2, 5000, 0, "at the reservoir: lowest"},
	{bba3, 5000, 10000, 0, 4000, 0, "below the reservoir: lowest"},
	{bba3, 5000, 10000, 0, 15000, 2, "at reservoir + cushion: highest"},
	{bba3, 5000, 10000, 1, 20000, 2, "above the cushion: highest"},
	{bba3, 5000, 10000, 0, 7000, 0, "f = 1200 < R+ = 1500: stay"},
	{bba3, 5000, 10000, 0, 8000, 1, "f = 1550 ≥ R+ = 1500: the highest bitrate below f"},
	{bba3, 5000, 10000, 0, 14900, 1, "f = 3965 ≥ R+: highest below f is 1500, not a jump to the top"},
	{bba3, 5000, 10000, 1, 14900, 1, "f = 3965 < R+ = 4000: stay"},
	{bba3, 5000, 10000, 2, 10000, 2, "f = 2250 > R− = 1500: stay (hysteresis)"},
	{bba3, 5000, 10000, 2, 7500, 1, "f = 1375 ≤ R− = 1500: the lowest bitrate above f"},
	{bba3, 5000, 10000, 1, 5500, 1, "f = 675 > R− = 500: stay"},
	{bba3, 5000, 10000, 1, 5010, 1, "f = 503.5 > R− = 500: stay, just above the reservoir"},
	// cushion 7 s: f = 500 + 500·(B − 5 s)/1 s, exactly 1500 at B = 7 s
	{bba3, 5000, 7000, 0, 7000, 0, "f = R+ = 1500 exactly: max{R < f} is 500, stay"},
	{bba3, 5000, 7000, 2, 7000, 2, "f = R− = 1500 exactly: min{R > f} is 4000, stay"},
	// four levels: f = 500 + 350·(B − 5 s)/1 s
	{bba4, 5000, 10000, 3, 5500, 1, "f = 675 ≤ R− = 1500: down two levels to the lowest above f (1000)"},
	{bba4, 5000, 10000, 0, 9000, 2, "f = 1900 ≥ R+ = 1000: up two levels to the highest below f (1500)"},
	{[]float64{800}, 5000, 10000, 0, 9000, 0, "a single level"},
	{bba3, 5000, 0, 0, 5001, 2, "no cushion: a step from lowest to highest"},
}

var (
	bba3 = []float64{500, 1500, 4000}
	bba4 = []float64{500, 1000, 1500, 4000}
)

func TestBBAAlgorithm1(t *testing.T) {
	for _, c := range bbaCases {
		if got := bbaNext(c.kb, c.prev, c.bMs, c.r, c.cu); got != c.want {
			t.Errorf("%v prev %d, buffer %v ms (%s): got %d, want %d", c.kb, c.prev, c.bMs, c.reason, got, c.want)
		}
	}
}

// In a session, BBA's choice is Algorithm 1 on the buffer the decision saw
// and the previous choice, with the map scaled to the most buffer a
// decision can see: bbb.json has 3 s segments, so with a 10 s buffer that
// is 7 s and the map becomes 90% of it, reservoir 2.1 s and cushion 4.2 s;
// with 25 s there is room for Pensieve's 5 s + 10 s. On a fast link the
// top is reached either way.
func TestBBASessionFollowsMap(t *testing.T) {
	m, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", "bbb.json"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	top := len(m.Bitrates()) - 1
	for _, c := range []struct{ bufMs, r, cu float64 }{{10000, 2100, 4200}, {25000, 5000, 10000}} {
		traces := []*Trace{constTrace(100000, 20)}
		for _, f := range files {
			tr, err := LoadTrace(f, 0)
			if err != nil {
				t.Fatal(err)
			}
			traces = append(traces, tr)
		}
		for _, tr := range traces {
			var recs []SegmentRecord
			s, err := NewSession(m, tr, NewBBA(), WithBuffer(c.bufMs), WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(); err != nil {
				t.Fatal(err)
			}
			highest := 0
			for i := 1; i < len(recs); i++ {
				want := bbaNext(m.Bitrates(), recs[i-1].Quality, recs[i].BufferBefore, c.r, c.cu)
				if recs[i].Quality != want {
					t.Fatalf("%s buffer %v: segment %d at buffer %v after %d: got %d, want %d", tr.Name, c.bufMs, i, recs[i].BufferBefore, recs[i-1].Quality, recs[i].Quality, want)
				}
				highest = max(highest, recs[i].Quality)
			}
			if tr.Name == "const" && highest != top {
				t.Errorf("buffer %v on a 100 Mbit/s link: highest quality %d, want the top %d", c.bufMs, highest, top)
			}
		}
	}
}

// The depth-first search with its pruning bound chooses what scoring every
// sequence chooses, at every decision of real sessions (several ladders,
// buffers and latencies).
func TestMPCFastEqualsExhaustive(t *testing.T) {
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	if !testing.Short() {
		if more, err := TraceFiles(filepath.Join(sharedABR, "sabre", "4Glogs")); err == nil {
			files = append(files, more[:min(len(more), 2)]...)
		}
	}
	decisions := 0
	for _, mf := range []string{"bbb.json", "bbb4k.json"} {
		m, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", mf))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			tr, err := LoadTrace(f, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, opt := range [][]Option{nil, {WithBuffer(10000), WithRequestLatency(80)}} {
				var got [2][]SegmentRecord
				for i, exh := range []bool{false, true} {
					o := append(opt[:len(opt):len(opt)], WithOnSegment(func(r *SegmentRecord) { got[i] = append(got[i], *r) }))
					s, err := NewSession(m, tr, &MPC{scoreAll: exh}, o...)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := s.Run(); err != nil {
						t.Fatal(err)
					}
				}
				if len(got[0]) != len(got[1]) {
					t.Fatalf("%s %s: %d vs %d downloads", mf, f, len(got[0]), len(got[1]))
				}
				for i := range got[0] {
					if got[0][i] != got[1][i] {
						t.Fatalf("%s %s %+v: download %d: fast %+v, exhaustive %+v", mf, f, opt, i, got[0][i], got[1][i])
					}
				}
				decisions += len(got[0])
			}
		}
	}
	if decisions == 0 {
		t.Fatal("no decisions compared")
	}
}

// The predictor by hand: harmonic mean of the last five measurements,
// divided by 1 + the largest of the last five relative errors, each error
// measured against the prediction (H) made before its measurement.
func TestMPCPredictor(t *testing.T) {
	m := NewMPC()
	if _, _, ok := m.predict(); ok {
		t.Fatal("a prediction without measurements")
	}
	steps := []struct {
		x, H, F float64
	}{
		{1000, 1000, 1000},               // one sample, no error yet
		{2000, 4000.0 / 3, 4000.0 / 4.5}, // e = |1000−2000|/2000 = 0.5
		{2000, 1500, 1000},               // e = |4000/3−2000|/2000 = 1/3; max 0.5
		{2000, 1600, 1600 / 1.5},         // H = 4/(1/1000+3/2000); e = 0.25
		{2000, 5000.0 / 3, 5000.0 / 4.5}, // 5/(1/1000+4/2000); e = 0.2
		{2000, 2000, 2000 / 1.5},         // e = 1/6: the 1000 leaves the sample window, but e = 0.5 is still among the last five errors
		{2000, 2000, 2000 / (1 + 1.0/3)}, // e = 0; now e = 0.5 leaves too, the largest is 1/3
		{2000, 2000, 2000 / 1.25},        // e = 0; the largest left is 0.25
	}
	for i, st := range steps {
		m.measure(st.x)
		H, F, ok := m.predict()
		if !ok || !closeRel(H, st.H, 1e-12) || !closeRel(F, st.F, 1e-12) {
			t.Errorf("after measurement %d (%v): H %v F %v, want %v and %v", i, st.x, H, F, st.H, st.F)
		}
	}
}

// planByHand sets up a two-step look-ahead on the ladder 1000/3000 kbit/s
// (μ = 3) with 2 s segments, the download times given per quality.
func planByHand(last int, bufMs, maxBufMs float64, dt [2]float64) (*MPC, int) {
	m := &MPC{kb: []float64{1000, 3000}, look: 2, segMs: 2000, bufMs: maxBufMs, last: last}
	m.dt = []float64{dt[0], dt[1], dt[0], dt[1]}
	return m, m.plan(bufMs)
}

// Decisions worked out by hand (score = Σ Mbit/s − 3·stall s − Σ |Δ Mbit/s|).
func TestMPCPlanByHand(t *testing.T) {
	for _, c := range []struct {
		last        int
		buf, maxBuf float64
		dt          [2]float64
		want        int
		best        float64
		why         string
	}{
		{0, 6000, 1e9, [2]float64{1000, 3000}, 1, 4, "(1,1): 6 − 0 − 2 = 4 beats (0,0) = (0,1) = 2 and (1,0) = 0"},
		{0, 3000, 1e9, [2]float64{1000, 3000}, 0, 2, "(1,1) stalls 1 s: 6 − 3 − 2 = 1; (0,0) and (0,1) tie at 2"},
		{1, 2500, 1e9, [2]float64{1000, 3000}, 1, 1.5, "from 3000: (1,1) stalls 1.5 s, 6 − 4.5 = 1.5 beats (1,0) = 0.5 and switching down (0)"},
		{0, 3000, 5000, [2]float64{1000, 3500}, 0, 2, "B − P = 3 s caps the buffer before step 2: (0,1) stalls 0.5 s, 4 − 1.5 − 2 = 0.5 < (0,0) = 2"},
	} {
		for _, exh := range []bool{false, true} {
			m, got := planByHand(c.last, c.buf, c.maxBuf, c.dt)
			if exh {
				m.scoreAll = true
				got = m.plan(c.buf)
			}
			if got != c.want || !closeRel(m.best, c.best, 1e-12) {
				t.Errorf("exhaustive=%v %s: decision %d best %v, want %d and %v", exh, c.why, got, m.best, c.want, c.best)
			}
		}
	}
	// the wait before a request: 4 s buffered with B − P = 3 s starts at 3 s
	m, _ := planByHand(0, 0, 5000, [2]float64{1000, 3500})
	if cb, rb := m.step(1, 1, 4000, 0); cb != 2000 || rb != 500 {
		t.Errorf("step from 4 s with B − P = 3 s: buffer %v stall %v, want 2000 and 500", cb, rb)
	}
}

// The pruned search and exhaustive scoring agree on random look-ahead
// states built to be hard: integer bitrates and download times (exact
// ties), zero download times, buffers above the cap and caps below one
// segment.
func TestMPCSearchRandomStates(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for it := 0; it < 3000; it++ {
		n := 1 + rng.IntN(5)
		kb := make([]float64, n)
		v := 0.0
		for i := range kb {
			v += float64(1 + rng.IntN(3))
			kb[i] = v * 500
		}
		m := &MPC{kb: kb, look: 1 + rng.IntN(5), segMs: float64(1000 * (1 + rng.IntN(4))), last: rng.IntN(n)}
		m.bufMs = float64(1000 * rng.IntN(12))
		m.dt = make([]float64, mpcHorizon*n)
		for i := range m.dt {
			m.dt[i] = float64(500 * rng.IntN(9))
		}
		buf := float64(500 * rng.IntN(16))
		fast := m.plan(buf)
		fb := m.best
		m.scoreAll = true
		slow := m.plan(buf)
		if fast != slow || fb != m.best {
			t.Fatalf("state %d %+v from %v: search %d (%v), exhaustive %d (%v)", it, m, buf, fast, fb, slow, m.best)
		}
	}
}

// Every completed download is a measurement, segment 0's included (it is
// not reported to DownloadReporters, so it comes from the session's
// history).
func TestMPCMeasuresEveryDownload(t *testing.T) {
	m, _ := LoadSabreManifest(filepath.Join(testdataDir, "sabre", "bbb4k.json"))
	tr, _ := LoadTrace(filepath.Join(testdataDir, "sabre", "4Glogs", "report_bus_0001.json"), 0)
	a := NewMPC()
	var recs []SegmentRecord
	s, err := NewSession(m, tr, a, WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if a.ns != len(recs) {
		t.Errorf("%d measurements for %d downloads", a.ns, len(recs))
	}
	if a.last != recs[len(recs)-1].Quality {
		t.Errorf("last quality %d, the session's last download was %d", a.last, recs[len(recs)-1].Quality)
	}
	// the first decision saw segment 0's measurement
	b := NewMPC()
	s, _ = NewSession(m, tr, b)
	if _, err := s.Step(); err != nil { // segment 0
		t.Fatal(err)
	}
	if _, err := s.Step(); err != nil { // segment 1: the first decision
		t.Fatal(err)
	}
	if b.ns != 2 || b.samples[0] != recs[0].ThroughputKb {
		t.Errorf("after two downloads: %d measurements, the first %v; segment 0 measured %v", b.ns, b.samples[0], recs[0].ThroughputKb)
	}
}

// lookProbe follows a fixed pattern of qualities and, at every decision,
// records what robustMPC's look-ahead predicts for the next segments of
// that pattern: the buffer after each download.
type lookProbe struct {
	m       *MPC
	pattern []int
	pred    [][]float64 // pred[i]: predictions of segment i's buffer after
}

func (p *lookProbe) Init(s View) {
	p.m.Init(s)
	p.pred = make([][]float64, s.NumSegments())
}

func (p *lookProbe) ReportDownload(s View, d *Download) { p.m.ReportDownload(s, d) }

func (p *lookProbe) Decide(s View, seg int) (int, float64) {
	p.m.Decide(s, seg) // measures, predicts and fills the look-ahead table
	cb, rb := s.BufferLevel(), 0.0
	for j := 0; j < p.m.look; j++ {
		cb, rb = p.m.step(j, p.pattern[(seg+j)%len(p.pattern)], cb, rb)
		p.pred[seg+j] = append(p.pred[seg+j], cb)
	}
	return p.pattern[seg%len(p.pattern)], 0
}

// On a constant link the prediction is exact, so every look-ahead step —
// latency, transfer, the wait for room in the buffer, stalls — must match
// what the session then plays, up to five segments ahead.
func TestMPCLookAheadMatchesModel(t *testing.T) {
	for _, kbps := range []float64{700, 2000, 5000, 20000} {
		for _, bufMs := range []float64{5000, 8000, 20000} {
			m := smallLadder(40)
			p := &lookProbe{m: NewMPC(), pattern: []int{0, 2, 1, 2, 2, 0, 1, 0, 0}}
			var recs []SegmentRecord
			s, err := NewSession(m, constTrace(kbps, 20), p, WithBuffer(bufMs), WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(); err != nil {
				t.Fatal(err)
			}
			checked := 0
			for i, r := range recs {
				for _, pb := range p.pred[i] {
					if !closeRel(pb, r.BufferAfter, 1e-9) {
						t.Fatalf("%v kbit/s, %v ms buffer: segment %d predicted buffer %v, session %v (wait %v, stall %v)", kbps, bufMs, i, pb, r.BufferAfter, r.WaitMs, r.RebufMs)
					}
					checked++
				}
			}
			if checked < 4*len(recs) {
				t.Errorf("only %d predictions checked", checked)
			}
		}
	}
}

// A code-built manifest with a negative, NaN or infinite segment size is
// refused with the segment and quality named (no reader checked it).
func TestNewSessionRejectsBadSizes(t *testing.T) {
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		l := smallLadder(3)
		l.Sizes[2][1] = bad
		_, err := NewSession(l, constTrace(1000, 10), NewBBA())
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "segment 2 quality 1") {
			t.Errorf("size %v: %v", bad, err)
		}
	}
}
