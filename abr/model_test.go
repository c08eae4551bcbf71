package abr

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func constTrace(kbps, latency float64) *Trace {
	return &Trace{Name: "const", Periods: []Period{{DurationMs: 1000, Kbps: kbps, LatencyMs: latency}}}
}

func smallLadder(n int) *Ladder {
	l := &Ladder{SegmentMs: 2000, Kbps: []float64{500, 1500, 4000}}
	for i := 0; i < n; i++ {
		l.Sizes = append(l.Sizes, []float64{1e6, 3e6, 8e6})
	}
	return l
}

// On a constant 2 Mbit/s link with 10 ms latency every download time is
// known in closed form, which checks the network and player models directly.
func TestConstantLinkClosedForm(t *testing.T) {
	m := smallLadder(10)
	s, err := NewSession(m, constTrace(2000, 10), NewThroughput(), WithBuffer(10000), WithAbandonment(false))
	if err != nil {
		t.Fatal(err)
	}
	var recs []SegmentRecord
	s.SetOnSegment(func(r *SegmentRecord) { recs = append(recs, *r) })
	met, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].TimeMs != 10+1e6/2000 {
		t.Fatalf("segment 0 took %v ms", recs[0].TimeMs)
	}
	for _, r := range recs {
		want := 10 + r.SizeBits/2000
		if math.Abs(r.TimeMs-want) > 1e-9 || r.TTFBMs != 10 {
			t.Errorf("segment %d: time %v ttfb %v, want %v / 10", r.Index, r.TimeMs, r.TTFBMs, want)
		}
	}
	// 0.9·2000 = 1800 kbit/s sustains 1500 (10 + 2000·1500/1800 ≤ 2000)
	if recs[len(recs)-1].Quality != 1 {
		t.Errorf("steady quality %d, want 1", recs[len(recs)-1].Quality)
	}
	if got := met.PlayTimeMs; math.Abs(got-(recs[0].TimeMs+10*2000+met.RebufferMs)) > 1e-6 {
		t.Errorf("play time %v != startup + 10 segments + rebuffer %v", got, met.RebufferMs)
	}
}

func TestStartupThresholdAndRequestLatency(t *testing.T) {
	m := smallLadder(20)
	tr := constTrace(3000, 20)
	base, err := NewSession(m, tr, NewThroughput(), WithBuffer(20000))
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := base.Run()
	s, _ := NewSession(m, tr, NewThroughput(), WithBuffer(20000), WithStartup(6000), WithRequestLatency(50))
	var first SegmentRecord
	s.SetOnSegment(func(r *SegmentRecord) {
		if r.Index == 1 && first.TTFBMs == 0 {
			first = *r
		}
	})
	ms, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	if first.TTFBMs != 70 {
		t.Errorf("TTFB with 50 ms request latency on a 20 ms trace = %v, want 70", first.TTFBMs)
	}
	if !(ms.StartupMs > mb.StartupMs) || ms.StartupMs < 3*1e6/3000 {
		t.Errorf("startup %v ms with a 6 s threshold, %v ms without", ms.StartupMs, mb.StartupMs)
	}
	if math.Abs(ms.PlayTimeMs-(ms.StartupMs+20*2000+ms.RebufferMs)) > 1e-6 {
		t.Errorf("play time %v != startup %v + media + rebuffer %v", ms.PlayTimeMs, ms.StartupMs, ms.RebufferMs)
	}
	if _, err := NewSession(m, tr, NewThroughput(), WithStartup(-1)); err == nil {
		t.Error("negative startup threshold accepted")
	}
}

