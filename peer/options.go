package peer

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/streamkit-go/streamkit/integrity"
)

// Option configures a Peer; New takes any number.
type Option func(*config)

type config struct {
	tracker      string
	verifier     *integrity.Verifier
	loopback     bool
	seed         bool
	tamper       bool
	client       *http.Client
	maxPeers     int
	offers       int
	swarmID      string
	attrs        StreamAttrs
	cache        int
	ahead        time.Duration
	p2pWait      time.Duration
	p2pTimeout   time.Duration
	announce     time.Duration
	maxSegment   int64
	iceServers   []webrtc.ICEServer
	logf         func(format string, a ...any)
	now          func() time.Time
	offerTimeout time.Duration
	uplink       Uplink
	p2pDeadline  time.Duration
}

func defaults() config {
	return config{
		client:       &http.Client{Timeout: 30 * time.Second},
		maxPeers:     20,
		offers:       5,
		cache:        60,
		ahead:        30 * time.Second,
		p2pWait:      2 * time.Second,
		p2pTimeout:   2 * time.Second,
		announce:     0,
		maxSegment:   64 << 20,
		logf:         func(string, ...any) {},
		now:          time.Now,
		offerTimeout: 50 * time.Second,
	}
}

// WithTracker sets the WebTorrent tracker (ws:// or wss:// URL) the peer
// announces itself to. Without one the peer only uses the origin.
func WithTracker(wsURL string) Option { return func(c *config) { c.tracker = wsURL } }

// WithVerifier makes the peer check every segment with v before using or
// sharing it; the rendition's signed sidecar is loaded from beside the
// playlist (integrity.SidecarFor). Data from a peer that fails the check
// (integrity.ErrMismatch) is dropped and that peer disconnected, as
// p2p-media-loader does when validateP2PSegment returns false.
func WithVerifier(v *integrity.Verifier) Option { return func(c *config) { c.verifier = v } }

// WithLoopbackOnly restricts WebRTC to loopback candidates: only the
// loopback interface and 127.0.0.0/8 and ::1 addresses are gathered, mDNS
// is off and no STUN or TURN server is used. Tests and single-machine
// experiments use it so that no packet leaves the host.
func WithLoopbackOnly() Option { return func(c *config) { c.loopback = true } }

// WithICEServers sets STUN/TURN servers (none by default); ignored with
// WithLoopbackOnly.
func WithICEServers(s ...webrtc.ICEServer) Option { return func(c *config) { c.iceServers = s } }

// WithSeed makes the peer an edge seeder: it fetches every segment from
// the origin as soon as the playlist lists it and serves it to the swarm,
// instead of following the stream like a player.
func WithSeed() Option { return func(c *config) { c.seed = true } }

// WithTamperForTesting makes the peer alter one byte in every 1000 of the
// segment data it sends (sizes unchanged). Only for testing that
// receivers detect and disconnect such a peer.
func WithTamperForTesting() Option { return func(c *config) { c.tamper = true } }

// WithHTTPClient sets the client for the origin (30 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.client = h } }

// WithMaxPeers bounds connected peers (20).
func WithMaxPeers(n int) Option { return func(c *config) { c.maxPeers = n } }

// WithSwarmID sets p2p-media-loader's swarmId (default: the manifest URL
// without its query). Browser players must use the same.
func WithSwarmID(id string) Option { return func(c *config) { c.swarmID = id } }

// WithStreamAttrs sets the variant attributes that name the stream's
// swarm (zero: a media playlist played directly).
func WithStreamAttrs(a StreamAttrs) Option { return func(c *config) { c.attrs = a } }

// WithCacheSegments bounds the segments kept to serve (60).
func WithCacheSegments(n int) Option { return func(c *config) { c.cache = n } }

// WithBufferAhead sets how far ahead of its play clock a following peer
// fetches VOD segments (30 s).
func WithBufferAhead(d time.Duration) Option { return func(c *config) { c.ahead = d } }

// WithP2PWait sets how long a following peer waits for some peer to
// announce a segment nobody has before fetching it from the origin (2 s;
// a random part of it, so that peers do not all go to the origin at once).
func WithP2PWait(d time.Duration) Option { return func(c *config) { c.p2pWait = d } }

// WithP2PTimeout sets how long a download from a peer may receive
// nothing before it is cancelled (2 s: p2pNotReceivingBytesTimeoutMs).
func WithP2PTimeout(d time.Duration) Option { return func(c *config) { c.p2pTimeout = d } }

// WithP2PDeadline makes a following peer give up on peers for a segment
// d after it started to get it, and fetch it from the origin, cancelling
// a P2P transfer still running: the role of p2p-media-loader's
// high-demand window, which sends a segment about to be played to HTTP.
// Without it (0, the default) a peer keeps trying holders as long as they
// send bytes, and under weak uplinks falls behind the live edge instead
// of fetching from the origin (BENCHMARKS.md, "Real swarm vs simulator").
func WithP2PDeadline(d time.Duration) Option { return func(c *config) { c.p2pDeadline = d } }

// WithAnnounceInterval re-announces to the tracker this often (default:
// the interval the tracker asks for).
func WithAnnounceInterval(d time.Duration) Option { return func(c *config) { c.announce = d } }

// Uplink paces the bytes a peer uploads: Wait returns when n more bytes
// may be sent (shape.Pacer is one: a token bucket following a rate or a
// trace), or early with ctx's error.
type Uplink interface {
	Wait(ctx context.Context, n int) error
}

// WithUplink shapes the peer's upload: every data message to every peer
// waits on u first, so all its uploads share one uplink, as a viewer's
// connections share its access link (none by default: loopback speed).
func WithUplink(u Uplink) Option { return func(c *config) { c.uplink = u } }

// WithLogf sets a logger for connection events (none by default).
func WithLogf(f func(format string, a ...any)) Option { return func(c *config) { c.logf = f } }

// WithClock sets the clock of the play position and the stats (time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// api builds the WebRTC API of the configuration.
func (c *config) api() *webrtc.API {
	var se webrtc.SettingEngine
	if c.loopback {
		// Design: filters at both levels. The interface filter keeps
		// pion from even opening sockets elsewhere; the IP filter drops a
		// non-loopback address a loopback interface might carry; mDNS
		// would multicast on the LAN, so it is off.
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" || name == "lo0" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetIncludeLoopbackCandidate(true)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}
