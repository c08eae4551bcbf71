package swarm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// Sentinel errors.
var (
	// ErrScenario reports a scenario that cannot be simulated (a bad value,
	// an unknown field, a missing input).
	ErrScenario = errors.New("swarm: invalid scenario")
)

// Scenario is everything a run needs, as read from a JSON scenario file
// (ReadScenario decodes it strictly: an unknown field is an error). Zero
// values take the defaults listed on each field; Set changes one field by
// its JSON path, which is how command-line flags and sweep grids override a
// file.
type Scenario struct {
	Name      string    `json:"name"`
	Seed      uint64    `json:"seed"`      // every random draw derives from it (default 1)
	BucketS   float64   `json:"bucket_s"`  // time-series resolution (default 10 s)
	Stream    Stream    `json:"stream"`    // what is watched
	Audience  Audience  `json:"audience"`  // who arrives, when, for how long
	Classes   []Class   `json:"classes"`   // network classes (default: one broadband class)
	NAT       NAT       `json:"nat"`       // traversal matrix (default: everyone reaches everyone)
	Tracker   Tracker   `json:"tracker"`   // discovery
	CDN       CDN       `json:"cdn"`       // the origin/CDN
	Scheduler Scheduler `json:"scheduler"` // p2pml or cdn-only, with p2pml's knobs
	ABR       ABR       `json:"abr"`       // each player's ABR
	Integrity Integrity `json:"integrity"` // verification of peer data, tampering peers
}

// Stream is the content: live (a sliding window with a hold-back) or VOD,
// with segment sizes from a manifest file (abr.LoadManifest: Sabre JSON,
// Pensieve sizes, and .m3u8/.mpd when package manifest is linked in) or a
// synthetic ladder.
type Stream struct {
	Live       bool      `json:"live"`
	DurationS  float64   `json:"duration_s"`  // live: how long the stream runs; VOD: the title's length (default 3600)
	HoldBackS  float64   `json:"hold_back_s"` // live: how far behind the edge players start (default 3 segments, hls.js liveSyncDurationCount)
	WindowS    float64   `json:"window_s"`    // live: the playlist window, what peers may still serve (default 60)
	Manifest   string    `json:"manifest"`    // segment sizes from this file (looped to the duration); empty: synthetic ladder
	SegmentS   float64   `json:"segment_s"`   // synthetic: segment duration (default 2)
	LadderKbps []float64 `json:"ladder_kbps"` // synthetic: bitrates (default 800, 1600, 3000, 6000)
	VBR        float64   `json:"vbr"`         // synthetic: segment size spread, relative (default 0.1)
}

// Audience describes arrivals and session lengths.
type Audience struct {
	Peers int `json:"peers"` // viewers arriving over the run (default 1000)
	// Arrival is "poisson" (steady rate over arrive_s), "flash" (a share
	// arrives in a burst at kickoff_s, the rest steadily) or "event" (as
	// flash, and everyone left leaves within depart_s of end_s).
	Arrival    string  `json:"arrival"`
	ArriveS    float64 `json:"arrive_s"`    // steady arrivals spread over [0, arrive_s) (default: the stream's duration)
	KickoffS   float64 `json:"kickoff_s"`   // flash/event: burst start
	BurstS     float64 `json:"burst_s"`     // flash/event: burst arrivals are exponential with this mean (default 60)
	BurstShare float64 `json:"burst_share"` // flash/event: share of peers in the burst (default 0.7)
	EndS       float64 `json:"end_s"`       // event: the final whistle (default: the stream's end)
	DepartS    float64 `json:"depart_s"`    // event: departures spread uniformly over this (default 120)
	// Session is "exponential" (mean session_s), "lognormal" (median
	// session_s, sigma session_sigma) or "fixed" (default exponential,
	// mean 1200 s).
	// MobileShare, when set, rescales the classes' shares so that the
	// classes marked mobile hold this share of the audience (their
	// relative weights kept).
	MobileShare  float64 `json:"mobile_share"`
	Session      string  `json:"session"`
	SessionS     float64 `json:"session_s"`
	SessionSigma float64 `json:"session_sigma"`
}

