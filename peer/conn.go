package peer

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// conn is one open data channel to another peer: the protocol of wire.go
// in both directions. pion calls OnMessage from one goroutine per
// channel, so receive runs serially; downloads and uploads run in the
// goroutines that start them.
type conn struct {
	p  *Peer
	id string
	pc *webrtc.PeerConnection
	dc *webrtc.DataChannel

	joiner Joiner // receive only

	mu      sync.Mutex
	has     map[int64]bool // announced as loaded
	loading map[int64]bool // announced as loading over HTTP
	dl      *download
	upReq   int64
	upStop  chan struct{} // closed to stop the upload in progress
	closed  chan struct{}
	once    sync.Once
	sendMu  sync.Mutex
	lowCh   chan struct{}
	lowOnce sync.Once
}

type download struct {
	seg, req int64
	size     int64 // -1 until SegmentData
	buf      []byte
	done     chan error // gets one result
	progress chan struct{}
}

var (
	errAbsent   = errors.New("peer: segment absent")
	errClosed   = errors.New("peer: connection closed")
	errTimeout  = errors.New("peer: no bytes received in time")
	errMismatch = errors.New("peer: data size does not match SegmentData")
)

func (c *conn) close(reason string) {
	c.once.Do(func() {
		close(c.closed)
		p := c.p
		p.mu.Lock()
		if p.conns[c.id] == c {
			delete(p.conns, c.id)
			p.connected.Add(-1)
		}
		p.mu.Unlock()
		c.mu.Lock()
		if c.dl != nil {
			c.dl.finish(errClosed)
			c.dl = nil
		}
		c.mu.Unlock()
		if c.id != "" {
			p.cfg.logf("disconnected from %s: %s", c.id, reason)
		}
		p.closePC(c.pc)
	})
}

// send writes one command; errors close the connection.
func (c *conn) send(m *Message) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for _, b := range m.Encode(MaxMessageSize) {
		if err := c.dc.Send(b); err != nil {
			go c.close("send: " + err.Error())
			return
		}
	}
}

func (d *download) finish(err error) {
	select {
	case d.done <- err:
	default:
	}
}

// receive handles one data channel message.
func (c *conn) receive(b []byte) {
	if !IsCommand(b) {
		c.segmentData(b)
		return
	}
	body, err := c.joiner.Add(b)
	if err != nil || body == nil {
		return // p2p-media-loader drops a broken command and goes on
	}
	m, err := Decode(body)
	if err != nil {
		c.close(err.Error())
		return
	}
	switch m.Cmd {
	case CmdAnnouncement:
		c.mu.Lock()
		c.has = map[int64]bool{}
		for _, id := range m.Loaded {
			c.has[id] = true
		}
		c.loading = map[int64]bool{}
		for _, id := range m.Loading {
			c.loading[id] = true
		}
		c.mu.Unlock()
		c.p.mu.Lock()
		c.p.notifyLocked()
		c.p.mu.Unlock()
	case CmdRequest:
		c.upload(m.Segment, m.Request, m.From)
	case CmdData:
		c.mu.Lock()
		if d := c.dl; d != nil && d.seg == m.Segment && d.req == m.Request && d.size < 0 {
			if m.Size < 0 || m.Size > c.p.cfg.maxSegment {
				d.finish(errMismatch)
			} else {
				d.size = m.Size
				d.buf = make([]byte, 0, int(m.Size))
			}
		}
		c.mu.Unlock()
	case CmdCompleted:
		c.mu.Lock()
		if d := c.dl; d != nil && d.size >= 0 {
			if d.seg != m.Segment || d.req != m.Request || int64(len(d.buf)) != d.size {
				d.finish(errMismatch)
			} else {
				d.finish(nil)
			}
		}
		c.mu.Unlock()
	case CmdAbsent:
		c.mu.Lock()
		if d := c.dl; d != nil && d.seg == m.Segment && d.req == m.Request {
			delete(c.has, m.Segment)
			d.finish(errAbsent)
		}
		c.mu.Unlock()
	case CmdCancel:
		c.mu.Lock()
		if c.upStop != nil && c.upReq == m.Request {
			close(c.upStop)
			c.upStop = nil
		}
		c.mu.Unlock()
	}
}

func (c *conn) segmentData(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dl
	if d == nil || d.size < 0 {
		return
	}
	if int64(len(d.buf)+len(b)) > d.size {
		d.finish(errMismatch)
		return
	}
	d.buf = append(d.buf, b...)
	select {
	case d.progress <- struct{}{}:
	default:
	}
}

