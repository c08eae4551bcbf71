package httpserver

import (
	"container/list"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// limitListener admits at most max connections at once. Unlike a
// semaphore around Accept, it accepts first and then makes room by
// closing the connection that has been idle longest: a client that
// arrives while the server is full of idle sockets is served, not queued
// behind them. Only when every connection is running a request does
// Accept wait for one to close.
//
// The http.Server reports connection states to connState; a connection is
// evictable while it is new (no request yet) or idle between requests.
// An idle connection whose next request is just arriving can be evicted
// in that instant; HTTP clients retry an idempotent request on a
// keep-alive connection closed under them, which is the same race any
// idle timeout has.
type limitListener struct {
	net.Listener
	max     int
	mu      sync.Mutex
	open    int
	idle    *list.List    // of *trackedConn, longest idle first
	free    chan struct{} // a slot was freed or a connection became evictable
	done    chan struct{}
	once    sync.Once
	evicted atomic.Int64
}

func newLimitListener(ln net.Listener, max int) *limitListener {
	return &limitListener{Listener: ln, max: max, idle: list.New(), free: make(chan struct{}, 1), done: make(chan struct{})}
}

type trackedConn struct {
	net.Conn
	l      *limitListener
	elem   *list.Element // in l.idle while evictable
	closed bool          // guarded by l.mu
	once   sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	for l.open >= l.max {
		if e := l.idle.Front(); e != nil {
			victim := e.Value.(*trackedConn)
			l.idle.Remove(e)
			victim.elem = nil
			l.mu.Unlock()
			l.evicted.Add(1)
			victim.Close()
			l.mu.Lock()
			continue
		}
		l.mu.Unlock()
		select {
		case <-l.free:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
		l.mu.Lock()
	}
	l.open++
	tc := &trackedConn{Conn: c, l: l}
	tc.elem = l.idle.PushBack(tc)
	l.mu.Unlock()
	return tc, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) connState(c net.Conn, st http.ConnState) {
	if t, ok := c.(*tls.Conn); ok { // WithTLS: the server wraps our conn
		c = t.NetConn()
	}
	tc, ok := c.(*trackedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if tc.closed {
		return
	}
	switch st {
	case http.StateNew:
		if tc.elem == nil {
			tc.elem = l.idle.PushBack(tc)
		}
	case http.StateIdle:
		// Idle since now: to the back of the eviction order.
		if tc.elem != nil {
			l.idle.Remove(tc.elem)
		}
		tc.elem = l.idle.PushBack(tc)
		l.signal() // an Accept waiting for room can evict it now
	default: // active, hijacked or closed: not evictable
		if tc.elem != nil {
			l.idle.Remove(tc.elem)
			tc.elem = nil
		}
	}
}

func (l *limitListener) stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{Open: l.open, Idle: l.idle.Len(), Evicted: l.evicted.Load()}
}

// NetConn returns the accepted connection, as *tls.Conn's does, so that
// code reaching for the socket (a shaper's reset fault sets SO_LINGER 0
// on the *net.TCPConn) sees through the tracking.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

// Close releases the connection's slot once, however often it is called
// (by the server, by eviction, by a hijacker).
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		l := c.l
		l.mu.Lock()
		c.closed = true
		if c.elem != nil {
			l.idle.Remove(c.elem)
			c.elem = nil
		}
		l.open--
		l.signal()
		l.mu.Unlock()
	})
	return err
}

// signal wakes an Accept waiting for room.
func (l *limitListener) signal() {
	select {
	case l.free <- struct{}{}:
	default:
	}
}
