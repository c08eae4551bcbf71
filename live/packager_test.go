package live

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// TestSegmentsAndParts checks the cutting rules on the sample ladder:
// video segments start at key frames near the target, parts hold at
// most PART-TARGET and, but for a video segment's last, at least 85 % of it;
// a video part is independent exactly when it starts with a key frame;
// part durations add up to the segment's.
func TestSegmentsAndParts(t *testing.T) {
	s := newTestStream(t)
	s.to(20 * time.Second)
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	for _, r := range s.p.rends {
		ts := float64(r.Track.Timescale)
		complete := 0
		for _, seg := range r.segs {
			if !seg.Complete {
				continue
			}
			complete++
			var sum int64
			for i, pt := range seg.Parts {
				sum += pt.Duration
				if pt.Duration > r.partDur {
					t.Errorf("%s seg %d part %d: %d ticks > part target %d", r.Name, seg.MSN, i, pt.Duration, r.partDur)
				}
				// Audio is cut on an even grid: its last part is full too.
				if (i < len(seg.Parts)-1 || r.Track.Kind == media.KindAudio) && float64(pt.Duration) < 0.85*float64(r.partDur) {
					t.Errorf("%s seg %d part %d: %d ticks < 85%% of %d", r.Name, seg.MSN, i, pt.Duration, r.partDur)
				}
				if r.Track.Kind == media.KindVideo && pt.Independent != (i == 0) {
					t.Errorf("%s seg %d part %d: independent=%v", r.Name, seg.MSN, i, pt.Independent)
				}
			}
			if sum != seg.Duration {
				t.Errorf("%s seg %d: parts sum to %d ticks, segment lasts %d", r.Name, seg.MSN, sum, seg.Duration)
			}
			if d := float64(seg.Duration) / ts; math.Abs(d-2) > 0.03 {
				t.Errorf("%s seg %d lasts %.3fs, want 2s (2 s GOPs)", r.Name, seg.MSN, d)
			}
			if !seg.keyAtStart {
				t.Errorf("%s seg %d does not start with a key frame", r.Name, seg.MSN)
			}
		}
		if complete != 9 {
			t.Errorf("%s: %d complete segments after 20 s, want 9", r.Name, complete)
		}
	}
	if d := s.p.drift; len(d) != 0 {
		t.Errorf("aligned ladder reported drift: %v", d)
	}
}

// TestPartTargetWholeFrames: with 25 fps and a 150 ms part target, a part
// holds 3 frames (120 ms), which becomes PART-TARGET so that full parts
// are not under 85 % of it.
func TestPartTargetWholeFrames(t *testing.T) {
	s := newTestStream(t, WithPartDuration(150*time.Millisecond))
	s.to(3 * time.Second)
	r := s.p.Rendition("v0")
	if got := r.partTarget(); math.Abs(got-0.12) > 1e-9 {
		t.Errorf("PART-TARGET %.4f, want 0.120", got)
	}
}

// TestLoopContinuous: the 8 s files loop with timestamps that keep
// increasing and segments that keep their 2 s length across the seam.
func TestLoopContinuous(t *testing.T) {
	s := newTestStream(t)
	s.to(30 * time.Second)
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	for _, r := range s.p.rends {
		var prevEnd int64 = -1
		for _, seg := range r.segs {
			if !seg.Complete {
				continue
			}
			if prevEnd >= 0 && seg.StartDTS != prevEnd {
				t.Errorf("%s seg %d starts at %d, previous ended at %d", r.Name, seg.MSN, seg.StartDTS, prevEnd)
			}
			prevEnd = seg.StartDTS + seg.Duration
			if seg.Disc {
				t.Errorf("%s seg %d: a loop is not a discontinuity", r.Name, seg.MSN)
			}
		}
	}
}

// TestDrift: a rendition whose key frames are one frame late is
// reported by name with the timestamps of both renditions.
func TestDrift(t *testing.T) {
	in, err := SampleInputs()
	if err != nil {
		t.Fatal(err)
	}
	d := in[0].Demuxer
	tr := d.Tracks()[0]
	var events []Event
	p := New(WithClock(NewFakeClock(testEpoch)), WithEvents(func(e Event) { events = append(events, e) }))
	for _, name := range []string{"good", "late"} {
		tt := *tr
		if err := p.AddRendition(name, &tt); err != nil {
			t.Fatal(err)
		}
	}
	var buf []byte
	for smp, err := range media.TrackSamples(d, tr.ID) {
		if err != nil {
			t.Fatal(err)
		}
		if buf, err = d.ReadSample(&smp, buf); err != nil {
			t.Fatal(err)
		}
		if err := p.Push("good", smp, buf); err != nil {
			t.Fatal(err)
		}
		late := smp
		late.Sync = smp.Index == 0 || (smp.Index%50 == 1 && smp.Index > 1)
		if err := p.Push("late", late, buf); err != nil {
			t.Fatal(err)
		}
	}
	drift := p.Drift()
	if len(drift) == 0 {
		t.Fatal("no drift reported")
	}
	if !strings.Contains(drift[0], "rendition late starts segment 1 at key frame 2.200s, rendition good at 2.080s") {
		t.Errorf("report %q", drift[0])
	}
	found := false
	for _, e := range events {
		if e.Kind == EventDrift && e.Rendition == "late" {
			found = true
		}
	}
	if !found {
		t.Error("no EventDrift for rendition late")
	}
}

