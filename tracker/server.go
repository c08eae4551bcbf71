// Package tracker is a WebTorrent tracker over WebSocket, the discovery
// service p2p-media-loader 2.x (through the bittorrent-tracker client)
// uses to find peers for a stream: clients announce themselves in a swarm
// (an info hash: p2p-media-loader derives one per stream and rendition)
// with a few WebRTC offers; the tracker relays each offer to a random
// other peer of the swarm, relays the answer back, and the two browsers
// then talk directly. The tracker never sees media.
//
// Protocol (JSON text messages, as bittorrent-tracker's server speaks it):
//
//	client → tracker  {"action":"announce","info_hash":IH,"peer_id":P,"event":"started",
//	                   "numwant":5,"left":1,"offers":[{"offer_id":O,"offer":{"type":"offer","sdp":...}}]}
//	tracker → client  {"action":"announce","interval":120,"info_hash":IH,"complete":0,"incomplete":7}
//	tracker → peer Q  {"action":"announce","offer":{...},"offer_id":O,"peer_id":P,"info_hash":IH}
//	peer Q → tracker  {"action":"announce","info_hash":IH,"peer_id":Q,"to_peer_id":P,"offer_id":O,"answer":{...}}
//	tracker → client  {"action":"announce","answer":{...},"offer_id":O,"peer_id":Q,"info_hash":IH}
//	client → tracker  {"action":"scrape","info_hash":[IH,...]}
//	tracker → client  {"action":"scrape","files":{IH:{"complete":0,"incomplete":7,"downloaded":0}},...}
//	client → tracker  {"action":"announce","event":"stopped",...}   (or the socket closes)
//
// Info hashes, peer ids and offer ids are 20-character strings (JavaScript
// "binary strings"), echoed exactly. An invalid request is answered with
// {"failure reason": ...}; a malformed message closes the connection with
// a close code (1003 binary, 1007 not JSON, 1008 policy, 1009 too big,
// 1013 too slow to read what it is sent).
//
// Limits, each a [New] option: connections, swarms, peers per swarm, swarms
// per connection, message size, offers per announce, announce rate per
// connection (a token bucket), answers only for offers actually relayed
// to that connection, outgoing bytes queued per connection, and an idle
// timeout. [Server.Stats] has the counters.
package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Option sets one of the tracker's limits; New takes any number. A zero or
// negative value keeps the default.
type Option func(*config)

// WithInterval sets the announce interval told to clients (120 s, what
// bittorrent-tracker tells WebSocket clients by default).
func WithInterval(d time.Duration) Option { return func(c *config) { c.Interval = d } }

// WithMaxConns bounds open connections (10 000); beyond it upgrades get
// HTTP 503.
func WithMaxConns(n int) Option { return func(c *config) { c.MaxConns = n } }

// WithMaxSwarms bounds the swarms (100 000).
func WithMaxSwarms(n int) Option { return func(c *config) { c.MaxSwarms = n } }

// WithMaxPeersPerSwarm bounds the peers of one swarm (1 000,
// bittorrent-tracker's default).
func WithMaxPeersPerSwarm(n int) Option { return func(c *config) { c.MaxPeersPerSwarm = n } }

// WithMaxSwarmsPerConn bounds the swarms one connection may join (16:
// p2p-media-loader shares one socket between a page's streams).
func WithMaxSwarmsPerConn(n int) Option { return func(c *config) { c.MaxSwarmsPerConn = n } }

// WithMaxMessageSize bounds a client message in bytes (64 KiB: five offers
// with full SDP are about 20 KiB); larger ones close with code 1009.
func WithMaxMessageSize(n int64) Option { return func(c *config) { c.MaxMessageSize = n } }

// WithMaxOffers bounds the offers of one announce (10; the
// bittorrent-tracker client sends at most 5).
func WithMaxOffers(n int) Option { return func(c *config) { c.MaxOffers = n } }

// WithAnnounceRate sets the refill of the token bucket of announces and
// scrapes per connection (2 per second); answers are limited by the offers
// relayed to the connection instead.
func WithAnnounceRate(perSecond float64) Option {
	return func(c *config) { c.AnnounceRate = perSecond }
}

