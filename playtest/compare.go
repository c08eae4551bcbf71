package playtest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/shape"
)

// The simulator side of a playtest: the abr preset of the player (hlsjs,
// dashjs) run over the same scenario and the same segment sizes, and the
// differences from what the real player did.
//
// What is the same: the link's rate and per-request latency phase by
// phase (the scenario's timeline starts with the first manifest request,
// the simulator's with the first segment request: the manifest, playlist
// and init requests, a few round trips, are not simulated), the ladder as
// the player sees it (HLS BANDWIDTH, DASH @bandwidth), every video segment's
// size plus the size of the audio segment the player fetches beside it,
// playback starting after the first segment, the players' own buffer
// targets (the presets enforce them; the session's buffer cap is set out
// of their way). What the simulator does not model: jitter (it sees the
// mean latency), packet loss, HTTP faults, parallel audio and video
// requests (it moves their bytes one after the other), and the
// wall-clock timers of the players. Simulate reports each one a scenario
// uses in SimResult.Notes.

// ErrNoScenario means a comparison with the simulator was asked for
// without a shaping scenario: an unshaped loopback link has no rate to
// simulate.
var ErrNoScenario = errors.New("playtest: comparing with the simulator needs a shaping scenario")

// simBufferMs is the session's buffer cap in a comparison: hls.js's
// maxMaxBufferLength (600 s). The presets stop requesting at their
// player's own target (hls.js max(30 s, 8·60 MB/bitrate), dash.js 18 s
// or 30 s at the top), so the cap never binds before the player's does.
const simBufferMs = 600_000

// holdS is how long the last phase of a scenario that does not loop is
// held in the simulator's trace (abr traces loop; a scenario's last
// phase holds): longer than any playtest.
const holdS = 24 * 3600

