package peer

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
)

// Errors of the peer.
var (
	ErrConfig = errors.New("peer: invalid configuration")
	ErrOrigin = errors.New("peer: origin")
)

// Peer is one participant of a p2p-media-loader swarm: it follows an HLS
// media playlist, gets segments from other peers or the origin, checks
// them, and serves them to the peers it is connected to.
type Peer struct {
	cfg      config
	playlist *url.URL
	infoHash string
	id       string
	api      *webrtc.API

	mu      sync.Mutex
	segs    map[int64][]byte // checked segments by id
	order   []int64          // ids in the order they were stored
	loading map[int64]bool   // ids being fetched from the origin
	conns   map[string]*conn // open data channels by remote peer id
	offers  map[string]*webrtc.PeerConnection
	banned  map[string]bool                   // peers that sent data failing the integrity check
	timers  map[string]*time.Timer            // offer timeouts by offer id, stopped when Run returns
	pcs     map[*webrtc.PeerConnection]string // every connection, to close them all, with its remote peer id once known
	changed chan struct{}                     // closed and replaced when a peer announces

	wsMu sync.Mutex
	ws   *websocket.Conn

	wg sync.WaitGroup

	httpBytes, p2pBytes, upBytes, rejectedBytes atomic.Int64
	httpSegs, p2pSegs, upSegs, rejectedPeers    atomic.Int64
	connected                                   atomic.Int64
}

// New returns a peer for the HLS media playlist at playlistURL.
func New(playlistURL string, opts ...Option) (*Peer, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	u, err := url.Parse(playlistURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: playlist URL %q is not an http(s) URL", ErrConfig, playlistURL)
	}
	if cfg.tracker != "" {
		t, err := url.Parse(cfg.tracker)
		if err != nil || (t.Scheme != "ws" && t.Scheme != "wss") {
			return nil, fmt.Errorf("%w: tracker %q is not a ws(s) URL", ErrConfig, cfg.tracker)
		}
	}
	swarm := cfg.swarmID
	if swarm == "" {
		swarm = ManifestSwarmID(playlistURL)
	}
	return &Peer{
		cfg:      cfg,
		playlist: u,
		infoHash: InfoHash(StreamSwarmID(swarm, cfg.attrs)),
		id:       NewPeerID(),
		api:      cfg.api(),
		segs:     map[int64][]byte{},
		loading:  map[int64]bool{},
		conns:    map[string]*conn{},
		offers:   map[string]*webrtc.PeerConnection{},
		banned:   map[string]bool{},
		timers:   map[string]*time.Timer{},
		pcs:      map[*webrtc.PeerConnection]string{},
		changed:  make(chan struct{}),
	}, nil
}

// ID is the peer id it announces.
func (p *Peer) ID() string { return p.id }

// InfoHash is the swarm's info hash at the tracker.
func (p *Peer) InfoHash() string { return p.infoHash }

// Stats are a peer's counters.
type Stats struct {
	// HTTPBytes and HTTPSegments came from the origin; P2PBytes and
	// P2PSegments from peers (checked, used); UploadBytes and
	// UploadSegments were sent to peers.
	HTTPBytes, P2PBytes, UploadBytes          int64
	HTTPSegments, P2PSegments, UploadSegments int64
	// RejectedBytes failed the integrity check; RejectedPeers were
	// disconnected for it.
	RejectedBytes, RejectedPeers int64
	// Peers are connected now.
	Peers int64
}

// Offload is the share of the bytes used that came from peers.
func (s Stats) Offload() float64 {
	if s.HTTPBytes+s.P2PBytes == 0 {
		return 0
	}
	return float64(s.P2PBytes) / float64(s.HTTPBytes+s.P2PBytes)
}

// Stats returns the counters so far.
func (p *Peer) Stats() Stats {
	return Stats{
		HTTPBytes: p.httpBytes.Load(), P2PBytes: p.p2pBytes.Load(), UploadBytes: p.upBytes.Load(),
		HTTPSegments: p.httpSegs.Load(), P2PSegments: p.p2pSegs.Load(), UploadSegments: p.upSegs.Load(),
		RejectedBytes: p.rejectedBytes.Load(), RejectedPeers: p.rejectedPeers.Load(),
		Peers: p.connected.Load(),
	}
}

