package abr

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Period is one stretch of a network trace: for DurationMs the link delivers
// Kbps bits per millisecond, and a request started in it pays LatencyMs
// before its first bit (MODELS.md §1.2, §2.3).
type Period struct {
	DurationMs float64 `json:"duration_ms"`
	Kbps       float64 `json:"bandwidth_kbps"`
	LatencyMs  float64 `json:"latency_ms"`
}

// Trace is a network trace as a list of periods that loops when it runs out.
// Every reader in this package produces one; the simulators iterate over it
// with a cursor of their own, so one Trace can be shared by any number of
// concurrent sessions.
type Trace struct {
	Name    string
	Periods []Period
}

// Validate checks that the trace can be simulated: at least one period, no
// negative or non-finite values, a positive total duration, and some data
// delivered in every loop (otherwise a download would never finish).
func (t *Trace) Validate() error {
	if len(t.Periods) == 0 {
		return perr(t.Name, 0, "", ErrMalformed, "trace has no periods")
	}
	// (booleans, not a running total: an FP sum is a long dependent chain,
	// and the durations are non-negative, so the total is positive exactly
	// when one of them is)
	lasts, delivers := false, false
	for i, p := range t.Periods {
		if !(p.DurationMs >= 0 && p.DurationMs <= math.MaxFloat64 && p.Kbps >= 0 && p.Kbps <= math.MaxFloat64 &&
			p.LatencyMs >= 0 && p.LatencyMs <= math.MaxFloat64) {
			for _, f := range [...]struct {
				n string
				v float64
			}{{"duration_ms", p.DurationMs}, {"bandwidth_kbps", p.Kbps}, {"latency_ms", p.LatencyMs}} {
				if !(f.v >= 0) || math.IsInf(f.v, 0) {
					return perr(t.Name, 0, fmt.Sprintf("period %d %s", i, f.n), ErrMalformed, "must be a finite non-negative number, got %v", f.v)
				}
			}
		}
		lasts = lasts || p.DurationMs > 0
		delivers = delivers || p.DurationMs > 0 && p.Kbps > 0
	}
	if !lasts {
		return perr(t.Name, 0, "duration_ms", ErrNeverDelivers, "total duration is zero")
	}
	if !delivers {
		return perr(t.Name, 0, "bandwidth_kbps", ErrNeverDelivers, "every period has zero bandwidth: no download could ever finish")
	}
	return nil
}

// Scale returns a copy with every bandwidth multiplied by x (Sabre's -nm).
func (t *Trace) Scale(x float64) *Trace {
	c := &Trace{Name: t.Name, Periods: append([]Period(nil), t.Periods...)}
	for i := range c.Periods {
		c.Periods[i].Kbps *= x
	}
	return c
}

