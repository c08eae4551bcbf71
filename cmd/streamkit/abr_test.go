package main

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const abrTestdata = "../../testdata/abr"

// abrRunCLI runs the streamkit command line in-process.
func abrRunCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCLI(t, args...)
}

// TestAbrSabreCLIReference runs every Sabre example of MODELS.md §5 through
// `streamkit abr sabre` with the same flags and checks every printed line:
// same names, same order, values within 1e-6 relative.
func TestAbrSabreCLIReference(t *testing.T) {
	f, err := os.Open(filepath.Join(abrTestdata, "reference", "sabre_models_md_5.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type block struct {
		head16 bool
		args   []string
		want   []string
	}
	var blocks []*block
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "$HEAD16 "):
			blocks = append(blocks, &block{head16: true, args: strings.Fields(l[8:])})
		case strings.HasPrefix(l, "$ "):
			blocks = append(blocks, &block{args: strings.Fields(l[2:])})
		default:
			blocks[len(blocks)-1].want = append(blocks[len(blocks)-1].want, l)
		}
	}
	if len(blocks) != 6 {
		t.Fatalf("%d reference blocks, want 6", len(blocks))
	}
	for _, b := range blocks {
		args := append([]string(nil), b.args...)
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-n" || args[i] == "-m" {
				args[i+1] = filepath.Join(abrTestdata, "sabre", args[i+1])
			}
		}
		t.Run(strings.Join(b.args, " "), func(t *testing.T) {
			out, err := abrRunCLI(t, append([]string{"abr", "sabre"}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if b.head16 {
				for i, w := range b.want {
					if i >= len(got) || got[i] != w {
						t.Fatalf("verbose line %d: got %q, want %q", i+1, got[min(i, len(got)-1)], w)
					}
				}
				return
			}
			if len(got) != len(b.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(got), len(b.want), out)
			}
			for i, w := range b.want {
				gn, gv, _ := strings.Cut(got[i], ": ")
				wn, wv, ok := strings.Cut(w, ": ")
				if gn != wn {
					t.Fatalf("line %d: got %q, want %q", i+1, got[i], w)
				}
				if !ok {
					continue
				}
				g, _ := strconv.ParseFloat(gv, 64)
				x, _ := strconv.ParseFloat(wv, 64)
				if d := math.Abs(g - x); d > 1e-6*math.Abs(x) && d > 1e-9 {
					t.Errorf("%s: got %s, want %s", wn, gv, wv)
				}
			}
		})
	}
}

// TestAbrSabreCLILines checks that every algorithm, with abandonment on and
// off, prints Sabre's lines in Sabre's order.
func TestAbrSabreCLILines(t *testing.T) {
	names := []string{"buffer size", "total played utility", "time average played utility", "total played bitrate",
		"time average played bitrate", "total play time", "total play time chunks", "total rebuffer", "rebuffer ratio",
		"time average rebuffer", "total rebuffer events", "time average rebuffer events", "total bitrate change",
		"time average bitrate change", "total log bitrate change", "time average log bitrate change", "time average score",
		"over estimate count", "over estimate", "leq estimate count", "leq estimate", "estimate", "rampup time",
		"total reaction time"}
	for _, alg := range []string{"throughput", "bola", "bolae", "dynamic", "dynamicdash"} {
		for _, extra := range [][]string{nil, {"-noa"}, {"-ab"}, {"-noibr"}, {"-r", "left"}, {"-r", "right", "-ao"}} {
			args := append([]string{"abr", "sabre", "-n", filepath.Join(abrTestdata, "sabre/3Glogs/report.2010-09-13_1046CEST.json"),
				"-m", filepath.Join(abrTestdata, "sabre/bbb.json"), "-a", alg}, extra...)
			out, err := abrRunCLI(t, args...)
			if err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if (alg == "bolae" || alg == "dynamicdash") && len(extra) == 0 || (alg == "bolae" || alg == "dynamicdash") && extra[0] != "-noibr" {
				if lines[0] != "30000" {
					t.Errorf("%v: first line %q, want BOLA-E's buffer target 30000", args, lines[0])
				}
				lines = lines[1:]
			}
			if len(lines) != len(names) {
				t.Fatalf("%v: %d metric lines, want %d:\n%s", args, len(lines), len(names), out)
			}
			for i, n := range names {
				if !strings.HasPrefix(lines[i], n+": ") {
					t.Errorf("%v line %d: %q, want %q", args, i+1, lines[i], n)
				}
			}
		}
	}
}

func TestAbrSabreCLIErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("[\n{\"duration_ms\": 1000, \"bandwidth_kbps\": 0, \"latency_ms\": 20}\n]"), 0o644)
	_, err := abrRunCLI(t, "abr", "sabre", "-n", bad, "-m", filepath.Join(abrTestdata, "sabre/bbb.json"))
	if err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "zero bandwidth") {
		t.Errorf("zero-bandwidth trace: err = %v", err)
	}
	_, err = abrRunCLI(t, "abr", "sabre", "-x")
	if err == nil || !strings.Contains(err.Error(), "-x") {
		t.Errorf("unknown flag: err = %v", err)
	}
}

// TestAbrSweepCLI: --workers 1 and 8 give identical files, and --shard runs
// merged with `abr merge` give the unsharded file, for both models.
func TestAbrSweepCLI(t *testing.T) {
	dir := t.TempDir()
	models := map[string][]string{
		"sabre": {"--model", "sabre", "--traces", filepath.Join(abrTestdata, "sabre", "4Glogs"),
			"--args", "-m " + filepath.Join(abrTestdata, "sabre", "bbb4k.json") + " -b 25 -a bola", "--video-sizes="},
		"pensieve": {"--model", "pensieve", "--traces", filepath.Join(abrTestdata, "pensieve", "cooked_3gp"),
			"--video-sizes", filepath.Join(abrTestdata, "pensieve", "video_sizes"), "--algos", "bb,robustmpc", "--args="},
	}
	for name, args := range models {
		read := func(p string) string {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		run := func(out string, extra ...string) {
			a := append(append([]string{"abr", "sweep"}, args...), "--out", out, "--quiet")
			if _, err := abrRunCLI(t, append(a, extra...)...); err != nil {
				t.Fatalf("%s %v: %v", name, extra, err)
			}
		}
		w1, w8 := filepath.Join(dir, name+"1.csv"), filepath.Join(dir, name+"8.csv")
		if name == "sabre" {
			run(w1, "--workers", "1", "--shard=", "--algos=")
			run(w8, "--workers", "8", "--shard=", "--algos=")
		} else {
			run(w1, "--workers", "1", "--shard=")
			run(w8, "--workers", "8", "--shard=")
		}
		if read(w1) != read(w8) {
			t.Errorf("%s: --workers 1 and 8 differ", name)
		}
		var parts []string
		for i := 0; i < 2; i++ {
			p := filepath.Join(dir, name+"part"+strconv.Itoa(i)+".csv")
			run(p, "--workers", "2", "--shard", strconv.Itoa(i)+"/2")
			parts = append(parts, p)
		}
		merged := filepath.Join(dir, name+"merged.csv")
		if _, err := abrRunCLI(t, append([]string{"abr", "merge", "--out", merged}, parts...)...); err != nil {
			t.Fatal(err)
		}
		if read(merged) != read(w1) {
			t.Errorf("%s: merged shards differ:\n%s\n---\n%s", name, read(merged), read(w1))
		}
		svg := filepath.Join(dir, name+".svg")
		run(filepath.Join(dir, name+"svg.csv"), "--workers", "2", "--shard=", "--svg", svg)
		if b := read(svg); !strings.HasPrefix(b, "<svg") || !strings.Contains(b, "polyline") {
			t.Errorf("%s: --svg wrote %.80q", name, b)
		}
		header := strings.SplitN(read(w1), "\n", 2)[0]
		if name == "pensieve" && header != "trace,algo,qoe_sum,avg_bitrate_kbps,rebuf_s" {
			t.Errorf("pensieve header %q", header)
		}
		if name == "sabre" && !strings.HasPrefix(header, "trace,buffer size,total played utility,") {
			t.Errorf("sabre header %q", header)
		}
	}
}

func TestAbrRunAndPensieveCLI(t *testing.T) {
	dir := t.TempDir()
	out, err := abrRunCLI(t, "abr", "run", "--trace", filepath.Join(abrTestdata, "sabre/3Glogs/report.2010-09-13_1046CEST.json"),
		"--manifest", filepath.Join(abrTestdata, "sabre/bbb.json"), "--algo", "hlsjs", "--startup", "6", "--latency", "30",
		"--log", filepath.Join(dir, "log.jsonl"), "--svg", filepath.Join(dir, "t.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"startup delay", "rebuffering", "quality switches", "algorithm            hlsjs"} {
		if !strings.Contains(out, want) {
			t.Errorf("abr run output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "log.jsonl")); err != nil || strings.Count(string(b), "\n") < 199 {
		t.Errorf("per-segment log: %d bytes, %v", len(b), err)
	}
	out, err = abrRunCLI(t, "abr", "pensieve", "--trace", filepath.Join(abrTestdata, "pensieve/cooked_3gp/norway_bus_1"),
		"--video-sizes", filepath.Join(abrTestdata, "pensieve/video_sizes"), "--algo", "bb", "--qoe", "linear")
	if err != nil {
		t.Fatal(err)
	}
	// MODELS.md §5.3: BB on norway_bus_1
	if !strings.Contains(out, "qoe_sum_chunks1_47: 80.950000") || !strings.Contains(out, "avg_bitrate_kbps: 2659.57") {
		t.Errorf("abr pensieve output:\n%s", out)
	}
}

// TestAbrSweepShardAuto runs a sweep as the shards of a Kubernetes Indexed
// Job and of a Slurm job array would (--shard auto with each system's
// variables set), merges them, and gets the unsharded file.
func TestAbrSweepShardAuto(t *testing.T) {
	dir := t.TempDir()
	args := []string{"abr", "sweep", "--model", "sabre", "--traces", filepath.Join(abrTestdata, "sabre", "*", "*.json"),
		"--args", "-m " + filepath.Join(abrTestdata, "sabre", "bbb4k.json") + " -b 25 -a bolae", "--quiet"}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	whole := filepath.Join(dir, "whole.csv")
	if _, err := abrRunCLI(t, append(args, "--out", whole)...); err != nil {
		t.Fatal(err)
	}
	for _, sys := range []struct {
		name string
		env  func(i int) map[string]string
	}{
		{"kubernetes", func(i int) map[string]string {
			return map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i), "STREAMKIT_SHARDS": "3"}
		}},
		{"slurm", func(i int) map[string]string { // sbatch --array=1-3
			return map[string]string{"SLURM_ARRAY_TASK_ID": strconv.Itoa(i + 1), "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"}
		}},
	} {
		t.Run(sys.name, func(t *testing.T) {
			var parts []string
			for i := 0; i < 3; i++ {
				for _, k := range []string{"JOB_COMPLETION_INDEX", "STREAMKIT_SHARDS", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"} {
					t.Setenv(k, "")
				}
				for k, v := range sys.env(i) {
					t.Setenv(k, v)
				}
				p := filepath.Join(dir, sys.name+strconv.Itoa(i)+".csv")
				if _, err := abrRunCLI(t, append(args, "--shard", "auto", "--out", p)...); err != nil {
					t.Fatal(err)
				}
				if n := strings.Count(read(p), "\n"); n != 2 {
					t.Errorf("shard %d has %d lines, want a header and one of the 3 traces", i, n)
				}
				parts = append(parts, p)
			}
			merged := filepath.Join(dir, sys.name+"-merged.csv")
			if _, err := abrRunCLI(t, append([]string{"abr", "merge", "--out", merged}, parts...)...); err != nil {
				t.Fatal(err)
			}
			if read(merged) != read(whole) {
				t.Error("merged shards differ from the unsharded sweep")
			}
		})
	}
	t.Setenv("JOB_COMPLETION_INDEX", "")
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	if _, err := abrRunCLI(t, append(args, "--shard", "auto", "--out", filepath.Join(dir, "x.csv"))...); err == nil || !strings.Contains(err.Error(), "JOB_COMPLETION_INDEX") {
		t.Errorf("--shard auto without a batch system: err = %v", err)
	}
}
