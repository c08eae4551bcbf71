package shape

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamkit-go/streamkit/abr"
)

// ErrScenario is wrapped by every error about a scenario file: unknown or
// missing fields, out-of-range values, bad JSON.
var ErrScenario = errors.New("shape: invalid scenario")

// Limits on scenario values. They keep a typo (a rate in bit/s where
// kbit/s is meant, a duration in ms where seconds are meant) from becoming
// a silently absurd test, and bound the memory a hostile file can claim.
const (
	MaxScenarioBytes = 4 << 20        // scenario file size
	MaxPhases        = 100_000        // phases (a Mahimahi trace at 100 ms bins: 2.7 h)
	MaxFaults        = 256            // fault rules
	MaxAtTimes       = 10_000         // at_s entries per fault
	MaxKbps          = 100_000_000    // 100 Gbit/s
	MinKbps          = 0.001          // 1 bit/s, the slowest non-outage rate
	MinDurationS     = 0.001          // 1 ms, the shortest phase
	MaxDurationS     = 7 * 24 * 3600  // one phase, and any time in a scenario
	MaxLatencyMs     = 60_000         // per-request latency, jitter, slow first byte
	MaxLoss          = 0.5            // packet loss fraction
	MaxBurstBytes    = 64 << 20       // token bucket size
	DefaultBurst     = 16 << 10       // token bucket size when the scenario sets none
	defaultTruncFrac = 0.5            // truncate: share of the body delivered
	maxPathLen       = 4096           // trace file name
	maxNameLen       = 1024           // name and description
	maxDescLen       = 16 << 10       //
	maxStatus        = 599            //
	minStatus        = 400            //
	maxTotalAtTimes  = 4 * MaxAtTimes // at_s entries over all faults
)

// Scenario is a network and fault plan applied to every client separately:
// each client's timeline starts at its first request.
type Scenario struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Phases play in order; after the last one, the last phase holds (or,
	// with Loop, the list starts again). A phase with Kbps 0 is an outage.
	Phases []Phase `json:"phases,omitempty"`
	Loop   bool    `json:"loop,omitempty"`
	// Trace names a trace file in any format package abr reads (Sabre
	// JSON, CSV, Mahimahi, Pensieve cooked), relative to the scenario
	// file, used instead of Phases; it loops, as in abr. TraceLatencyMs
	// is the latency given to formats that have none.
	Trace          string  `json:"trace,omitempty"`
	TraceLatencyMs float64 `json:"trace_latency_ms,omitempty"`
	// BurstBytes is the token bucket size of each client link (default
	// DefaultBurst): how much an idle link may send at once.
	BurstBytes int     `json:"burst_bytes,omitempty"`
	Faults     []Fault `json:"faults,omitempty"`
}

// Phase is one stretch of a client's link.
type Phase struct {
	DurationS float64 `json:"duration_s"`
	Kbps      float64 `json:"kbps"`
	// LatencyMs is paid once per request before its first byte (the
	// request's round trip, as latency_ms in Sabre traces); it is also the
	// RTT of the loss model. JitterMs adds a uniform draw in
	// [-JitterMs, +JitterMs] (the result never below zero).
	LatencyMs float64 `json:"latency_ms,omitempty"`
	JitterMs  float64 `json:"jitter_ms,omitempty"`
	// Loss is the packet loss probability (per 1460-byte packet),
	// emulated as TCP would experience it: see the package documentation.
	Loss float64 `json:"loss,omitempty"`
}

// Fault kinds.
const (
	FaultStatus        = "status"          // answer Status instead of the content
	FaultTruncate      = "truncate"        // send Fraction of the body, then close the connection (FIN)
	FaultReset         = "reset"           // send Fraction of the body, then reset the connection (RST)
	FaultSlowFirstByte = "slow_first_byte" // wait DelayMs more before the first byte
)

// Fault is one fault rule: it applies to requests of Class ("any" for
// all) and fires at a Rate (a probability per request, while the client's
// time is within [FromS, ToS) when those are set) and once at each of AtS
// (on the first request of the class at or after that time).
type Fault struct {
	Class    string    `json:"class"`
	Kind     string    `json:"kind"`
	Status   int       `json:"status,omitempty"`
	Rate     float64   `json:"rate,omitempty"`
	AtS      []float64 `json:"at_s,omitempty"`
	FromS    float64   `json:"from_s,omitempty"`
	ToS      float64   `json:"to_s,omitempty"`
	Fraction *float64  `json:"fraction,omitempty"`
	DelayMs  float64   `json:"delay_ms,omitempty"`
}