// WithAnnounceBurst sets the size of that token bucket (20).
func WithAnnounceBurst(n int) Option { return func(c *config) { c.AnnounceBurst = n } }

// WithIdleTimeout closes a connection that sent nothing for this long
// (5 min: clients announce every interval).
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.IdleTimeout = d } }

// WithWriteTimeout bounds sending one message (10 s).
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.WriteTimeout = d } }

// WithMaxQueued bounds the bytes waiting to be sent to one connection
// (256 KiB: with 10 000 connections at most 2.5 GiB in all), beyond which
// it is closed as too slow.
func WithMaxQueued(n int64) Option { return func(c *config) { c.MaxQueued = n } }

// WithOriginPatterns restricts the browser origins allowed to connect
// (host patterns, as websocket.AcceptOptions takes them); none allows any
// origin, as public WebTorrent trackers do.
func WithOriginPatterns(patterns ...string) Option {
	return func(c *config) { c.OriginPatterns = append([]string(nil), patterns...) }
}

// WithClock sets the clock of the rate limiter (time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.Now = now } }

// WithRand sets the source that picks the peers offers go to (seeded
// randomly by default).
func WithRand(r *rand.Rand) Option { return func(c *config) { c.Rand = r } }

// config holds the limits the options set; its zero fields take the
// defaults in defaults.
type config struct {
	Interval                                      time.Duration
	MaxConns                                      int
	MaxSwarms, MaxPeersPerSwarm, MaxSwarmsPerConn int
	MaxMessageSize                                int64
	MaxOffers                                     int
	AnnounceRate                                  float64
	AnnounceBurst                                 int
	IdleTimeout, WriteTimeout                     time.Duration
	MaxQueued                                     int64
	OriginPatterns                                []string
	Now                                           func() time.Time
	Rand                                          *rand.Rand
}

func (c *config) defaults() {
	set := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	if c.Interval <= 0 {
		c.Interval = 120 * time.Second
	}
	set(&c.MaxConns, 10000)
	set(&c.MaxSwarms, 100000)
	set(&c.MaxPeersPerSwarm, 1000)
	set(&c.MaxSwarmsPerConn, 16)
	set(&c.MaxOffers, 10)
	set(&c.AnnounceBurst, 20)
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 64 << 10
	}
	if c.AnnounceRate <= 0 {
		c.AnnounceRate = 2
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = 256 << 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
}

// Stats are the tracker's counters.
type Stats struct {
	Conns  int `json:"conns"`
	Swarms int `json:"swarms"`
	Peers  int `json:"peers"`
	// Announces and Scrapes handled; OffersRelayed and AnswersRelayed to
	// other peers; AnswersDropped for an offer not relayed to the sender
	// or a peer gone; Failures answered with a failure reason;
	// RateLimited announces refused; Refused connections (limit, HTTP
	// 503); Closed connections by the close code the tracker sent.
	Announces      int64            `json:"announces"`
	Scrapes        int64            `json:"scrapes"`
	OffersRelayed  int64            `json:"offers_relayed"`
	AnswersRelayed int64            `json:"answers_relayed"`
	AnswersDropped int64            `json:"answers_dropped"`
	Failures       int64            `json:"failures"`
	RateLimited    int64            `json:"rate_limited"`
	Refused        int64            `json:"refused"`
	Closed         map[string]int64 `json:"closed"`
}

// Server is a WebSocket tracker; it is an http.Handler: mount it where
// clients connect (ws://host/announce, say). A GET without an upgrade gets
// the Stats as JSON.
type Server struct {
	cfg    config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	swarms map[string]*swarm
	conns  map[*conn]struct{}
	closed bool
	rnd    *rand.Rand

	nConns                                              atomic.Int64
	announces, scrapes, offers, answers, answersDropped atomic.Int64
	failures, rateLimited, refused                      atomic.Int64
	closedBy                                            sync.Map // close reason -> *atomic.Int64
}

type swarm struct {
	peers                []*peer
	index                map[string]int
	complete, incomplete int
}

type peer struct {
	id       string
	c        *conn
	complete bool
}

type conn struct {
	s  *Server
	ws *websocket.Conn
	// under Server.mu:
	swarms     map[string]string // info hash -> this connection's peer id
	offersIn   int               // offers relayed to this connection not yet answered
	tokens     float64
	lastRefill time.Time
	// sending:
	out      chan []byte
	queued   atomic.Int64
	done     chan struct{}
	stopOnce sync.Once
}

