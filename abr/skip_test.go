package abr

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestSkipIsExact: skipping the abandonment calls that BOLA/BOLA-E prove
// silent changes nothing, record for record (also over the shared traces
// when present).
func TestSkipIsExact(t *testing.T) {
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	if !testing.Short() {
		for _, d := range []string{"4Glogs", "3Glogs"} {
			if more, err := TraceFiles(filepath.Join("..", SharedDir, "sabre", d)); err == nil {
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
	run := func(m Manifest, tr *Trace, name string, c Config, skip bool) (Metrics, []SegmentRecord) {
		alg, _ := New(name, c)
		var recs []SegmentRecord
		s, err := NewSession(m, tr, alg, Options{NoSkip: !skip, OnSegment: func(r *SegmentRecord) { recs = append(recs, *r) }})
		if err != nil {
			t.Fatal(err)
		}
		met, err := s.Run()
		if err != nil {
			t.Fatal(err)
		}
		return met, recs
	}
	for _, f := range files {
		tr, err := LoadTrace(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mans {
			for _, name := range []string{"bola", "bolae", "dynamicdash", "throughput", "dynamic"} {
				for _, c := range []Config{{}, {Osc: true}, {NoIBR: true}} {
					m1, r1 := run(m, tr, name, c, true)
					m2, r2 := run(m, tr, name, c, false)
					if m1 != m2 || !reflect.DeepEqual(r1, r2) {
						t.Errorf("%s %s %+v: skipping changed the result", f, name, c)
					}
				}
			}
		}
	}
}
