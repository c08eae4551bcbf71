package shape

import (
	"context"
	"testing"
	"time"
)

func TestPacerFollowsTheLinkRate(t *testing.T) {
	sc := &Scenario{Phases: []Phase{{DurationS: 10, Kbps: 800}, {DurationS: 10, Kbps: 1600}}}
	clk := NewFakeClock(time.Unix(0, 0))
	s, err := New(sc, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Pacer("peer-1")
	ctx := context.Background()
	t0 := clk.Now()
	// 1.6 MB = 12.8 Mbit: 8 Mbit in the 10 s at 800 kbit/s, the other
	// 4.8 Mbit in 3 s at 1600 (the bucket starts empty)
	for range 100 {
		if err := p.Wait(ctx, 16000); err != nil {
			t.Fatal(err)
		}
	}
	got := clk.Now().Sub(t0)
	if want := 13 * time.Second; got < want-10*time.Millisecond || got > want+10*time.Millisecond {
		t.Errorf("1.6 MB over 800 then 1600 kbit/s took %v, want %v", got, want)
	}
	// a second pacer of another key is a link of its own
	q := s.Pacer("peer-2")
	t1 := clk.Now()
	if err := q.Wait(ctx, 100000); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(t1); got < 990*time.Millisecond || got > 1010*time.Millisecond {
		t.Errorf("100 kB on a fresh 800 kbit/s link took %v, want 1 s", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Wait(cctx, 1); err == nil {
		t.Error("Wait with a cancelled context returned nil")
	}
}