// SimTrace turns a shaping scenario into the trace the simulator plays:
// each phase a period with its rate and latency. A scenario that does
// not loop holds its last phase, so that phase is stretched by a day
// (abr traces loop). Jitter, loss and faults have no counterpart (see
// Simulate's notes).
func SimTrace(sc *shape.Scenario) (*abr.Trace, error) {
	if sc == nil || len(sc.Phases) == 0 {
		return nil, ErrNoScenario
	}
	t := &abr.Trace{Name: sc.Name}
	for _, p := range sc.Phases {
		t.Periods = append(t.Periods, abr.Period{DurationMs: p.DurationS * 1000, Kbps: p.Kbps, LatencyMs: p.LatencyMs})
	}
	if !sc.Loop {
		t.Periods[len(t.Periods)-1].DurationMs += holdS * 1000
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// SimResult is what the simulator's preset predicts, in the units of
// Result: seconds, kbit/s of the ladder as the player reads it, switches
// between consecutive played segments.
type SimResult struct {
	Preset     string   `json:"preset"`
	StartupS   float64  `json:"startup_s"`
	StallCount int      `json:"stall_count"`
	StallS     float64  `json:"stall_s"`
	MeanKbps   float64  `json:"mean_played_kbps"`
	Switches   int      `json:"switches"`
	Segments   int      `json:"segments"`  // compared (played) segments
	Bitrate    []Switch `json:"bitrate"`   // the played renditions, like Result.Bitrate (TS is the play clock when the segment was requested)
	Notes      []string `json:"notes"`     // what the scenario has that the simulator does not model
	Abandoned  int      `json:"abandoned"` // downloads the preset abandoned
	// ProcessingMs is the per-fragment processing time the hlsjs preset
	// was given (SimProcessing).
	ProcessingMs float64 `json:"processing_ms,omitempty"`
	// FirstProcessingMs is that of the first fragment (SimFirstProcessing).
	FirstProcessingMs float64 `json:"first_processing_ms,omitempty"`
	// OffsetS is where in the scenario the simulation started (SimOffset).
	OffsetS float64 `json:"offset_s,omitempty"`
	// Runs is, in a calibration cell, how many simulations (one per run,
	// each with that run's measured inputs) the metrics are the median of;
	// 0 for one simulation.
	Runs int `json:"runs,omitempty"`
}

// SimOption configures Simulate.
type SimOption func(*simConfig)

type simConfig struct {
	untilS       float64
	processingMs float64
	firstProcMs  float64
	offsetS      float64
}

// SimOffset starts the simulator s seconds into the scenario: when the
// real player requested its first media segment (FirstSegmentS). The
// scenario's clock starts with the player's first manifest request; the
// manifest, playlists, init segments and the player's start-up before the
// first segment request took 0.5-4 s on the loaded calibration machine,
// not the few round trips first assumed, and a drop or an outage then
// meets the player seconds earlier in its playback than it met the
// simulator.
func SimOffset(s float64) SimOption { return func(c *simConfig) { c.offsetS = s } }

// FirstSegmentS is when the run's first media segment was requested on
// the scenario's clock (Result.Downloads), 0 without a download log.
func FirstSegmentS(r *Result) float64 {
	for _, d := range r.Downloads {
		if d.Class == "segment" {
			return d.StartS
		}
	}
	return 0
}

// rotate moves the first offS seconds of t's periods to its end (abr
// traces loop, so a looping scenario is the same link from offS on; one
// that does not loop holds its last phase for a day first).
func rotate(t *abr.Trace, offS float64) {
	off := offS * 1000
	if !(off > 0) {
		return
	}
	var head []abr.Period
	for len(t.Periods) > 1 && off > 0 {
		p := t.Periods[0]
		if p.DurationMs > off {
			head = append(head, abr.Period{DurationMs: off, Kbps: p.Kbps, LatencyMs: p.LatencyMs})
			t.Periods[0].DurationMs -= off
			break
		}
		head = append(head, p)
		t.Periods = t.Periods[1:]
		off -= p.DurationMs
	}
	if len(t.Periods) == 1 && off > 0 && off < t.Periods[0].DurationMs && len(head) == 0 {
		head = append(head, abr.Period{DurationMs: off, Kbps: t.Periods[0].Kbps, LatencyMs: t.Periods[0].LatencyMs})
		t.Periods[0].DurationMs -= off
	}
	t.Periods = append(t.Periods, head...)
}

// SimProcessing gives the hlsjs preset the player's per-fragment
// processing time in ms (abr.WithProcessing), as Processing measures it
// from a run; dashjs ignores it (dash.js samples the HTTP transfer only).
func SimProcessing(ms float64) SimOption { return func(c *simConfig) { c.processingMs = ms } }

// SimFirstProcessing gives the hlsjs preset the player's processing time
// of its first fragment in ms (abr.WithFirstProcessing), as
// FirstProcessing measures it from a run.
func SimFirstProcessing(ms float64) SimOption { return func(c *simConfig) { c.firstProcMs = ms } }

// FirstProcessing is the time hls.js took from its first fragment's last
// byte to the end of its parse (the earliest requested of Result.Frags),
// in ms; 0 when the run has no fragment stats.
func FirstProcessing(r *Result) float64 {
	first := -1
	for i, f := range r.Frags {
		if f.LoadedS > 0 && f.ParsedS >= f.LoadedS && (first < 0 || f.RequestS < r.Frags[first].RequestS) {
			first = i
		}
	}
	if first < 0 {
		return 0
	}
	return (r.Frags[first].ParsedS - r.Frags[first].LoadedS) * 1000
}

// Processing is the median time hls.js took from a fragment's last byte
// to the end of its parse (Result.Frags: parsed − loaded), in ms; 0 when
// the run has no fragment stats (dash.js, or a run recorded before they
// were).
func Processing(r *Result) float64 {
	var v []float64
	for _, f := range r.Frags {
		if d := f.ParsedS - f.LoadedS; d >= 0 && f.LoadedS > 0 {
			v = append(v, d*1000)
		}
	}
	sort.Float64s(v)
	return median(v)
}

// SimUntil compares only the segments that start before position s (the
// real player's position when its run ended before the presentation
// did); zero or negative: every segment.
func SimUntil(s float64) SimOption { return func(c *simConfig) { c.untilS = s } }

// Simulate runs the simulator's preset of player ("hlsjs" or "dashjs") on
// the presentation whose manifest is at manifestPath (a packaged
// master.m3u8 or manifest.mpd on disk) over the scenario sc.
func Simulate(manifestPath, player string, sc *shape.Scenario, opts ...SimOption) (*SimResult, error) {
	var cfg simConfig
	for _, o := range opts {
		o(&cfg)
	}
	if player != "hlsjs" && player != "dashjs" {
		return nil, fmt.Errorf("playtest: unknown player %q (want %s)", player, strings.Join(Players, " or "))
	}
	tr, err := SimTrace(sc)
	if err != nil {
		return nil, err
	}
	rotate(tr, cfg.offsetS)
	var man *withAudio
	switch strings.ToLower(filepath.Ext(manifestPath)) {
	case ".m3u8":
		l, err := hls.ReadLadder(manifestPath)
		if err != nil {
			return nil, err
		}
		man = &withAudio{l, l.AudioSizes}
	case ".mpd":
		l, err := dash.ReadLadder(manifestPath)
		if err != nil {
			return nil, err
		}
		man = &withAudio{l, l.AudioSizes}
	default:
		return nil, fmt.Errorf("playtest: %s: want a packaged .m3u8 or .mpd to simulate", manifestPath)
	}
	// hls.js samples the video fragment only, over a load that shares
	// the link with the audio fetched beside it (abr.WithSideLoad)
	preset, err := abr.New(player, abr.WithProcessing(cfg.processingMs), abr.WithFirstProcessing(cfg.firstProcMs), abr.WithSideLoad(man.audio))
	if err != nil {
		return nil, err
	}
	s, err := abr.NewSession(man, tr, preset, abr.WithBuffer(simBufferMs), abr.WithStartup(0), abr.WithAbandonment(true))
	if err != nil {
		return nil, err
	}
	res := &SimResult{Preset: player, Notes: notes(sc), Bitrate: []Switch{}}
	if player == "hlsjs" {
		res.ProcessingMs, res.FirstProcessingMs = cfg.processingMs, cfg.firstProcMs
	}
	res.OffsetS = cfg.offsetS
	segS := man.SegmentDuration() / 1000
	played := make([]int, man.NumSegments())
	reqAt := make([]float64, man.NumSegments())
	for i := range played {
		played[i] = -1
	}
	stallUntil := make([]float64, man.NumSegments()) // stall time during the step that fetched segment i
	events := make([]int, man.NumSegments())
	s.SetOnSegment(func(r *abr.SegmentRecord) {
		if r.Index < 0 || r.Index >= len(played) {
			return
		}
		stallUntil[r.Index] += r.RebufMs / 1000
		if r.RebufMs > 0 {
			events[r.Index]++
		}
		if r.Abandoned {
			if !r.Replacement { // a replacement given up as its segment starts playing is not the player's abandonment
				res.Abandoned++
			}
			return
		}
		played[r.Index], reqAt[r.Index] = r.Quality, r.StartMs/1000
	})
	m, err := s.Run()
	if err != nil {
		return nil, err
	}
	res.StartupS = m.StartupMs / 1000
	n := len(played)
	if cfg.untilS > 0 {
		n = min(n, int(math.Ceil(cfg.untilS/segS)))
	}
	kb := man.Bitrates()
	var sum float64
	for i := 0; i < n && played[i] >= 0; i++ {
		q := played[i]
		if i == 0 || q != played[i-1] {
			if i > 0 {
				res.Switches++
			}
			res.Bitrate = append(res.Bitrate, Switch{TS: reqAt[i], Kbps: math.Round(kb[q]), Level: q, PositionS: float64(i) * segS})
		}
		sum += math.Round(kb[q])
		res.StallS += stallUntil[i]
		res.StallCount += events[i]
		res.Segments++
	}
	if res.Segments > 0 {
		res.MeanKbps = sum / float64(res.Segments)
	}
	return res, nil
}

// notes lists what the scenario uses that the simulator does not model.
func notes(sc *shape.Scenario) []string {
	var jitter, loss bool
	for _, p := range sc.Phases {
		jitter = jitter || p.JitterMs > 0
		loss = loss || p.Loss > 0
	}
	out := []string{}
	if jitter {
		out = append(out, "jitter (the simulator uses the mean latency)")
	}
	if loss {
		out = append(out, "packet loss (the shaper's TCP stalls and window halving slow only the real link)")
	}
	if len(sc.Faults) > 0 {
		out = append(out, "faults (errors, truncated bodies, resets and slow first bytes reach only the real player)")
	}
	return out
}

// withAudio is a ladder whose segments carry the audio segment fetched
// beside them: the bytes a real player moves over the link per segment.
type withAudio struct {
	abr.Manifest
	audio []float64
}

func (w *withAudio) SegmentSize(i, q int) float64 {
	s := w.Manifest.SegmentSize(i, q)
	if i < len(w.audio) {
		s += w.audio[i]
	}
	return s
}

// Goals of the calibration (issue 16): the preset is within them of the
// real player when mean played bitrate differs by at most 10 %, stall
// time by at most 1 s and the switch count by at most 2.
const (
	GoalMeanRel  = 0.10
	GoalStallS   = 1.0
	GoalSwitches = 2
)

// Diff is one metric of a comparison.
type Diff struct {
	Metric string  `json:"metric"`
	Real   float64 `json:"real"`
	Sim    float64 `json:"sim"`
	Diff   float64 `json:"diff"`           // sim − real
	Goal   string  `json:"goal,omitempty"` // empty: informative only
	Met    bool    `json:"met"`
}

// Comparison is a real player's run beside its preset's prediction.
type Comparison struct {
	Scenario string     `json:"scenario"`
	Player   string     `json:"player"`
	Real     *Result    `json:"real"`
	Sim      *SimResult `json:"sim"`
	Diffs    []Diff     `json:"diffs"`
}

// Compare sets the simulator's prediction beside the real run: mean played
// bitrate, stall time, switch count against the calibration goals, and
// stall count, startup and abandoned downloads for information.
func Compare(scenario string, real *Result, sim *SimResult) *Comparison {
	c := &Comparison{Scenario: scenario, Player: real.Player, Real: real, Sim: sim}
	c.Diffs = diffs(metricsOf(real), sim)
	return c
}

// metrics are the compared values of a real run, or the median of runs.
type metrics [nMetrics]float64

// The compared metrics, in the order of Comparison.Diffs.
const (
	mMean = iota
	mStall
	mSwitches
	mStallCount
	mStartup
	mAbandoned
	nMetrics
)

var metricNames = [nMetrics]string{"mean_played_kbps", "stall_s", "switches", "stall_count", "startup_s", "abandoned"}

func metricsOf(r *Result) metrics {
	return metrics{r.MeanKbps, r.StallS, float64(r.Switches), float64(r.StallCount), r.StartupS, float64(len(r.Abandoned))}
}

func (m metrics) of(s *SimResult) metrics {
	return metrics{s.MeanKbps, s.StallS, float64(s.Switches), float64(s.StallCount), s.StartupS, float64(s.Abandoned)}
}

// diffs compares real values (one run's, or the median of runs) with the
// simulator's.
func diffs(real metrics, sim *SimResult) []Diff {
	sv := real.of(sim)
	out := make([]Diff, nMetrics)
	for i := range out {
		out[i] = Diff{Metric: metricNames[i], Real: real[i], Sim: sv[i], Diff: sv[i] - real[i], Met: true}
	}
	rel := math.Inf(1)
	if real[mMean] > 0 {
		rel = math.Abs(sv[mMean]-real[mMean]) / real[mMean]
	}
	out[mMean].Goal, out[mMean].Met = fmt.Sprintf("within %.0f %%", GoalMeanRel*100), rel <= GoalMeanRel
	out[mStall].Goal, out[mStall].Met = fmt.Sprintf("within %g s", GoalStallS), math.Abs(out[mStall].Diff) <= GoalStallS
	out[mSwitches].Goal, out[mSwitches].Met = fmt.Sprintf("within %d", GoalSwitches), math.Abs(out[mSwitches].Diff) <= GoalSwitches
	return out
}

// Cell is one scenario and player of a calibration played several times:
// the players' median and spread of every compared metric, and the
// preset against the median. With one run the median is that run.
//
// Why the median: on a loaded machine a real player's runs differ by more
// than the goals (hls.js on the 900 kbit/s link played 568 and then 351
// kbit/s), so one run cannot tell a preset's error from the player's own
// noise; the spread beside the difference shows which one a miss is.
type Cell struct {
	Scenario string     `json:"scenario"`
	Player   string     `json:"player"`
	Engine   string     `json:"engine"`
	Runs     int        `json:"runs"`
	Min      []float64  `json:"min"` // per metric, in the order of Diffs
	Max      []float64  `json:"max"`
	Sim      *SimResult `json:"sim"`
	Diffs    []Diff     `json:"diffs"` // Real is the players' median
}

// Met reports whether every goal of the cell is met against the median.
func (c *Cell) Met() bool { return allMet(c.Diffs) }

// Aggregate groups comparisons by scenario and player (in the order they
// first appear) into cells. The cell's simulation is that of its runs
// that played to the end (a run cut short compares only the part it
// played), else its first run's. When those runs' simulations differ
// (each was given its own run's measured inputs, SimProcessing and
// SimFirstProcessing), the cell's is the first of them with every
// compared metric replaced by its median over them, as the players'
// column is their median: before, the first run's simulation stood for
// the cell, so one run's measured start-up spoke for all three.
func Aggregate(cs []*Comparison) []*Cell {
	type key struct{ sc, pl string }
	idx := map[key]int{}
	var groups [][]*Comparison
	for _, c := range cs {
		k := key{c.Scenario, c.Player}
		i, ok := idx[k]
		if !ok {
			i = len(groups)
			idx[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	out := make([]*Cell, 0, len(groups))
	for _, g := range groups {
		cell := &Cell{Scenario: g[0].Scenario, Player: g[0].Player, Engine: g[0].Real.Engine, Runs: len(g),
			Min: make([]float64, nMetrics), Max: make([]float64, nMetrics), Sim: g[0].Sim}
		var ended []*SimResult
		for _, c := range g {
			if c.Real.Ended {
				ended = append(ended, c.Sim)
			}
		}
		if len(ended) > 0 {
			cell.Sim = medianSim(ended)
		}
		var med metrics
		vals := make([]float64, len(g))
		for m := 0; m < nMetrics; m++ {
			for i, c := range g {
				vals[i] = metricsOf(c.Real)[m]
			}
			sort.Float64s(vals)
			med[m], cell.Min[m], cell.Max[m] = median(vals), vals[0], vals[len(vals)-1]
		}
		cell.Diffs = diffs(med, cell.Sim)
		out = append(out, cell)
	}
	return out
}

// medianSim returns sims[0] when every simulation gives the same
// metrics, else a copy of it holding each metric's median over sims.
func medianSim(sims []*SimResult) *SimResult {
	var m metrics
	first := m.of(sims[0])
	same := true
	for _, x := range sims[1:] {
		same = same && m.of(x) == first
	}
	if same {
		return sims[0]
	}
	var med metrics
	vals := make([]float64, len(sims))
	for k := 0; k < nMetrics; k++ {
		for i, x := range sims {
			vals[i] = m.of(x)[k]
		}
		sort.Float64s(vals)
		med[k] = median(vals)
	}
	out := *sims[0]
	out.MeanKbps, out.StallS, out.StartupS = med[mMean], med[mStall], med[mStartup]
	out.Switches, out.StallCount, out.Abandoned = int(math.Round(med[mSwitches])), int(math.Round(med[mStallCount])), int(math.Round(med[mAbandoned]))
	out.Runs = len(sims)
	return &out
}

// Met reports whether every goal of the comparison is met.
func (c *Comparison) Met() bool { return allMet(c.Diffs) }

func allMet(ds []Diff) bool {
	for _, d := range ds {
		if d.Goal != "" && !d.Met {
			return false
		}
	}
	return true
}

// WriteText prints the comparison as a table: one line per metric with
// the real value, the simulator's, the difference and the goal.
func (c *Comparison) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s vs the %s preset on %s:\n", c.Real.Engine, c.Sim.Preset, c.Scenario)
	fmt.Fprintf(w, "  %-18s %10s %10s %10s  %s\n", "metric", "real", "sim", "sim-real", "goal")
	for _, d := range c.Diffs {
		goal := "(information)"
		if d.Goal != "" {
			goal = d.Goal + ": " + metStr(d.Met)
		}
		fmt.Fprintf(w, "  %-18s %10.2f %10.2f %+10.2f  %s\n", d.Metric, d.Real, d.Sim, d.Diff, goal)
	}
	for _, n := range c.Sim.Notes {
		fmt.Fprintln(w, "  not simulated:", n)
	}
	var b strings.Builder
	for _, s := range c.Sim.Bitrate {
		fmt.Fprintf(&b, " %.0f@%.0fs", s.Kbps, s.PositionS)
	}
	_, err := fmt.Fprintf(w, "  sim played (kbit/s@position):%s\n", b.String())
	return err
}

func metStr(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// WriteMarkdown writes comparisons as the "presets vs real players" table
// of README and BENCHMARKS.md: per scenario and player (Aggregate), the
// players' median / the preset (sim − median) of each goal metric, marked
// met (✓) or not (✗), the players' spread (min–max) when a cell was
// played more than once, and the startup times.
func WriteMarkdown(w io.Writer, cs []*Comparison) error {
	cells := Aggregate(cs)
	runs := 1
	for _, c := range cells {
		runs = max(runs, c.Runs)
	}
	realHdr := "real"
	if runs > 1 {
		realHdr = "real median [min–max]"
	}
	fmt.Fprintf(w, "| scenario | player vs preset | mean played kbit/s %[1]s / sim | stall s %[1]s / sim | switches %[1]s / sim | startup s real / sim |\n", realHdr)
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, c := range cells {
		cell := func(m int, f string) string {
			d := c.Diffs[m]
			r := fmt.Sprintf(f, d.Real)
			if c.Runs > 1 && d.Goal != "" {
				r += fmt.Sprintf(" ["+f+"–"+f+"]", c.Min[m], c.Max[m])
			}
			s := r + " / " + fmt.Sprintf(f, d.Sim)
			if d.Goal != "" {
				mark := "✗"
				if d.Met {
					mark = "✓"
				}
				s = fmt.Sprintf("%s (%+"+f[1:]+") %s", s, d.Diff, mark)
			}
			return s
		}
		runs := ""
		if c.Runs > 1 {
			runs = fmt.Sprintf(" (%d runs)", c.Runs)
		}
		fmt.Fprintf(w, "| %s | %s vs %s%s | %s | %s | %s | %s |\n", c.Scenario, c.Engine, c.Sim.Preset, runs,
			cell(mMean, "%.0f"), cell(mStall, "%.1f"), cell(mSwitches, "%.0f"), cell(mStartup, "%.2f"))
	}
	return nil
}