// Run joins the swarm and follows the stream until ctx ends (a VOD
// stream: then keeps serving until ctx ends). It returns ctx's error, or
// the first error that stops it (the tracker or origin unreachable at
// start). Every goroutine it starts has ended when it returns.
func (p *Peer) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		p.closeAll()
		p.wg.Wait()
		p.cfg.client.CloseIdleConnections()
	}()
	errc := make(chan error, 2)
	if p.cfg.tracker != "" {
		ws, _, err := websocket.Dial(ctx, p.cfg.tracker, nil)
		if err != nil {
			return fmt.Errorf("peer: tracker %s: %w", p.cfg.tracker, err)
		}
		ws.SetReadLimit(256 << 10)
		p.wsMu.Lock()
		p.ws = ws
		p.wsMu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			errc <- p.trackerLoop(ctx, ws)
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		errc <- p.follow(ctx)
	}()
	select {
	case err := <-errc:
		if ctx.Err() == nil && err != nil {
			return err
		}
	case <-ctx.Done():
	}
	return ctx.Err()
}

// closeAll closes the tracker socket and every peer connection.
func (p *Peer) closeAll() {
	p.wsMu.Lock()
	if p.ws != nil {
		_ = p.ws.Close(websocket.StatusNormalClosure, "")
	}
	p.wsMu.Unlock()
	p.mu.Lock()
	for _, t := range p.timers {
		t.Stop()
	}
	p.timers = map[string]*time.Timer{}
	pcs := make([]*webrtc.PeerConnection, 0, len(p.pcs))
	for pc := range p.pcs {
		pcs = append(pcs, pc)
	}
	p.pcs = map[*webrtc.PeerConnection]string{}
	p.mu.Unlock()
	for _, pc := range pcs {
		_ = pc.Close()
	}
}

// notify wakes whoever waits for an announcement.
func (p *Peer) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// store keeps a checked segment and announces it.
func (p *Peer) store(id int64, data []byte) {
	p.mu.Lock()
	if _, ok := p.segs[id]; !ok {
		p.segs[id] = data
		p.order = append(p.order, id)
		for len(p.order) > p.cfg.cache {
			delete(p.segs, p.order[0])
			p.order = p.order[1:]
		}
	}
	delete(p.loading, id)
	p.mu.Unlock()
	p.broadcast()
}

func (p *Peer) has(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.segs[id]
	return ok
}

// announcement is what this peer has and is loading over HTTP.
func (p *Peer) announcement() *Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := &Message{Cmd: CmdAnnouncement, Loaded: append([]int64(nil), p.order...)}
	for id := range p.loading {
		m.Loading = append(m.Loading, id)
	}
	sort.Slice(m.Loaded, func(i, j int) bool { return m.Loaded[i] < m.Loaded[j] })
	sort.Slice(m.Loading, func(i, j int) bool { return m.Loading[i] < m.Loading[j] })
	return m
}

func (p *Peer) broadcast() {
	m := p.announcement()
	p.mu.Lock()
	cs := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.send(m)
	}
}

// --- tracker ---

type trackerMsg struct {
	Action   string                     `json:"action"`
	InfoHash string                     `json:"info_hash"`
	PeerID   string                     `json:"peer_id"`
	Interval int                        `json:"interval"`
	Offer    *webrtc.SessionDescription `json:"offer"`
	Answer   *webrtc.SessionDescription `json:"answer"`
	OfferID  string                     `json:"offer_id"`
	Failure  string                     `json:"failure reason"`
}

func (p *Peer) sendTracker(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p.wsMu.Lock()
	defer p.wsMu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return p.ws.Write(wctx, websocket.MessageText, b)
}