// TestMonotonic: a DTS that does not increase is refused.
func TestMonotonic(t *testing.T) {
	s := newTestStream(t)
	s.to(time.Second)
	r := s.p.Rendition("v0")
	s.p.mu.Lock()
	last := r.lastDTS
	s.p.mu.Unlock()
	err := s.p.Push("v0", media.Sample{DTS: last, PTS: last, Sync: true}, []byte{0, 0, 0, 1, 9})
	if !errors.Is(err, ErrNotMonotonic) {
		t.Fatalf("got %v, want ErrNotMonotonic", err)
	}
	if err := s.p.Push("nope", media.Sample{}, nil); !errors.Is(err, ErrRendition) {
		t.Fatalf("unknown rendition: %v", err)
	}
}

// TestDiscontinuity: a restarted source continues after the published
// media; its first segment carries EXT-X-DISCONTINUITY and opens a new
// DASH Period.
func TestDiscontinuity(t *testing.T) {
	s := newTestStream(t)
	s.to(5 * time.Second)
	src, start := s.restart(7 * time.Second)
	defer src.Close()
	s.p.mu.Lock()
	pl := s.p.mediaPlaylist(s.p.byName["v0"], false)
	s.p.mu.Unlock()
	if n := strings.Count(pl, "#EXT-X-DISCONTINUITY\n"); n != 1 {
		t.Errorf("%d EXT-X-DISCONTINUITY tags, want 1:\n%s", n, pl)
	}
	mpd, err := s.p.MPD(s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(mpd, []byte("<Period ")); n != 2 {
		t.Errorf("%d Periods, want 2:\n%s", n, mpd)
	}
	// Once the segments before the restart left the window, the playlist
	// counts the discontinuity in EXT-X-DISCONTINUITY-SEQUENCE, and the
	// MPD keeps only the new Period.
	if _, err := src.PushUntil(start + 45*time.Second); err != nil {
		t.Fatal(err)
	}
	s.p.mu.Lock()
	pl = s.p.mediaPlaylist(s.p.byName["a0"], false)
	s.p.mu.Unlock()
	if !strings.Contains(pl, "#EXT-X-DISCONTINUITY-SEQUENCE:1\n") || strings.Contains(pl, "#EXT-X-DISCONTINUITY\n") {
		t.Errorf("after the window slid past the restart:\n%s", pl)
	}
	mpd, _ = s.p.MPD(s.clock.Now())
	if n := bytes.Count(mpd, []byte("<Period ")); n != 1 || !bytes.Contains(mpd, []byte(`<Period id="p1"`)) {
		t.Errorf("after the window slid past the restart: %d Periods\n%s", n, mpd)
	}
}

// TestDiscontinuitySeam: a source stopped at an arbitrary instant and
// restarted at NextTime leaves no hole at the seam in any rendition: the
// segment before the discontinuity ends on the presentation timeline
// where the one after it starts (players stall on a hole; hls.js does not
// jump one wider than 0.1 s mid-stream).
func TestDiscontinuitySeam(t *testing.T) {
	for _, stop := range []time.Duration{5 * time.Second, 8013 * time.Millisecond, 6999 * time.Millisecond} {
		s := newTestStream(t, WithLowLatency(true))
		s.to(stop)
		src, _ := s.restart(3 * time.Second)
		src.Close()
		for _, r := range s.p.rends {
			var seam bool
			for i := 1; i < len(r.segs); i++ {
				prev, seg := r.segs[i-1], r.segs[i]
				if !seg.Disc {
					continue
				}
				seam = true
				end := r.Track.Seconds(prev.StartPTS + prev.Duration)
				if d := r.Track.Seconds(seg.StartPTS) - end; math.Abs(d) > 0.001 {
					t.Errorf("stop at %v: %s: segment %d ends at %.3fs, segment %d after the discontinuity starts at %.3fs (%+.3fs)",
						stop, r.Name, prev.MSN, end, seg.MSN, r.Track.Seconds(seg.StartPTS), d)
				}
			}
			if !seam {
				t.Errorf("stop at %v: %s: no discontinuity", stop, r.Name)
			}
		}
	}
}

// TestDiscontinuityKeepTiming: with KeepTiming the segments in progress
// close where their own samples end (renditions still fed continue on
// their timeline), so audio and video end apart, as pushed.
func TestDiscontinuityKeepTiming(t *testing.T) {
	s := newTestStream(t, WithLowLatency(true))
	s.to(8013 * time.Millisecond)
	ends := map[string]float64{}
	for _, r := range s.p.rends {
		ends[r.Name] = r.Track.Seconds(r.lastDTS + r.lastDur())
	}
	if err := s.p.Discontinuity(nil, KeepTiming()); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.p.rends {
		last := r.segs[len(r.segs)-1]
		if got := r.Track.Seconds(last.StartDTS + last.Duration); math.Abs(got-ends[r.Name]) > 1e-6 {
			t.Errorf("%s: segment %d ends at %.4fs, its last sample at %.4fs", r.Name, last.MSN, got, ends[r.Name])
		}
	}
}

// TestWindowMemoryHour runs an hour of live stream on the fake clock and
// checks that memory stays within the window: the segments held never
// span more than the window, and the bytes held never exceed what the
// window's segments plus the one in progress hold.
func TestWindowMemoryHour(t *testing.T) {
	if testing.Short() {
		t.Skip("an hour of media on the fake clock takes a few seconds")
	}
	s := newTestStream(t, WithWindow(20*time.Second))
	var peak int64
	for sec := 1; sec <= 3600; sec++ {
		s.to(time.Duration(sec) * time.Second)
		if sec%60 != 0 {
			continue
		}
		s.p.mu.Lock()
		var bound int64
		for _, r := range s.p.rends {
			var largest int64
			complete := 0
			for _, seg := range r.segs {
				largest = max(largest, seg.Size)
				if seg.Complete {
					complete++
				}
			}
			if complete > 10 {
				t.Fatalf("at %ds %s holds %d complete segments, window is 10", sec, r.Name, complete)
			}
			for _, b := range r.inits {
				bound += int64(len(b))
			}
			bound += int64(12) * largest
		}
		s.p.mu.Unlock()
		got := s.p.StoredBytes()
		peak = max(peak, got)
		if got > bound {
			t.Fatalf("at %ds: %d bytes held, window bound %d", sec, got, bound)
		}
	}
	r := s.p.Rendition("v0")
	s.p.mu.Lock()
	first := r.segs[0].MSN
	s.p.mu.Unlock()
	if first < 1780 {
		t.Errorf("after an hour the window starts at segment %d, want ≈ 1790", first)
	}
	t.Logf("an hour of live: peak %d bytes held", peak)
}

// TestDiscontinuityNewTimescale: a restart whose tracks change timescale
// (Discontinuity(tracks)) keeps the window's times: NextTime, the
// EXTINF of the segments before the restart and the monotonic check all
// read the old segments in seconds, not the old ticks as new ones.
func TestDiscontinuityNewTimescale(t *testing.T) {
	s := newTestStream(t, WithLowLatency(true))
	s.to(5 * time.Second)
	if err := s.p.Discontinuity(nil); err != nil {
		t.Fatal(err)
	}
	want := s.p.NextTime()
	s.p.mu.Lock()
	before := extinfs(s.p.renderMediaPlaylist(s.p.byName["v0"], false, false))
	tracks := map[string]*media.Track{}
	for _, r := range s.p.rends {
		nt := *r.Track
		nt.Timescale = r.Track.Timescale * 2 / 3
		tracks[r.Name] = &nt
	}
	s.p.mu.Unlock()
	if err := s.p.Discontinuity(tracks); err != nil {
		t.Fatal(err)
	}
	if got := s.p.NextTime(); math.Abs((got - want).Seconds()) > 0.001 {
		t.Errorf("NextTime after the timescale change: %v, want %v", got, want)
	}
	s.p.mu.Lock()
	after := extinfs(s.p.renderMediaPlaylist(s.p.byName["v0"], false, false))
	s.p.mu.Unlock()
	if !slices.Equal(before, after) {
		t.Errorf("EXTINF of the segments before the restart changed with the timescale:\n%v\n%v", before, after)
	}
	// The rescaled window stays contiguous: each segment and part ends
	// where the next begins (DASH's SegmentTimeline of the old Period
	// would show a one-tick hole otherwise).
	s.p.mu.Lock()
	for _, r := range s.p.rends {
		for i, seg := range r.segs {
			if i > 0 && !seg.Disc {
				if prev := r.segs[i-1]; prev.StartDTS+prev.Duration != seg.StartDTS {
					t.Errorf("%s: segment %d ends at %d, the next starts at %d", r.Name, prev.MSN, prev.StartDTS+prev.Duration, seg.StartDTS)
				}
			}
			for j := 1; j < len(seg.Parts); j++ {
				if a, b := seg.Parts[j-1], seg.Parts[j]; a.StartDTS+a.Duration != b.StartDTS {
					t.Errorf("%s: segment %d part %d ends at %d, the next starts at %d", r.Name, seg.MSN, j-1, a.StartDTS+a.Duration, b.StartDTS)
				}
			}
		}
	}
	s.p.mu.Unlock()
	// A sample at NextTime on the new timescale follows the old ones.
	ts := tracks["a0"].Timescale
	dts := media.Ticks(want.Seconds(), ts)
	if err := s.p.Push("a0", media.Sample{DTS: dts, PTS: dts, Duration: 1024 * ts / 48000, Sync: true}, []byte{0x21, 0x10, 0x04}); err != nil {
		t.Errorf("push at NextTime on the new timescale: %v", err)
	}
}

func extinfs(pl string) []string {
	var out []string
	for _, l := range strings.Split(pl, "\n") {
		if strings.HasPrefix(l, "#EXTINF:") {
			out = append(out, l)
		}
	}
	return out
}
