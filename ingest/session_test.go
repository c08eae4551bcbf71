package ingest

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/media"
	_ "github.com/streamkit-go/streamkit/mp4"
)

var testEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// srcFrame is one sample of the test source with its payload.
type srcFrame struct {
	track int
	s     media.Sample
	data  []byte
}

// loadSource reads the embedded sample's 240p video and audio, interleaved
// by decode time: what an encoder would publish.
func loadSource(t *testing.T) ([]*media.Track, []srcFrame) {
	t.Helper()
	var tracks []*media.Track
	var frames [][]srcFrame
	for i, name := range []string{"../sample/media/video_240.mp4", "../sample/media/audio.m4a"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, _ := f.Stat()
		d, err := media.Open(f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		tr := d.Tracks()[0]
		tracks = append(tracks, tr)
		var fs []srcFrame
		for s, err := range media.TrackSamples(d, tr.ID) {
			if err != nil {
				t.Fatal(err)
			}
			b, err := d.ReadSample(&s, nil)
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, srcFrame{i, s, append([]byte(nil), b...)})
		}
		frames = append(frames, fs)
	}
	var out []srcFrame
	a, v := frames[1], frames[0]
	for len(a) > 0 || len(v) > 0 {
		if len(a) == 0 || (len(v) > 0 && tracks[0].Seconds(v[0].s.DTS) <= tracks[1].Seconds(a[0].s.DTS)) {
			out = append(out, v[0])
			v = v[1:]
		} else {
			out = append(out, a[0])
			a = a[1:]
		}
	}
	return tracks, out
}

func newTestServer(t *testing.T, opts ...Option) (*Server, *live.FakeClock) {
	clock := live.NewFakeClock(testEpoch)
	s := New(append([]Option{WithClock(clock), WithPackagerOptions(live.WithSegmentDuration(2 * time.Second))}, opts...)...)
	t.Cleanup(func() { s.Close() })
	return s, clock
}

