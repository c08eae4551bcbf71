package abr

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SabreArgs are the options of Sabre's command line (sabre.py), parsed by
// ParseSabreArgs. Zero values mean Sabre's defaults.
type SabreArgs struct {
	Network      string    // -n (default network.json)
	NetMult      float64   // -nm (default 1)
	Movie        string    // -m (default movie.json): a Sabre movie JSON, or anything LoadManifest reads
	MovieLenS    float64   // -ml seconds, 0 = none
	Algorithm    string    // -a (default bolae)
	Basic        bool      // -ab
	Osc          bool      // -ao
	GammaP       float64   // -gp (default 5)
	NoIBR        bool      // -noibr
	MovingAvg    string    // -ma ewma|sliding
	WindowSizes  []int     // -ws
	HalfLives    []float64 // -hl (seconds)
	Replace      string    // -r none|left|right
	BufferS      float64   // -b seconds (default 25)
	BufferGiven  bool      // -b was on the command line (Python float vs int)
	NoAbandon    bool      // -noa
	RampupThresh int       // -rmp, -1 = none
	Verbose      bool      // -v
}

type sabreFlag struct {
	short, long string
	nargs       int // 0 = switch, 1 = one value, -1 = one or more
	set         func(a *SabreArgs, v []string) error
}

func fl(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

var sabreFlags = []sabreFlag{
	{"-n", "--network", 1, func(a *SabreArgs, v []string) error { a.Network = v[0]; return nil }},
	{"-nm", "--network-multiplier", 1, func(a *SabreArgs, v []string) (err error) { a.NetMult, err = fl(v[0]); return }},
	{"-m", "--movie", 1, func(a *SabreArgs, v []string) error { a.Movie = v[0]; return nil }},
	{"-ml", "--movie-length", 1, func(a *SabreArgs, v []string) (err error) { a.MovieLenS, err = fl(v[0]); return }},
	{"-a", "--abr", 1, func(a *SabreArgs, v []string) error { a.Algorithm = v[0]; return nil }},
	{"-ab", "--abr-basic", 0, func(a *SabreArgs, v []string) error { a.Basic = true; return nil }},
	{"-ao", "--abr-osc", 0, func(a *SabreArgs, v []string) error { a.Osc = true; return nil }},
	{"-gp", "--gamma-p", 1, func(a *SabreArgs, v []string) (err error) { a.GammaP, err = fl(v[0]); return }},
	{"-noibr", "--no-insufficient-buffer-rule", 0, func(a *SabreArgs, v []string) error { a.NoIBR = true; return nil }},
	{"-ma", "--moving-average", 1, func(a *SabreArgs, v []string) error {
		if v[0] != "ewma" && v[0] != "sliding" {
			return fmt.Errorf("invalid choice %q (choose from ewma, sliding)", v[0])
		}
		a.MovingAvg = v[0]
		return nil
	}},
	{"-ws", "--window-size", -1, func(a *SabreArgs, v []string) error {
		a.WindowSizes = a.WindowSizes[:0]
		for _, s := range v {
			k, err := strconv.Atoi(s)
			if err != nil {
				return err
			}
			a.WindowSizes = append(a.WindowSizes, k)
		}
		return nil
	}},
	{"-hl", "--half-life", -1, func(a *SabreArgs, v []string) error {
		a.HalfLives = a.HalfLives[:0]
		for _, s := range v {
			h, err := fl(s)
			if err != nil {
				return err
			}
			a.HalfLives = append(a.HalfLives, h)
		}
		return nil
	}},
	{"-r", "--replace", 1, func(a *SabreArgs, v []string) error {
		if v[0] != "none" && v[0] != "left" && v[0] != "right" {
			return fmt.Errorf("invalid choice %q (choose from none, left, right)", v[0])
		}
		a.Replace = v[0]
		return nil
	}},
	{"-b", "--max-buffer", 1, func(a *SabreArgs, v []string) (err error) { a.BufferS, err = fl(v[0]); a.BufferGiven = true; return }},
	{"-noa", "--no-abandon", 0, func(a *SabreArgs, v []string) error { a.NoAbandon = true; return nil }},
	{"-rmp", "--rampup-threshold", 1, func(a *SabreArgs, v []string) (err error) { a.RampupThresh, err = strconv.Atoi(v[0]); return }},
	{"-v", "--verbose", 0, func(a *SabreArgs, v []string) error { a.Verbose = true; return nil }},
}

// SabreUsage is the option summary printed by the CLI.
const SabreUsage = `options (as in Sabre's sabre.py):
  -n, --network FILE          network trace (default network.json)
  -nm, --network-multiplier X multiply every bandwidth by X (default 1)
  -m, --movie FILE            movie manifest (default movie.json); also a video_size_N
                              directory or a registered format (streamkit: .m3u8, .mpd)
  -ml, --movie-length SECONDS repeat/cut the movie to this length
  -a, --abr NAME              throughput, bola, bolae (default), dynamic, dynamicdash, or any registered algorithm
  -ab, --abr-basic            BOLA-BASIC (bola, dynamic)
  -ao, --abr-osc              BOLA-O anti-oscillation variant
  -gp, --gamma-p X            BOLA gamma_p and score rebuffer weight (default 5)
  -noibr, --no-insufficient-buffer-rule
  -ma, --moving-average ewma|sliding
  -ws, --window-size K...     sliding window sizes (default 3)
  -hl, --half-life S...       EWMA half-lives in seconds (default 3 8)
  -r, --replace none|left|right  segment replacement (default none)
  -b, --max-buffer SECONDS    buffer size (default 25)
  -noa, --no-abandon          disable abandonment
  -rmp, --rampup-threshold Q  rampup threshold quality
  -v, --verbose               per-segment log`

// ParseSabreArgs parses Sabre's command-line options (argparse-style: short
// or long names, "--name=value", and several values after -hl and -ws).
func ParseSabreArgs(args []string) (*SabreArgs, error) {
	a := &SabreArgs{RampupThresh: -1}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, inline, hasInline := arg, "", false
		if strings.HasPrefix(arg, "--") {
			if k := strings.IndexByte(arg, '='); k >= 0 {
				name, inline, hasInline = arg[:k], arg[k+1:], true
			}
		}
		var f *sabreFlag
		for j := range sabreFlags {
			if sabreFlags[j].short == name || sabreFlags[j].long == name {
				f = &sabreFlags[j]
				break
			}
		}
		if f == nil {
			if name == "-s" || name == "--seek" {
				return nil, fmt.Errorf("sabre: -s/--seek (Sabre's seek proof of concept) is not supported")
			}
			return nil, fmt.Errorf("sabre: unrecognized argument %q", arg)
		}
		var vals []string
		switch {
		case f.nargs == 0:
			if hasInline {
				return nil, fmt.Errorf("sabre: %s takes no value", name)
			}
		case hasInline:
			vals = []string{inline}
		case f.nargs == 1:
			if i+1 >= len(args) {
				return nil, fmt.Errorf("sabre: %s expects one argument", name)
			}
			i++
			vals = []string{args[i]}
		default:
			for i+1 < len(args) && (!strings.HasPrefix(args[i+1], "-") || isNumber(args[i+1])) {
				i++
				vals = append(vals, args[i])
			}
			if len(vals) == 0 {
				return nil, fmt.Errorf("sabre: %s expects at least one argument", name)
			}
		}
		if err := f.set(a, vals); err != nil {
			return nil, fmt.Errorf("sabre: argument %s: %v", name, err)
		}
	}
	return a, nil
}

