package abr

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestSkipIsExact: skipping the abandonment calls that the rules prove
// silent changes nothing, record for record, with Options.Exact (also over
// the shared traces when present); without it (one transfer per proven
// download) every decision is the same and every time and total agrees to
// 1e-9, except the counts that rest on exact float ties: Sabre's
// over/under-estimate split and a rebuffer "event" of a few ulps.
func TestSkipIsExact(t *testing.T) {
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	if !testing.Short() {
		for _, d := range []string{"4Glogs", "3Glogs"} {
			if more, err := TraceFiles(filepath.Join(sharedABR, "sabre", d)); err == nil {
				files = append(files, more[:min(10, len(more))]...)
			}
		}
	}
	var mans []Manifest
	for _, m := range []string{"bbb.json", "bbb4k.json"} {
		l, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", m))
		if err != nil {
			t.Fatal(err)
		}
		mans = append(mans, l)
	}
	run := func(m Manifest, tr *Trace, name string, c AlgorithmOption, skip, exact bool) (Metrics, []SegmentRecord) {
		alg, _ := New(name, c)
		var recs []SegmentRecord
		s, err := NewSession(m, tr, alg, withSkip(skip), WithExact(exact), WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))
		if err != nil {
			t.Fatal(err)
		}
		met, err := s.Run()
		if err != nil {
			t.Fatal(err)
		}
		return met, recs
	}
	fast := 0
	for _, f := range files {
		tr, err := LoadTrace(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mans {
			for _, name := range []string{"bola", "bolae", "dynamicdash", "throughput", "dynamic"} {
				for _, c := range []AlgorithmOption{func(*Config) {}, WithBOLAO(), WithoutIBR()} {
					m0, r0 := run(m, tr, name, c, false, true)
					m1, r1 := run(m, tr, name, c, true, true)
					if m1 != m0 || !reflect.DeepEqual(r1, r0) {
						t.Errorf("%s %s %+v: skipping changed the result (Exact)", f, name, c)
					}
					m2, r2 := run(m, tr, name, c, true, false)
					if why := closeRun(m0, m2, r0, r2); why != "" {
						t.Errorf("%s %s %+v: one transfer per proven download: %s", f, name, c, why)
					}
					if m2 != m0 {
						fast++
					}
				}
			}
		}
	}
	if fast == 0 {
		t.Error("no run took the one-transfer path (the test would prove nothing)")
	}
}

// closeRun says how two runs of one session differ beyond the float ties
// TestSkipIsExact allows, or "" if they do not.
func closeRun(a, b Metrics, ra, rb []SegmentRecord) string {
	if len(ra) != len(rb) {
		return "different number of downloads"
	}
	for i := range ra {
		x, y := ra[i], rb[i]
		if x.Index != y.Index || x.Quality != y.Quality || x.AbandonTo != y.AbandonTo || x.Abandoned != y.Abandoned || x.Replacement != y.Replacement {
			return "a different decision at download " + strconv.Itoa(i)
		}
		if f := farField(reflect.ValueOf(x), reflect.ValueOf(y)); f != "" {
			return "record " + strconv.Itoa(i) + " " + f
		}
	}
	if a.OverCount != b.OverCount { // a tie of estimate and sample went the other way
		if a.OverCount+a.LeqCount != b.OverCount+b.LeqCount || absInt(a.OverCount-b.OverCount) > 2 {
			return "over/under-estimate split"
		}
		a.OverCount, a.LeqCount, a.OverAvg, a.LeqAvg = 0, 0, 0, 0
		b.OverCount, b.LeqCount, b.OverAvg, b.LeqAvg = 0, 0, 0, 0
	}
	if absInt(a.RebufferEvents-b.RebufferEvents) > 1 {
		return "rebuffer events"
	}
	a.RebufferEvents = b.RebufferEvents
	return farField(reflect.ValueOf(a), reflect.ValueOf(b))
}

// farField names the first field of two structs of one type that differs:
// an int or bool at all, a float64 by more than closeRel's 1e-9 (relative,
// or absolute: ms, bits and kbit/s, where that is far below anything printed).
func farField(a, b reflect.Value) string {
	for i := 0; i < a.NumField(); i++ {
		fa, fb := a.Field(i), b.Field(i)
		switch fa.Kind() {
		case reflect.Float64:
			x, y := fa.Float(), fb.Float()
			if !closeRel(x, y, 1e-9) {
				return fmt.Sprintf("%s %v vs %v", a.Type().Field(i).Name, x, y)
			}
		case reflect.Int, reflect.Bool:
			if fa.Interface() != fb.Interface() {
				return a.Type().Field(i).Name
			}
		}
	}
	return ""
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestExactRandomized: with WithExact, random Sabre configurations over
// random traces of every set (testdata, and ../shared's 3G, 4G, FCC HD and
// SD sets when present; fewer with -short) give every metric and record
// bit for bit as the tests' no-skip mode, which steps every 50 ms state and
// calls the rule at each: the path and line proofs and the closed-form
// steps change nothing. The seed is logged.
func TestExactRandomized(t *testing.T) {
	files := traceSets(t)
	var mans []Manifest
	for _, m := range []string{"bbb.json", "bbb4k.json"} {
		l, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", m))
		if err != nil {
			t.Fatal(err)
		}
		mans = append(mans, l)
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	n := 2000
	if testing.Short() {
		n = 40
	}
	algos := []string{"bola", "bolae", "dynamicdash", "throughput", "dynamic"}
	aopts := []AlgorithmOption{func(*Config) {}, WithBOLAO(), WithoutIBR(), WithBOLABasic()}
	for k := 0; k < n; k++ {
		f := files[r.Intn(len(files))]
		tr, err := LoadTrace(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		m := mans[r.Intn(len(mans))]
		if r.Intn(3) == 0 {
			m = Looped(m, float64(60+r.Intn(900))*1000) // -ml
		}
		if r.Intn(4) == 0 {
			tr = tr.Scale([]float64{0.5, 1.5, 3}[r.Intn(3)]) // -nm
		}
		name := algos[r.Intn(len(algos))]
		ao := r.Intn(len(aopts))
		opt := []Option{WithBuffer(float64(5+r.Intn(56)) * 1000), WithExact(true)}
		if r.Intn(4) == 0 {
			opt = append(opt, WithReplacement([]string{"left", "right"}[r.Intn(2)]))
		}
		if r.Intn(4) == 0 {
			opt = append(opt, WithSlidingWindow(3))
		}
		run := func(skip bool) (Metrics, []SegmentRecord) {
			alg, _ := New(name, aopts[ao])
			var recs []SegmentRecord
			s, err := NewSession(m, tr, alg, append(opt, withSkip(skip), WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))...)
			if err != nil {
				t.Fatal(err)
			}
			met, err := s.Run()
			if err != nil {
				t.Fatal(err)
			}
			return met, recs
		}
		m0, r0 := run(false)
		m1, r1 := run(true)
		if m1 != m0 || !reflect.DeepEqual(r1, r0) {
			t.Errorf("%s %s option %d %d segments: Exact differs from stepping every state", f, name, ao, m.NumSegments())
		}
	}
}
