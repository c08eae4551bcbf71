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
	now := p.s.clock.Now()
	ready := p.l.reserve(now, n, -1)
	if d := ready.Sub(now); d > 0 {
		return p.s.clock.Sleep(ctx, d)
	}
	return ctx.Err()
}
