package abr

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const testdataDir = "../testdata/abr"

// sharedABR holds the full Sabre and Pensieve input sets beside the
// repository (../shared/abr, or $STREAMKIT_SHARED/abr for a checkout
// whose ../shared lives elsewhere, as in a git worktree). Tests that use
// it add its files to the bundled ones when it is present and run on
// testdata alone otherwise.
var sharedABR = func() string {
	if dir := os.Getenv("STREAMKIT_SHARED"); dir != "" {
		return filepath.Join(dir, "abr")
	}
	return "../../shared/abr"
}()

// refBlock is one "$ args" block of testdata/abr/reference/sabre_models_md_5.txt:
// Sabre's printed output copied from MODELS.md §5.
type refBlock struct {
	head16 bool
	args   []string
	lines  []string
}

func loadSabreReference(t testing.TB) []refBlock {
	t.Helper()
	f, err := os.Open(filepath.Join(testdataDir, "reference", "sabre_models_md_5.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []refBlock
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "$HEAD16 "):
			out = append(out, refBlock{head16: true, args: strings.Fields(l[len("$HEAD16 "):])})
		case strings.HasPrefix(l, "$ "):
			out = append(out, refBlock{args: strings.Fields(l[2:])})
		default:
			out[len(out)-1].lines = append(out[len(out)-1].lines, l)
		}
	}
	if len(out) < 6 {
		t.Fatalf("reference file has %d blocks, want 6", len(out))
	}
	return out
}

// SabreDataArgs rewrites -n/-m file arguments to live under dir.
func sabreDataArgs(args []string, dir string) []string {
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "-n" || out[i] == "-m" {
			out[i+1] = filepath.Join(dir, out[i+1])
		}
	}
	return out
}

// CompareSabreOutput checks got against want line by line: same number of
// lines, same names in the same order, and every value within 1e-6 relative
// (1e-9 absolute near zero).
func compareSabreOutput(got, want []string) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		gn, gv, gok := strings.Cut(got[i], ": ")
		wn, wv, wok := strings.Cut(want[i], ": ")
		if gok != wok || gn != wn {
			return fmt.Errorf("line %d: got %q, want %q", i+1, got[i], want[i])
		}
		if !wok {
			if got[i] != want[i] {
				return fmt.Errorf("line %d: got %q, want %q", i+1, got[i], want[i])
			}
			continue
		}
		g, err1 := strconv.ParseFloat(gv, 64)
		w, err2 := strconv.ParseFloat(wv, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("line %d: unparsable %q / %q", i+1, got[i], want[i])
		}
		if !closeRel(g, w, 1e-6) {
			return fmt.Errorf("line %d %s: got %v, want %v", i+1, wn, g, w)
		}
	}
	return nil
}

func closeRel(g, w, rel float64) bool {
	d := math.Abs(g - w)
	return d <= rel*math.Abs(w) || d <= 1e-9
}

func TestSabreReferenceExamples(t *testing.T) {
	for _, b := range loadSabreReference(t) {
		name := strings.Join(b.args, " ")
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if _, err := RunSabre(sabreDataArgs(b.args, filepath.Join(testdataDir, "sabre")), &out); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			if b.head16 {
				if len(got) < 16 {
					t.Fatalf("verbose output has %d lines", len(got))
				}
				for i, w := range b.lines {
					if got[i] != w {
						t.Errorf("verbose line %d:\n got %q\nwant %q", i+1, got[i], w)
					}
				}
				return
			}
			if err := compareSabreOutput(got, b.lines); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSabreFullPrecision compares internal totals with the Python repr
// values of MODELS.md §5.2 (pure-Go math.Pow/Log: within ~1e-12).
func TestSabreFullPrecision(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "reference", "sabre_models_md_5_full.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]string{
		"4G bola -ab":        "-n 4Glogs/report_bus_0001.json -m bbb4k.json -b 25 -ao -a bola -ab",
		"4G bolae":           "-n 4Glogs/report_bus_0001.json -m bbb4k.json -b 25 -ao -a bolae",
		"4G throughput":      "-n 4Glogs/report_bus_0001.json -m bbb4k.json -b 25 -ao -a throughput",
		"4G dynamic":         "-n 4Glogs/report_bus_0001.json -m bbb4k.json -b 25 -ao -a dynamic",
		"3G throughput -noa": "-n 3Glogs/report.2010-09-13_1046CEST.json -m bbb.json -b 10 -ao -a throughput -noa",
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		args, ok := runs[f[0]]
		if !ok {
			t.Fatalf("unknown run %q", f[0])
		}
		m, err := RunSabre(sabreDataArgs(strings.Fields(args), filepath.Join(testdataDir, "sabre")), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := []float64{m.PlayedUtility, m.PlayTimeMs, m.RebufferMs, m.LogBitrateChange, m.OverAvg, m.LeqAvg, m.EstimateAvg, m.RampupMs, m.ReactionMs}
		for i, g := range got {
			w, _ := strconv.ParseFloat(f[i+1], 64)
			if !closeRel(g, w, 1e-9) {
				t.Errorf("%s column %d: got %v, want %v", f[0], i+1, g, w)
			}
		}
	}
}

// TestSabreReferenceDefaultMode runs the MODELS.md §5 metric examples in the
// default mode (Options.Exact off: proven-silent downloads move as one
// transfer), the mode BENCHMARKS.md measures against Sabre's anchor: every
// printed metric must still match Sabre's to 1e-6 relative.
func TestSabreReferenceDefaultMode(t *testing.T) {
	for _, b := range loadSabreReference(t) {
		if b.head16 {
			continue // the verbose log is the CLI's (Exact) output
		}
		name := strings.Join(b.args, " ")
		t.Run(name, func(t *testing.T) {
			a, err := ParseSabreArgs(sabreDataArgs(b.args, filepath.Join(testdataDir, "sabre")))
			if err != nil {
				t.Fatal(err)
			}
			run, err := PrepareSabre(a)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := LoadTrace(run.Args.Network, 0)
			if err != nil {
				t.Fatal(err)
			}
			// the session the CLI builds, restarted with Exact off
			var out bytes.Buffer
			s, err := run.Session(tr, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			o := s.opt
			if !o.Exact {
				t.Fatal("the Sabre command line's options should set Exact")
			}
			o.Exact, o.Out = false, &out
			if err := s.reset(o); err != nil {
				t.Fatal(err)
			}
			m, err := s.Run()
			if err != nil {
				t.Fatal(err)
			}
			if err := m.WriteSabre(&out); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			if err := compareSabreOutput(got, b.lines); err != nil {
				t.Error(err)
			}
		})
	}
}