func isNumber(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }

// Args renders the options back to a Sabre command line (without -n).
func (a *SabreArgs) withDefaults() SabreArgs {
	c := *a
	if c.Network == "" {
		c.Network = "network.json"
	}
	if c.Movie == "" {
		c.Movie = "movie.json"
	}
	if c.Algorithm == "" {
		c.Algorithm = "bolae"
	}
	if c.NetMult == 0 {
		c.NetMult = 1
	}
	if c.BufferS == 0 && !c.BufferGiven {
		c.BufferS = 25
	}
	return c
}

// AlgorithmOptions returns the algorithm switches (-ao, -ab, -noibr);
// sabreOutput adds WithSabreOutput, for a run that prints Sabre's lines.
func (a *SabreArgs) AlgorithmOptions(sabreOutput bool) []AlgorithmOption {
	var o []AlgorithmOption
	if a.Osc {
		o = append(o, WithBOLAO())
	}
	if a.Basic {
		o = append(o, WithBOLABasic())
	}
	if a.NoIBR {
		o = append(o, WithoutIBR())
	}
	if sabreOutput {
		o = append(o, WithSabreOutput(!a.BufferGiven))
	}
	return o
}

// Options returns the session options (WithOutput left for the caller),
// with WithExact: a Sabre command line promises Sabre's numbers to the last
// bit.
func (a *SabreArgs) Options() []Option {
	c := a.withDefaults()
	// Sabre takes -hl and -ws whichever estimator -ma picks; the last of
	// the two estimator options is the one in use.
	est := []Option{WithSlidingWindow(c.WindowSizes...), WithEWMA(c.HalfLives...)}
	if c.MovingAvg == "sliding" {
		est[0], est[1] = est[1], est[0]
	}
	return []Option{WithBuffer(c.BufferS * 1000), WithGammaP(c.GammaP), est[0], est[1], WithAbandonment(!c.NoAbandon),
		WithRampupThreshold(c.RampupThresh), WithReplacement(c.Replace), WithExact(true)}
}

