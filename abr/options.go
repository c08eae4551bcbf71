package abr

import (
	"io"
)

// This file holds every option of the package, in one style: functional
// options. Option configures a Sabre-model Session (NewSession, Reset,
// ResetTrace), AlgorithmOption an algorithm (New and the NewXxx
// constructors), SweepOption a sweep (SweepSabre, SweepPensieve). With no
// option, a Session is Sabre's model (commit 09b03bb, MODELS.md §2) and an
// algorithm is Sabre's (or the paper's / the player's) default.

// ---- sessions ----

// Option configures a Session.
type Option func(*config)

// config is a session's resolved options (MODELS.md §2); the zero value,
// completed by resolve, is Sabre's model.
type config struct {
	BufferMs         float64   // maximum buffer B (default 25000)
	GammaP           float64   // γp, Sabre's -gp (default 5); also the score's rebuffer weight
	HalfLives        []float64 // EWMA half-lives in seconds (default 3, 8)
	Sliding          bool      // sliding-window estimator instead of EWMA (-ma sliding)
	WindowSizes      []int     // sliding-window sizes (default 3)
	NoAbandon        bool      // never step downloads or call Abandoner (-noa)
	RampupThreshold  int       // quality for the rampup metric; < 0 = the network's sustainable quality
	StartupMs        float64
	RequestLatencyMs float64
	Out              io.Writer
	Verbose          bool
	Replace          string
	Exact            bool
	NoSkip           bool
	OnSegment        func(*SegmentRecord)
	Deliverer        Deliverer
}

// NoRampupThreshold, given to WithRampupThreshold, measures rampup against
// the network's sustainable quality, as Sabre does without -rmp (the
// default).
const NoRampupThreshold = -1

// WithBuffer sets the maximum buffer B in ms (Sabre's -b in ms; default
// 25000).
func WithBuffer(ms float64) Option { return func(c *config) { c.BufferMs = ms } }

// WithGammaP sets γp, Sabre's -gp (default 5): BOLA's rebuffer weight and
// the score's.
func WithGammaP(gp float64) Option { return func(c *config) { c.GammaP = gp } }

// WithEWMA uses Sabre's EWMA throughput and latency estimator (the
// default) with the given half-lives in seconds (-hl; none: 3 and 8). The
// estimate is the minimum of the averages. Window sizes set by
// WithSlidingWindow are kept (Sabre checks both).
func WithEWMA(halfLivesS ...float64) Option {
	h := append([]float64(nil), halfLivesS...) // copied once: applying allocates nothing
	return func(c *config) { c.Sliding, c.HalfLives = false, h }
}

// WithSlidingWindow uses Sabre's sliding-window estimator (-ma sliding)
// with the given window sizes in segments (-ws; none: 3). Half-lives set
// by WithEWMA are kept.
func WithSlidingWindow(sizes ...int) Option {
	w := append([]int(nil), sizes...) // copied once: applying allocates nothing
	return func(c *config) { c.Sliding, c.WindowSizes = true, w }
}

// WithAbandonment turns abandonment on (the default) or off (Sabre's -noa:
// downloads are never stepped and Abandoner is never called).
func WithAbandonment(on bool) Option { return func(c *config) { c.NoAbandon = !on } }

// WithRampupThreshold sets the quality the rampup metric waits for (-rmp);
// NoRampupThreshold (the default) is the network's sustainable quality.
func WithRampupThreshold(quality int) Option { return func(c *config) { c.RampupThreshold = quality } }

// WithStartup sets the buffered media (ms) needed before playback starts.
// 0 (the default) is Sabre's behaviour: play as soon as segment 0 has
// arrived. Time spent waiting for the threshold is startup delay, not
// rebuffering.
func WithStartup(ms float64) Option { return func(c *config) { c.StartupMs = ms } }

// WithRequestLatency adds a fixed per-request latency in ms (an RTT, say),
// paid before the trace's own latency; 0 in Sabre.
func WithRequestLatency(ms float64) Option { return func(c *config) { c.RequestLatencyMs = ms } }

// WithOutput sends Sabre-compatible console output to w: BOLA-E's buffer
// target and, when verbose, Sabre's -v log. Without it the output is
// discarded.
func WithOutput(w io.Writer, verbose bool) Option {
	return func(c *config) { c.Out, c.Verbose = w, verbose }
}

// WithReplacement enables Sabre's segment replacement (-r): "left" or
// "right"; "" or "none" (the default) disables it (MODELS.md §2.9.6).
// Another mode is an error from NewSession or Reset.
func WithReplacement(mode string) Option { return func(c *config) { c.Replace = mode } }

