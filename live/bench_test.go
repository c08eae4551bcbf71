package live

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
)

// BenchmarkPush: packaging one second of the four-rendition sample
// stream (≈ 122 samples, 20 parts): cutting, CMAF writing, publishing.
func BenchmarkPush(b *testing.B) {
	s := newTestStream(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.src.PushUntil(time.Duration(i+1) * time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMediaPlaylist: rendering an LL-HLS media playlist with a 30 s
// window (the work of every playlist response).
func BenchmarkMediaPlaylist(b *testing.B) {
	s := newTestStream(b)
	s.to(40 * time.Second)
	r := s.p.Rendition("v0")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.p.mu.Lock()
		_ = s.p.renderMediaPlaylist(r, i%2 == 0, false)
		s.p.mu.Unlock()
	}
}

// BenchmarkServePart: the origin answering a part request (in process).
func BenchmarkServePart(b *testing.B) {
	s := newTestStream(b)
	s.to(5 * time.Second)
	o := NewOrigin(s.p)
	req := httptest.NewRequest(http.MethodGet, "/live/v2/part_1_3.m4s", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		o.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkWake1000: 1000 requests held on the next part, then the part is
// published; the time is from the publish to every handler having
// rendered its playlist (per publish: divide by 1000 for one waiter).
func BenchmarkWake1000(b *testing.B) {
	s := newTestStream(b)
	s.to(5 * time.Second)
	o := NewOrigin(s.p)
	now := 5 * time.Second
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := s.p.Rendition("v0")
		s.p.mu.Lock()
		msn, part, _ := r.lastPart()
		s.p.mu.Unlock()
		base := s.clock.Timers()
		var wg sync.WaitGroup
		for k := 0; k < 1000; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := httptest.NewRequest(http.MethodGet, "/live/v0/media.m3u8?_HLS_msn="+itoa(msn)+"&_HLS_part="+itoa(int64(part+1)), nil).WithContext(context.Background())
				o.ServeHTTP(httptest.NewRecorder(), req)
			}()
		}
		s.clock.WaitTimers(base+1000, nil)
		b.StartTimer()
		now += 200 * time.Millisecond
		s.to(now)
		wg.Wait()
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// BenchmarkPushSigned: BenchmarkPush with WithSigner: every part and
// segment is hashed and signed, and the sidecar re-signed and rendered,
// as it is published.
func BenchmarkPushSigned(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	clock := NewFakeClock(testEpoch)
	sg, err := integrity.NewSigner(priv, "bench", integrity.WithClock(clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	p := New(WithClock(clock), WithSigner(sg))
	src, err := NewSampleSource(p)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := src.PushUntil(time.Duration(i+1) * time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