// Class is a network class of viewers.
type Class struct {
	Name   string   `json:"name"`
	Share  float64  `json:"share"`  // relative weight among classes
	Mobile bool     `json:"mobile"` // counted in the mobile share
	Traces []string `json:"traces"` // download traces (abr formats); each peer draws one at a random offset
	// DownKbps is a constant download rate used when Traces is empty
	// (latency LatencyMs).
	DownKbps  float64 `json:"down_kbps"`
	LatencyMs float64 `json:"latency_ms"`
	// Upload capacity: lognormal with this median and sigma (sigma 0:
	// everyone gets the median). Unlimited makes uplinks infinite (the
	// validation case).
	UpMedianKbps float64 `json:"up_median_kbps"`
	UpSigma      float64 `json:"up_sigma"`
	UpUnlimited  bool    `json:"up_unlimited"`
	RTTMs        float64 `json:"rtt_ms"` // peer-to-peer round trip contribution of this class (default 40)
	// NAT maps NAT type names (NAT.Types) to shares in this class (default:
	// all of the first type).
	NAT map[string]float64 `json:"nat"`
}

// NAT is the traversal model: Success[a][b] is the probability that a peer
// behind NAT type a connects to one behind type b (ICE with STUN only; no
// TURN relay, as p2p-media-loader's default rtcConfig).
type NAT struct {
	Types   []string    `json:"types"`
	Success [][]float64 `json:"success"`
}

// Tracker is WebTorrent-style discovery, one swarm per stream + rendition
// as p2p-media-loader forms them (StreamUtils.getStreamSwarmId).
type Tracker struct {
	AnnounceS  float64 `json:"announce_s"`   // re-announce interval: lost neighbours are replaced (default 120)
	JoinDelayS float64 `json:"join_delay_s"` // first announce to first offers (default 1)
	Neighbours int     `json:"neighbours"`   // connections a peer keeps per swarm (default 10)
	SetupS     float64 `json:"setup_s"`      // WebRTC set-up (ICE, DTLS, data channel) per connection (default 1.5)
	// EveryoneConnected makes every swarm member a neighbour at once (no
	// tracker, no set-up, no NAT): the validation case.
	EveryoneConnected bool `json:"everyone_connected"`
}

// CDN is the HTTP side.
type CDN struct {
	RTTMs        float64 `json:"rtt_ms"`        // added to every HTTP request (default 0: the traces' latency only)
	CapacityGbps float64 `json:"capacity_gbps"` // reported against (seconds over capacity), not enforced; 0 = unlimited
	PricePerGB   float64 `json:"price_per_gb"`  // USD per GB of CDN egress (default 0.02)
}

// Scheduler chooses HTTP or P2P for each request (see Scheduler presets in
// p2pml.go). Zero knobs take the preset's defaults.
type Scheduler struct {
	Preset             string  `json:"preset"` // "p2pml" (default) or "cdn-only"
	HighDemandS        float64 `json:"high_demand_s"`
	HTTPWindowS        float64 `json:"http_window_s"`
	P2PWindowS         float64 `json:"p2p_window_s"`
	SimultaneousHTTP   int     `json:"simultaneous_http"`
	SimultaneousP2P    int     `json:"simultaneous_p2p"`
	P2PNotReceivingMs  float64 `json:"p2p_not_receiving_ms"`
	HTTPNotReceivingMs float64 `json:"http_not_receiving_ms"`
	P2PRetries         int     `json:"p2p_retries"`
	HTTPRetries        int     `json:"http_retries"`
	AnnounceLatencyMs  float64 `json:"announce_latency_ms"` // a holder's announcement reaching its neighbours (default: half the pair's RTT)
	DisableRandomHTTP  bool    `json:"disable_random_http"` // no seeding timer (p2pml always has one)
}

// ABR is every player's algorithm and buffer.
type ABR struct {
	Algorithm string  `json:"algorithm"` // any abr registry name, including Register'ed ones (default "throughput")
	BufferS   float64 `json:"buffer_s"`  // VOD buffer (hls.js maxBufferLength 30); live players buffer up to the hold-back
	StartupS  float64 `json:"startup_s"` // media buffered before playback starts (0: Sabre's one segment)
}

// Integrity is how peers check data from other peers.
type Integrity struct {
	// Mode is "none", "hash" (SHA-256 sidecar from the origin, PeerTube's
	// segments-sha256.json) or "signed" (Ed25519-signed sidecar).
	Mode        string  `json:"mode"`
	TamperShare float64 `json:"tamper_share"` // share of peers that send altered data
}