// New returns a tracker with the limits opts set (the defaults, without
// any).
func New(opts ...Option) *Server {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, ctx: ctx, cancel: cancel, swarms: map[string]*swarm{}, conns: map[*conn]struct{}{}, rnd: cfg.Rand}
}

// ServeHTTP accepts a WebSocket client, or answers a plain GET with the
// stats.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "WebSocket tracker: connect with a WebSocket, or GET the stats", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Stats())
		return
	}
	if n := s.nConns.Add(1); n > int64(s.cfg.MaxConns) || s.isClosed() {
		s.nConns.Add(-1)
		s.refused.Add(1)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "tracker at its connection limit", http.StatusServiceUnavailable)
		return
	}
	defer s.nConns.Add(-1)
	// The http.Server's deadlines would otherwise stay on the hijacked
	// connection; the tracker applies its own (idle, write) instead.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: len(s.cfg.OriginPatterns) == 0,
		OriginPatterns:     s.cfg.OriginPatterns,
	})
	if err != nil {
		return
	}
	ws.SetReadLimit(s.cfg.MaxMessageSize)
	c := &conn{s: s, ws: ws, swarms: map[string]string{}, out: make(chan []byte, 64), done: make(chan struct{}),
		tokens: float64(s.cfg.AnnounceBurst), lastRefill: s.cfg.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "tracker shutting down")
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	s.drop(c)
	c.stop()
	<-writerDone
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// readLoop handles messages until the connection ends.
func (c *conn) readLoop() {
	// The idle timer closes with a close code; a read context deadline
	// would drop the TCP connection without one.
	var mu sync.Mutex
	var running sync.WaitGroup
	stopped := false
	idle := time.AfterFunc(c.s.cfg.IdleTimeout, func() {
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		running.Add(1)
		mu.Unlock()
		defer running.Done()
		c.close(websocket.StatusPolicyViolation, "idle")
	})
	// The loop does not end before an idle close it started has.
	defer func() {
		idle.Stop()
		mu.Lock()
		stopped = true
		mu.Unlock()
		running.Wait()
	}()
	for {
		typ, b, err := c.ws.Read(c.s.ctx)
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				c.s.count("MessageTooBig message too big")
			}
			return
		}
		idle.Reset(c.s.cfg.IdleTimeout)
		if typ != websocket.MessageText {
			c.close(websocket.StatusUnsupportedData, "text messages only")
			return
		}
		req, err := ParseRequest(b, c.s.cfg.MaxOffers)
		if errors.Is(err, ErrMalformed) {
			c.close(websocket.StatusInvalidFramePayloadData, trunc(err.Error()))
			return
		}
		if err != nil {
			c.s.failures.Add(1)
			c.send(encode(failure{Reason: strings.TrimPrefix(err.Error(), "tracker: invalid request: ")}))
			continue
		}
		c.s.handle(c, req)
	}
}

func (c *conn) writeLoop() {
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			c.queued.Add(-int64(len(b)))
			ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.WriteTimeout)
			err := c.ws.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.ws.CloseNow()
				return
			}
		}
	}
}

// send queues b; a connection that does not read what it is sent is
// closed rather than allowed to grow the tracker's memory.
func (c *conn) send(b []byte) bool {
	if b == nil {
		return false
	}
	if c.queued.Add(int64(len(b))) > c.s.cfg.MaxQueued {
		c.queued.Add(-int64(len(b)))
		c.closeAsync(websocket.StatusTryAgainLater, "not reading")
		return false
	}
	select {
	case c.out <- b:
		return true
	default:
		c.queued.Add(-int64(len(b)))
		c.closeAsync(websocket.StatusTryAgainLater, "not reading")
		return false
	}
}

func (c *conn) stop() { c.stopOnce.Do(func() { close(c.done) }) }

// close sends a close frame with code and ends the connection.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.s.count(strings.TrimPrefix(code.String(), "Status") + " " + reason)
	c.ws.Close(code, reason)
}