// trackerLoop announces, then relays offers and answers until ctx ends.
func (p *Peer) trackerLoop(ctx context.Context, ws *websocket.Conn) error {
	interval := p.cfg.announce
	announce := make(chan struct{}, 1)
	announce <- struct{}{}
	msgs := make(chan trackerMsg)
	readErr := make(chan error, 1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				readErr <- err
				return
			}
			var m trackerMsg
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	var timer <-chan time.Time
	first := true
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return fmt.Errorf("peer: tracker: %w", err)
		case <-timer:
			timer = nil
			select {
			case announce <- struct{}{}:
			default:
			}
		case <-announce:
			if err := p.announce(ctx, first); err != nil {
				return err
			}
			first = false
		case m := <-msgs:
			if m.Failure != "" {
				p.cfg.logf("tracker: %s", m.Failure)
				continue
			}
			if m.Interval > 0 && timer == nil {
				d := time.Duration(m.Interval) * time.Second
				if interval > 0 {
					d = interval
				}
				timer = time.After(d)
			}
			if m.InfoHash != p.infoHash || m.PeerID == "" || m.PeerID == p.id {
				continue
			}
			switch {
			case m.Offer != nil:
				// Answering waits for ICE gathering: not on this loop.
				// (trackerLoop holds a count of wg, so Add is safe.)
				p.wg.Add(1)
				go func() {
					defer p.wg.Done()
					p.answer(ctx, m)
				}()
			case m.Answer != nil:
				p.mu.Lock()
				pc := p.offers[m.OfferID]
				delete(p.offers, m.OfferID)
				_, dup := p.conns[m.PeerID]
				dup = dup || p.banned[m.PeerID]
				if _, open := p.pcs[pc]; open && pc != nil {
					p.pcs[pc] = m.PeerID
				}
				p.mu.Unlock()
				if pc == nil {
					continue
				}
				if dup {
					p.closePC(pc)
					continue
				}
				if err := pc.SetRemoteDescription(*m.Answer); err != nil {
					p.cfg.logf("answer from %s: %v", m.PeerID, err)
					p.closePC(pc)
				}
			}
		}
	}
}

func (p *Peer) newPC() (*webrtc.PeerConnection, error) {
	conf := webrtc.Configuration{}
	if !p.cfg.loopback {
		conf.ICEServers = p.cfg.iceServers
	}
	pc, err := p.api.NewPeerConnection(conf)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.pcs[pc] = ""
	p.mu.Unlock()
	return pc, nil
}

func (p *Peer) closePC(pc *webrtc.PeerConnection) {
	p.mu.Lock()
	delete(p.pcs, pc)
	p.mu.Unlock()
	_ = pc.Close()
}

// gathered waits for ICE gathering: bittorrent-tracker clients signal
// without trickle, every candidate in the one offer or answer.
func gathered(ctx context.Context, pc *webrtc.PeerConnection) (*webrtc.SessionDescription, error) {
	done := webrtc.GatheringCompletePromise(pc)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errors.New("ICE gathering timed out")
	}
	return pc.LocalDescription(), nil
}

type wireOffer struct {
	OfferID string                     `json:"offer_id"`
	Offer   *webrtc.SessionDescription `json:"offer"`
}

// announce sends an announce with fresh offers (as many as peers are
// still wanted, at most the bittorrent-tracker client's 5).
func (p *Peer) announce(ctx context.Context, first bool) error {
	want := min(p.cfg.offers, p.cfg.maxPeers-int(p.connected.Load()))
	// Gathered in parallel: without trickle each offer waits for ICE
	// gathering, which takes seconds with STUN on a real network.
	type made struct {
		o   wireOffer
		err error
	}
	res := make(chan made, max(want, 0))
	for i := 0; i < want; i++ {
		go func() {
			o, err := p.offer(ctx)
			res <- made{o, err}
		}()
	}
	var offers []wireOffer
	var firstErr error
	for i := 0; i < want; i++ {
		m := <-res
		if m.err != nil {
			firstErr = cmp.Or(firstErr, m.err)
			continue
		}
		offers = append(offers, m.o)
	}
	if len(offers) == 0 && firstErr != nil {
		return firstErr
	}
	event := "update"
	if first {
		event = "started"
	}
	left := 1
	if p.cfg.seed {
		left = 0
	}
	return p.sendTracker(ctx, map[string]any{
		"action": "announce", "info_hash": p.infoHash, "peer_id": p.id, "event": event,
		"numwant": len(offers), "uploaded": p.upBytes.Load(), "downloaded": p.p2pBytes.Load(),
		"left": left, "offers": offers,
	})
}