// fetch downloads segment id from this peer. Nothing arriving for the
// P2P timeout cancels it.
func (c *conn) fetch(ctx context.Context, id int64) ([]byte, error) {
	d := &download{seg: id, req: int64(mrand.IntN(1000)), size: -1, done: make(chan error, 1), progress: make(chan struct{}, 1)}
	c.mu.Lock()
	if c.dl != nil {
		c.mu.Unlock()
		return nil, errors.New("peer: already downloading from this peer")
	}
	c.dl = d
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.dl == d {
			c.dl = nil
		}
		c.mu.Unlock()
	}()
	c.send(&Message{Cmd: CmdRequest, Segment: id, Request: d.req})
	t := time.NewTimer(c.p.cfg.p2pTimeout)
	defer t.Stop()
	for {
		select {
		case err := <-d.done:
			if err != nil {
				if errors.Is(err, errMismatch) {
					c.close("protocol: " + err.Error())
				}
				return nil, err
			}
			c.mu.Lock()
			buf := d.buf
			c.mu.Unlock()
			return buf, nil
		case <-d.progress:
			if !t.Stop() {
				<-t.C
			}
			t.Reset(c.p.cfg.p2pTimeout)
		case <-t.C:
			c.send(&Message{Cmd: CmdCancel, Segment: id, Request: d.req})
			return nil, errTimeout
		case <-c.closed:
			return nil, errClosed
		case <-ctx.Done():
			c.send(&Message{Cmd: CmdCancel, Segment: id, Request: d.req})
			return nil, ctx.Err()
		}
	}
}

// upload answers a SegmentRequest: stops the upload in progress (one per
// connection), then sends the segment from byte from, or SegmentAbsent.
func (c *conn) upload(id, req, from int64) {
	p := c.p
	p.mu.Lock()
	data, ok := p.segs[id]
	p.mu.Unlock()
	c.mu.Lock()
	if c.upStop != nil {
		close(c.upStop)
		c.upStop = nil
	}
	if !ok || from < 0 || from > int64(len(data)) {
		c.mu.Unlock()
		c.send(&Message{Cmd: CmdAbsent, Segment: id, Request: req})
		return
	}
	stop := make(chan struct{})
	c.upStop, c.upReq = stop, req
	c.mu.Unlock()
	data = data[from:]
	if p.cfg.tamper {
		data = tamper(data)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if c.sendData(id, req, data, stop) {
			p.upSegs.Add(1)
		}
		c.mu.Lock()
		if c.upStop == stop {
			c.upStop = nil
		}
		c.mu.Unlock()
	}()
}

// Flow control: pion queues without bound, so an upload waits while more
// than highWater bytes are buffered (the role of simple-peer's "drain").
const (
	highWater = 1 << 20
	lowWater  = 256 << 10
)

func (c *conn) sendData(id, req int64, data []byte, stop chan struct{}) bool {
	c.lowOnce.Do(func() {
		c.lowCh = make(chan struct{}, 1)
		c.dc.SetBufferedAmountLowThreshold(lowWater)
		c.dc.OnBufferedAmountLow(func() {
			select {
			case c.lowCh <- struct{}{}:
			default:
			}
		})
	})
	var uctx context.Context
	var cancel func()
	defer func() {
		if cancel != nil {
			cancel()
		}
	}()
	c.send(&Message{Cmd: CmdData, Segment: id, Request: req, Size: int64(len(data))})
	for len(data) > 0 {
		for c.dc.BufferedAmount() > highWater {
			select {
			case <-c.lowCh:
			case <-stop:
				return false
			case <-c.closed:
				return false
			case <-time.After(10 * time.Second):
				c.close("peer does not read")
				return false
			}
		}
		select {
		case <-stop:
			return false
		case <-c.closed:
			return false
		default:
		}
		n := min(len(data), MaxMessageSize)
		if u := c.p.cfg.uplink; u != nil {
			if uctx == nil {
				uctx = c.uploadContext(stop, &cancel)
			}
			if u.Wait(uctx, n) != nil {
				return false
			}
		}
		c.sendMu.Lock()
		err := c.dc.Send(data[:n])
		c.sendMu.Unlock()
		if err != nil {
			go c.close(fmt.Sprintf("send: %v", err))
			return false
		}
		c.p.upBytes.Add(int64(n))
		data = data[n:]
	}
	c.send(&Message{Cmd: CmdCompleted, Segment: id, Request: req})
	return true
}

// uploadContext is a context that ends when the upload is stopped or the
// connection closes, for the uplink's Wait; *cancel ends it and waits for
// its watcher to return.
func (c *conn) uploadContext(stop chan struct{}, cancel *func()) context.Context {
	ctx, end := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-stop:
		case <-c.closed:
		case <-ctx.Done():
		}
		end()
	}()
	*cancel = func() { end(); <-done }
	return ctx
}

// tamper returns a copy of data with one byte in 1000 inverted.
func tamper(data []byte) []byte {
	out := append([]byte(nil), data...)
	for i := len(out) / 2 % 1000; i < len(out); i += 1000 {
		out[i] ^= 0xff
	}
	return out
}

// holders lists the connections that announced id as loaded and are not
// downloading now; loading reports whether one is fetching it over HTTP.
func (p *Peer) holders(id int64) (free []*conn, someone bool) {
	p.mu.Lock()
	cs := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		if c.has[id] {
			someone = true
			if c.dl == nil {
				free = append(free, c)
			}
		} else if c.loading[id] {
			someone = true
		}
		c.mu.Unlock()
	}
	return free, someone
}
