package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"time"

	m3u8 "github.com/Eyevinn/hls-m3u8/m3u8"

	"github.com/streamkit-go/streamkit/integrity"
)

// seg is one segment of the followed playlist.
type seg struct {
	id       int64 // p2p-media-loader's externalId
	url      *url.URL
	duration float64
	offset   int64 // byte range, length 0 for the whole file
	length   int64
}

// playlist is what follow learns from one playlist load.
type playlist struct {
	segs   []seg
	init   *seg
	live   bool
	target time.Duration
}

// maxPlaylist bounds a playlist or sidecar read from the origin.
const maxPlaylist = 8 << 20

func (p *Peer) get(ctx context.Context, u *url.URL, offset, length, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if length > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	}
	resp, err := p.cfg.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOrigin, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrOrigin, u, resp.Status)
	}
	if length > 0 && resp.StatusCode != http.StatusPartialContent {
		// A server that ignores Range sends the whole file: storing it as
		// the byte range would serve other peers the wrong bytes.
		return nil, fmt.Errorf("%w: GET %s: %s to a byte-range request (want 206)", ErrOrigin, u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrOrigin, u, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: GET %s: more than %d bytes", ErrOrigin, u, limit)
	}
	return b, nil
}

// load reads the media playlist.
func (p *Peer) load(ctx context.Context) (pl *playlist, err error) {
	b, err := p.get(ctx, p.playlist, 0, 0, maxPlaylist)
	if err != nil {
		return nil, err
	}
	defer func() { // the third-party parser can panic on hostile input
		if r := recover(); r != nil {
			pl, err = nil, fmt.Errorf("%w: malformed playlist %s (%v)", ErrOrigin, p.playlist, r)
		}
	}()
	parsed, typ, err := m3u8.Decode(*bytes.NewBuffer(b), false)
	if err != nil {
		return nil, fmt.Errorf("%w: playlist %s: %v", ErrOrigin, p.playlist, err)
	}
	mp, ok := parsed.(*m3u8.MediaPlaylist)
	if typ != m3u8.MEDIA || !ok {
		return nil, fmt.Errorf("%w: %s is not a media playlist (a peer follows one rendition)", ErrConfig, p.playlist)
	}
	pl = &playlist{live: !mp.Closed, target: time.Duration(mp.TargetDuration) * time.Second}
	resolve := func(uri string) (*url.URL, error) {
		r, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("%w: playlist %s: URI %q: %v", ErrOrigin, p.playlist, uri, err)
		}
		return p.playlist.ResolveReference(r), nil
	}
	if mp.Map != nil {
		u, err := resolve(mp.Map.URI)
		if err != nil {
			return nil, err
		}
		pl.init = &seg{id: -1, url: u, offset: mp.Map.Offset, length: mp.Map.Limit}
	}
	for i, s := range mp.GetAllSegments() {
		if s == nil {
			continue
		}
		u, err := resolve(s.URI)
		if err != nil {
			return nil, err
		}
		id := int64(i) // VOD: the index (p2p-media-loader-hlsjs externalId)
		if pl.live {
			id = int64(mp.SeqNo) + int64(i) // live: the media sequence number
		}
		if pl.init == nil && s.Map != nil {
			mu, err := resolve(s.Map.URI)
			if err != nil {
				return nil, err
			}
			pl.init = &seg{id: -1, url: mu, offset: s.Map.Offset, length: s.Map.Limit}
		}
		pl.segs = append(pl.segs, seg{id: id, url: u, duration: s.Duration, offset: s.Offset, length: s.Limit})
	}
	return pl, nil
}

// checker maps segment URLs to signed entries of the rendition's sidecar.
type checker struct {
	rendition string
	sidecar   *url.URL
	entries   map[string]integrity.Entry // by absolute URL and offset
}

func entryKey(u *url.URL, offset int64) string { return fmt.Sprintf("%s@%d", u.String(), offset) }

// loadSidecar (re)loads the signed sidecar into the verifier.
func (p *Peer) loadSidecar(ctx context.Context, ch *checker) error {
	b, err := p.get(ctx, ch.sidecar, 0, 0, maxPlaylist)
	if err != nil {
		return err
	}
	var sc integrity.Sidecar
	if err := sc.Unmarshal(b); err != nil {
		return err
	}
	if err := p.cfg.verifier.Load(&sc); err != nil {
		return err
	}
	ch.entries = map[string]integrity.Entry{}
	for _, e := range sc.Entries {
		r, err := url.Parse(e.URI)
		if err != nil {
			continue
		}
		ch.entries[entryKey(ch.sidecar.ResolveReference(r), int64(e.Offset))] = e
	}
	return nil
}

// check verifies data of s. It returns an error wrapping
// integrity.ErrUnknown when no signed entry covers s.
func (p *Peer) check(ch *checker, s *seg, data []byte) error {
	if p.cfg.verifier == nil {
		return nil
	}
	e, ok := ch.entries[entryKey(s.url, s.offset)]
	if !ok {
		return fmt.Errorf("%w: no signed entry for %s", integrity.ErrUnknown, s.url)
	}
	return p.cfg.verifier.VerifyEntry(ch.rendition, e, data)
}