// WithExact keeps Sabre's floating-point sums bit for bit. With abandonment
// on, Sabre downloads in steps of ≥ 50 ms and asks the rule after each;
// when a rule proves it cannot fire during a download (BOLA does), the
// session skips the calls and, by default, moves the whole segment as one
// transfer: the same time in exact arithmetic, different in the last bits
// of float64 (~1e-12 relative on totals), which can flip a decision that
// rests on an exact tie (Sabre's over/under-estimate split; a rebuffer
// "event" of a few ulps at the end). Exact replays the steps instead
// (about 1.6× slower for BOLA); the Sabre command line and Sabre sweeps set
// it.
func WithExact(on bool) Option { return func(c *config) { c.Exact = on } }

// withSkip turns the proven-silent abandonment skipping off, for the tests
// that compare both paths.
func withSkip(on bool) Option { return func(c *config) { c.NoSkip = !on } }

// WithOnSegment calls fn after every download with its record (valid only
// during the call). See also Session.SetOnSegment.
func WithOnSegment(fn func(*SegmentRecord)) Option { return func(c *config) { c.OnSegment = fn } }

// streamkit's player model (WithPlayerDefaults).
const (
	PlayerBufferMs  = 30000 // buffer cap
	PlayerStartupMs = 4000  // buffered media before playback starts
)

// WithDeliverer puts d between the player and its trace: d says, for each
// request, whether the segment comes from the trace (after an optional
// wait) or arrives in a time d supplies (see Deliverer). Without it every
// segment comes from the trace.
func WithDeliverer(d Deliverer) Option { return func(c *config) { c.Deliverer = d } }

// WithPlayerDefaults is streamkit's default player model (used by
// `streamkit abr run` and the tutorials): a PlayerBufferMs buffer cap,
// playback starting once PlayerStartupMs of media are buffered, no extra
// per-request latency, Sabre's estimator and abandonment stepping. Options
// after it override it. Sabre's own defaults are no option at all.
func WithPlayerDefaults() Option {
	return func(c *config) { c.BufferMs, c.StartupMs = PlayerBufferMs, PlayerStartupMs }
}

// ---- algorithms ----

// AlgorithmOption sets one switch of an algorithm, for New (which hands
// the switches to the registered Constructor as a Config) and the NewXxx
// constructors. An algorithm ignores the switches that are not its own.
type AlgorithmOption func(*Config)

// Config is the set of switches an algorithm is built with: what New hands
// a Constructor. Read it with its methods; set it with AlgorithmOptions.
// Buffer size and γp are the session's (View), not the algorithm's.
type Config struct {
	osc, basic, noIBR          bool
	sabreOutput, bufferFromInt bool
	reservoirMs, cushionMs     float64
	horizon                    int
	bufferTargetS, topTargetS  float64
	processingMs, firstProcMs  float64
	sideBits                   []float64
}

// NewConfig collects opts into a Config, for a Constructor called directly.
func NewConfig(opts ...AlgorithmOption) Config {
	var c Config
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithBOLAO enables BOLA-O, BOLA's oscillation control (Sabre's -ao), in
// bola, bolae, dynamic and dynamicdash.
func WithBOLAO() AlgorithmOption { return func(c *Config) { c.osc = true } }

// WithBOLABasic makes bola (and dynamic's BOLA) BOLA-BASIC (Sabre's -ab).
func WithBOLABasic() AlgorithmOption { return func(c *Config) { c.basic = true } }

// WithoutIBR drops the insufficient-buffer rule (Sabre's -noibr) of
// throughput, bolae (which becomes BOLA-PL), dynamic and dynamicdash.
func WithoutIBR() AlgorithmOption { return func(c *Config) { c.noIBR = true } }

// WithSabreOutput makes BOLA-E (also inside dynamicdash) print its buffer
// target to the session's output (WithOutput) at the start of a session,
// as Sabre does. bufferFromInt tells it that Sabre's buffer size was its
// integer default (no -b), which only changes how the target looks.
func WithSabreOutput(bufferFromInt bool) AlgorithmOption {
	return func(c *Config) { c.sabreOutput, c.bufferFromInt = true, bufferFromInt }
}

// WithReservoir sets bba's reservoir and cushion in ms (default Pensieve's
// 5 s and 10 s). A decision never sees more than B − P of buffer (the
// player waits until a segment fits), so if reservoir + cushion exceeds 90%
// of that, both are scaled down to fit: the top bitrate stays reachable
// with a small buffer, such as Sabre's 10 s runs.
func WithReservoir(reservoirMs, cushionMs float64) AlgorithmOption {
	return func(c *Config) { c.reservoirMs, c.cushionMs = reservoirMs, cushionMs }
}

// WithHorizon sets robustmpc's look-ahead in segments, 1 to 5 (default 5).
// With more than 10^6 sequences (ladders of 16 levels or more at horizon
// 5) it is shortened to keep a decision bounded.
func WithHorizon(segments int) AlgorithmOption { return func(c *Config) { c.horizon = segments } }

// WithBufferTargets sets dashjs's buffer targets in seconds: the stable
// buffer time (default 18) and the one at the top representation (default
// 30). The session's buffer (WithBuffer) should hold the larger.
func WithBufferTargets(stableS, topS float64) AlgorithmOption {
	return func(c *Config) { c.bufferTargetS, c.topTargetS = stableS, topS }
}

