package abr

import (
	"fmt"
	"path/filepath"
	"testing"
)

// bbaCases walk Algorithm 1 of the BBA paper on the ladder 500/1500/4000
// kbit/s with reservoir 5 s and cushion 10 s, where the map is
// f(B) = 500 + 350·(B − 5 s)/1 s: f = 1500 at B ≈ 7.86 s, f = 4000 at 15 s.
var bbaCases = []struct {
	prev int
	bMs  float64
	want int
	why  string
}{
	{2, 5000, 0, "at the reservoir: lowest"},
	{0, 4000, 0, "below the reservoir: lowest"},
	{0, 15000, 2, "at reservoir + cushion: highest"},
	{1, 20000, 2, "above the cushion: highest"},
	{0, 7000, 0, "f = 1200 < R+ = 1500: stay"},
	{0, 8000, 1, "f = 1550 ≥ R+ = 1500: the highest bitrate below f"},
	{0, 14900, 1, "f = 3965 ≥ R+: highest below f is 1500, not a jump to the top"},
	{1, 14900, 1, "f = 3965 < R+ = 4000: stay"},
	{2, 10000, 2, "f = 2250 > R− = 1500: stay (hysteresis)"},
	{2, 7500, 1, "f = 1375 ≤ R− = 1500: the lowest bitrate above f"},
	{1, 5500, 1, "f = 675 > R− = 500: stay"},
	{1, 5010, 1, "f = 503.5 > R− = 500: stay, just above the reservoir"},
}

func TestBBAAlgorithm1(t *testing.T) {
	kb := []float64{500, 1500, 4000}
	for _, c := range bbaCases {
		if got := bbaNext(kb, c.prev, c.bMs, 5000, 10000); got != c.want {
			t.Errorf("prev %d, buffer %v ms (%s): got %d, want %d", c.prev, c.bMs, c.why, got, c.want)
		}
	}
}

// BBA's quality is a function of the buffer alone: on the per-segment log
// of a real session every choice is Algorithm 1 applied to the buffer the
// record says the decision saw, and a small buffer scales the map down.
func TestBBASessionFollowsMap(t *testing.T) {
	m, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", "bbb.json"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	for _, bufMs := range []float64{10000, 25000} {
		for _, f := range files {
			tr, err := LoadTrace(f, 0)
			if err != nil {
				t.Fatal(err)
			}
			var recs []SegmentRecord
			s, err := NewSession(m, tr, NewBBA(Config{}), Options{BufferMs: bufMs, OnSegment: func(r *SegmentRecord) { recs = append(recs, *r) }})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(); err != nil {
				t.Fatal(err)
			}
			r, cu := 5000.0, 10000.0
			if r+cu > 0.9*bufMs {
				r, cu = r*0.9*bufMs/15000, cu*0.9*bufMs/15000
			}
			top := 0
			for i := 1; i < len(recs); i++ {
				want := bbaNext(m.Bitrates(), recs[i-1].Quality, recs[i].BufferBefore, r, cu)
				if recs[i].Quality != want {
					t.Fatalf("%s buffer %v: segment %d at buffer %v after %d: got %d, want %d", f, bufMs, i, recs[i].BufferBefore, recs[i-1].Quality, recs[i].Quality, want)
				}
				top = max(top, recs[i].Quality)
			}
			if top == 0 {
				t.Errorf("%s buffer %v: BBA never left the lowest quality", f, bufMs)
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
		if more, err := TraceFiles(filepath.Join("..", SharedDir, "sabre", "4Glogs")); err == nil {
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
			for _, opt := range []Options{{}, {BufferMs: 10000, RequestLatencyMs: 80}} {
				var got [2][]SegmentRecord
				for i, exh := range []bool{false, true} {
					o := opt
					o.OnSegment = func(r *SegmentRecord) { got[i] = append(got[i], *r) }
					s, err := NewSession(m, tr, &MPC{Exhaustive: exh}, o)
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

// mpcProbe records, at every decision, what robustMPC's look-ahead
// predicts for the segment it chooses: the buffer after the download and
// the rebuffering on the way.
type mpcProbe struct {
	*MPC
	buf, rebuf []float64
}

func (p *mpcProbe) Decide(s *Session, seg int) (int, float64) {
	q, d := p.MPC.Decide(s, seg)
	cb, rb := p.MPC.step(0, q, s.BufferLevel(), 0)
	p.buf, p.rebuf = append(p.buf, cb), append(p.rebuf, rb)
	return q, d
}

// On a constant link robustMPC's throughput prediction is exact, so its
// look-ahead must foresee the next download exactly as the session plays
// it (latency, transfer, buffer drain and cap, stall), whatever it
// chooses; with bandwidth to spare it settles on the top quality and
// never stalls.
func TestMPCLookAheadMatchesModel(t *testing.T) {
	for _, kbps := range []float64{700, 1000, 2000, 5000, 20000} {
		for _, bufMs := range []float64{8000, 20000} {
			t.Run(fmt.Sprint(kbps, "kbps/", bufMs, "ms"), func(t *testing.T) {
				m := smallLadder(60)
				var recs []SegmentRecord
				p := &mpcProbe{MPC: NewMPC(Config{})}
				s, err := NewSession(m, constTrace(kbps, 20), p, Options{BufferMs: bufMs, OnSegment: func(r *SegmentRecord) { recs = append(recs, *r) }})
				if err != nil {
					t.Fatal(err)
				}
				met, err := s.Run()
				if err != nil {
					t.Fatal(err)
				}
				if len(p.buf) != len(recs)-1 {
					t.Fatalf("%d decisions for %d downloads", len(p.buf), len(recs))
				}
				for i, r := range recs[1:] {
					if !closeRel(p.buf[i], r.BufferAfter, 1e-9) || !closeRel(p.rebuf[i], r.RebufMs, 1e-9) {
						t.Fatalf("segment %d (quality %d): predicted buffer %v rebuffer %v, session %v and %v", r.Index, r.Quality, p.buf[i], p.rebuf[i], r.BufferAfter, r.RebufMs)
					}
				}
				if kbps == 20000 {
					if met.RebufferMs != 0 || recs[len(recs)-1].Quality != 2 {
						t.Errorf("with bandwidth to spare: rebuffered %v ms, last quality %d", met.RebufferMs, recs[len(recs)-1].Quality)
					}
				}
			})
		}
	}
}
