package live

import (
	"testing"
	"time"
)

// TestWriteTimeoutCoversFirstWait: a user's write timeout shorter than
// the first playlist's wait (HoldLimit + firstWaitSlack) would reset that
// request before the origin answers it; Serve raises it, and keeps longer
// ones and the defaults.
func TestWriteTimeoutCoversFirstWait(t *testing.T) {
	s := newTestStream(t, WithLowLatency(true))
	s.to(5 * time.Second)
	hold := s.p.HoldLimit()
	if got := writeTimeoutFor(time.Second, s.p); got < hold+firstWaitSlack {
		t.Errorf("write timeout 1 s with HoldLimit %v: %v, shorter than the first wait %v", hold, got, hold+firstWaitSlack)
	}
	if got := writeTimeoutFor(time.Hour, s.p); got != time.Hour {
		t.Errorf("write timeout 1 h: %v", got)
	}
	if got := writeTimeoutFor(0, s.p); got != hold+10*time.Second {
		t.Errorf("default: %v, want %v", got, hold+10*time.Second)
	}
	if got := writeTimeoutFor(time.Second, nil); got != time.Second {
		t.Errorf("no packager, 1 s: %v", got)
	}
}
