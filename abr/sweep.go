package abr

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Table is the result of a sweep: named columns, the first KeyCols of which
// identify a row (trace, and algorithm/parameters where they vary); rows are
// kept sorted by those key columns, so the same sweep gives the same table
// whatever the number of workers or shards.
type Table struct {
	Columns []string
	KeyCols int
	Rows    [][]string
}

// GridAxis is one swept Sabre option: Flag (e.g. "-b") takes each of Values.
type GridAxis struct {
	Flag   string
	Values []string
}

// ParseGrid parses "-b=10,25" (or "-b 10,25") into a GridAxis.
func ParseGrid(s string) (GridAxis, error) {
	s = strings.TrimSpace(s)
	k := strings.IndexAny(s, "= ")
	if k <= 0 || !strings.HasPrefix(s, "-") {
		return GridAxis{}, fmt.Errorf("abr: grid %q: want -flag=v1,v2 (comma-separated values)", s)
	}
	g := GridAxis{Flag: s[:k]}
	for _, v := range strings.Split(strings.TrimSpace(s[k+1:]), ",") {
		if v = strings.TrimSpace(v); v != "" {
			g.Values = append(g.Values, v)
		}
	}
	if len(g.Values) == 0 {
		return GridAxis{}, fmt.Errorf("abr: grid %q has no values", s)
	}
	return g, nil
}

func gridPoints(grid []GridAxis) [][]string {
	pts := [][]string{nil}
	for _, ax := range grid {
		var next [][]string
		for _, p := range pts {
			for _, v := range ax.Values {
				next = append(next, append(append([]string(nil), p...), ax.Flag, v))
			}
		}
		pts = next
	}
	return pts
}

func (o sweepConfig) shardTraces(traces []string) ([]string, error) {
	if o.Shards <= 1 {
		return traces, nil
	}
	if o.Shard < 0 || o.Shard >= o.Shards {
		return nil, fmt.Errorf("abr: shard %d out of range 0..%d", o.Shard, o.Shards-1)
	}
	var out []string
	for k, t := range traces {
		if k%o.Shards == o.Shard {
			out = append(out, t)
		}
	}
	return out, nil
}

// SweepRows runs fn for every key (a trace path, a grid point, …) on the
// sweep's pool of WithWorkers goroutines, keeping only WithShard's keys
// (key k belongs to shard k mod n), and returns the rows sorted by their
// first keyCols columns: the same rows for any number of workers, and
// shards that MergeTables puts back together. SweepSabre and
// SweepPensieve shard and pool the same way (shardTraces, runTraces), and
// other simulators' sweeps (package swarm) run through it, so sharding
// follows one rule.
func SweepRows(ctx context.Context, keys []string, keyCols int, fn func(key string) ([][]string, error), opts ...SweepOption) ([][]string, error) {
	o := newSweepConfig(opts)
	keys, err := o.shardTraces(keys)
	if err != nil {
		return nil, err
	}
	return runTraces(ctx, keys, o, keyCols, fn)
}

