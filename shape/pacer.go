package shape

import "context"

// Pacer paces bytes that do not go through an HTTP response — a WebRTC
// data channel's uplink, a raw socket — over one client link of the
// shaper: the same token bucket, timeline and loss model as the client's
// HTTP responses, shared with them (the key is the client key).
//
// Design: a peer's uplink is one bottleneck shared by every upload it
// serves, so all its connections take their bytes from one Pacer; each
// Wait reserves its bytes in arrival order, which makes the link
// work-conserving (the swarm simulator models uplinks the same way).
type Pacer struct {
	s *Shaper
	l *link
}

// Pacer returns the pacer of the client link named key (created at the
// first call, its timeline starting then).
func (s *Shaper) Pacer(key string) *Pacer {
	return &Pacer{s: s, l: s.link(clipKey(key), s.clock.Now())}
}

// Wait reserves n bytes on the link and returns when the link has carried
// them (at once when the bucket holds them), or early with ctx's error.
// Send the bytes after Wait returns; send large buffers in pieces of a few
// KiB to a few tens of KiB so that the link's rate holds over short spans.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	if n <= 0 {
		return ctx.Err()
	}
	// Reserved a chunk at a time (about 10 ms of data, as responses
	// are): a sender that gives up (ctx ends) has booked at most one
	// chunk it will not send, instead of the link's time for all n bytes
	// — booked time is never given back, and a peer whose downloads
	// time out would otherwise push its uplink ever further into the
	// future. Concurrent waiters share the rate chunk by chunk.
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := p.s.clock.Now()
		k := min(n, p.l.chunk(now))
		n -= k
		ready := p.l.reserve(now, k, int64(n))
		if d := ready.Sub(now); d > 0 {
			if err := p.s.clock.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