// ReadSabreTrace parses Sabre's network JSON: an array of
// {"duration_ms", "bandwidth_kbps", "latency_ms"} objects.
func ReadSabreTrace(r io.Reader, name string) (*Trace, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, perr(name, 0, "", ErrMalformed, "read: %v", err)
	}
	var raw []struct {
		D *float64 `json:"duration_ms"`
		B *float64 `json:"bandwidth_kbps"`
		L *float64 `json:"latency_ms"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonErr(name, data, err)
	}
	t := &Trace{Name: name, Periods: make([]Period, len(raw))}
	for i, p := range raw {
		switch {
		case p.D == nil:
			return nil, perr(name, 0, fmt.Sprintf("[%d].duration_ms", i), ErrMalformed, "missing")
		case p.B == nil:
			return nil, perr(name, 0, fmt.Sprintf("[%d].bandwidth_kbps", i), ErrMalformed, "missing")
		case p.L == nil:
			return nil, perr(name, 0, fmt.Sprintf("[%d].latency_ms", i), ErrMalformed, "missing")
		}
		t.Periods[i] = Period{*p.D, *p.B, *p.L}
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// CookedTrace is a Pensieve "cooked" trace: Time[k] (s) is the end of sample
// interval k and Mbps[k] its throughput (MODELS.md §1.3).
type CookedTrace struct {
	Name string
	Time []float64
	Mbps []float64
}

// ReadCookedTrace parses Pensieve's cooked text format: one
// "time_s throughput_Mbps" pair per line, whitespace separated.
func ReadCookedTrace(r io.Reader, name string) (*CookedTrace, error) {
	c := &CookedTrace{Name: name}
	err := eachLine(r, name, func(line int, f []string) error {
		if len(f) < 2 {
			return perr(name, line, "", ErrMalformed, "want \"time_s throughput_Mbps\", got %d field(s)", len(f))
		}
		t, err1 := strconv.ParseFloat(f[0], 64)
		b, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || math.IsNaN(t) || math.IsInf(t, 0) {
			return perr(name, line, "time", ErrMalformed, "%q is not a number", clip(f[0]))
		}
		if err2 != nil || !(b >= 0) || math.IsInf(b, 0) {
			return perr(name, line, "throughput", ErrMalformed, "%q is not a non-negative number", clip(f[1]))
		}
		if n := len(c.Time); n > 0 && t < c.Time[n-1] {
			return perr(name, line, "time", ErrMalformed, "time goes backwards (%v after %v)", t, c.Time[n-1])
		}
		c.Time = append(c.Time, t)
		c.Mbps = append(c.Mbps, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks that the cooked trace has at least two samples, a positive
// span and some throughput (samples 1..n-1 are the ones ever used).
func (c *CookedTrace) Validate() error {
	if len(c.Time) < 2 {
		return perr(c.Name, 0, "", ErrMalformed, "need at least 2 samples, got %d", len(c.Time))
	}
	if !(c.Time[len(c.Time)-1] > 0) {
		return perr(c.Name, 0, "time", ErrNeverDelivers, "trace spans no time")
	}
	for k := 1; k < len(c.Time); k++ {
		prev := c.Time[k-1]
		if k == 1 {
			prev = 0 // after a loop the interval before sample 1 starts at 0.0
		}
		if c.Mbps[k] > 0 && c.Time[k] > prev {
			return nil
		}
	}
	return perr(c.Name, 0, "throughput", ErrNeverDelivers, "no interval has positive throughput: no chunk could ever finish")
}

// Trace converts a cooked trace to periods (interval k ends at Time[k] and
// runs at Mbps[k]), each with the given latency.
func (c *CookedTrace) Trace(latencyMs float64) *Trace {
	t := &Trace{Name: c.Name}
	for k := 1; k < len(c.Time); k++ {
		t.Periods = append(t.Periods, Period{DurationMs: (c.Time[k] - c.Time[k-1]) * 1000, Kbps: c.Mbps[k] * 1000, LatencyMs: latencyMs})
	}
	return t
}

// MahimahiBinMs is the width of the bins a Mahimahi packet-delivery trace is
// averaged over when it is turned into periods.
const MahimahiBinMs = 100

// ReadMahimahiTrace parses a Mahimahi packet-delivery trace: one line per
// delivery opportunity of one 1500-byte packet, holding the millisecond
// timestamp (non-decreasing); the trace repeats with the last timestamp as its
// period. The result has one period per MahimahiBinMs with the mean rate of
// that bin and the given latency.
func ReadMahimahiTrace(r io.Reader, name string, latencyMs float64) (*Trace, error) {
	var counts []float64
	last := -1.0
	err := eachLine(r, name, func(line int, f []string) error {
		if len(f) != 1 {
			return perr(name, line, "", ErrMalformed, "want one millisecond timestamp, got %d fields", len(f))
		}
		ms, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil {
			return perr(name, line, "", ErrMalformed, "%q is not a millisecond timestamp", clip(f[0]))
		}
		if float64(ms) < last {
			return perr(name, line, "", ErrMalformed, "timestamp %d goes backwards (after %v)", ms, last)
		}
		if ms > 1<<26 {
			return perr(name, line, "", ErrMalformed, "timestamp %d too large", ms)
		}
		last = float64(ms)
		// a packet at time t (1-based ms) is delivered during [t-1, t)
		bin := 0
		if ms > 0 {
			bin = int((ms - 1) / MahimahiBinMs)
		}
		for len(counts) <= bin {
			counts = append(counts, 0)
		}
		counts[bin]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(counts) == 0 {
		return nil, perr(name, 0, "", ErrNeverDelivers, "no delivery opportunities")
	}
	t := &Trace{Name: name}
	end := math.Max(last, 1)
	for i, c := range counts {
		d := float64(MahimahiBinMs)
		if rem := end - float64(i*MahimahiBinMs); rem < d {
			d = rem
		}
		if d <= 0 {
			d = 1
		}
		t.Periods = append(t.Periods, Period{DurationMs: d, Kbps: c * 1500 * 8 / d, LatencyMs: latencyMs})
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// ReadCSVTrace parses a plain CSV trace: "time_s,kbps[,latency_ms]" per line,
// where time_s is when the rate starts to apply. An optional header line
// (non-numeric first field) is skipped. The last row lasts as long as the one
// before it (1 s when there is only one row). Rows without a latency use
// defaultLatencyMs.
func ReadCSVTrace(r io.Reader, name string, defaultLatencyMs float64) (*Trace, error) {
	type row struct{ t, kbps, lat float64 }
	var rows []row
	header := false
	err := eachLineSep(r, name, func(line int, f []string) error {
		if len(rows) == 0 && !header && len(f) > 0 {
			if _, err := strconv.ParseFloat(f[0], 64); err != nil {
				header = true // one header line before the first row
				return nil
			}
		}
		if len(f) < 2 || len(f) > 3 {
			return perr(name, line, "", ErrMalformed, "want time_s,kbps[,latency_ms], got %d field(s)", len(f))
		}
		var v [3]float64
		v[2] = defaultLatencyMs
		cols := [...]string{"time_s", "kbps", "latency_ms"}
		for i, s := range f {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || (i > 0 && x < 0) {
				return perr(name, line, cols[i], ErrMalformed, "%q is not a valid number", clip(s))
			}
			v[i] = x
		}
		if n := len(rows); n > 0 && v[0] <= rows[n-1].t {
			return perr(name, line, "time_s", ErrMalformed, "time must increase (%v after %v)", v[0], rows[n-1].t)
		}
		rows = append(rows, row{v[0], v[1], v[2]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, perr(name, 0, "", ErrMalformed, "no rows")
	}
	t := &Trace{Name: name}
	for i, rw := range rows {
		d := 1.0
		if i+1 < len(rows) {
			d = rows[i+1].t - rw.t
		} else if i > 0 {
			d = rw.t - rows[i-1].t
		}
		t.Periods = append(t.Periods, Period{DurationMs: d * 1000, Kbps: rw.kbps, LatencyMs: rw.lat})
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadTrace reads a trace file, choosing the format from its content: a JSON
// array is a Sabre trace; lines of one integer are Mahimahi; comma-separated
// lines are CSV; whitespace-separated pairs are Pensieve cooked traces.
// Formats without latency get latencyMs.
func LoadTrace(path string, latencyMs float64) (*Trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTrace(data, path, latencyMs)
}

// TraceReader reads one trace format; latencyMs is the latency to give
// periods when the format has none.
type TraceReader func(r io.Reader, name string, latencyMs float64) (*Trace, error)

type traceFormat struct {
	name  string
	sniff func(first []byte) bool
	read  TraceReader
}

var traceFormats []traceFormat

// RegisterTraceFormat adds a trace format, like image.RegisterFormat: sniff
// sees the first non-blank, non-comment line and says whether the data is
// in this format. Formats registered later are tried first, so a new format
// can claim data the built-in ones would misread.
func RegisterTraceFormat(name string, sniff func(firstLine []byte) bool, read TraceReader) {
	traceFormats = append([]traceFormat{{name, sniff, read}}, traceFormats...)
}

func init() {
	RegisterTraceFormat("cooked", func([]byte) bool { return true }, func(r io.Reader, name string, lat float64) (*Trace, error) {
		c, err := ReadCookedTrace(r, name)
		if err != nil {
			return nil, err
		}
		return c.Trace(lat), nil
	})
	RegisterTraceFormat("mahimahi", func(l []byte) bool {
		f := strings.Fields(string(l))
		if len(f) != 1 {
			return false
		}
		_, err := strconv.ParseUint(f[0], 10, 64)
		return err == nil
	}, ReadMahimahiTrace)
	RegisterTraceFormat("csv", func(l []byte) bool { return bytes.IndexByte(l, ',') >= 0 }, ReadCSVTrace)
	RegisterTraceFormat("sabre", func(l []byte) bool { return len(l) > 0 && l[0] == '[' }, func(r io.Reader, name string, _ float64) (*Trace, error) {
		return ReadSabreTrace(r, name)
	})
	builtinTraceFormats = len(traceFormats)
}

// builtinTraceFormats counts the formats registered by this package.
var builtinTraceFormats int

// ParseTrace is LoadTrace on bytes already in memory.
func ParseTrace(data []byte, name string, latencyMs float64) (*Trace, error) {
	first := firstContentLine(data)
	for _, f := range traceFormats {
		if f.sniff(first) {
			return f.read(bytes.NewReader(data), name, latencyMs)
		}
	}
	return nil, perr(name, 0, "", ErrMalformed, "unknown trace format")
}

// TraceFormatOf names the format ParseTrace would read data as ("sabre",
// "csv", "mahimahi", "cooked", or a registered one).
func TraceFormatOf(data []byte) string {
	first := firstContentLine(data)
	for _, f := range traceFormats {
		if f.sniff(first) {
			return f.name
		}
	}
	return ""
}

// firstContentLine returns the first line that is neither blank nor a #
// comment, trimmed.
func firstContentLine(data []byte) []byte {
	s := bytes.TrimLeft(data, "\ufeff")
	for len(s) > 0 {
		l := s
		if i := bytes.IndexByte(s, '\n'); i >= 0 {
			l, s = s[:i], s[i+1:]
		} else {
			s = nil
		}
		if l = bytes.TrimSpace(l); len(l) > 0 && l[0] != '#' {
			return l
		}
	}
	return nil
}

// TraceFiles lists the trace files of a directory (sorted by name, hidden
// files and SOURCE/README notes skipped) or expands a glob.
func TraceFiles(dirOrGlob string) ([]string, error) {
	var files []string
	if st, err := os.Stat(dirOrGlob); err == nil && st.IsDir() {
		ents, err := os.ReadDir(dirOrGlob)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".md") {
				continue
			}
			files = append(files, filepath.Join(dirOrGlob, n))
		}
	} else {
		m, err := filepath.Glob(dirOrGlob)
		if err != nil {
			return nil, err
		}
		files = m
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("abr: no trace files in %s", dirOrGlob)
	}
	return files, nil // ReadDir and Glob both return sorted names
}

func eachLine(r io.Reader, name string, fn func(line int, fields []string) error) error {
	return scanLines(r, name, strings.Fields, fn)
}

func eachLineSep(r io.Reader, name string, fn func(line int, fields []string) error) error {
	return scanLines(r, name, func(s string) []string {
		f := strings.Split(s, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		return f
	}, fn)
}

func scanLines(r io.Reader, name string, split func(string) []string, fn func(int, []string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if err := fn(line, split(s)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return perr(name, line+1, "", ErrMalformed, "%v", err)
	}
	return nil
}

func openFile(path string) (*os.File, error) { return os.Open(path) }