// ReadScenario decodes a scenario strictly (unknown fields and trailing data
// are errors) and checks it. Relative paths in it are relative to dir.
func ReadScenario(r io.Reader, name string) (*Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%w: %s: larger than 1 MiB", ErrScenario, name)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	sc := &Scenario{}
	if err := dec.Decode(sc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrScenario, name, jsonPos(data, dec, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: %s: data after the scenario object", ErrScenario, name)
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return sc, nil
}

func jsonPos(data []byte, dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := dec.InputOffset()
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	return fmt.Errorf("line %d: %v", line, err)
}

// LoadScenario reads a scenario file; relative paths inside it (manifest,
// traces) are taken relative to the file's directory.
func LoadScenario(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc, err := ReadScenario(f, path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	sc.Stream.Manifest = rel(sc.Stream.Manifest)
	for i := range sc.Classes {
		for k, t := range sc.Classes[i].Traces {
			sc.Classes[i].Traces[k] = rel(t)
		}
	}
	return sc, nil
}

// Validate checks values (after defaults) without loading files.
func (sc *Scenario) Validate() error {
	c := *sc
	c.Classes = append([]Class(nil), sc.Classes...)
	c.defaults()
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrScenario}, a...)...) }
	finite := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return false
			}
		}
		return true
	}
	st := c.Stream
	if !finite(st.DurationS, st.HoldBackS, st.WindowS, st.SegmentS, st.VBR, c.BucketS) || st.DurationS == 0 || st.SegmentS == 0 {
		return bad("stream: durations must be positive and finite")
	}
	if st.DurationS > 7*86400 {
		return bad("stream: duration %v s is more than a week", st.DurationS)
	}
	if st.VBR >= 1 {
		return bad("stream: vbr %v must be below 1", st.VBR)
	}
	if c.BucketS < 0.1 || st.DurationS/c.BucketS > 1e6 {
		return bad("bucket_s %v: want at least 0.1 s and at most a million buckets", c.BucketS)
	}
	for i, b := range st.LadderKbps {
		if !(b > 0) || math.IsInf(b, 0) || (i > 0 && !(b > st.LadderKbps[i-1])) {
			return bad("stream: ladder_kbps must be positive and ascending")
		}
	}
	if len(st.LadderKbps) > 32 {
		return bad("stream: more than 32 renditions")
	}
	a := c.Audience
	if a.Peers < 1 || a.Peers > 10_000_000 {
		return bad("audience: peers %d: want 1 to 10 million", a.Peers)
	}
	switch a.Arrival {
	case "poisson", "flash", "event":
	default:
		return bad("audience: arrival %q: want poisson, flash or event", a.Arrival)
	}
	switch a.Session {
	case "exponential", "lognormal", "fixed":
	default:
		return bad("audience: session %q: want exponential, lognormal or fixed", a.Session)
	}
	if !finite(a.ArriveS, a.KickoffS, a.BurstS, a.BurstShare, a.EndS, a.DepartS, a.SessionS, a.SessionSigma, a.MobileShare) || a.BurstShare > 1 || a.SessionS == 0 || a.SessionSigma > 5 || a.MobileShare > 1 {
		return bad("audience: times must be finite and non-negative, burst_share and mobile_share at most 1, session_s positive, session_sigma at most 5")
	}
	if a.MobileShare > 0 {
		var mob, fixed int
		for _, cl := range c.Classes {
			if cl.Mobile {
				mob++
			} else {
				fixed++
			}
		}
		if (mob == 0) || (fixed == 0 && a.MobileShare < 1) {
			return bad("audience: mobile_share %v needs classes marked mobile (and others, below 1)", a.MobileShare)
		}
	}
	if len(c.NAT.Types) == 0 || len(c.NAT.Types) > 16 || len(c.NAT.Success) != len(c.NAT.Types) {
		return bad("nat: %d types need a %d×%d success matrix", len(c.NAT.Types), len(c.NAT.Types), len(c.NAT.Types))
	}
	for _, row := range c.NAT.Success {
		if len(row) != len(c.NAT.Types) {
			return bad("nat: success matrix is not square")
		}
		for _, p := range row {
			if !(p >= 0 && p <= 1) {
				return bad("nat: success probability %v outside [0, 1]", p)
			}
		}
	}
	if len(c.Classes) > 64 {
		return bad("more than 64 classes")
	}
	for _, cl := range c.Classes {
		if !finite(cl.Share, cl.DownKbps, cl.LatencyMs, cl.UpMedianKbps, cl.UpSigma, cl.RTTMs) || cl.Share == 0 || cl.UpSigma > 5 {
			return bad("class %q: share must be positive; rates, latency and sigma finite and non-negative", cl.Name)
		}
		if len(cl.Traces) == 0 && cl.DownKbps == 0 {
			return bad("class %q: needs traces or down_kbps", cl.Name)
		}
		if len(cl.Traces) > 10000 {
			return bad("class %q: more than 10000 traces", cl.Name)
		}
		for n, p := range cl.NAT {
			if c.natIndex(n) < 0 || !(p >= 0) || math.IsInf(p, 0) {
				return bad("class %q: nat %q is not one of nat.types, or its share is negative", cl.Name, n)
			}
		}
	}
	t := c.Tracker
	if !finite(t.AnnounceS, t.JoinDelayS, t.SetupS) || t.AnnounceS == 0 || t.Neighbours < 0 || t.Neighbours > 1000 {
		return bad("tracker: announce_s must be positive, neighbours 0 to 1000")
	}
	if !finite(c.CDN.RTTMs, c.CDN.CapacityGbps, c.CDN.PricePerGB) {
		return bad("cdn: values must be finite and non-negative")
	}
	s := c.Scheduler
	switch s.Preset {
	case PresetP2PML, PresetCDNOnly:
	default:
		return bad("scheduler: preset %q: want %s or %s", s.Preset, PresetP2PML, PresetCDNOnly)
	}
	if !finite(s.HighDemandS, s.HTTPWindowS, s.P2PWindowS, s.P2PNotReceivingMs, s.HTTPNotReceivingMs, s.AnnounceLatencyMs) ||
		s.SimultaneousHTTP < 1 || s.SimultaneousP2P < 1 || s.P2PRetries < 0 || s.HTTPRetries < 0 {
		return bad("scheduler: windows and timeouts must be finite and non-negative, slots at least 1")
	}
	if !finite(c.ABR.BufferS, c.ABR.StartupS) || c.ABR.BufferS == 0 {
		return bad("abr: buffer_s must be positive")
	}
	switch c.Integrity.Mode {
	case IntegrityNone, IntegrityHash, IntegritySigned:
	default:
		return bad("integrity: mode %q: want none, hash or signed", c.Integrity.Mode)
	}
	if !(c.Integrity.TamperShare >= 0 && c.Integrity.TamperShare <= 1) {
		return bad("integrity: tamper_share %v outside [0, 1]", c.Integrity.TamperShare)
	}
	return nil
}