// follow loads the playlist (again and again while it is live) and gets
// its segments: all of them at once for a seeder, like a player (at the
// play position plus the buffer ahead) otherwise.
func (p *Peer) follow(ctx context.Context) error {
	var ch *checker
	if p.cfg.verifier != nil {
		rend, sc := integrity.SidecarFor(p.playlist.Path)
		ch = &checker{rendition: rend, sidecar: p.playlist.ResolveReference(&url.URL{Path: sc})}
	}
	var (
		started  bool
		start    time.Time // play clock start
		buffered float64   // seconds of media got since start
		gotInit  bool
		next     int64 = -1 // next id to get
	)
	for {
		pl, err := p.load(ctx)
		if err != nil {
			if !started {
				return err
			}
			p.cfg.logf("playlist: %v", err)
		}
		if err == nil && ch != nil {
			if err := p.loadSidecar(ctx, ch); err != nil {
				if !started {
					return err
				}
				p.cfg.logf("sidecar: %v", err)
			}
		}
		if err == nil {
			if !gotInit && pl.init != nil {
				b, err := p.get(ctx, pl.init.url, pl.init.offset, pl.init.length, p.cfg.maxSegment)
				if err != nil {
					return err
				}
				if ch != nil {
					if err := p.check(ch, pl.init, b); err != nil && !errors.Is(err, integrity.ErrUnknown) {
						return fmt.Errorf("peer: init segment from the origin: %w", err)
					}
				}
				p.httpBytes.Add(int64(len(b)))
				gotInit = true
			}
			if !started && len(pl.segs) > 0 {
				next = pl.segs[0].id
				if pl.live && !p.cfg.seed && len(pl.segs) > 3 {
					next = pl.segs[len(pl.segs)-3].id // a player starts near the live edge
				}
			}
			started = true
			for i := range pl.segs {
				s := &pl.segs[i]
				if s.id < next {
					continue
				}
				if !p.cfg.seed && !pl.live {
					// Keep at most the buffer ahead of the play clock.
					if start.IsZero() {
						start = p.cfg.now()
					}
					for buffered-p.cfg.now().Sub(start).Seconds() > p.cfg.ahead.Seconds() {
						if err := sleep(ctx, 100*time.Millisecond); err != nil {
							return err
						}
					}
				}
				if err := p.obtain(ctx, ch, s); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					p.cfg.logf("segment %d: %v", s.id, err)
					break // retried after the next playlist load
				}
				buffered += s.duration
				next = s.id + 1
			}
		}
		if pl != nil && !pl.live && (len(pl.segs) == 0 || next > pl.segs[len(pl.segs)-1].id) {
			<-ctx.Done() // VOD done: keep serving
			return ctx.Err()
		}
		wait := time.Second
		if pl != nil && pl.target > 0 {
			wait = pl.target / 2
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// obtain gets segment s: from a peer that has it, else, after waiting a
// random part of the P2P wait for someone to get it, from the origin.
// Data from a peer is used only once it passes the integrity check; a
// peer whose data fails it is disconnected.
func (p *Peer) obtain(ctx context.Context, ch *checker, s *seg) error {
	if p.has(s.id) {
		return nil
	}
	if !p.cfg.seed {
		// pctx ends at the P2P deadline (WithP2PDeadline): the wait for
		// peers and a transfer in progress stop there for the origin.
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if p.cfg.p2pDeadline > 0 {
			pctx, cancel = context.WithTimeout(ctx, p.cfg.p2pDeadline)
		}
		defer cancel()
		deadline := time.Now().Add(time.Duration(mrand.Int64N(int64(p.cfg.p2pWait) + 1)))
		for tries := 0; tries < 8 && pctx.Err() == nil; {
			p.mu.Lock()
			changed := p.changed
			p.mu.Unlock()
			free, someone := p.holders(s.id)
			if len(free) > 0 {
				tries++
				c := free[mrand.IntN(len(free))]
				data, err := c.fetch(pctx, s.id)
				if err == nil {
					if err = p.check(ch, s, data); err == nil {
						p.p2pBytes.Add(int64(len(data)))
						p.p2pSegs.Add(1)
						p.store(s.id, data)
						return nil
					}
					p.cfg.logf("segment %d from %s: %v", s.id, c.id, err)
					if errors.Is(err, integrity.ErrMismatch) {
						p.rejectedBytes.Add(int64(len(data)))
						p.rejectedPeers.Add(1)
						// Banned for the peer's lifetime: it would
						// otherwise be back with the next announce.
						p.mu.Lock()
						p.banned[c.id] = true
						p.mu.Unlock()
						c.close("integrity: " + err.Error())
					}
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				continue
			}
			wait := time.Until(deadline)
			if someone {
				wait += p.cfg.p2pWait // someone is fetching it: worth waiting for
			}
			if wait <= 0 {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-changed:
			case <-t.C:
				tries = 8
			case <-pctx.Done():
				t.Stop()
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
			t.Stop()
		}
	}
	p.mu.Lock()
	p.loading[s.id] = true
	p.mu.Unlock()
	p.broadcast()
	data, err := p.get(ctx, s.url, s.offset, s.length, p.cfg.maxSegment)
	if err == nil && ch != nil {
		if err = p.check(ch, s, data); errors.Is(err, integrity.ErrUnknown) {
			err = nil // the origin is trusted; only peers must prove their data
		}
	}
	if err != nil {
		p.mu.Lock()
		delete(p.loading, s.id)
		p.mu.Unlock()
		return err
	}
	p.httpBytes.Add(int64(len(data)))
	p.httpSegs.Add(1)
	p.store(s.id, data)
	return nil
}