// publishFrames pushes frames through ss with their source timestamps
// moved by shift seconds, advancing the clock to each frame's time.
func publishFrames(t *testing.T, ss *session, tracks []*media.Track, frames []srcFrame, shift float64, clock *live.FakeClock, start time.Time) {
	t.Helper()
	for _, f := range frames {
		s := f.s
		off := media.Ticks(shift, tracks[f.track].Timescale)
		s.DTS += off
		s.PTS += off
		clock.Set(start.Add(time.Duration(tracks[f.track].Seconds(f.s.DTS) * float64(time.Second))))
		if err := ss.push(f.track, s, f.data, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// A forward jump of the source timestamps (an encoder's clock reset, a
// 32/33-bit wrap a source did not unwrap) becomes a discontinuity: the
// stream continues right after the media already published.
func TestTimestampJump(t *testing.T) {
	var arrivals []Arrival
	s, clock := newTestServer(t, WithArrival(func(a Arrival) { arrivals = append(arrivals, a) }))
	tracks, frames := loadSource(t)
	ss, err := s.open("cam", "", "", "test", "local")
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.setTracks(tracks); err != nil {
		t.Fatal(err)
	}
	publishFrames(t, ss, tracks, frames, 0, clock, testEpoch)
	p := s.Stream("cam").P
	end := p.NextTime()
	// The same media again, one hour later on the source clock, then
	// again 30 s earlier than that (a backwards jump).
	publishFrames(t, ss, tracks, frames, 3600, clock, testEpoch.Add(8*time.Second))
	publishFrames(t, ss, tracks, frames, 3570, clock, testEpoch.Add(16*time.Second))
	ss.close(nil)
	pl, err := p.MediaPlaylist("v0", false)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(pl, "#EXT-X-DISCONTINUITY\n"); n != 2 {
		t.Fatalf("%d discontinuities after two jumps, want 2:\n%s", n, pl)
	}
	if got := p.NextTime(); got < 3*end-time.Second || got > 3*end+time.Second {
		t.Errorf("after three plays of %v the stream is at %v: the jumps were not closed up", end, got)
	}
	if len(arrivals) == 0 || !arrivals[0].At.Equal(testEpoch) || arrivals[0].Rendition != "v0" || !arrivals[0].Key {
		t.Fatalf("first arrival %+v, want v0's key frame at the clock's start", arrivals[:min(1, len(arrivals))])
	}
	for i := 1; i < len(arrivals); i++ {
		if arrivals[i].At.Before(arrivals[i-1].At) {
			t.Fatalf("arrival %d at %v before %v", i, arrivals[i].At, arrivals[i-1].At)
		}
	}
}

// RTMP timestamps are 32-bit milliseconds: they wrap after 49.7 days.
func TestUnwrap32(t *testing.T) {
	var u unwrap32
	ms := func(v uint32) int64 { return u.ms(time.Duration(v) * time.Millisecond) }
	base := uint32(1<<32 - 100)
	want := int64(base)
	for i := 0; i < 10; i++ {
		v := base + uint32(i*40) // wraps after 3 steps
		if got := ms(v); got != want+int64(i*40) {
			t.Fatalf("step %d (raw %d): %d, want %d", i, v, got, want+int64(i*40))
		}
	}
}

// Publishes named NAME_720 and NAME_360 form one ladder at /live/NAME/,
// gathered for the ladder wait; a late member is refused.
func TestLadder(t *testing.T) {
	s, clock := newTestServer(t, WithLadderWait(time.Second))
	tracks, frames := loadSource(t)
	var sess []*session
	for _, name := range []string{"show_720", "show_360p"} {
		ss, err := s.open(name, "", "", "test", "local")
		if err != nil {
			t.Fatal(err)
		}
		if err := ss.setTracks(tracks); err != nil {
			t.Fatal(err)
		}
		sess = append(sess, ss)
	}
	start := testEpoch.Add(1500 * time.Millisecond) // the ladder has gathered
	for _, f := range frames {
		for _, ss := range sess {
			clock.Set(start.Add(time.Duration(tracks[f.track].Seconds(f.s.DTS) * float64(time.Second))))
			if err := ss.push(f.track, f.s, f.data, clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	st := s.Stream("show")
	if st == nil {
		t.Fatal("no stream show")
	}
	var names []string
	for _, r := range st.P.Renditions() {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "v720,v360,a0" {
		t.Errorf("renditions %v, want v720, v360, a0", names)
	}
	if d := st.P.Drift(); len(d) > 0 {
		t.Errorf("aligned ladder reported drift: %v", d)
	}
	if _, err := s.open("show_1080", "", "", "test", "local"); !errors.Is(err, ErrRefused) {
		t.Errorf("late ladder member: %v, want ErrRefused", err)
	}
	for _, ss := range sess {
		ss.close(nil)
	}
}

func TestRefusals(t *testing.T) {
	s, _ := newTestServer(t, WithPublishKey("k"), WithMaxStreams(1))
	for _, c := range []struct{ name, key string }{{"cam", ""}, {"cam", "x"}, {"../etc", "k"}, {"a b", "k"}} {
		if _, err := s.open(c.name, "", c.key, "test", "local"); !errors.Is(err, ErrRefused) {
			t.Errorf("open(%q, key %q): %v, want ErrRefused", c.name, c.key, err)
		}
	}
	ss, err := s.open("cam", "", "k", "test", "local")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.open("cam2", "", "k", "test", "local"); !errors.Is(err, ErrRefused) {
		t.Errorf("second publisher over the limit: %v", err)
	}
	if _, err := s.open("cam", "", "k", "test", "local"); !errors.Is(err, ErrRefused) {
		t.Errorf("second publisher of one name: %v", err)
	}
	ss.close(nil)
}

func TestParseStreamID(t *testing.T) {
	for _, c := range []struct{ id, name, rend, key string }{
		{"publish:cam", "cam", "", ""},
		{"publish:cam:s3", "cam", "", "s3"},
		{"publish:cam?key=s3&rendition=720", "cam", "720", "s3"},
		{"#!::r=cam,m=publish,s=s3", "cam", "", "s3"},
	} {
		n, r, k, err := parseStreamID(c.id)
		if err != nil || n != c.name || r != c.rend || k != c.key {
			t.Errorf("%q: %q %q %q %v", c.id, n, r, k, err)
		}
	}
	for _, id := range []string{"", "read:cam", "#!::r=cam,m=request"} {
		if _, _, _, err := parseStreamID(id); !errors.Is(err, ErrRefused) {
			t.Errorf("%q: %v, want ErrRefused", id, err)
		}
	}
}

// FuzzParseStreamID: the SRT streamid is the one publisher-controlled
// string we parse ourselves.
func FuzzParseStreamID(f *testing.F) {
	for _, s := range []string{"publish:cam", "publish:cam:k?key=x&rendition=720", "#!::r=a,m=publish,s=k", "publish:%zz?;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		name, rend, _, err := parseStreamID(id)
		if err != nil {
			return
		}
		if _, _, err := splitName(name, rend); err == nil && !nameRE().MatchString(name) {
			t.Fatalf("name %q accepted", name)
		}
	})
}

// BenchmarkPush is the per-frame path of every publisher: mapping onto
// the live timeline and packaging.
func BenchmarkPush(b *testing.B) {
	t := &testing.T{}
	tracks, frames := loadSource(t)
	b.ReportAllocs()
	for b.Loop() {
		clock := live.NewFakeClock(testEpoch)
		s := New(WithClock(clock))
		ss, _ := s.open("cam", "", "", "bench", "local")
		ss.setTracks(tracks)
		for _, f := range frames {
			ss.push(f.track, f.s, f.data, testEpoch)
		}
		ss.close(nil)
		s.Close()
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, rend, stream, variant string }{
		{"cam", "", "cam", ""},
		{"cam_720", "", "cam", "720"},
		{"cam_1080p", "", "cam", "1080"},
		{"room_1", "", "room_1", ""},
		{"cam", "480", "cam", "480"},
	} {
		s, v, err := splitName(c.in, c.rend)
		if err != nil || s != c.stream || v != c.variant {
			t.Errorf("splitName(%q, %q) = %q %q %v, want %q %q", c.in, c.rend, s, v, err, c.stream, c.variant)
		}
	}
}

// TestIdleEnd: a stream whose publisher left ends (EXT-X-ENDLIST) once
// WithIdleEnd has passed on the clock, without waiting for another
// publish, and the server forgets it; a publisher back in time keeps it.
func TestIdleEnd(t *testing.T) {
	s, clock := newTestServer(t, WithIdleEnd(10*time.Second))
	tracks, frames := loadSource(t)
	var gone *Stream
	for _, name := range []string{"cam", "back"} {
		ss, err := s.open(name, "", "", "test", "local")
		if err != nil {
			t.Fatal(err)
		}
		if err := ss.setTracks(tracks); err != nil {
			t.Fatal(err)
		}
		publishFrames(t, ss, tracks, frames[:200], 0, clock, clock.Now())
		ss.close(nil)
		if name == "cam" {
			gone = s.Stream("cam")
		}
	}
	clock.Advance(5 * time.Second)
	ss, err := s.open("back", "", "", "test", "local") // back within 10 s
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(5*time.Second + time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for s.Stream("cam") != nil && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if s.Stream("cam") != nil {
		t.Fatal("stream cam still kept after 10 s without a publisher")
	}
	if !gone.P.Ended() {
		t.Error("stream cam forgotten but not ended")
	}
	if s.Stream("back") == nil {
		t.Error("stream back ended although its publisher came back")
	}
	ss.close(nil)
}