// Integrity modes.
const (
	IntegrityNone   = "none"
	IntegrityHash   = "hash"
	IntegritySigned = "signed"
)

func (sc *Scenario) natIndex(name string) int {
	for i, t := range sc.NAT.Types {
		if t == name {
			return i
		}
	}
	return -1
}

// defaults fills zero fields (on a copy owned by the caller).
func (sc *Scenario) defaults() {
	if sc.Seed == 0 {
		sc.Seed = 1
	}
	if sc.BucketS == 0 {
		sc.BucketS = 10
	}
	st := &sc.Stream
	if st.DurationS == 0 {
		st.DurationS = 3600
	}
	if st.SegmentS == 0 {
		st.SegmentS = 2
	}
	if st.Manifest == "" && len(st.LadderKbps) == 0 {
		st.LadderKbps = []float64{800, 1600, 3000, 6000}
	}
	if st.Manifest == "" && st.VBR == 0 {
		st.VBR = 0.1
	}
	if st.HoldBackS == 0 {
		st.HoldBackS = 3 * st.SegmentS
	}
	if st.WindowS == 0 {
		st.WindowS = 60
	}
	a := &sc.Audience
	if a.Peers == 0 {
		a.Peers = 1000
	}
	if a.Arrival == "" {
		a.Arrival = "poisson"
	}
	if a.ArriveS == 0 {
		a.ArriveS = st.DurationS
	}
	if a.BurstS == 0 {
		a.BurstS = 60
	}
	if a.BurstShare == 0 {
		a.BurstShare = 0.7
	}
	if a.EndS == 0 {
		a.EndS = st.DurationS
	}
	if a.DepartS == 0 {
		a.DepartS = 120
	}
	if a.Session == "" {
		a.Session = "exponential"
	}
	if a.SessionS == 0 {
		a.SessionS = 1200
	}
	if a.SessionSigma == 0 {
		a.SessionSigma = 1
	}
	if len(sc.NAT.Types) == 0 {
		sc.NAT = NAT{Types: []string{"open"}, Success: [][]float64{{1}}}
	}
	if len(sc.Classes) == 0 {
		sc.Classes = []Class{{Name: "broadband", Share: 1, DownKbps: 20000, LatencyMs: 20, UpMedianKbps: 5000, UpSigma: 0.5}}
	}
	for i := range sc.Classes {
		if sc.Classes[i].RTTMs == 0 {
			sc.Classes[i].RTTMs = 40
		}
		if sc.Classes[i].Name == "" {
			sc.Classes[i].Name = "class" + strconv.Itoa(i)
		}
	}
	t := &sc.Tracker
	if t.AnnounceS == 0 {
		t.AnnounceS = 120
	}
	if t.JoinDelayS == 0 {
		t.JoinDelayS = 1
	}
	if t.Neighbours == 0 {
		t.Neighbours = 10
	}
	if t.SetupS == 0 {
		t.SetupS = 1.5
	}
	if sc.CDN.PricePerGB == 0 {
		sc.CDN.PricePerGB = 0.02
	}
	s := &sc.Scheduler
	if s.Preset == "" {
		s.Preset = PresetP2PML
	}
	d := P2PMLDefaults()
	if s.HighDemandS == 0 {
		s.HighDemandS = d.HighDemandS
	}
	if s.HTTPWindowS == 0 {
		s.HTTPWindowS = d.HTTPWindowS
	}
	if s.P2PWindowS == 0 {
		s.P2PWindowS = d.P2PWindowS
	}
	if s.SimultaneousHTTP == 0 {
		s.SimultaneousHTTP = d.SimultaneousHTTP
	}
	if s.SimultaneousP2P == 0 {
		s.SimultaneousP2P = d.SimultaneousP2P
	}
	if s.P2PNotReceivingMs == 0 {
		s.P2PNotReceivingMs = d.P2PNotReceivingMs
	}
	if s.HTTPNotReceivingMs == 0 {
		s.HTTPNotReceivingMs = d.HTTPNotReceivingMs
	}
	if s.P2PRetries == 0 {
		s.P2PRetries = d.P2PRetries
	}
	if s.HTTPRetries == 0 {
		s.HTTPRetries = d.HTTPRetries
	}
	if sc.ABR.Algorithm == "" {
		sc.ABR.Algorithm = "throughput"
	}
	if sc.ABR.BufferS == 0 {
		sc.ABR.BufferS = 30
	}
	if sc.Integrity.Mode == "" {
		sc.Integrity.Mode = IntegrityNone
	}
}

