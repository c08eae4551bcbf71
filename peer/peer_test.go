package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/internal/netns"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/tracker"
)

// origin is a signed VOD rendition served over HTTP on loopback: the
// peers never parse media, so random bytes stand in for segments.
type origin struct {
	srv      *httptest.Server
	tr       *httptest.Server
	trk      *tracker.Server
	segs     [][]byte
	verifier func() *integrity.Verifier
}

func newOrigin(t *testing.T, n, size int) *origin {
	t.Helper()
	pub, priv, err := integrity.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := integrity.NewSigner(priv, "test-stream")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var pl strings.Builder
	pl.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n")
	o := &origin{}
	for i := 0; i < n; i++ {
		b := make([]byte, size+i*1000)
		rand.Read(b)
		name := fmt.Sprintf("seg_%d.m4s", i+1)
		files["/v/"+name] = b
		o.segs = append(o.segs, b)
		if _, err := signer.AddSegment("video", uint64(i+1), name, b); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&pl, "#EXTINF:2.000,\n%s\n", name)
	}
	pl.WriteString("#EXT-X-ENDLIST\n")
	files["/v/video.m3u8"] = []byte(pl.String())
	sc, err := signer.Sidecar("video")
	if err != nil {
		t.Fatal(err)
	}
	if files["/v/"+integrity.SidecarName("video")], err = sc.Marshal(); err != nil {
		t.Fatal(err)
	}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(o.srv.Close)
	o.trk = tracker.New()
	o.tr = httptest.NewServer(o.trk)
	t.Cleanup(func() {
		o.trk.Shutdown(context.Background())
		o.tr.Close()
	})
	o.verifier = func() *integrity.Verifier { return integrity.NewVerifier(pub, "test-stream") }
	return o
}

func (o *origin) playlist() string { return o.srv.URL + "/v/video.m3u8" }
func (o *origin) tracker() string  { return "ws" + strings.TrimPrefix(o.tr.URL, "http") }

