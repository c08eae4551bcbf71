package playtest

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/shape"
)

func TestSimTrace(t *testing.T) {
	sc := &shape.Scenario{Name: "x", Phases: []shape.Phase{
		{DurationS: 2, Kbps: 1000, LatencyMs: 20, JitterMs: 5}, {DurationS: 3, Kbps: 0}, {DurationS: 4, Kbps: 300, LatencyMs: 40},
	}}
	tr, err := SimTrace(sc)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]float64{{2000, 1000, 20}, {3000, 0, 0}, {4000 + holdS*1000, 300, 40}}
	if len(tr.Periods) != len(want) {
		t.Fatalf("%d periods, want %d", len(tr.Periods), len(want))
	}
	for i, p := range tr.Periods {
		if got := [3]float64{p.DurationMs, p.Kbps, p.LatencyMs}; got != want[i] {
			t.Errorf("period %d: %v, want %v", i, got, want[i])
		}
	}
	// a looping scenario loops in the simulator too: no hold
	sc.Loop = true
	if tr, _ = SimTrace(sc); tr.Periods[2].DurationMs != 4000 {
		t.Errorf("looping scenario: last period %v ms, want 4000", tr.Periods[2].DurationMs)
	}
	if _, err := SimTrace(nil); !errors.Is(err, ErrNoScenario) {
		t.Errorf("nil scenario: %v", err)
	}
	if _, err := SimTrace(&shape.Scenario{Phases: []shape.Phase{{DurationS: 1}}}); err == nil {
		t.Error("a scenario that never delivers was accepted")
	}
}

// TestSimulate runs both presets on the packaged sample (8 s, 90-280
// kbit/s video plus 64 kbit/s audio): a fast link plays the top rendition
// without a stall, a slow one the lowest, an outage longer than what the
// first seconds buffer stalls, and SimUntil compares a prefix.
func TestSimulate(t *testing.T) {
	dir := packageSample(t)
	for _, c := range []struct{ player, man string }{{"hlsjs", "master.m3u8"}, {"dashjs", "manifest.mpd"}} {
		t.Run(c.player, func(t *testing.T) {
			man := filepath.Join(dir, c.man)
			run := func(sc *shape.Scenario, opts ...SimOption) *SimResult {
				t.Helper()
				r, err := Simulate(man, c.player, sc, opts...)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: startup %.2f s, %d stalls %.2f s, mean %.0f kbit/s, %d switches, played %+v", sc.Name, r.StartupS, r.StallCount, r.StallS, r.MeanKbps, r.Switches, r.Bitrate)
				return r
			}
			fast := run(&shape.Scenario{Name: "fast", Phases: []shape.Phase{{DurationS: 60, Kbps: 20000, LatencyMs: 10}}})
			if fast.StallS != 0 || fast.Segments != 4 || len(fast.Bitrate) == 0 || fast.Bitrate[len(fast.Bitrate)-1].Level != 2 {
				t.Errorf("fast link: %+v, want 4 segments ending on level 2 without a stall", fast)
			}
			if fast.Switches != len(fast.Bitrate)-1 || fast.MeanKbps <= 0 {
				t.Errorf("fast link: %d switches for %d played renditions, mean %v", fast.Switches, len(fast.Bitrate), fast.MeanKbps)
			}
			// 150 kbit/s carries the lowest video with its audio
			// (about 160 kbit/s) only just: never more than level 0 for long
			slow := run(&shape.Scenario{Name: "slow", Phases: []shape.Phase{{DurationS: 60, Kbps: 150, LatencyMs: 40}}})
			if slow.MeanKbps >= fast.MeanKbps {
				t.Errorf("slow link mean %v ≥ fast link mean %v", slow.MeanKbps, fast.MeanKbps)
			}
			out := run(&shape.Scenario{Name: "outage", Phases: []shape.Phase{{DurationS: 1, Kbps: 2000, LatencyMs: 20}, {DurationS: 15, Kbps: 0}, {DurationS: 1, Kbps: 2000, LatencyMs: 20}}})
			if out.StallCount == 0 || out.StallS < 5 {
				t.Errorf("15 s outage after 1 s: %d stalls, %.2f s; want at least 5 s", out.StallCount, out.StallS)
			}
			part := run(&shape.Scenario{Name: "fast", Phases: []shape.Phase{{DurationS: 60, Kbps: 20000, LatencyMs: 10}}}, SimUntil(3))
			if part.Segments != 2 {
				t.Errorf("SimUntil(3 s) over 2 s segments compared %d segments, want 2", part.Segments)
			}
			noted := run(&shape.Scenario{Name: "noted", Phases: []shape.Phase{{DurationS: 60, Kbps: 2000, LatencyMs: 50, JitterMs: 10, Loss: 0.01}},
				Faults: []shape.Fault{{Class: "segment", Kind: shape.FaultStatus, Status: 503, Rate: 0.1}}})
			if len(noted.Notes) != 3 {
				t.Errorf("notes %q, want jitter, loss and faults", noted.Notes)
			}
		})
	}
	if _, err := Simulate(filepath.Join(dir, "master.m3u8"), "shaka", &shape.Scenario{Phases: []shape.Phase{{DurationS: 1, Kbps: 1}}}); err == nil {
		t.Error("unknown player accepted")
	}
	if _, err := Simulate(filepath.Join(dir, "video_240"), "hlsjs", &shape.Scenario{Phases: []shape.Phase{{DurationS: 1, Kbps: 1}}}); err == nil {
		t.Error("a path that is no manifest accepted")
	}
}

