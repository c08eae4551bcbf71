package shape

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/abr"
)

func TestScenarioFiles(t *testing.T) {
	files, _ := filepath.Glob("../testdata/shape/*.json")
	if len(files) < 6 {
		t.Fatalf("want the scenario files in testdata/shape, found %v", files)
	}
	for _, f := range files {
		sc, err := LoadScenario(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if sc.Description == "" || len(sc.Phases) == 0 {
			t.Errorf("%s: no description or phases", f)
		}
		if _, err := New(sc); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	sc, err := LoadScenario("../testdata/shape/trace-steps.json")
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Loop || len(sc.Phases) != 5 || sc.Phases[1].Kbps != 800 || sc.Phases[1].LatencyMs != 30 || sc.Phases[4].DurationS != 10 {
		t.Errorf("trace scenario: %+v", sc)
	}
	// a bare trace file is a scenario too
	sc, err = LoadScenario("../testdata/shape/steps.csv")
	if err != nil || len(sc.Phases) != 5 || !sc.Loop {
		t.Errorf("bare trace: %+v, %v", sc, err)
	}
	// every trace format abr reads: Sabre JSON and Pensieve cooked from
	// testdata/abr (Mahimahi and CSV are covered by abr's own tests and
	// TestThroughputFollowsTrace)
	for _, dir := range []string{"../testdata/abr/sabre/4Glogs", "../testdata/abr/pensieve/cooked_3gp"} {
		files, _ := abr.TraceFiles(dir)
		if len(files) == 0 {
			t.Errorf("no traces in %s", dir)
			continue
		}
		sc, err := LoadScenario(files[0])
		if err != nil || !sc.Loop || len(sc.Phases) < 2 {
			t.Errorf("%s: %v", files[0], err)
		}
	}
	mm, err := abr.ParseTrace([]byte("1\n1\n2\n50\n100\n"), "mm", 40)
	if err != nil {
		t.Fatal(err)
	}
	if sc, err := FromTrace(mm); err != nil || sc.Phases[0].LatencyMs != 40 {
		t.Errorf("mahimahi: %+v %v", sc, err)
	}
}

// TestScenarioErrors: the strict decoder names the field at fault.
func TestScenarioErrors(t *testing.T) {
	ph := `"phases":[{"duration_s":10,"kbps":1000}]`
	for _, c := range []struct{ json, field string }{
		{`{"phases":[{"duration_s":10,"kbps":1000,"bandwidth":5}]}`, "bandwidth: unknown field"},
		{`{"phase":[]}`, "phase: unknown field"},
		{`{"phases":[{"duration_s":10}]}`, "phases[0].kbps: missing"},
		{`{"phases":[{"kbps":10}]}`, "phases[0].duration_s: missing"},
		{`{"phases":[{"duration_s":10,"kbps":-1}]}`, "phases[0].kbps: must be a finite non-negative"},
		{`{"phases":[{"duration_s":10,"kbps":1e12}]}`, "phases[0].kbps: 1e+12 is larger than the limit"},
		{`{"phases":[{"duration_s":0,"kbps":10}]}`, "phases[0].duration_s: must be at least 0.001"},
		{`{"phases":[{"duration_s":1,"kbps":1e-9}]}`, "phases[0].kbps: must be 0 (an outage) or at least"},
		{`{"phases":[{"duration_s":1e9,"kbps":10}]}`, "phases[0].duration_s: 1e+09 is larger"},
		{`{"phases":[{"duration_s":1,"kbps":10,"loss":0.7}]}`, "phases[0].loss: 0.7 is larger"},
		{`{"phases":[{"duration_s":1,"kbps":10,"latency_ms":1e7}]}`, "phases[0].latency_ms"},
		{`{"phases":[{"duration_s":1,"kbps":10,"jitter_ms":-3}]}`, "phases[0].jitter_ms"},
		{`{"phases":[{"duration_s":1,"kbps":"fast"}]}`, "phases.kbps: JSON string where float64 expected"},
		{`{"phases":[{"duration_s":1,"kbps":10},{"duration_s":1,"kbps":0}]}`, "phases[1].kbps: the last phase holds forever"},
		{`{"phases":[{"duration_s":1,"kbps":0}],"loop":true}`, "phases: every phase has kbps 0"},
		{`{}`, "phases: missing"},
		{`{` + ph + `,"trace":"x.csv"}`, "trace: give phases or a trace"},
		{`{` + ph + `,"burst_bytes":-1}`, "burst_bytes"},
		{`{` + ph + `,"burst_bytes":1000000000}`, "burst_bytes"},
		{`{` + ph + `,"faults":[{"class":"video","kind":"status","status":500,"rate":0.1}]}`, `faults[0].class: "video" is not one of`},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"drop","rate":0.1}]}`, `faults[0].kind: "drop"`},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"status","status":200,"rate":0.1}]}`, "faults[0].status"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"status","status":503,"rate":1.5}]}`, "faults[0].rate: 1.5 is larger"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"status","status":503,"rate":-0.1}]}`, "faults[0].rate: must be"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"status","status":503}]}`, "faults[0].rate: a fault needs a rate or at_s"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"status","status":503,"rate":0.6},{"class":"any","kind":"reset","rate":0.5}]}`, "faults[1].rate: the rates of the faults that apply to segment"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"truncate","fraction":1,"rate":0.1}]}`, "faults[0].fraction"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"status","status":500,"fraction":0.5,"rate":0.1}]}`, "faults[0].fraction: only for"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"slow_first_byte","rate":0.1}]}`, "faults[0].delay_ms: must be positive"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"reset","status":500,"rate":0.1}]}`, "faults[0].status: only for"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"reset","at_s":[5,2]}]}`, "faults[0].at_s[1]: times must not decrease"},
		{`{` + ph + `,"faults":[{"class":"segment","kind":"reset","rate":0.1,"from_s":5,"to_s":2}]}`, "faults[0].to_s"},
		{`{` + ph + `} {}`, "data after the scenario object"},
		{`{` + ph, "invalid JSON"},
		{`[1,2]`, "JSON array where shape.Scenario expected"},
	} {
		_, err := ParseScenario([]byte(c.json), "s.json")
		if err == nil {
			t.Errorf("%s: no error", c.json)
			continue
		}
		if !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "s.json") {
			t.Errorf("%s:\n  got  %v\n  want %q", c.json, err, c.field)
		}
	}
	if _, err := ParseScenario([]byte(`{`+ph+`}`), "ok.json"); err != nil {
		t.Error(err)
	}
}

// FuzzParseScenario: hostile scenario files give errors, never a panic,
// and whatever parses can be shaped with.
func FuzzParseScenario(f *testing.F) {
	files, _ := filepath.Glob("../testdata/shape/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"phases":[{"duration_s":1e-300,"kbps":1e-300}],"loop":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario(data, "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrScenario) {
				t.Fatalf("error without ErrScenario: %v", err)
			}
			return
		}
		if sc.Trace != "" {
			return
		}
		s, err := New(sc)
		if err != nil {
			t.Fatalf("parsed but New fails: %v", err)
		}
		// the timeline arithmetic terminates on whatever parsed
		l := s.link("k", epoch)
		l.reserve(epoch, 1, -1)
		l.chunk(epoch)
	})
}