// Every registered algorithm runs every bundled Sabre input to the end,
// deterministically, and its metrics are self-consistent.
func TestAllAlgorithmsDeterministic(t *testing.T) {
	m, err := LoadSabreManifest(filepath.Join(testdataDir, "sabre", "bbb.json"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	for _, name := range Names() {
		for _, f := range files {
			tr, err := LoadTrace(f, 0)
			if err != nil {
				t.Fatal(err)
			}
			var runs [2]Metrics
			for i := range runs {
				alg, _ := New(name)
				s, err := NewSession(m, tr, alg, WithBuffer(30000))
				if err != nil {
					t.Fatal(err)
				}
				if runs[i], err = s.Run(); err != nil {
					t.Fatalf("%s %s: %v", name, f, err)
				}
			}
			if runs[0] != runs[1] {
				t.Errorf("%s %s: two runs differ", name, f)
			}
			r := runs[0]
			if r.PlayedBitrate < 230*199 || r.PlayedBitrate > 6000*199 || r.RebufferMs < 0 || r.PlayTimeMs < 199*3000 {
				t.Errorf("%s %s: implausible metrics %+v", name, f, r)
			}
		}
	}
}

// Segment replacement (-r left|right, MODELS.md §2.9.6): replacements happen,
// every segment is still played once, and the per-segment log marks them.
func TestReplacement(t *testing.T) {
	m, _ := LoadSabreManifest(filepath.Join(testdataDir, "sabre", "bbb4k.json"))
	tr, _ := LoadTrace(filepath.Join(testdataDir, "sabre", "4Glogs", "report_bus_0001.json"), 0)
	for _, mode := range []string{"left", "right"} {
		for _, name := range []string{"bolae", "bola", "dynamic"} {
			alg, _ := New(name)
			repl, next := 0, 0
			s, err := NewSession(m, tr, alg, WithReplacement(mode), WithOnSegment(func(r *SegmentRecord) {
				switch {
				case r.Replacement:
					repl++
					// it re-fetches an already buffered segment at a higher level
					if r.Index >= next || r.Quality == 0 {
						t.Errorf("replacement record %+v (next segment %d)", r, next)
					}
				case !r.Abandoned:
					next = r.Index + 1
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			met, err := s.Run()
			if err != nil {
				t.Fatal(err)
			}
			if repl == 0 {
				t.Errorf("%s -r %s: no replacement", name, mode)
			}
			if met.PlayedBitrate < 1000*199 || met.PlayedBitrate > 35000*199 {
				t.Errorf("%s -r %s: played bitrate %v", name, mode, met.PlayedBitrate)
			}
		}
	}
	if _, err := NewSession(m, tr, NewBola(), WithReplacement("middle")); err == nil {
		t.Error("unknown replacement mode accepted")
	}
}

// Every trace format reads into the same periods.
func TestTraceFormats(t *testing.T) {
	cases := map[string]string{
		"sabre":    `[{"duration_ms": 1000, "bandwidth_kbps": 800, "latency_ms": 40}, {"duration_ms": 1000, "bandwidth_kbps": 2400, "latency_ms": 40}]`,
		"csv":      "# comment\ntime_s,kbps,latency_ms\n0,800,40\n1,2400,40\n",
		"cooked":   "0.0\t0.0\n1.0\t0.8\n2.0\t2.4\n",
		"mahimahi": "",
	}
	var mm strings.Builder
	for ms := 1; ms <= 2000; ms++ { // 800 kbit/s = 1 packet every 15 ms, then 2400 kbit/s
		if (ms <= 1000 && ms%15 == 0) || (ms > 1000 && ms%5 == 0) {
			fmt.Fprintln(&mm, ms)
		}
	}
	cases["mahimahi"] = mm.String()
	for format, data := range cases {
		if got := TraceFormatOf([]byte(data)); got != format {
			t.Errorf("%s detected as %s", format, got)
		}
		tr, err := ParseTrace([]byte(data), format, 40)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		// total bits delivered over the first 2 s
		bits, ms := 0.0, 0.0
		for _, p := range tr.Periods {
			if ms >= 2000 {
				break
			}
			bits += p.Kbps * p.DurationMs
			ms += p.DurationMs
			if p.LatencyMs != 40 {
				t.Errorf("%s: latency %v", format, p.LatencyMs)
			}
		}
		if math.Abs(bits-3.2e6)/3.2e6 > 0.02 || math.Abs(ms-2000) > 1e-6 {
			t.Errorf("%s: %v bits in %v ms, want 3.2e6 in 2000", format, bits, ms)
		}
	}
}

func TestHugeMovieLengthRejected(t *testing.T) {
	m := Looped(smallLadder(3), 1e12) // Sabre's -ml with an absurd length
	if _, err := NewSession(m, constTrace(1000, 10), NewThroughput()); err == nil || !strings.Contains(err.Error(), "segments") {
		t.Fatalf("err = %v", err)
	}
}

// A new trace format plugs in with RegisterTraceFormat.
func TestRegisterTraceFormat(t *testing.T) {
	RegisterTraceFormat("kbps-per-second", func(l []byte) bool { return string(l) == "kbps-per-second" },
		func(r io.Reader, name string, lat float64) (*Trace, error) {
			tr := &Trace{Name: name}
			err := eachLine(r, name, func(line int, f []string) error {
				if line == 1 {
					return nil
				}
				v, err := strconv.ParseFloat(f[0], 64)
				if err != nil {
					return perr(name, line, "", ErrMalformed, "%q", f[0])
				}
				tr.Periods = append(tr.Periods, Period{1000, v, lat})
				return nil
			})
			if err != nil {
				return nil, err
			}
			return tr, tr.Validate()
		})
	data := []byte("kbps-per-second\n800\n2400\n")
	if f := TraceFormatOf(data); f != "kbps-per-second" {
		t.Fatalf("format %q", f)
	}
	tr, err := ParseTrace(data, "x", 25)
	if err != nil || len(tr.Periods) != 2 || tr.Periods[1].Kbps != 2400 || tr.Periods[0].LatencyMs != 25 {
		t.Fatalf("%+v %v", tr, err)
	}
	if _, err := ParseTrace([]byte("kbps-per-second\nfast\n"), "y", 0); err == nil || !strings.Contains(err.Error(), "y:2") {
		t.Fatalf("err = %v", err)
	}
}

// A Manifest built in code gets the same ladder checks as a parsed one.
func TestUnsortedLadderRejected(t *testing.T) {
	for _, kb := range [][]float64{{1500, 500, 4000}, {500, 500, 4000}, {0, 500, 4000}, {500, math.NaN(), 4000}} {
		m := smallLadder(3)
		m.Kbps = kb
		_, err := NewSession(m, constTrace(1000, 10), NewThroughput())
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "ascending") {
			t.Errorf("%v: err = %v", kb, err)
		}
	}
}

// TestRegisterManifestFormat: LoadManifest dispatches on the registered
// extension (any case), so Sabre's -m and sweeps read that format too,
// and leaves Sabre JSON and video_size_N directories to the built-ins.
// TestLoadManifestNamesTheCall: without package manifest linked, a
// packaged playlist is an ErrFormat error that says which call reads it,
// not a Sabre JSON parse error.
func TestLoadManifestNamesTheCall(t *testing.T) {
	for _, p := range []string{"out/master.m3u8", "out/manifest.MPD"} {
		_, err := LoadManifest(p)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "manifest.Load") || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestRegisterManifestFormat(t *testing.T) {
	ladder := &Ladder{SegmentMs: 2000, Kbps: []float64{100, 400}, Sizes: [][]float64{{2e5, 8e5}, {2e5, 8e5}}}
	var got []string
	RegisterManifestFormat(".TestFmt", func(path string) (Manifest, error) {
		got = append(got, path)
		if strings.Contains(path, "broken") {
			return nil, fmt.Errorf("testfmt: %s: broken", path)
		}
		return ladder, nil
	})
	defer delete(manifestFormats, ".testfmt")
	m, err := LoadManifest("x/movie.testfmt")
	if err != nil || m != Manifest(ladder) {
		t.Fatalf("registered format: %v, %v", m, err)
	}
	run, err := PrepareSabre(&SabreArgs{Movie: "y/MOVIE.TESTFMT"})
	if err != nil || run.Manifest != Manifest(ladder) {
		t.Fatalf("PrepareSabre -m with a registered format: %v", err)
	}
	if _, err := LoadManifest("z/broken.testfmt"); err == nil || !strings.Contains(err.Error(), "broken.testfmt") {
		t.Errorf("loader error lost: %v", err)
	}
	if want := []string{"x/movie.testfmt", "y/MOVIE.TESTFMT", "z/broken.testfmt"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("loader called with %v, want %v", got, want)
	}
	if m, err := LoadManifest(filepath.Join(testdataDir, "sabre", "bbb.json")); err != nil || m.NumSegments() == 0 {
		t.Errorf("Sabre JSON after registration: %v", err)
	}
	if len(got) != 3 {
		t.Errorf("Sabre JSON went to the registered loader")
	}
}