// WithProcessing sets hlsjs's per-fragment processing time in ms (default
// 0): what hls.js spends after a fragment's last byte before it takes its
// bandwidth sample and loads the next fragment (parsing.end − loading.end:
// the transmuxer's parse, in a worker, and the event loop). hls.js 1.7.4
// samples bytes over parsing.end − loading.start (abr-controller.ts,
// onFragBuffered), so this time lowers its estimate, much on short
// fragments over a fast link; and its stream controller requests the next
// fragment only once the last is parsed, so the link idles meanwhile. It
// depends on the machine, not on the network: playtest measures it from
// the player's own fragment stats.
func WithProcessing(ms float64) AlgorithmOption { return func(c *Config) { c.processingMs = ms } }

// WithFirstProcessing sets hlsjs's processing time for the first
// fragment in ms (default: WithProcessing's). hls.js's first fragment
// waits for what the later ones do not: the transmuxer and the
// SourceBuffers are set up on it (its parsing.end − loading.end was
// 0.27-1.18 s in 12 of 15 calibration runs where the later fragments'
// median was 3-53 ms). Its sample is the first bandwidth estimate, which
// alone decides the second fragment's level and weighs on the next few,
// so it sets how fast hls.js climbs; playtest measures it from the
// player's fragment stats.
func WithFirstProcessing(ms float64) AlgorithmOption {
	return func(c *Config) { c.firstProcMs = ms }
}

// WithSideLoad tells hlsjs and dashjs how many bits of each segment's download are
// a companion it fetches beside the fragment (the audio of a ladder whose
// audio is its own rendition), by segment index. hls.js samples only the
// main (video) fragment's bytes (abr-controller.ts onFragBuffered;
// ignoreFragment skips other playlists' fragments) over the fragment's
// load time, and the audio loads in parallel on the same link: sharing
// it, the video fragment ends when both have moved, so its sample is the
// video's bytes over the time of video and audio together. The session
// moves both one after the other in the same time; without this the
// preset's sample was the whole link (audio included) and it switched up
// where hls.js did not (the calibration's 900 kbit/s link: hls.js's
// estimate 590-680 kbit/s, under the 867 that 607 kbit/s needs). dash.js
// likewise measures the video request alone (one ThroughputModel per
// media type), see DashJS.sample.
func WithSideLoad(bits []float64) AlgorithmOption { return func(c *Config) { c.sideBits = bits } }

// SideLoad reports WithSideLoad (nil when unset).
func (c Config) SideLoad() []float64 { return c.sideBits }

// Processing reports WithProcessing (0 when unset).
func (c Config) Processing() float64 { return c.processingMs }

// FirstProcessing reports WithFirstProcessing (0 when unset).
func (c Config) FirstProcessing() float64 { return c.firstProcMs }

// BOLAO reports WithBOLAO.
func (c Config) BOLAO() bool { return c.osc }

// BOLABasic reports WithBOLABasic.
func (c Config) BOLABasic() bool { return c.basic }

// NoIBR reports WithoutIBR.
func (c Config) NoIBR() bool { return c.noIBR }

// SabreOutput reports WithSabreOutput and its bufferFromInt.
func (c Config) SabreOutput() (on, bufferFromInt bool) { return c.sabreOutput, c.bufferFromInt }

// Reservoir reports WithReservoir (0, 0 when unset).
func (c Config) Reservoir() (reservoirMs, cushionMs float64) { return c.reservoirMs, c.cushionMs }

// Horizon reports WithHorizon (0 when unset).
func (c Config) Horizon() int { return c.horizon }

// BufferTargets reports WithBufferTargets (0, 0 when unset).
func (c Config) BufferTargets() (stableS, topS float64) { return c.bufferTargetS, c.topTargetS }

// ---- sweeps ----

// SweepOption controls how a sweep runs.
type SweepOption func(*sweepConfig)

type sweepConfig struct {
	Workers       int
	Shard, Shards int
	Progress      func(done, total int)
}

func newSweepConfig(opts []SweepOption) sweepConfig {
	var c sweepConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithWorkers runs n sessions in parallel (default 1). The table is the
// same for any n.
func WithWorkers(n int) SweepOption { return func(c *sweepConfig) { c.Workers = n } }

// WithShard runs a deterministic part of the traces: trace k (in sorted
// order) belongs to shard k mod n; shard i of n, 0 ≤ i < n. MergeTables puts
// the shards' tables back together. n 0 or 1 = all traces.
func WithShard(i, n int) SweepOption { return func(c *sweepConfig) { c.Shard, c.Shards = i, n } }

// WithSweepProgress calls fn after each trace (from worker goroutines,
// serialised).
func WithSweepProgress(fn func(done, total int)) SweepOption {
	return func(c *sweepConfig) { c.Progress = fn }
}