// TestSimulateCountsAudio: the simulator moves, per segment, the video
// segment and the audio segment a player fetches beside it.
func TestSimulateCountsAudio(t *testing.T) {
	dir := packageSample(t)
	l, err := hls.ReadLadder(filepath.Join(dir, "master.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.AudioSizes) != l.NumSegments() {
		t.Fatalf("%d audio sizes for %d segments", len(l.AudioSizes), l.NumSegments())
	}
	w := &withAudio{l, l.AudioSizes}
	for i := range l.NumSegments() {
		for q := range l.Bitrates() {
			if got, want := w.SegmentSize(i, q), l.SegmentSize(i, q)+l.AudioSizes[i]; got != want || l.AudioSizes[i] <= 0 {
				t.Errorf("segment %d level %d: %v bits, want %v", i, q, got, want)
			}
		}
	}
	// without them the same link is faster: the startup download shrinks
	sc := &shape.Scenario{Name: "x", Phases: []shape.Phase{{DurationS: 60, Kbps: 300}}}
	with, err := Simulate(filepath.Join(dir, "master.m3u8"), "hlsjs", sc)
	if err != nil {
		t.Fatal(err)
	}
	video := l.SegmentSize(0, with.Bitrate[0].Level) / 300
	if full := (l.SegmentSize(0, with.Bitrate[0].Level) + l.AudioSizes[0]) / 300; math.Abs(with.StartupS*1000-full) > 1 {
		t.Errorf("startup %.3f s, want the first segment with its audio at 300 kbit/s, %.3f s (video alone %.3f s)", with.StartupS, full/1000, video/1000)
	}
}

func TestCompare(t *testing.T) {
	real := &Result{Player: "hlsjs", Engine: "hls.js 1.7.4", MeanKbps: 1000, StallS: 2, Switches: 3, StartupS: 0.5}
	for _, c := range []struct {
		sim  SimResult
		met  [3]bool
		all  bool
		name string
	}{
		{SimResult{MeanKbps: 1100, StallS: 3, Switches: 5}, [3]bool{true, true, true}, true, "on every edge"},
		{SimResult{MeanKbps: 899, StallS: 0.9, Switches: 0}, [3]bool{false, false, false}, false, "just outside each"},
		{SimResult{MeanKbps: 950, StallS: 2.5, Switches: 6}, [3]bool{true, true, false}, false, "switches only"},
	} {
		sim := c.sim
		sim.Preset = "hlsjs"
		cmp := Compare("s", real, &sim)
		for i, d := range cmp.Diffs[:3] {
			if d.Met != c.met[i] {
				t.Errorf("%s: %s met %v, want %v (real %v sim %v)", c.name, d.Metric, d.Met, c.met[i], d.Real, d.Sim)
			}
		}
		if cmp.Met() != c.all {
			t.Errorf("%s: Met() = %v", c.name, cmp.Met())
		}
		if d := cmp.Diffs[0]; math.Abs(d.Diff-(sim.MeanKbps-1000)) > 1e-9 {
			t.Errorf("%s: diff %v", c.name, d.Diff)
		}
		var txt, md bytes.Buffer
		if err := cmp.WriteText(&txt); err != nil {
			t.Fatal(err)
		}
		if err := WriteMarkdown(&md, []*Comparison{cmp}); err != nil {
			t.Fatal(err)
		}
		wantMark := "✓"
		if !c.met[0] {
			wantMark = "✗"
		}
		if !strings.Contains(md.String(), wantMark) || !strings.Contains(txt.String(), "mean_played_kbps") {
			t.Errorf("%s: markdown %q text %q", c.name, md.String(), txt.String())
		}
	}
	// no played bitrate on the real side: never met
	if Compare("s", &Result{Player: "dashjs"}, &SimResult{MeanKbps: 0}).Met() {
		t.Error("a run that played nothing meets the bitrate goal")
	}
}

// TestAggregate: the runs of a cell are compared by their median, each
// goal metric's spread is kept, and a cell is judged on the median only:
// here one run of three is far off (a loaded moment), the median meets
// every goal.
func TestAggregate(t *testing.T) {
	sim := &SimResult{Preset: "dashjs", MeanKbps: 1000, StallS: 1, Switches: 3}
	cut := &SimResult{Preset: "dashjs", MeanKbps: 400}
	run := func(mean, stall float64, sw int, ended bool, s *SimResult) *Comparison {
		return Compare("drop", &Result{Player: "dashjs", Engine: "dash.js 5.2.1", MeanKbps: mean, StallS: stall, Switches: sw, Ended: ended}, s)
	}
	other := Compare("drop", &Result{Player: "hlsjs", Engine: "hls.js 1.7.4", MeanKbps: 500}, &SimResult{Preset: "hlsjs", MeanKbps: 500})
	cs := []*Comparison{run(600, 4, 9, false, cut), other, run(1050, 0.5, 2, true, sim), run(980, 1.5, 4, true, sim)}
	for _, c := range cs[:1] {
		if c.Met() {
			t.Fatal("the outlying run alone meets the goals")
		}
	}
	cells := Aggregate(cs)
	if len(cells) != 2 || cells[0].Player != "dashjs" || cells[1].Player != "hlsjs" || cells[0].Runs != 3 || cells[1].Runs != 1 {
		t.Fatalf("cells %+v", cells)
	}
	c := cells[0]
	if c.Sim != sim {
		t.Errorf("cell simulated with %+v, want the run that played to the end", c.Sim)
	}
	want := [][3]float64{{980, 600, 1050}, {1.5, 0.5, 4}, {4, 2, 9}} // median, min, max
	for m, w := range want {
		if d := c.Diffs[m]; d.Real != w[0] || c.Min[m] != w[1] || c.Max[m] != w[2] {
			t.Errorf("%s: median %v [%v–%v], want %v [%v–%v]", d.Metric, d.Real, c.Min[m], c.Max[m], w[0], w[1], w[2])
		}
	}
	if !c.Met() {
		t.Errorf("median cell not met: %+v", c.Diffs)
	}
	// hls.js runs simulated with their own processing times: the cell's
	// simulation is the median of the ended runs' simulations
	h := func(mean, simMean float64, sw, simSw int, ended bool) *Comparison {
		return Compare("steady-high", &Result{Player: "hlsjs", Engine: "hls.js 1.7.4", MeanKbps: mean, Switches: sw, Ended: ended},
			&SimResult{Preset: "hlsjs", MeanKbps: simMean, Switches: simSw, StartupS: simMean / 1000})
	}
	hc := Aggregate([]*Comparison{h(1444, 1677, 3, 3, true), h(2028, 2028, 2, 2, true), h(1898, 1898, 3, 3, true), h(900, 100, 9, 9, false)})[0]
	if hc.Sim.MeanKbps != 1898 || hc.Sim.Switches != 3 || hc.Sim.StartupS != 1.898 || hc.Sim.Runs != 3 || hc.Sim.Preset != "hlsjs" {
		t.Errorf("median simulation %+v, want 1898 kbit/s, 3 switches, 1.898 s startup over 3 runs", hc.Sim)
	}
	if d := hc.Diffs[mMean]; d.Real != (1444+1898)/2.0 || d.Sim != 1898 {
		t.Errorf("mean: real %v sim %v, want the medians 1671 (all four runs) and 1898 (the three that ended)", d.Real, d.Sim)
	}

	var md bytes.Buffer
	if err := WriteMarkdown(&md, cs); err != nil {
		t.Fatal(err)
	}
	if s := md.String(); !strings.Contains(s, "980 [600–1050] / 1000 (+20) ✓") || !strings.Contains(s, "(3 runs)") || !strings.Contains(s, "real median [min–max]") {
		t.Errorf("markdown:\n%s", s)
	}
}

// TestCheckLink: downloads that keep a 900 kbit/s link busy at its rate
// give a ratio of 1 in every busy second; at half the rate, 0.5; idle
// seconds are not judged.
func TestCheckLink(t *testing.T) {
	sc := &shape.Scenario{Name: "low", Phases: []shape.Phase{{DurationS: 120, Kbps: 900}}}
	var full, half []Download
	for i := 0; i < 10; i++ {
		s := float64(i) * 2
		full = append(full, Download{StartS: s, EndS: s + 2, Bytes: 900 * 1000 * 2 / 8})
		half = append(half, Download{StartS: s, EndS: s + 2, Bytes: 900 * 1000 / 8})
	}
	full = append(full, Download{StartS: 30.5, EndS: 30.7, Bytes: 1000}) // a short request after idle seconds
	l := CheckLink(sc, full)
	if l == nil || l.BusyBins != 20 || math.Abs(l.MedianRatio-1) > 1e-9 || math.Abs(l.MinRatio-1) > 1e-9 {
		t.Errorf("full: %+v", l)
	}
	if l.BusyPeriods != 1 || math.Abs(l.PeriodMedianRatio-1) > 1e-9 {
		t.Errorf("full, busy periods: %+v (want one of 20 s at the full rate; the 0.2 s request is too short to judge)", l)
	}
	// a 100 ms round trip: a period's first 100 ms carry no bytes
	lat := &shape.Scenario{Name: "rtt", Phases: []shape.Phase{{DurationS: 120, Kbps: 900, LatencyMs: 100}}}
	if l := CheckLink(lat, []Download{{StartS: 1, EndS: 3.1, Bytes: 900 * 1000 * 2 / 8}}); l == nil || math.Abs(l.PeriodMedianRatio-1) > 1e-9 {
		t.Errorf("with latency: %+v", l)
	}
	if l := CheckLink(sc, half); l == nil || math.Abs(l.MedianRatio-0.5) > 1e-9 {
		t.Errorf("half: %+v", l)
	}
	if l := CheckLink(sc, nil); l != nil {
		t.Errorf("no downloads: %+v", l)
	}
}

// TestSimOffset: the simulation starts offS into the scenario; the part
// cut from the front goes to the end (traces loop).
func TestSimOffset(t *testing.T) {
	sc := &shape.Scenario{Name: "drop", Phases: []shape.Phase{{DurationS: 10, Kbps: 4000}, {DurationS: 120, Kbps: 600}}}
	tr, err := SimTrace(sc)
	if err != nil {
		t.Fatal(err)
	}
	rotate(tr, 2.5)
	want := []abr.Period{{DurationMs: 7500, Kbps: 4000}, {DurationMs: (120 + holdS) * 1000, Kbps: 600}, {DurationMs: 2500, Kbps: 4000}}
	if len(tr.Periods) != len(want) {
		t.Fatalf("periods %+v", tr.Periods)
	}
	for i := range want {
		if tr.Periods[i] != want[i] {
			t.Errorf("period %d: %+v, want %+v", i, tr.Periods[i], want[i])
		}
	}
	if got := FirstSegmentS(&Result{Downloads: []Download{{StartS: 0, Class: "playlist"}, {StartS: 0.4, Class: "init"}, {StartS: 1.7, Class: "segment"}}}); got != 1.7 {
		t.Errorf("first segment at %v s, want 1.7", got)
	}
}

// TestProcessingTimes: Processing is the median parse time of every
// fragment and FirstProcessing that of the first one requested (the
// transmuxer and SourceBuffer set-up fall on it), whatever the order
// Frags lists them in.
func TestProcessingTimes(t *testing.T) {
	r := &Result{Frags: []Frag{
		{SN: 1, RequestS: 1.1, LoadedS: 1.5, ParsedS: 1.51},
		{SN: 0, RequestS: 0.4, LoadedS: 0.7, ParsedS: 1.1},
		{SN: 2, RequestS: 1.6, LoadedS: 1.9, ParsedS: 1.92},
	}}
	if got := FirstProcessing(r); math.Abs(got-400) > 1e-6 {
		t.Errorf("FirstProcessing = %.3f ms, want 400", got)
	}
	if got := Processing(r); math.Abs(got-20) > 1e-6 {
		t.Errorf("Processing = %.3f ms, want the median 20", got)
	}
	if got := FirstProcessing(&Result{}); got != 0 {
		t.Errorf("no fragment stats: FirstProcessing = %v, want 0", got)
	}
}