// SabreRun holds the loaded inputs of one Sabre command line, so a sweep can
// load the movie once and vary the trace.
type SabreRun struct {
	Args     SabreArgs
	Manifest Manifest
}

// PrepareSabre validates the options and loads the movie with LoadManifest
// (a Sabre movie JSON; also a video_size_N directory or a registered format).
func PrepareSabre(args *SabreArgs) (*SabreRun, error) {
	c := args.withDefaults()
	if !(c.BufferS > 0) {
		return nil, fmt.Errorf("sabre: -b must be positive, got %v", c.BufferS)
	}
	if _, err := New(c.Algorithm); err != nil {
		return nil, err
	}
	man, err := LoadManifest(c.Movie)
	if err != nil {
		return nil, err
	}
	if c.MovieLenS > 0 {
		man = Looped(man, c.MovieLenS*1000)
	}
	return &SabreRun{Args: c, Manifest: man}, nil
}

// Session builds the session for trace t (the -nm multiplier is applied
// here), writing Sabre's console output to out when not nil.
func (r *SabreRun) Session(t *Trace, out io.Writer) (*Session, error) {
	if r.Args.NetMult != 1 {
		t = t.Scale(r.Args.NetMult)
	}
	alg, err := New(r.Args.Algorithm, r.Args.AlgorithmOptions(out != nil)...)
	if err != nil {
		return nil, err
	}
	return NewSession(r.Manifest, t, alg, append(r.Args.Options(), WithOutput(out, r.Args.Verbose))...)
}

// RunSabre runs one Sabre command line and prints what Sabre prints: BOLA-E's
// buffer target (bolae, dynamicdash), the verbose log with -v, then the
// metric lines of §2.10.
func RunSabre(args []string, stdout io.Writer) (Metrics, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	a, err := ParseSabreArgs(args)
	if err != nil {
		return Metrics{}, err
	}
	run, err := PrepareSabre(a)
	if err != nil {
		return Metrics{}, err
	}
	t, err := LoadTrace(run.Args.Network, 0)
	if err != nil {
		return Metrics{}, err
	}
	s, err := run.Session(t, stdout)
	if err != nil {
		return Metrics{}, err
	}
	m, err := s.Run()
	if err != nil {
		return Metrics{}, err
	}
	return m, m.WriteSabre(stdout)
}
