package abr

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func runRecorded(t *testing.T, name string) (Metrics, []SegmentRecord, *Trace) {
	t.Helper()
	m, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", "bbb.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrace(filepath.Join(testdataDir, "sabre", "3Glogs", "report.2010-09-13_1046CEST.json"), 0)
	if err != nil {
		t.Fatal(err)
	}
	alg, _ := New(name)
	var recs []SegmentRecord
	s, err := NewSession(m, tr, alg, WithBuffer(10000), WithOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) }))
	if err != nil {
		t.Fatal(err)
	}
	met, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	return met, recs, tr
}

// The per-segment log adds up to the session totals, and its CSV and JSONL
// forms carry the same records.
func TestSegmentLog(t *testing.T) {
	met, recs, _ := runRecorded(t, "throughput")
	rebuf, n, abandoned := 0.0, 0, 0
	for _, r := range recs {
		rebuf += r.RebufMs
		if r.Abandoned {
			abandoned++
		} else {
			n++
		}
	}
	if n != met.Segments || abandoned != met.AbandonedDownloads || abandoned == 0 {
		t.Errorf("%d completed + %d abandoned records, metrics say %d segments, %d abandoned", n, abandoned, met.Segments, met.AbandonedDownloads)
	}
	// the final playout can add stall time after the last download
	if rebuf > met.RebufferMs+1e-6 || rebuf < met.RebufferMs-6000 {
		t.Errorf("log rebuffer %v ms, session %v ms", rebuf, met.RebufferMs)
	}
	var c bytes.Buffer
	if err := WriteSegmentCSV(&c, recs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != len(recs)+1 || len(rows[0]) != len(SegmentCSVHeader) {
		t.Fatalf("CSV: %d rows, err %v", len(rows), err)
	}
	var j bytes.Buffer
	if err := WriteSegmentJSONL(&j, recs); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&j)
	for i := 0; ; i++ {
		var r SegmentRecord
		if err := dec.Decode(&r); err == io.EOF {
			if i != len(recs) {
				t.Fatalf("JSONL has %d records, want %d", i, len(recs))
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if r != recs[i] {
			t.Fatalf("JSONL record %d differs: %+v vs %+v", i, r, recs[i])
		}
	}
}

func wellFormedSVG(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG not well-formed: %v", err)
		}
	}
	if !bytes.HasPrefix(b, []byte("<svg")) {
		t.Fatal("not an SVG")
	}
}

func TestSVG(t *testing.T) {
	met, recs, tr := runRecorded(t, "bolae")
	var b bytes.Buffer
	tl := Timeline{Title: "a <test> & more", Trace: tr, Bitrates: []float64{230, 6000}, Records: recs, Metrics: met}
	if err := tl.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b.Bytes())
	if got := strings.Count(b.String(), `fill-opacity="0.3"`); got == 0 {
		t.Error("no stall shading in a session with stalls")
	}
	b.Reset()
	if err := WriteCDFSVG(&b, "QoE", "qoe", []CDFSeries{{"bb", []float64{1, 2, 3}}, {"mpc", []float64{2, math.NaN(), 4}}}); err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b.Bytes())
}

// Pensieve's log and HD rewards follow the paper's formulas (§3.5).
func TestQoEVariants(t *testing.T) {
	kb := PensieveLadderKbps
	if got, want := QoELog.Reward(kb, 3, 1, 0.5), math.Log(1850.0/300)-2.66*0.5-math.Abs(math.Log(1850.0/300)-math.Log(750.0/300)); math.Abs(got-want) > 1e-12 {
		t.Errorf("log reward %v, want %v", got, want)
	}
	if got := QoEHD.Reward(kb, 5, 3, 1); got != 20-8-8 {
		t.Errorf("HD reward %v, want 4", got)
	}
	if got := QoELinear.Reward(kb, 2, 4, 2); math.Abs(got-(1.2-8.6-1.65)) > 1e-12 {
		t.Errorf("linear reward %v", got)
	}
	for _, s := range []string{"linear", "log", "hd"} {
		q, err := ParseQoE(s)
		if err != nil || q.String() != s {
			t.Errorf("ParseQoE(%q) = %v, %v", s, q, err)
		}
	}
}

// Zero allocations per simulated segment: a reused session runs a whole
// trace without allocating, for every algorithm but robustMPC's Pensieve
// policy (which is also allocation-free, see BenchmarkRobustMPC).
func TestZeroAllocsPerSegment(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and race instrumentation allocate")
	}
	m, _ := LoadSabreManifest(filepath.Join(testdataDir, "sabre", "bbb4k.json"))
	tr, _ := LoadTrace(filepath.Join(testdataDir, "sabre", "4Glogs", "report_bus_0001.json"), 0)
	for _, name := range Names() {
		alg, _ := New(name)
		for _, mode := range []int{0, 1, 2} { // abandonment, none, abandonment in Exact mode
			noa := mode == 1
			opt := []Option{WithAbandonment(!noa), WithExact(mode == 2)}
			s, err := NewSession(m, tr, alg, opt...)
			if err != nil {
				t.Fatal(err)
			}
			s.Run()
			allocs := testing.AllocsPerRun(5, func() {
				s.ResetTrace(tr, opt...)
				s.Run()
			})
			if allocs != 0 {
				t.Errorf("%s (noa=%v exact=%v): %v allocations per session", name, noa, mode == 2, allocs)
			}
		}
	}
}