// runTraces runs fn for every trace on a pool of workers; fn returns the
// rows of its trace. Rows are gathered by trace index and sorted by key.
func runTraces(ctx context.Context, traces []string, o sweepConfig, keyCols int, fn func(path string) ([][]string, error)) ([][]string, error) {
	w := o.Workers
	if w < 1 {
		w = 1
	}
	res := make([][][]string, len(traces))
	errs := make([]error, len(traces))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				res[k], errs[k] = fn(traces[k])
				if o.Progress != nil {
					mu.Lock()
					done++
					o.Progress(done, len(traces))
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for k := range traces {
		select {
		case <-ctx.Done():
			break feed
		case jobs <- k:
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return gatherRows(res, errs, keyCols)
}

// gatherRows joins the per-trace rows in trace order, or returns the
// first error in trace order (the same for any number of workers), and
// sorts the rows by their key columns.
func gatherRows(res [][][]string, errs []error, keyCols int) ([][]string, error) {
	var rows [][]string
	for k := range res {
		if errs[k] != nil {
			return nil, errs[k]
		}
		rows = append(rows, res[k]...)
	}
	sortRows(rows, keyCols)
	return rows, nil
}

func sortRows(rows [][]string, keyCols int) {
	slices.SortStableFunc(rows, func(a, b []string) int {
		for c := 0; c < keyCols; c++ {
			if r := cmp.Compare(a[c], b[c]); r != 0 {
				return r
			}
		}
		return 0
	})
}

// ends0 is where cell i starts in a row whose cells end at ends.
func ends0(ends []int, i int) int {
	if i == 0 {
		return 0
	}
	return ends[i-1]
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// SabreMetricNames lists Sabre's printed metric names in order.
func SabreMetricNames() []string {
	var m Metrics
	m.SegmentMs, m.PlayTimeMs = 1, 1
	var out []string
	for _, l := range m.SabreLines() {
		out = append(out, l.Name)
	}
	return out
}

// SweepSabre runs a Sabre command line (base, without -n) over every trace,
// for each algorithm in algos (empty = the one in base) and each point of
// grid. Columns: trace, then algo and args when algos or grid are given,
// then one column per Sabre metric, named as Sabre prints it.
func SweepSabre(ctx context.Context, base []string, traces []string, algos []string, grid []GridAxis, opts ...SweepOption) (*Table, error) {
	o := newSweepConfig(opts)
	traces, err := o.shardTraces(traces)
	if err != nil {
		return nil, err
	}
	pts := gridPoints(grid)
	extra := len(algos) > 0 || len(grid) > 0
	if len(algos) == 0 {
		algos = []string{""}
	}
	type variant struct {
		algo, args string
		run        *SabreRun
	}
	var vars []variant
	for _, a := range algos {
		for _, p := range pts {
			args := append([]string(nil), base...)
			if a != "" {
				args = append(args, "-a", a)
			}
			args = append(args, p...)
			pa, err := ParseSabreArgs(args)
			if err != nil {
				return nil, err
			}
			if pa.Network != "" {
				return nil, errors.New("abr: sweep: give the traces with --traces, not -n")
			}
			run, err := PrepareSabre(pa)
			if err != nil {
				return nil, err
			}
			vars = append(vars, variant{run.Args.Algorithm, strings.Join(p, " "), run})
		}
	}
	t := &Table{KeyCols: 1, Columns: []string{"trace"}}
	if extra {
		t.KeyCols = 3
		t.Columns = append(t.Columns, "algo", "args")
	}
	t.Columns = append(t.Columns, SabreMetricNames()...)
	w := max(o.Workers, 1)
	// per worker, one session per variant, rewound onto each trace
	// (ResetTrace): a session's tables, queues and algorithm are built once
	sess := make([][]*Session, w)
	for i := range sess {
		sess[i] = make([]*Session, len(vars))
	}
	sopts := make([][]Option, len(vars))
	for k, v := range vars {
		sopts[k] = append(v.run.Args.Options(), WithOutput(nil, false))
	}
	lines := make([][]SabreMetric, w)
	text := make([][]byte, w)
	cellEnds := make([][]int, w)
	// rows and their cell slices are cut from per-worker slabs: two
	// allocations per 64 rows instead of two per row
	cellSlab := make([][]string, w)
	rowSlab := make([][][]string, w)
	ncol := len(t.Columns)
	t.Rows, err = runLoadedTraces(ctx, traces, o, t.KeyCols, func(worker int, tr *Trace) ([][]string, error) {
		if len(rowSlab[worker]) < len(vars) {
			rowSlab[worker] = make([][]string, 64*len(vars))
		}
		rows := rowSlab[worker][:0:len(vars)]
		rowSlab[worker] = rowSlab[worker][len(vars):]
		name := filepath.Base(tr.Name)
		for k, v := range vars {
			st := tr
			valid := true // (the loader validated tr)
			if v.run.Args.NetMult != 1 {
				st, valid = tr.Scale(v.run.Args.NetMult), false
			}
			s := sess[worker][k]
			if s == nil {
				alg, err := New(v.run.Args.Algorithm, v.run.Args.AlgorithmOptions(false)...)
				if err != nil {
					return nil, err
				}
				if s, err = NewSession(v.run.Manifest, st, alg, sopts[k]...); err != nil {
					return nil, err
				}
				sess[worker][k] = s
			} else if valid {
				if err := s.resetValid(st, sopts[k]...); err != nil {
					return nil, err
				}
			} else if err := s.ResetTrace(st, sopts[k]...); err != nil {
				return nil, err
			}
			m, err := s.Run()
			if err != nil {
				return nil, err
			}
			// the row's cells are substrings of one string: one allocation
			// for the text of a row instead of one per cell
			lines[worker] = m.appendSabreLines(lines[worker][:0], false)
			b := text[worker][:0]
			ends := cellEnds[worker][:0]
			for _, l := range lines[worker] {
				if strings.HasSuffix(l.Name, "count") || l.Name == "buffer size" {
					b = append(b, l.Text...)
				} else {
					b = strconv.AppendFloat(b, l.Value, 'f', -1, 64)
				}
				ends = append(ends, len(b))
			}
			text[worker], cellEnds[worker] = b, ends
			cells := string(b)
			if len(cellSlab[worker]) < ncol {
				cellSlab[worker] = make([]string, 64*ncol)
			}
			row := cellSlab[worker][:0:ncol]
			cellSlab[worker] = cellSlab[worker][ncol:]
			row = append(row, name)
			if extra {
				row = append(row, v.algo, v.args)
			}
			for i, e := range ends {
				row = append(row, cells[ends0(ends, i):e])
			}
			rows = append(rows, row)
		}
		return rows, nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// runLoadedTraces is runTraces for simulators that take a *Trace: one
// goroutine reads and decodes the traces ahead of the workers (in order,
// into memory the workers hand back), so file reading overlaps simulation
// even with one worker. fn gets its worker's number (0 ≤ worker < Workers)
// for per-worker state, and must not keep tr after it returns.
//
// Traces travel in batches of up to loadBatch: a trace simulates in tens
// of microseconds, so handing them over one by one cost a goroutine wake-up
// (a futex call each way on a 2-core machine) per trace, about as much as
// reading it. A batch is sent as soon as it is full, or earlier when the
// workers are idle waiting (the channel is empty), so a slow loader never
// holds back work it has ready.
func runLoadedTraces(ctx context.Context, traces []string, o sweepConfig, keyCols int, fn func(worker int, tr *Trace) ([][]string, error)) ([][]string, error) {
	w := max(o.Workers, 1)
	type item struct {
		k   int
		t   *Trace
		err error
	}
	// batch size: large enough to amortise the hand-over, small enough
	// that every worker gets several batches
	bsz := min(loadBatch, max(1, len(traces)/(4*w)))
	ahead := 2 * w // batches loaded ahead of the workers
	ready := make(chan []item, ahead)
	back := make(chan []item, ahead+w+1) // never full: at most that many are out
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(ready)
		var l traceLoader
		var spare [][]item // emptied batches, for reuse
		var b []item
		for k, path := range traces {
			if b == nil {
			drain:
				for {
					select {
					case rb := <-back:
						for _, it := range rb {
							if it.t != nil {
								l.put(it.t)
							}
						}
						spare = append(spare, rb[:0])
					default:
						break drain
					}
				}
				if n := len(spare); n > 0 {
					b, spare = spare[n-1], spare[:n-1]
				} else {
					b = make([]item, 0, bsz)
				}
			}
			t, err := l.load(path)
			b = append(b, item{k, t, err})
			if len(b) < bsz && len(ready) > 0 && k+1 < len(traces) {
				continue // the workers have work: keep filling this batch
			}
			select {
			case ready <- b:
			case <-ctx.Done():
				return
			}
			b = nil
		}
	}()
	res := make([][][]string, len(traces))
	errs := make([]error, len(traces))
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ready {
				for _, it := range b {
					if it.err != nil {
						errs[it.k] = it.err
					} else if parent.Err() == nil {
						res[it.k], errs[it.k] = fn(i, it.t)
					}
					if errs[it.k] != nil {
						cancel() // the first error in trace order is reported; stop early
					}
					if o.Progress != nil {
						mu.Lock()
						done++
						o.Progress(done, len(traces))
						mu.Unlock()
					}
				}
				back <- b
			}
		}()
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, err
	}
	// an error cancels the loader: every trace before the failing one was
	// handed out before it and has run (workers run every batch they get),
	// so the first error in trace order is the one reported, for any
	// number of workers
	return gatherRows(res, errs, keyCols)
}

// loadBatch is the most traces runLoadedTraces hands over at once.
const loadBatch = 16

// NewPensievePolicy returns a fresh Pensieve policy by name: "bb",
// "robustmpc" (fast exact) or "robustmpc-exhaustive".
func NewPensievePolicy(name string) (PensievePolicy, error) {
	switch strings.ToLower(name) {
	case "bb":
		return BB{}, nil
	case "robustmpc", "mpc":
		return &RobustMPC{}, nil
	case "robustmpc-exhaustive":
		return &RobustMPC{scoreAll: true}, nil
	}
	return nil, fmt.Errorf("abr: unknown Pensieve algorithm %q (want bb, robustmpc, robustmpc-exhaustive)", name)
}

// PensieveColumns are the columns of SweepPensieve.
var PensieveColumns = []string{"trace", "algo", "qoe_sum", "avg_bitrate_kbps", "rebuf_s"}

// SweepPensieve runs Pensieve's environment over every cooked trace for each
// policy, with fresh policy state for every trace (MODELS.md §3.8.1).
// Columns: trace, algo, qoe_sum, avg_bitrate_kbps, rebuf_s (chunks 1..47).
func SweepPensieve(ctx context.Context, traces []string, vs *VideoSizes, algos []string, qoe QoE, opts ...SweepOption) (*Table, error) {
	o := newSweepConfig(opts)
	traces, err := o.shardTraces(traces)
	if err != nil {
		return nil, err
	}
	for _, a := range algos {
		if _, err := NewPensievePolicy(a); err != nil {
			return nil, err
		}
	}
	t := &Table{Columns: PensieveColumns, KeyCols: 2}
	t.Rows, err = runTraces(ctx, traces, o, 2, func(path string) ([][]string, error) {
		f, err := openFile(path)
		if err != nil {
			return nil, err
		}
		c, err := ReadCookedTrace(f, path)
		f.Close()
		if err != nil {
			return nil, err
		}
		c.Name = filepath.Base(path)
		var rows [][]string
		for _, a := range algos {
			pol, _ := NewPensievePolicy(a)
			e, err := NewPensieveSession(c, vs, pol, qoe)
			if err != nil {
				return nil, err
			}
			r, err := e.Run()
			if err != nil {
				return nil, err
			}
			rows = append(rows, []string{c.Name, strings.ToLower(a), fmtFloat(r.QoESum), fmtFloat(r.AvgBitrate), fmtFloat(r.RebufS)})
		}
		return rows, nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// WriteCSV writes the table with a header line.
func (t *Table) WriteCSV(w io.Writer) error {
	// a 64 KiB buffer: csv.Writer's own 4 KiB one made a write system
	// call per ~8 rows of a Sabre sweep (csv.NewWriter uses a large
	// enough *bufio.Writer as it is)
	cw := csv.NewWriter(bufio.NewWriterSize(w, 64<<10))
	cw.Write(t.Columns)
	cw.WriteAll(t.Rows)
	return cw.Error()
}

// WriteJSONL writes one JSON object per row; numeric cells become numbers.
func (t *Table) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, r := range t.Rows {
		obj := make(map[string]any, len(r))
		for i, c := range t.Columns {
			if i >= t.KeyCols {
				if v, err := strconv.ParseFloat(r[i], 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
					obj[c] = json.Number(r[i])
					continue
				}
			}
			obj[c] = r[i]
		}
		if err := enc.Encode(obj); err != nil {
			return err
		}
	}
	return nil
}

// ReadTableCSV reads a table written by WriteCSV. keyCols is inferred from
// the header (trace[, algo[, args]], or scenario, point for a swarm sweep).
func ReadTableCSV(r io.Reader, name string) (*Table, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, perr(name, pe.Line, "", ErrMalformed, "%v", pe.Err)
		}
		return nil, perr(name, 0, "", ErrMalformed, "%v", err)
	}
	if len(recs) == 0 {
		return nil, perr(name, 0, "", ErrMalformed, "empty file")
	}
	t := &Table{Columns: recs[0], Rows: recs[1:]}
	if t.Columns[0] != "trace" && t.Columns[0] != "scenario" {
		return nil, perr(name, 1, "header", ErrMalformed, "first column is %q, want trace (or scenario, a swarm sweep)", t.Columns[0])
	}
	t.KeyCols = 1
	for t.KeyCols < len(t.Columns) && (t.Columns[t.KeyCols] == "algo" || t.Columns[t.KeyCols] == "args" || t.Columns[t.KeyCols] == "point") {
		t.KeyCols++
	}
	return t, nil
}

// MergeTables concatenates sharded tables (same columns) and sorts the rows
// as an unsharded sweep would. Duplicate keys are an error.
func MergeTables(parts []*Table) (*Table, error) {
	if len(parts) == 0 {
		return nil, errors.New("abr: nothing to merge")
	}
	out := &Table{Columns: parts[0].Columns, KeyCols: parts[0].KeyCols}
	seen := map[string]bool{}
	for i, p := range parts {
		if strings.Join(p.Columns, ",") != strings.Join(out.Columns, ",") {
			return nil, fmt.Errorf("abr: merge: part %d has different columns", i+1)
		}
		for _, r := range p.Rows {
			k := strings.Join(r[:out.KeyCols], "\x00")
			if seen[k] {
				return nil, fmt.Errorf("abr: merge: row %q appears twice", strings.Join(r[:out.KeyCols], ","))
			}
			seen[k] = true
			out.Rows = append(out.Rows, r)
		}
	}
	sortRows(out.Rows, out.KeyCols)
	return out, nil
}

// Summary is one line of a sweep summary: a metric's distribution over the
// traces for one group (algorithm and parameters).
type Summary struct {
	Group, Metric      string  // group key (algorithm, parameters) and metric column
	N                  int     // number of traces (values) summarised
	Mean, P5, P50, P95 float64 // mean and 5th, 50th, 95th percentiles
}

// Summarize computes mean, p5, p50, p95 (linear interpolation) of each given
// metric column for each group of the key columns after "trace".
func (t *Table) Summarize(metrics []string) []Summary {
	groups := map[string][][]string{}
	var order []string
	for _, r := range t.Rows {
		g := strings.TrimSpace(strings.Join(r[1:t.KeyCols], " "))
		if g == "" {
			g = "all"
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], r)
	}
	sort.Strings(order)
	var out []Summary
	for _, g := range order {
		for _, m := range metrics {
			ci := -1
			for i, c := range t.Columns {
				if c == m {
					ci = i
				}
			}
			if ci < 0 {
				continue
			}
			var v []float64
			for _, r := range groups[g] {
				if x, err := strconv.ParseFloat(r[ci], 64); err == nil {
					v = append(v, x)
				}
			}
			if len(v) == 0 {
				continue
			}
			sort.Float64s(v)
			sum := 0.0
			for _, x := range v {
				sum += x
			}
			out = append(out, Summary{g, m, len(v), sum / float64(len(v)), quantile(v, 0.05), quantile(v, 0.5), quantile(v, 0.95)})
		}
	}
	return out
}

func quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	x := p * float64(len(sorted)-1)
	i := int(x)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := x - float64(i)
	return sorted[i] + (sorted[i+1]-sorted[i])*f
}

// WriteSummary prints summaries as an aligned table.
func WriteSummary(w io.Writer, s []Summary) error {
	gw, mw := len("group"), len("metric")
	for _, x := range s {
		gw = max(gw, len(x.Group))
		mw = max(mw, len(x.Metric))
	}
	if _, err := fmt.Fprintf(w, "%-*s  %-*s  %5s  %12s  %12s  %12s  %12s\n", gw, "group", mw, "metric", "n", "mean", "p5", "p50", "p95"); err != nil {
		return err
	}
	for _, x := range s {
		if _, err := fmt.Fprintf(w, "%-*s  %-*s  %5d  %12.4f  %12.4f  %12.4f  %12.4f\n", gw, x.Group, mw, x.Metric, x.N, x.Mean, x.P5, x.P50, x.P95); err != nil {
			return err
		}
	}
	return nil
}

// Column returns the values of a numeric column per group (for CDF plots).
func (t *Table) Column(metric string) []CDFSeries {
	ci := -1
	for i, c := range t.Columns {
		if c == metric {
			ci = i
		}
	}
	if ci < 0 {
		return nil
	}
	idx := map[string]int{}
	var out []CDFSeries
	for _, r := range t.Rows {
		g := strings.TrimSpace(strings.Join(r[1:t.KeyCols], " "))
		if g == "" {
			g = "all"
		}
		k, ok := idx[g]
		if !ok {
			k = len(out)
			idx[g] = k
			out = append(out, CDFSeries{Name: g})
		}
		if x, err := strconv.ParseFloat(r[ci], 64); err == nil {
			out[k].Values = append(out[k].Values, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
