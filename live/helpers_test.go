package live

import (
	"testing"
	"time"
)

var testEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testStream is the embedded ladder on a packager and a fake clock,
// driven by pushing up to a live time and setting the clock there.
type testStream struct {
	t     testing.TB
	clock *FakeClock
	p     *Packager
	src   *FileSource
}

func newTestStream(t testing.TB, opts ...Option) *testStream {
	t.Helper()
	clock := NewFakeClock(testEpoch)
	p := New(append([]Option{WithClock(clock)}, opts...)...)
	src, err := NewSampleSource(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Close)
	return &testStream{t: t, clock: clock, p: p, src: src}
}

// to pushes every sample before live time d and sets the clock there.
func (s *testStream) to(d time.Duration) {
	s.t.Helper()
	if _, err := s.src.PushUntil(d); err != nil {
		s.t.Fatal(err)
	}
	ep, _ := s.p.Epoch()
	s.clock.Set(ep.Add(d))
}

// restart stops the stream's source where it is (a discontinuity), starts
// a new one at NextTime and pushes d of it; it returns the new source and
// where it started.
func (s *testStream) restart(d time.Duration) (*FileSource, time.Duration) {
	s.t.Helper()
	if err := s.p.Discontinuity(nil); err != nil {
		s.t.Fatal(err)
	}
	start := s.p.NextTime()
	src, err := NewSampleSource(s.p, WithStartAt(start))
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := src.PushUntil(start + d); err != nil {
		s.t.Fatal(err)
	}
	return src, start
}
