package abr

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func loadCooked(t testing.TB, path string) *CookedTrace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ReadCookedTrace(f, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pensievePolicy(name string) PensievePolicy {
	switch name {
	case "BB":
		return BB{}
	case "robustMPC":
		return &RobustMPC{}
	case "robustMPC-exhaustive":
		return &RobustMPC{scoreAll: true}
	}
	panic(name)
}

// TestPensieveReference reproduces MODELS.md §5.3: the CSV table (to its
// printed precision and 1e-6 relative) and the full-precision QoE sums, R_0
// and every chosen level.
func TestPensieveReference(t *testing.T) {
	vs, err := LoadVideoSizes(filepath.Join(testdataDir, "pensieve", "video_sizes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]PensieveResult{}
	for _, alg := range []string{"BB", "robustMPC", "robustMPC-exhaustive"} {
		for _, tr := range []string{"norway_bus_1", "norway_bus_10", "norway_bus_11"} {
			c := loadCooked(t, filepath.Join(testdataDir, "pensieve", "cooked_3gp", tr))
			e, err := NewPensieveSession(c, vs, pensievePolicy(alg), QoELinear)
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Run()
			if err != nil {
				t.Fatal(err)
			}
			results[alg+"/"+tr] = r
		}
	}
	rows := readTSV(t, filepath.Join(testdataDir, "reference", "pensieve_models_md_5_3.tsv"))
	for _, f := range rows {
		for _, alg := range []string{f[0], f[0] + "-exhaustive"} {
			r, ok := results[alg+"/"+f[1]]
			if !ok {
				continue
			}
			got := []float64{r.QoESum, r.QoEMean, r.QoEMeanAll48, r.AvgBitrate, r.RebufS}
			for i, g := range got {
				want := f[i+2]
				dec := len(want) - strings.IndexByte(want, '.') - 1
				if s := strconv.FormatFloat(g, 'f', dec, 64); s != want {
					t.Errorf("%s %s column %d: got %s, want %s", alg, f[1], i+3, s, want)
				}
				w, _ := strconv.ParseFloat(want, 64)
				if dec >= 6 && !closeRel(g, w, 1e-6) {
					t.Errorf("%s %s column %d: got %v, want %v", alg, f[1], i+3, g, w)
				}
			}
		}
	}
	for _, f := range readTSV(t, filepath.Join(testdataDir, "reference", "pensieve_models_md_5_3_full.tsv")) {
		for _, alg := range []string{f[0], f[0] + "-exhaustive"} {
			r, ok := results[alg+"/"+f[1]]
			if !ok {
				continue
			}
			sum, _ := strconv.ParseFloat(f[2], 64)
			r0, _ := strconv.ParseFloat(f[3], 64)
			if !closeRel(r.QoESum, sum, 1e-12) {
				t.Errorf("%s %s QoE_sum %v, want %v", alg, f[1], r.QoESum, sum)
			}
			if r.Rewards[0] != r0 {
				t.Errorf("%s %s R_0 %v, want %v", alg, f[1], r.Rewards[0], r0)
			}
			var b strings.Builder
			for _, q := range r.Levels {
				fmt.Fprint(&b, q)
			}
			if b.String() != f[4] {
				t.Errorf("%s %s levels\n got %s\nwant %s", alg, f[1], b.String(), f[4])
			}
		}
	}
}

func readTSV(t testing.TB, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for i, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if i > 0 {
			out = append(out, strings.Split(l, "\t"))
		}
	}
	return out
}

// TestRobustMPCFastEqualsExhaustive runs both variants decision by decision
// on every bundled (and, when present, every shared) cooked trace.
func TestRobustMPCFastEqualsExhaustive(t *testing.T) {
	vs, err := LoadVideoSizes(filepath.Join(testdataDir, "pensieve", "video_sizes"), nil)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := TraceFiles(filepath.Join(testdataDir, "pensieve", "cooked_3gp"))
	if !testing.Short() {
		if more, err := TraceFiles(sharedABR + "/pensieve/cooked_3gp"); err == nil {
			files = append(files, more[:min(len(more), 20)]...)
		}
	}
	decisions := 0
	for _, p := range files {
		c := loadCooked(t, p)
		fast, slow := &RobustMPC{}, &RobustMPC{scoreAll: true}
		ef, _ := NewPensieveSession(c, vs, fast, QoELinear)
		es, _ := NewPensieveSession(c, vs, slow, QoELinear)
		var rf, rs ChunkResult
		for !ef.Done() {
			if err := ef.Step(&rf); err != nil {
				t.Fatal(err)
			}
			if err := es.Step(&rs); err != nil {
				t.Fatal(err)
			}
			if rf != rs || ef.q != es.q {
				t.Fatalf("%s chunk %d: fast %+v next %d, exhaustive %+v next %d", p, rf.Chunk, rf, ef.q, rs, es.q)
			}
			decisions++
		}
	}
	if decisions < 3*48 {
		t.Fatalf("only %d decisions compared", decisions)
	}
}