// closeAsync closes without blocking the caller (who may hold s.mu); the
// connection's own handler holds s.wg, so the goroutine is waited for.
func (c *conn) closeAsync(code websocket.StatusCode, reason string) {
	c.s.wg.Add(1)
	go func() {
		defer c.s.wg.Done()
		c.close(code, reason)
	}()
}

func (s *Server) count(reason string) {
	v, _ := s.closedBy.LoadOrStore(reason, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// allow takes a token from c's announce bucket (under s.mu).
func (s *Server) allow(c *conn) bool {
	now := s.cfg.Now()
	c.tokens += now.Sub(c.lastRefill).Seconds() * s.cfg.AnnounceRate
	c.lastRefill = now
	c.tokens = min(c.tokens, float64(s.cfg.AnnounceBurst))
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

func (s *Server) handle(c *conn, r *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(ih, reason string) {
		s.failures.Add(1)
		c.send(encode(failure{Action: r.Action, Reason: reason, InfoHash: ih}))
	}
	if r.Action == "scrape" {
		if !s.allow(c) {
			s.rateLimited.Add(1)
			fail("", "scrape rate limit exceeded")
			return
		}
		s.scrapes.Add(1)
		resp := scrapeResponse{Action: "scrape", Files: map[string]scrapeFile{}}
		// As bittorrent-tracker: its HTTP interval, 5 times the WebSocket one.
		resp.Flags.MinRequestInterval = 5 * int(s.cfg.Interval/time.Second)
		hashes := r.InfoHashes
		if len(hashes) == 0 {
			for ih := range s.swarms {
				if len(hashes) == MaxScrape {
					break
				}
				hashes = append(hashes, ih)
			}
		}
		for _, ih := range hashes {
			var f scrapeFile
			if sw := s.swarms[ih]; sw != nil {
				f = scrapeFile{Complete: sw.complete, Incomplete: sw.incomplete, Downloaded: sw.complete}
			}
			resp.Files[ih] = f
		}
		c.send(encode(resp))
		return
	}
	// Announce.
	switch r.Event {
	case "started", "stopped", "completed", "paused", "update":
	default:
		fail(r.InfoHash, "invalid event")
		return
	}
	if r.Answer != nil {
		// An answer needs an offer this connection was sent; that bounds
		// answers without a rate (a peer answers every offer it gets).
		if c.offersIn <= 0 {
			s.answersDropped.Add(1)
			return
		}
		c.offersIn--
	} else if !s.allow(c) {
		s.rateLimited.Add(1)
		fail(r.InfoHash, "announce rate limit exceeded")
		return
	}
	s.announces.Add(1)
	sw := s.swarms[r.InfoHash]
	if r.Event == "stopped" {
		if sw != nil && c.swarms[r.InfoHash] == r.PeerID {
			s.leave(c, r.InfoHash)
		}
		c.send(encode(s.announceResponse(r.InfoHash)))
		return
	}
	if mine, ok := c.swarms[r.InfoHash]; ok && mine != r.PeerID {
		fail(r.InfoHash, "another peer_id of this connection is in this swarm")
		return
	}
	if sw == nil {
		if len(s.swarms) >= s.cfg.MaxSwarms {
			fail(r.InfoHash, "too many swarms on this tracker")
			return
		}
		sw = &swarm{index: map[string]int{}}
		s.swarms[r.InfoHash] = sw
	}
	i, in := sw.index[r.PeerID]
	switch {
	case in && sw.peers[i].c != c:
		fail(r.InfoHash, "peer_id in use by another connection")
		s.dropEmpty(r.InfoHash, sw)
		return
	case !in && len(sw.peers) >= s.cfg.MaxPeersPerSwarm:
		fail(r.InfoHash, "swarm full")
		return
	case !in && len(c.swarms) >= s.cfg.MaxSwarmsPerConn:
		fail(r.InfoHash, "too many swarms on this connection")
		s.dropEmpty(r.InfoHash, sw)
		return
	case !in:
		p := &peer{id: r.PeerID, c: c, complete: r.Complete}
		sw.index[r.PeerID] = len(sw.peers)
		sw.peers = append(sw.peers, p)
		c.swarms[r.InfoHash] = r.PeerID
		if p.complete {
			sw.complete++
		} else {
			sw.incomplete++
		}
	default:
		if p := sw.peers[i]; !p.complete && r.Complete {
			p.complete = true
			sw.complete++
			sw.incomplete--
		}
	}
	if r.Answer == nil {
		c.send(encode(s.announceResponse(r.InfoHash)))
	}
	// Each offer to a different random other peer.
	if len(r.Offers) > 0 {
		for k, to := range s.pick(sw, c, len(r.Offers)) {
			o := r.Offers[k]
			if to.c.send(encode(relayedOffer{Action: "announce", Offer: o.Offer, OfferID: o.OfferID, PeerID: r.PeerID, InfoHash: r.InfoHash})) {
				to.c.offersIn = min(to.c.offersIn+1, 4*s.cfg.MaxOffers*s.cfg.MaxSwarmsPerConn)
				s.offers.Add(1)
			}
		}
	}
	if r.Answer != nil {
		j, ok := sw.index[r.ToPeerID]
		if !ok || !sw.peers[j].c.send(encode(relayedAnswer{Action: "announce", Answer: r.Answer, OfferID: r.OfferID, PeerID: r.PeerID, InfoHash: r.InfoHash})) {
			s.answersDropped.Add(1)
			return
		}
		s.answers.Add(1)
	}
}

func (s *Server) announceResponse(ih string) announceResponse {
	resp := announceResponse{Action: "announce", Interval: int(s.cfg.Interval / time.Second), InfoHash: ih}
	if sw := s.swarms[ih]; sw != nil {
		resp.Complete, resp.Incomplete = sw.complete, sw.incomplete
	}
	return resp
}

// pick returns up to n distinct random peers of sw other than c's, in
// O(n) expected time for swarms much larger than n.
func (s *Server) pick(sw *swarm, c *conn, n int) []*peer {
	others := len(sw.peers) - 1
	if others <= 0 {
		return nil
	}
	n = min(n, others)
	out := make([]*peer, 0, n)
	if 2*n >= others {
		for _, k := range s.rnd.Perm(len(sw.peers)) {
			if p := sw.peers[k]; p.c != c && len(out) < n {
				out = append(out, p)
			}
		}
		return out
	}
	seen := make(map[int]bool, n)
	for len(out) < n {
		k := s.rnd.IntN(len(sw.peers))
		if p := sw.peers[k]; !seen[k] && p.c != c {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// leave removes c's peer from swarm ih (under s.mu).
func (s *Server) leave(c *conn, ih string) {
	pid := c.swarms[ih]
	delete(c.swarms, ih)
	sw := s.swarms[ih]
	if sw == nil {
		return
	}
	i, ok := sw.index[pid]
	if !ok || sw.peers[i].c != c {
		return
	}
	p := sw.peers[i]
	if p.complete {
		sw.complete--
	} else {
		sw.incomplete--
	}
	last := len(sw.peers) - 1
	sw.peers[i] = sw.peers[last]
	sw.index[sw.peers[i].id] = i
	sw.peers[last] = nil
	sw.peers = sw.peers[:last]
	delete(sw.index, pid)
	s.dropEmpty(ih, sw)
}

func (s *Server) dropEmpty(ih string, sw *swarm) {
	if len(sw.peers) == 0 {
		delete(s.swarms, ih)
	}
}

// drop removes a closed connection's peers from their swarms.
func (s *Server) drop(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ih := range c.swarms {
		s.leave(c, ih)
	}
	delete(s.conns, c)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Announces: s.announces.Load(), Scrapes: s.scrapes.Load(), OffersRelayed: s.offers.Load(),
		AnswersRelayed: s.answers.Load(), AnswersDropped: s.answersDropped.Load(), Failures: s.failures.Load(),
		RateLimited: s.rateLimited.Load(), Refused: s.refused.Load(), Closed: map[string]int64{},
	}
	s.closedBy.Range(func(k, v any) bool {
		st.Closed[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	st.Conns, st.Swarms = len(s.conns), len(s.swarms)
	for _, sw := range s.swarms {
		st.Peers += len(sw.peers)
	}
	return st
}

// Shutdown closes every connection with 1001 (going away) and waits for
// their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.close(websocket.StatusGoingAway, "tracker shutting down")
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		s.cancel() // ends reads still waiting
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancel()
		return ctx.Err()
	}
}