// offer makes one offer with its data channel, kept until answered or
// for the offer timeout (bittorrent-tracker's OFFER_TIMEOUT, 50 s).
func (p *Peer) offer(ctx context.Context) (wireOffer, error) {
	pc, err := p.newPC()
	if err != nil {
		return wireOffer{}, err
	}
	label := make([]byte, 20)
	_, _ = rand.Read(label)
	dc, err := pc.CreateDataChannel(hex.EncodeToString(label), nil)
	if err != nil {
		p.closePC(pc)
		return wireOffer{}, err
	}
	idb := make([]byte, 20)
	_, _ = rand.Read(idb)
	offerID := binaryString(idb)
	p.watch(pc, dc)
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	var sd *webrtc.SessionDescription
	if err == nil {
		sd, err = gathered(ctx, pc)
	}
	if err != nil {
		p.closePC(pc)
		return wireOffer{}, fmt.Errorf("peer: offer: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offers[offerID] = pc
	p.timers[offerID] = time.AfterFunc(p.cfg.offerTimeout, func() {
		p.mu.Lock()
		stale := p.offers[offerID] == pc
		delete(p.offers, offerID)
		delete(p.timers, offerID)
		p.mu.Unlock()
		if stale {
			p.closePC(pc)
		}
	})
	return wireOffer{OfferID: offerID, Offer: sd}, nil
}

// binaryString turns bytes into a JavaScript "binary string" (one
// character per byte), as bittorrent-tracker's hex2bin makes offer ids.
func binaryString(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// answer answers a relayed offer.
func (p *Peer) answer(ctx context.Context, m trackerMsg) {
	p.mu.Lock()
	_, dup := p.conns[m.PeerID]
	// p.pcs holds the connections being set up as well as the open
	// ones: counting them keeps a busy or hostile swarm from making us
	// set up connections without bound.
	full := len(p.conns) >= p.cfg.maxPeers || len(p.pcs) >= 2*p.cfg.maxPeers
	banned := p.banned[m.PeerID]
	p.mu.Unlock()
	if dup || full || banned {
		return
	}
	pc, err := p.newPC()
	if err != nil {
		return
	}
	key := "answer:" + m.PeerID + ":" + m.OfferID
	p.mu.Lock()
	p.pcs[pc] = m.PeerID
	// An answered offer whose data channel never opens (ICE failed, the
	// remote went away) is closed after the offer timeout, like our own
	// offers; watch only covers connections whose channel arrived.
	p.timers[key] = time.AfterFunc(p.cfg.offerTimeout, func() {
		p.mu.Lock()
		c, ok := p.conns[m.PeerID]
		_, pending := p.pcs[pc]
		delete(p.timers, key)
		p.mu.Unlock()
		if pending && (!ok || c.pc != pc) {
			p.closePC(pc)
		}
	})
	p.mu.Unlock()
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { p.watch(pc, dc) })
	err = pc.SetRemoteDescription(*m.Offer)
	var ans webrtc.SessionDescription
	if err == nil {
		ans, err = pc.CreateAnswer(nil)
	}
	if err == nil {
		err = pc.SetLocalDescription(ans)
	}
	var sd *webrtc.SessionDescription
	if err == nil {
		sd, err = gathered(ctx, pc)
	}
	if err == nil {
		err = p.sendTracker(ctx, map[string]any{
			"action": "announce", "info_hash": p.infoHash, "peer_id": p.id,
			"to_peer_id": m.PeerID, "offer_id": m.OfferID, "answer": sd,
		})
	}
	if err != nil {
		p.cfg.logf("answering %s: %v", m.PeerID, err)
		p.closePC(pc)
	}
}

// watch turns a data channel into a connection once it opens. The remote
// peer id is learnt from the tracker message that set up pc.
func (p *Peer) watch(pc *webrtc.PeerConnection, dc *webrtc.DataChannel) {
	c := &conn{p: p, pc: pc, dc: dc, has: map[int64]bool{}, closed: make(chan struct{})}
	dc.OnOpen(func() {
		// The remote id is the one the tracker named for this pc.
		p.mu.Lock()
		id, open := p.pcs[pc]
		_, dup := p.conns[id]
		if dup || id == "" || !open || p.banned[id] {
			p.mu.Unlock()
			p.closePC(pc)
			return
		}
		c.id = id
		p.conns[id] = c
		p.mu.Unlock()
		p.connected.Add(1)
		p.cfg.logf("connected to %s", id)
		c.send(p.announcement())
	})
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { c.receive(msg.Data) })
	dc.OnClose(func() { c.close("data channel closed") })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateDisconnected {
			c.close("connection " + s.String())
		}
	})
}