// Set changes one field by its JSON path ("audience.peers",
// "scheduler.preset", "classes.0.up_median_kbps"), parsing value as the
// field's type (a list as comma-separated values). Command-line flags and
// sweep grids use it, so every field can be overridden or swept.
func (sc *Scenario) Set(path, value string) error {
	v := reflect.ValueOf(sc).Elem()
	parts := strings.Split(path, ".")
	for i, p := range parts {
		switch v.Kind() {
		case reflect.Struct:
			f, ok := fieldByTag(v, p)
			if !ok {
				return fmt.Errorf("%w: no field %q in %s", ErrScenario, p, strings.Join(parts[:i], "."))
			}
			v = f
		case reflect.Slice:
			k, err := strconv.Atoi(p)
			if err != nil || k < 0 || k >= v.Len() {
				return fmt.Errorf("%w: %s: index %q out of range (%d elements)", ErrScenario, strings.Join(parts[:i], "."), p, v.Len())
			}
			v = v.Index(k)
		default:
			return fmt.Errorf("%w: %s is not a structure", ErrScenario, strings.Join(parts[:i], "."))
		}
	}
	if err := setValue(v, value); err != nil {
		return fmt.Errorf("%w: %s=%s: %v", ErrScenario, path, value, err)
	}
	return nil
}

func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func setValue(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(n))
	case reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	case reflect.Slice:
		items := strings.Split(s, ",")
		out := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, it := range items {
			if err := setValue(out.Index(i), strings.TrimSpace(it)); err != nil {
				return err
			}
		}
		v.Set(out)
	default:
		return fmt.Errorf("cannot set a %s from the command line (edit the file)", v.Kind())
	}
	return nil
}