func (o *origin) peer(t *testing.T, opts ...Option) *Peer {
	t.Helper()
	opts = append([]Option{WithTracker(o.tracker()), WithVerifier(o.verifier()), WithLoopbackOnly(),
		WithLogf(func(f string, a ...any) { t.Logf("%p "+f, append([]any{t}, a...)...) })}, opts...)
	p, err := New(o.playlist(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run starts p and returns a function that stops it and waits for it.
func run(t *testing.T, ctx context.Context, p *Peer) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil && err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
	}
}

// waitFor polls cond (bounded by ctx).
func waitFor(ctx context.Context, cond func() bool) bool {
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

func (p *Peer) segment(id int64) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.segs[id]
}

// B gets segments from A through our tracker, on loopback, inside a
// network namespace of the test's own.
func TestGoPeersShareSegments(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	before := runtime.NumGoroutine()
	t.Cleanup(func() { testtool.CheckGoroutines(t, before) }) // after the servers' cleanups
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	o := newOrigin(t, 6, 150_000) // > 2 data chunks per segment
	up := &countingUplink{}
	a := o.peer(t, WithSeed(), WithUplink(up))
	stopA := run(t, ctx, a)
	defer stopA()
	if !waitFor(ctx, func() bool { return a.Stats().HTTPSegments == 6 }) {
		t.Fatalf("seeder got %d of 6 segments", a.Stats().HTTPSegments)
	}
	b := o.peer(t, WithP2PWait(5*time.Second))
	stopB := run(t, ctx, b)
	defer stopB()
	if !waitFor(ctx, func() bool { s := b.Stats(); return s.HTTPSegments+s.P2PSegments == 6 }) {
		t.Fatalf("follower got %+v", b.Stats())
	}
	sa, sb := a.Stats(), b.Stats()
	t.Logf("seeder %+v\nfollower %+v offload %.0f%%", sa, sb, 100*sb.Offload())
	if sb.P2PBytes == 0 || sb.P2PSegments == 0 {
		t.Errorf("follower received nothing from the seeder: %+v", sb)
	}
	if sa.UploadBytes < sb.P2PBytes {
		t.Errorf("seeder uploaded %d bytes, follower received %d from peers", sa.UploadBytes, sb.P2PBytes)
	}
	for i, want := range o.segs {
		if got := b.segment(int64(i)); !bytes.Equal(got, want) {
			t.Errorf("segment %d: follower has %d bytes that differ from the origin's %d", i, len(got), len(want))
		}
	}
	if n := up.n.Load(); n != sa.UploadBytes {
		t.Errorf("seeder's uplink paced %d bytes, it uploaded %d", n, sa.UploadBytes)
	}
	if sa.Peers != 1 || sb.Peers != 1 {
		t.Errorf("peers connected: seeder %d, follower %d, want 1 each", sa.Peers, sb.Peers)
	}
}

// With a P2P deadline a follower stops waiting for a holder that sends
// nothing and takes the segment from the origin; without one it would try
// that holder again and again (2 s without bytes each time).
func TestP2PDeadlineFallsBackToOrigin(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	o := newOrigin(t, 4, 100_000)
	a := o.peer(t, WithSeed(), WithUplink(stuckUplink{}))
	stopA := run(t, ctx, a)
	defer stopA()
	if !waitFor(ctx, func() bool { return a.Stats().HTTPSegments == 4 }) {
		t.Fatalf("seeder got %d of 4 segments", a.Stats().HTTPSegments)
	}
	b := o.peer(t, WithP2PWait(5*time.Second), WithP2PDeadline(300*time.Millisecond))
	stopB := run(t, ctx, b)
	defer stopB()
	if !waitFor(ctx, func() bool { s := b.Stats(); return s.HTTPSegments+s.P2PSegments == 4 }) {
		t.Fatalf("follower got %+v", b.Stats())
	}
	if s := b.Stats(); s.HTTPSegments != 4 || s.P2PBytes != 0 {
		t.Errorf("follower: %+v, want every segment from the origin", s)
	}
	if s := a.Stats(); s.UploadSegments != 0 {
		t.Errorf("the stuck seeder completed %d uploads", s.UploadSegments)
	}
}

// stuckUplink never lets a byte through.
type stuckUplink struct{}

func (stuckUplink) Wait(ctx context.Context, n int) error {
	<-ctx.Done()
	return ctx.Err()
}

// countingUplink counts the bytes it is asked to pace.
type countingUplink struct{ n atomic.Int64 }

func (u *countingUplink) Wait(ctx context.Context, n int) error {
	u.n.Add(int64(n))
	return ctx.Err()
}

// A peer that sends altered bytes is caught by the integrity check and
// disconnected; the follower uses only the origin's bytes.
func TestTamperingPeerIsDisconnected(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	o := newOrigin(t, 4, 100_000)
	bad := o.peer(t, WithSeed(), WithTamperForTesting())
	stopBad := run(t, ctx, bad)
	defer stopBad()
	if !waitFor(ctx, func() bool { return bad.Stats().HTTPSegments == 4 }) {
		t.Fatalf("tampering seeder got %d of 4 segments", bad.Stats().HTTPSegments)
	}
	b := o.peer(t, WithP2PWait(time.Second))
	stopB := run(t, ctx, b)
	defer stopB()
	if !waitFor(ctx, func() bool { s := b.Stats(); return s.HTTPSegments+s.P2PSegments == 4 }) {
		t.Fatalf("follower got %+v", b.Stats())
	}
	sb := b.Stats()
	t.Logf("follower %+v, tamperer %+v", sb, bad.Stats())
	if sb.RejectedPeers < 1 || sb.RejectedBytes == 0 {
		t.Errorf("the tampering peer was not caught: %+v", sb)
	}
	if sb.P2PBytes != 0 {
		t.Errorf("follower used %d bytes from the tampering peer", sb.P2PBytes)
	}
	if !waitFor(ctx, func() bool { return b.Stats().Peers == 0 && bad.Stats().Peers == 0 }) {
		t.Errorf("tampering peer still connected: follower %d peers, tamperer %d", b.Stats().Peers, bad.Stats().Peers)
	}
	for i, want := range o.segs {
		if got := b.segment(int64(i)); !bytes.Equal(got, want) {
			t.Errorf("segment %d differs from the origin's", i)
		}
	}
}
