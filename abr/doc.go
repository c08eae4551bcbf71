// Package abr simulates adaptive-bitrate (ABR) video players over network
// throughput traces: fast, deterministic, and exact to the published
// simulators Sabre and Pensieve.
//
// # Models
//
// The Sabre model (Session) is a segment-level player on a looping trace of
// periods, each with a bandwidth and a latency (MODELS.md §2). A request pays
// one latency unit, then moves bits at the period's rate; while a download
// runs the buffer drains, and when it runs dry the player stalls. Downloads
// are stepped (≥ 50 ms and ≥ 12000 bits per step) so that an Abandoner can
// give up on a segment that would arrive too late. Throughput and latency are
// estimated by Sabre's EWMA (half-lives 3 s and 8 s) or a sliding window.
// With no Option the model reproduces Sabre (commit 09b03bb) to within
// ~1e-12 on every metric; RunSabre takes Sabre's command line and prints
// Sabre's lines. WithPlayerDefaults adds what real players have: a startup
// threshold (and WithRequestLatency a per-request latency). Every knob of
// the package is a functional option: Option for sessions, AlgorithmOption
// for algorithms, SweepOption for sweeps.
//
// The Pensieve model (PensieveSession) is Pensieve's fixed test environment:
// 48 chunks of 4 s, a 60 s buffer with 500 ms sleeps, an 80 ms RTT per chunk
// and the 0.95 payload factor, with its BB and robustMPC baselines and the
// linear, log and HD QoE of the paper (MODELS.md §3).
//
// # Algorithms
//
// An Algorithm chooses a quality (and optionally a delay) for each segment;
// it sees the ladder, the segment sizes, the buffer level and the throughput
// and latency estimates and history through a View, the session's read-only
// face. The built-in algorithms read the session through the same View
// methods, so one registered with Register is their equal. Optional interfaces
// add abandonment (Abandoner), full-buffer waits (DelayReporter), download
// outcomes (DownloadReporter) and the first quality (FirstQualityChooser).
// Built in, by registry name (see Names and New): Sabre's throughput, bola
// (-ab BOLA-BASIC, -ao BOLA-O), bolae (BOLA-E, BOLA-PL with -noibr), dynamic
// and dynamicdash; bba (BBA-0 with its hysteresis) and robustmpc (Pensieve's
// robustMPC, its look-ahead fitted to this model); and the player presets
// dashjs (dash.js v5 defaults) and hlsjs (hls.js 1.7 defaults). Register
// adds your own. In the Pensieve model, BB and RobustMPC are Pensieve's own
// baselines, ported operation for operation.
//
// # Inputs
//
// Content reaches the simulator through the small Manifest interface
// (segment duration, bitrates, segment count, segment sizes), so a packaged
// HLS or DASH presentation can be simulated from another package. Readers
// are provided for Sabre movie JSON (ReadSabreManifest) and Pensieve's
// video_size_N files (LoadVideoSizes); LoadManifest picks one, and
// RegisterManifestFormat adds a file extension. A packaged HLS or DASH
// presentation loads in one call with manifest.Load (package
// github.com/streamkit-go/streamkit/manifest, above abr, hls and dash),
// which also registers .m3u8 and .mpd here.
// Traces are read from Sabre JSON,
// Pensieve cooked text, Mahimahi packet-delivery files and plain CSV
// (time_s,kbps[,latency_ms]); LoadTrace picks the format from the content,
// and RegisterTraceFormat plugs in another one.
// Every parser names the file and line or field of a problem, and a trace
// that cannot deliver ends in ErrNeverDelivers instead of a hang.
// WithDeliverer lets a caller decide where each segment comes from (the
// trace, after an optional wait, or a supplied arrival time): the swarm
// simulator (package swarm) serves segments from peers through it while
// the player stays this package's. A Manifest implementing SizeTabler is
// read in place instead of copied.
//
// # Performance
//
// A Session uses no goroutines and allocates nothing per segment; Reset and
// ResetTrace reuse it. Its memory does not grow with the movie: a looped
// movie (Looped, Sabre's -ml) keeps the table it repeats, and a Sabre movie
// read by ReadSabreManifest is one flat table sessions share (SizeTabler).
// Sweeps (SweepSabre, SweepPensieve) run independent sessions on a worker
// pool and give the same table for any number of workers or shards
// (WithShard, ParseShard for batch systems). SweepSabre reads the traces
// ahead of its workers, on one goroutine, with a decoder specialised to
// Sabre's trace JSON into reused memory (encoding/json for anything outside
// its subset), and rewinds one session per worker onto each trace. See
// BENCHMARKS.md for the figures.
//
// Stepped downloads are where Sabre spends its time (a rule call every
// 50 ms of transfer). Before a download starts, the session walks its path
// through the coming trace periods (a line per period: the bandwidth is
// constant within one) and asks the rule for a proof that it cannot fire
// anywhere on that path. Every Sabre rule gives one from a single line
// under the path, the least average rate since the start: BOLA and BOLA-E
// (their comparison is linear in the bits left and a concave quadratic
// along the line; BOLA-E's size argument, remain − ttfb·rate, is under the
// same kind of line), THROUGHPUT (and so DYNAMIC, and DYNAMICDASH when not
// in BOLA-E: time + eta ≤ ttfb + size/rate), each with a margin far above
// float rounding; a download of the lowest quality has nothing to abandon
// to. A proven BOLA download makes no rule calls and, by default, moves as
// one transfer: the time
// Sabre's steps add up to in exact arithmetic, in float64 different in the
// last bits. So every decision (quality, abandonment) is Sabre's, and
// times and totals agree to ~1e-12; only numbers that rest on exact ties
// can move: Sabre's over/under-estimate split, a rebuffer "event" a few
// ulps long, and the reaction time when a quality change falls on the
// buffer horizon to the ulp (0.5% of sessions on the FCC and 4G traces).
// The other rules' proven downloads (and, with WithExact, BOLA's too)
// replay Sabre's steps instead, bit for bit, without the
// calls: a period's 50 ms steps of 50·w bits are added in closed form
// (adding an integer to a float64 is exact below 2^(53+lowest set bit), and
// the one addition that crosses a power of two rounds once). RunSabre, the
// Sabre command line and Sabre sweeps set Exact. Downloads without a proof
// are stepped, with per-period proofs; where THROUGHPUT's rule (so DYNAMIC's,
// and DYNAMICDASH's while it uses it) cannot be proven silent for a whole
// period, it gives in closed form the last step it is silent at, and the
// download jumps there (TestFirstFiringIsExact); the tests turn all proofs off
// (TestSkipIsExact compares the three; TestExactRandomized draws random
// configurations over the shared traces).
// The EWMA weight 0.5^x comes from pow05, a table-driven 2^−x that is
// correctly rounded in 99.9% of cases, like the C library's pow that Sabre
// calls (math.Pow differs from it in about 10% of the estimator's inputs).
package abr
