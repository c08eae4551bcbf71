package live

import (
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// TestEpochBurst: a source whose first 2 s arrive late and in one burst
// (gortmplib's track analysis of a video-only RTMP publish) then in real
// time. The implicit epoch moves back to the earliest arrival, so that
// ProducerReferenceTime and availabilityStartTime date the media when it
// arrived, not 2 s later; once an MPD has shown it, it no longer moves;
// SetEpoch fixes it at once.
func TestEpochBurst(t *testing.T) {
	in, err := SampleInputs()
	if err != nil {
		t.Fatal(err)
	}
	d := in[0].Demuxer
	tr := *d.Tracks()[0]
	ts := float64(tr.Timescale)
	clock := NewFakeClock(testEpoch)
	p := New(WithClock(clock), WithLowLatency(true))
	if err := p.AddRendition("v", &tr); err != nil {
		t.Fatal(err)
	}
	// testEpoch is when the first frame was captured; it arrives 2 s
	// late with every frame of those 2 s.
	const late = 2 * time.Second
	var buf []byte
	var shown time.Time
	for smp, err := range media.TrackSamples(d, tr.ID) {
		if err != nil {
			t.Fatal(err)
		}
		if buf, err = d.ReadSample(&smp, buf); err != nil {
			t.Fatal(err)
		}
		capture := testEpoch.Add(time.Duration(float64(smp.DTS) / ts * float64(time.Second)))
		at := capture.Add(5 * time.Millisecond)
		if at.Before(testEpoch.Add(late)) {
			at = testEpoch.Add(late)
		}
		clock.Set(at)
		if err := p.Push("v", smp, buf); err != nil {
			t.Fatal(err)
		}
		if ep, _ := p.Epoch(); shown.IsZero() && capture.Sub(testEpoch) > 3*time.Second {
			if e := ep.Sub(testEpoch); e < 0 || e > 10*time.Millisecond {
				t.Fatalf("after the burst the epoch is %v after the first capture, want 5 ms", e)
			}
			mpd, err := p.MPD(clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(mpd), `availabilityStartTime="2026-01-02T03:04:05.005Z"`) {
				t.Fatalf("MPD:\n%s", mpd)
			}
			shown = ep
		}
		if capture.Sub(testEpoch) > 4*time.Second {
			break
		}
	}
	// A frame that arrives early on the shown map no longer moves it.
	clock.Set(testEpoch.Add(4 * time.Second))
	if err := p.Push("v", media.Sample{DTS: int64(4.5 * ts), PTS: int64(4.5 * ts), Duration: 1000, Sync: true}, []byte{0, 0, 0, 1, 0x65}); err != nil {
		t.Fatal(err)
	}
	if ep, _ := p.Epoch(); !ep.Equal(shown) {
		t.Errorf("the shown epoch moved from %v to %v", shown, ep)
	}

	// SetEpoch: fixed from the start.
	q := New(WithClock(clock))
	tr2 := *d.Tracks()[0]
	if err := q.AddRendition("v", &tr2); err != nil {
		t.Fatal(err)
	}
	q.SetEpoch(testEpoch)
	clock.Set(testEpoch.Add(time.Second))
	if err := q.Push("v", media.Sample{DTS: int64(3 * ts), PTS: int64(3 * ts), Duration: 1000, Sync: true}, []byte{0, 0, 0, 1, 0x65}); err != nil {
		t.Fatal(err)
	}
	if ep, _ := q.Epoch(); !ep.Equal(testEpoch) {
		t.Errorf("SetEpoch's epoch moved to %v", ep)
	}
}
