package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// splitArgsCases are --args strings as scripts write them; the expected
// words come from bash itself (printf '%s\0' WORDS), so the test checks
// the splitter against the shell whose quoting users know.
var splitArgsCases = []string{
	``,
	`-m bbb4k.json -b 25 -a bola`,
	`  -m   bbb4k.json	-b 25  `,
	`-m 'my movies/bbb 4k.json' -a bolae`,
	`-m "my movies/bbb 4k.json" -a bolae`,
	`-m my\ movies/bbb.json`,
	`-m "a \"quoted\" name" -x 'it''s'`,
	`-m "back\\slash" 'back\slash' \\x`,
	`-m "keep \n as is" a"b"'c'd`,
	`-hl 3 8 -ws 3 5 -ma sliding -noa`,
	`"" ''`,
}

func TestSplitArgsLikeBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to compare with")
	}
	for _, in := range splitArgsCases {
		out, err := exec.Command(bash, "-c", `printf '%s\0' `+in+` ""`).Output()
		if err != nil {
			t.Fatalf("bash on %q: %v", in, err)
		}
		want := strings.Split(string(out), "\x00")
		want = want[:len(want)-2] // the trailing "" word and the split after it
		got, err := splitArgs(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %q, bash %q", in, got, want)
		}
	}
}

func TestSplitArgsErrors(t *testing.T) {
	for _, in := range []string{`-m 'open`, `-m "open`, `-m x\`, `"a\"`} {
		if got, err := splitArgs(in); err == nil {
			t.Errorf("%q: no error, got %q", in, got)
		}
	}
}

// FuzzSplitArgs: never a panic, and words that come out, each put back in
// single quotes, split into the same words.
func FuzzSplitArgs(f *testing.F) {
	for _, in := range splitArgsCases {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		words, err := splitArgs(in)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, w := range words {
			b.WriteString(" '" + strings.ReplaceAll(w, "'", `'\''`) + "'")
		}
		again, err := splitArgs(b.String())
		if err != nil || !reflect.DeepEqual(again, words) && !(len(again) == 0 && len(words) == 0) {
			t.Fatalf("%q -> %q -> %q (%v)", in, words, again, err)
		}
	})
}

// --args reaches the sweep as the shell would split it: a movie path with a
// space, quoted, works; a missing movie or an open quote is an error, not
// an empty table.
func TestAbrSweepArgsQuoting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my movies")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	movie, err := os.ReadFile(filepath.Join(abrTestdata, "sabre", "bbb4k.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bbb 4k.json"), movie, 0o644); err != nil {
		t.Fatal(err)
	}
	traces := filepath.Join(abrTestdata, "sabre", "4Glogs")
	out := filepath.Join(t.TempDir(), "s.csv")
	if _, err := runCLI(t, "abr", "sweep", "--model", "sabre", "--traces", traces,
		"--args", "-m '"+filepath.Join(dir, "bbb 4k.json")+"' -a bola", "--out", out); err != nil {
		t.Fatalf("quoted path with a space: %v", err)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "report_bus_0001.json") {
		t.Errorf("no rows written (%v)", err)
	}
	for _, bad := range []string{"-m " + filepath.Join(dir, "missing.json"), "-m '" + filepath.Join(dir, "bbb 4k.json")} {
		if _, err := runCLI(t, "abr", "sweep", "--model", "sabre", "--traces", traces, "--args", bad, "--out", out); err == nil {
			t.Errorf("--args %q: no error", bad)
		}
	}
}
