package abr

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"
)

func sweepInputs(t *testing.T) (sabre []string, pensieve []string, vs *VideoSizes) {
	t.Helper()
	s1, err := TraceFiles(filepath.Join(testdataDir, "sabre", "4Glogs"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := TraceFiles(filepath.Join(testdataDir, "sabre", "3Glogs"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := TraceFiles(filepath.Join(testdataDir, "pensieve", "cooked_3gp"))
	if err != nil {
		t.Fatal(err)
	}
	vs, err = LoadVideoSizes(filepath.Join(testdataDir, "pensieve", "video_sizes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(s1, s2...), p, vs
}

func csvOf(t *testing.T, tb *Table) string {
	var b bytes.Buffer
	if err := tb.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSweepWorkersAndShards(t *testing.T) {
	sabre, pens, vs := sweepInputs(t)
	ctx := context.Background()
	base := []string{"-m", filepath.Join(testdataDir, "sabre", "bbb4k.json"), "-b", "25"}
	grid := []GridAxis{{"-gp", []string{"3", "5"}}}
	runS := func(o ...SweepOption) *Table {
		tb, err := SweepSabre(ctx, base, sabre, []string{"bola", "bolae", "throughput", "dynamic", "dynamicdash"}, grid, o...)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	runP := func(o ...SweepOption) *Table {
		tb, err := SweepPensieve(ctx, pens, vs, []string{"bb", "robustmpc"}, QoELinear, o...)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	for name, run := range map[string]func(...SweepOption) *Table{"sabre": runS, "pensieve": runP} {
		one := run(WithWorkers(1))
		eight := run(WithWorkers(8))
		if !reflect.DeepEqual(one, eight) {
			t.Errorf("%s: workers 1 and 8 differ:\n%s\n---\n%s", name, csvOf(t, one), csvOf(t, eight))
		}
		var parts []*Table
		for i := 0; i < 3; i++ {
			p := run(WithWorkers(2), WithShard(i, 3))
			// round-trip through CSV as `streamkit abr merge` does
			rt, err := ReadTableCSV(bytes.NewReader([]byte(csvOf(t, p))), "part.csv")
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, rt)
		}
		merged, err := MergeTables(parts)
		if err != nil {
			t.Fatal(err)
		}
		if csvOf(t, merged) != csvOf(t, one) {
			t.Errorf("%s: merged shards differ from the unsharded sweep:\n%s\n---\n%s", name, csvOf(t, merged), csvOf(t, one))
		}
		if len(one.Rows) == 0 {
			t.Fatalf("%s: no rows", name)
		}
	}
	if _, err := MergeTables([]*Table{runP(), runP()}); err == nil {
		t.Error("merging duplicated rows: no error")
	}
}

// TestSweepSabreMatchesSingleRun checks that the sweep's row equals the
// single-run metrics of the same command line.
func TestSweepSabreMatchesSingleRun(t *testing.T) {
	tr := filepath.Join(testdataDir, "sabre", "4Glogs", "report_bus_0001.json")
	mv := filepath.Join(testdataDir, "sabre", "bbb4k.json")
	tb, err := SweepSabre(context.Background(), []string{"-m", mv, "-b", "25", "-ao", "-a", "bolae"}, []string{tr}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := RunSabre([]string{"-n", tr, "-m", mv, "-b", "25", "-ao", "-a", "bolae"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Columns[0] != "trace" || tb.Rows[0][0] != "report_bus_0001.json" || len(tb.Columns) != 1+len(SabreMetricNames()) {
		t.Fatalf("columns %v row %v", tb.Columns, tb.Rows[0])
	}
	for i, l := range m.SabreLines() {
		if tb.Columns[i+1] != l.Name {
			t.Errorf("column %d = %q, want %q", i+1, tb.Columns[i+1], l.Name)
		}
		want := fmtFloat(l.Value)
		if l.Name == "buffer size" || l.Name == "over estimate count" || l.Name == "leq estimate count" {
			want = l.Text
		}
		if tb.Rows[0][i+1] != want {
			t.Errorf("%s = %s, want %s", l.Name, tb.Rows[0][i+1], want)
		}
	}
}