// ParseScenario reads a scenario from JSON with a strict decoder: unknown
// fields, missing required fields, negative or non-finite values and
// values beyond the Max* limits are errors naming the field. A Trace
// reference is kept, not read: LoadScenario resolves it.
func ParseScenario(data []byte, name string) (*Scenario, error) {
	if len(data) > MaxScenarioBytes {
		return nil, serr(name, "", "file is larger than %d bytes", MaxScenarioBytes)
	}
	// Presence checks need the raw form: a phase without kbps is an
	// error, not an outage.
	var raw struct {
		Phases []map[string]json.RawMessage `json:"phases"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, jsonErr(name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, serr(name, "", "data after the scenario object")
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonErr(name, err)
	}
	for i, p := range raw.Phases {
		for _, f := range []string{"duration_s", "kbps"} {
			if _, ok := p[f]; !ok {
				return nil, serr(name, fmt.Sprintf("phases[%d].%s", i, f), "missing")
			}
		}
	}
	if sc.Name == "" {
		sc.Name = name
	}
	if err := sc.validate(name, false); err != nil {
		return nil, err
	}
	return &sc, nil
}

// LoadScenario reads a scenario file: a JSON object is a scenario
// (ParseScenario, with its Trace file loaded relative to it); anything
// else is read as a trace in one of abr's formats (abr.ParseTrace, 0 ms
// latency where the format has none) and becomes a looping scenario
// without faults.
func LoadScenario(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxScenarioBytes+1))
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff"))); len(t) == 0 || t[0] != '{' {
		tr, err := abr.ParseTrace(data, path, 0)
		if err != nil {
			return nil, err
		}
		return FromTrace(tr)
	}
	sc, err := ParseScenario(data, path)
	if err != nil {
		return nil, err
	}
	if sc.Trace != "" {
		tp := sc.Trace
		if !filepath.IsAbs(tp) {
			tp = filepath.Join(filepath.Dir(path), tp)
		}
		tr, err := abr.LoadTrace(tp, sc.TraceLatencyMs)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: trace: %w", ErrScenario, path, err)
		}
		sc.Phases, sc.Loop = phasesOf(tr), true
		if len(sc.Phases) > MaxPhases {
			return nil, serr(path, "trace", "%d periods, more than %d", len(sc.Phases), MaxPhases)
		}
		sc.Trace = ""
	}
	if err := sc.validate(path, true); err != nil {
		return nil, err
	}
	return sc, nil
}

// FromTrace turns an abr trace into a looping scenario without faults:
// each period is a phase with its bandwidth and latency. Zero-length
// periods are dropped.
func FromTrace(t *abr.Trace) (*Scenario, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	sc := &Scenario{Name: t.Name, Phases: phasesOf(t), Loop: true}
	if err := sc.validate(t.Name, true); err != nil {
		return nil, err
	}
	return sc, nil
}

func phasesOf(t *abr.Trace) []Phase {
	ps := make([]Phase, 0, len(t.Periods))
	for _, p := range t.Periods {
		if p.DurationMs > 0 {
			ps = append(ps, Phase{DurationS: p.DurationMs / 1000, Kbps: p.Kbps, LatencyMs: p.LatencyMs})
		}
	}
	return ps
}

// Validate checks a scenario built in Go the way ParseScenario checks a
// file.
func (sc *Scenario) Validate() error { return sc.validate(sc.Name, true) }

func (sc *Scenario) validate(name string, needPhases bool) error {
	if len(sc.Name) > maxNameLen {
		return serr(name, "name", "longer than %d bytes", maxNameLen)
	}
	if len(sc.Description) > maxDescLen {
		return serr(name, "description", "longer than %d bytes", maxDescLen)
	}
	if len(sc.Trace) > maxPathLen {
		return serr(name, "trace", "longer than %d bytes", maxPathLen)
	}
	if err := num(name, "trace_latency_ms", sc.TraceLatencyMs, MaxLatencyMs); err != nil {
		return err
	}
	switch {
	case sc.Trace != "" && len(sc.Phases) > 0:
		return serr(name, "trace", "give phases or a trace, not both")
	case sc.Trace == "" && len(sc.Phases) == 0:
		return serr(name, "phases", "missing (or give a trace file)")
	case sc.Trace != "" && needPhases:
		return serr(name, "trace", "not loaded (use LoadScenario)")
	case len(sc.Phases) > MaxPhases:
		return serr(name, "phases", "%d phases, more than %d", len(sc.Phases), MaxPhases)
	}
	if sc.BurstBytes < 0 || sc.BurstBytes > MaxBurstBytes {
		return serr(name, "burst_bytes", "must be in [0, %d], got %d", MaxBurstBytes, sc.BurstBytes)
	}
	delivers := false
	for i, p := range sc.Phases {
		f := fmt.Sprintf("phases[%d].", i)
		if err := num(name, f+"duration_s", p.DurationS, MaxDurationS); err != nil {
			return err
		}
		// lower bounds keep the timeline arithmetic meaningful: a phase of
		// 1e-300 s would make the loop position lose all precision
		if p.DurationS < MinDurationS {
			return serr(name, f+"duration_s", "must be at least %v s, got %v", MinDurationS, p.DurationS)
		}
		if p.Kbps > 0 && p.Kbps < MinKbps {
			return serr(name, f+"kbps", "must be 0 (an outage) or at least %v, got %v", MinKbps, p.Kbps)
		}
		for _, v := range []struct {
			n      string
			v, max float64
		}{{"kbps", p.Kbps, MaxKbps}, {"latency_ms", p.LatencyMs, MaxLatencyMs}, {"jitter_ms", p.JitterMs, MaxLatencyMs}, {"loss", p.Loss, MaxLoss}} {
			if err := num(name, f+v.n, v.v, v.max); err != nil {
				return err
			}
		}
		delivers = delivers || p.Kbps > 0
	}
	if n := len(sc.Phases); n > 0 {
		if !delivers {
			return serr(name, "phases", "every phase has kbps 0: nothing could ever be delivered")
		}
		if !sc.Loop && sc.Phases[n-1].Kbps == 0 {
			return serr(name, fmt.Sprintf("phases[%d].kbps", n-1), "the last phase holds forever and must not be an outage (add a recovery phase or set loop)")
		}
	}
	if len(sc.Faults) > MaxFaults {
		return serr(name, "faults", "%d rules, more than %d", len(sc.Faults), MaxFaults)
	}
	var sum [numClasses]float64
	total := 0
	for i := range sc.Faults {
		ft := &sc.Faults[i]
		f := fmt.Sprintf("faults[%d].", i)
		cl, ok := classByName(ft.Class)
		if !ok {
			return serr(name, f+"class", "%q is not one of %s", clip(ft.Class), strings.Join(classNames(), ", "))
		}
		switch ft.Kind {
		case FaultStatus:
			if ft.Status < minStatus || ft.Status > maxStatus {
				return serr(name, f+"status", "must be an HTTP error status %d..%d, got %d", minStatus, maxStatus, ft.Status)
			}
		case FaultTruncate, FaultReset, FaultSlowFirstByte:
			if ft.Status != 0 {
				return serr(name, f+"status", "only for kind %q", FaultStatus)
			}
		default:
			return serr(name, f+"kind", "%q is not one of status, truncate, reset, slow_first_byte", clip(ft.Kind))
		}
		if ft.Fraction != nil {
			if ft.Kind != FaultTruncate && ft.Kind != FaultReset {
				return serr(name, f+"fraction", "only for kinds truncate and reset")
			}
			if x := *ft.Fraction; !(x >= 0 && x < 1) {
				return serr(name, f+"fraction", "must be in [0, 1), got %v", x)
			}
		}
		if ft.Kind == FaultSlowFirstByte {
			if err := num(name, f+"delay_ms", ft.DelayMs, MaxLatencyMs); err != nil {
				return err
			}
			if !(ft.DelayMs > 0) {
				return serr(name, f+"delay_ms", "must be positive for slow_first_byte")
			}
		} else if ft.DelayMs != 0 {
			return serr(name, f+"delay_ms", "only for kind %q", FaultSlowFirstByte)
		}
		if err := num(name, f+"rate", ft.Rate, 1); err != nil {
			return err
		}
		if err := num(name, f+"from_s", ft.FromS, MaxDurationS); err != nil {
			return err
		}
		if err := num(name, f+"to_s", ft.ToS, MaxDurationS); err != nil {
			return err
		}
		if ft.ToS != 0 && ft.ToS <= ft.FromS {
			return serr(name, f+"to_s", "must be after from_s (%v), got %v", ft.FromS, ft.ToS)
		}
		if len(ft.AtS) > MaxAtTimes {
			return serr(name, f+"at_s", "%d times, more than %d", len(ft.AtS), MaxAtTimes)
		}
		if total += len(ft.AtS); total > maxTotalAtTimes {
			return serr(name, f+"at_s", "more than %d times over all faults", maxTotalAtTimes)
		}
		for j, t := range ft.AtS {
			if err := num(name, fmt.Sprintf("%sat_s[%d]", f, j), t, MaxDurationS); err != nil {
				return err
			}
			if j > 0 && t < ft.AtS[j-1] {
				return serr(name, fmt.Sprintf("%sat_s[%d]", f, j), "times must not decrease (%v after %v)", t, ft.AtS[j-1])
			}
		}
		if ft.Rate == 0 && len(ft.AtS) == 0 {
			return serr(name, f+"rate", "a fault needs a rate or at_s times")
		}
		for c := range sum {
			if cl == ClassAny || Class(c) == cl {
				if sum[c] += ft.Rate; sum[c] > 1+1e-9 {
					return serr(name, f+"rate", "the rates of the faults that apply to %s requests add up to more than 1", Class(c))
				}
			}
		}
	}
	return nil
}

func num(name, field string, v, max float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return serr(name, field, "must be a finite non-negative number, got %v", v)
	}
	if v > max {
		return serr(name, field, "%v is larger than the limit %v", v, max)
	}
	return nil
}

func serr(name, field, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if field != "" {
		msg = field + ": " + msg
	}
	return fmt.Errorf("%w: %s: %s", ErrScenario, name, msg)
}

func jsonErr(name string, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return serr(name, te.Field, "JSON %s where %s expected", te.Value, te.Type)
	case errors.As(err, &se):
		return serr(name, "", "invalid JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return serr(name, strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
	}
	return serr(name, "", "invalid JSON: %v", err)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
