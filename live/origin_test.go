package live

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// TestBlockingReload: a request for the next part is held while the part
// does not exist and answered once it is published, with a playlist that
// contains it.
func TestBlockingReload(t *testing.T) {
	o := newTestOrigin(t)
	o.to(5 * time.Second)
	pl := o.playlist(t, "v0/media.m3u8")
	msn, part := pl.lastPart()
	ch := o.async(context.Background(), fmt.Sprintf("v0/media.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, part+1))
	o.parked(t, 1)
	select {
	case r := <-ch:
		t.Fatalf("answered before the part was published: %d\n%s", r.code, r.body)
	default:
	}
	o.to(5*time.Second + 200*time.Millisecond)
	r := <-ch
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	got := parsePlaylist(t, string(r.body))
	gm, gp := got.lastPart()
	if gm != msn || gp != part+1 {
		t.Errorf("answered with last part %d.%d, want %d.%d", gm, gp, msn, part+1)
	}
	if cc := r.h.Get("Cache-Control"); !strings.Contains(cc, "max-age=2") {
		t.Errorf("blocking response Cache-Control %q", cc)
	}
	// An msn/part already in the playlist is answered at once.
	if r := o.get(fmt.Sprintf("v0/media.m3u8?_HLS_msn=%d&_HLS_part=0", msn)); r.code != 200 {
		t.Errorf("past part: %d", r.code)
	}
}

// TestBlockingPartPastEnd: a part index past the end of a complete
// segment means part 0 of the next segment; _HLS_msn alone waits for the
// whole segment.
func TestBlockingPartPastEnd(t *testing.T) {
	o := newTestOrigin(t)
	o.to(3 * time.Second) // segment 0 complete (10 parts), segment 1 in progress
	ch := o.async(context.Background(), "v0/media.m3u8?_HLS_msn=1&_HLS_part=10")
	o.parked(t, 1)
	o.to(4 * time.Second)
	select {
	case r := <-ch:
		t.Fatalf("answered while segment 1 is in progress: %d", r.code)
	default:
	}
	whole := o.async(context.Background(), "v0/media.m3u8?_HLS_msn=2")
	o.parked(t, 2)
	o.to(4*time.Second + 200*time.Millisecond) // segment 1 completes: its 10 parts
	select {
	case r := <-ch:
		t.Fatalf("answered before part 2.0: %d", r.code)
	default:
	}
	o.to(4*time.Second + 400*time.Millisecond) // part 2.0
	r := <-ch
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if m, p := parsePlaylist(t, string(r.body)).lastPart(); m != 2 || p != 0 {
		t.Errorf("answered at %d.%d, want 2.0", m, p)
	}
	select {
	case r := <-whole:
		t.Fatalf("_HLS_msn=2 answered before segment 2 completed: %d", r.code)
	default:
	}
	o.to(6*time.Second + 200*time.Millisecond)
	r = <-whole
	pl := parsePlaylist(t, string(r.body))
	if last := pl.segs[len(pl.segs)-1].msn; r.code != 200 || last != 2 {
		t.Errorf("_HLS_msn=2: %d, last segment %d", r.code, last)
	}
}

// TestBadRequests: the 400 cases of the spec and hostile values.
func TestBadRequests(t *testing.T) {
	o := newTestOrigin(t)
	o.to(5 * time.Second)
	for _, q := range []string{
		"_HLS_msn=5", // last complete is 1: 5 > 1+2
		"_HLS_msn=4&_HLS_part=0",
		"_HLS_part=1", // part without msn
		"_HLS_msn=-1",
		"_HLS_msn=abc",
		"_HLS_msn=",
		"_HLS_msn=1.5",
		"_HLS_msn=99999999999999999999999",
		"_HLS_msn=9007199254740993",
		"_HLS_msn=1&_HLS_part=x",
		"_HLS_msn=1&_HLS_msn=2",
		"_HLS_skip=NO",
		"_HLS_foo=1",
		"_HLS_msn=%31",
	} {
		r := o.get("v0/media.m3u8?" + q)
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, r.code)
		}
	}
	// Within last+2 is accepted (held, then answered here by the stream).
	ch := o.async(context.Background(), "v0/media.m3u8?_HLS_msn=3")
	o.parked(t, 1)
	o.to(8*time.Second + 200*time.Millisecond)
	if r := <-ch; r.code != 200 {
		t.Errorf("_HLS_msn=last+2: %d", r.code)
	}
	if r := o.get("v0/media.m3u8?foo=bar&_HLS_skip=YES"); r.code != 200 {
		t.Errorf("unrelated parameter: %d", r.code)
	}
}

// TestHold503: when the source stalls, a held request gets 503 after
// three target durations; playlists stay served.
func TestHold503(t *testing.T) {
	o := newTestOrigin(t)
	o.to(5 * time.Second)
	ch := o.async(context.Background(), "v0/media.m3u8?_HLS_msn=3")
	o.parked(t, 1)
	o.clock.Advance(6*time.Second - time.Millisecond)
	select {
	case r := <-ch:
		t.Fatalf("answered before three target durations: %d", r.code)
	default:
	}
	o.clock.Advance(time.Millisecond)
	r := <-ch
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", r.code)
	}
	if r.h.Get("Cache-Control") != "no-store" {
		t.Errorf("503 Cache-Control %q", r.h.Get("Cache-Control"))
	}
	if r := o.get("v0/media.m3u8"); r.code != 200 {
		t.Errorf("playlist during the stall: %d", r.code)
	}
	// Playback resumes: the source catches up and the same request succeeds.
	o.to(12 * time.Second)
	if r := o.get("v0/media.m3u8?_HLS_msn=3"); r.code != 200 {
		t.Errorf("after the stall: %d", r.code)
	}
}

// TestDeltaUpdate: _HLS_skip=YES returns the full playlist minus the
// segments older than CAN-SKIP-UNTIL, replaced by EXT-X-SKIP.
func TestDeltaUpdate(t *testing.T) {
	o := newTestOrigin(t)
	o.to(31 * time.Second)
	full := o.playlist(t, "v1/media.m3u8")
	delta := o.playlist(t, "v1/media.m3u8?_HLS_skip=YES")
	if delta.skipped == 0 {
		t.Fatalf("nothing skipped:\n%s", delta.text)
	}
	skipUntil := full.control["CAN-SKIP-UNTIL"]
	if skipUntil != "12.000" {
		t.Errorf("CAN-SKIP-UNTIL=%s, want 12.000 (6 target durations)", skipUntil)
	}
	if delta.seq != full.seq || delta.skipped+len(delta.segs) != len(full.segs) {
		t.Fatalf("delta: seq %d, %d skipped + %d; full: seq %d, %d", delta.seq, delta.skipped, len(delta.segs), full.seq, len(full.segs))
	}
	for i, s := range delta.segs {
		f := full.segs[delta.skipped+i]
		if s.uri != f.uri || s.dur != f.dur || !s.pdt.Equal(f.pdt) || len(s.parts) != len(f.parts) {
			t.Errorf("delta segment %d (%s) differs from full (%s)", i, s.uri, f.uri)
		}
	}
	// Skipped segments start more than CAN-SKIP-UNTIL before the end.
	var end float64
	for _, s := range full.segs {
		end += s.dur
	}
	var start float64
	for i := 0; i < delta.skipped; i++ {
		if end-start <= 12 {
			t.Errorf("segment %d skipped although it starts %.3fs before the end", i, end-start)
		}
		start += full.segs[i].dur
	}
	if end-start > 12+2.1 {
		t.Errorf("first kept segment starts %.3fs before the end: should have been skipped", end-start)
	}
	if strings.Count(delta.text, "#EXT-X-MAP") != 1 {
		t.Errorf("delta update without its EXT-X-MAP:\n%s", delta.text)
	}
}

// TestRenditionReports: every playlist reports every other rendition,
// and each report agrees with that rendition's own playlist.
func TestRenditionReports(t *testing.T) {
	o := newTestOrigin(t)
	o.to(7*time.Second + 300*time.Millisecond)
	names := []string{"v0", "v1", "v2", "a0"}
	lists := map[string]*playlist{}
	for _, n := range names {
		lists[n] = o.playlist(t, n+"/media.m3u8")
	}
	for _, n := range names {
		pl := lists[n]
		if len(pl.reports) != len(names)-1 {
			t.Errorf("%s reports %d renditions, want %d", n, len(pl.reports), len(names)-1)
		}
		for _, other := range names {
			if other == n {
				continue
			}
			rep, ok := pl.reports["../"+other+"/media.m3u8"]
			if !ok {
				t.Errorf("%s: no report for %s", n, other)
				continue
			}
			m, p := lists[other].lastPart()
			if rep != [2]int64{m, int64(p)} {
				t.Errorf("%s reports %s at %v, its playlist ends at %d.%d", n, other, rep, m, p)
			}
		}
	}
}

// TestPlaylistRules: the header tags and the part rules of LL-HLS on
// every media playlist.
func TestPlaylistRules(t *testing.T) {
	o := newTestOrigin(t)
	o.to(13 * time.Second)
	for _, n := range []string{"v0", "v1", "v2", "a0"} {
		pl := o.playlist(t, n+"/media.m3u8")
		if pl.version < 9 {
			t.Errorf("%s: version %d", n, pl.version)
		}
		c := pl.control
		if c["CAN-BLOCK-RELOAD"] != "YES" {
			t.Errorf("%s: CAN-BLOCK-RELOAD %q", n, c["CAN-BLOCK-RELOAD"])
		}
		phb, hb, csu := parseF(c["PART-HOLD-BACK"]), parseF(c["HOLD-BACK"]), parseF(c["CAN-SKIP-UNTIL"])
		if phb < 3*pl.partTarget-1e-9 || hb < 3*float64(pl.target) || csu < 6*float64(pl.target) {
			t.Errorf("%s: PART-HOLD-BACK %v, HOLD-BACK %v, CAN-SKIP-UNTIL %v for part target %v, target %d", n, phb, hb, csu, pl.partTarget, pl.target)
		}
		if pl.hint == "" {
			t.Errorf("%s: no preload hint", n)
		}
		check := func(msn int64, parts []plPart, complete bool) {
			for i, p := range parts {
				if p.dur > pl.partTarget+1e-9 {
					t.Errorf("%s %d.%d: %.5f > PART-TARGET %.5f", n, msn, i, p.dur, pl.partTarget)
				}
				if (i < len(parts)-1 || !complete) && p.dur < 0.85*pl.partTarget {
					t.Errorf("%s %d.%d: %.5f < 85%% of PART-TARGET", n, msn, i, p.dur)
				}
				if want := fmt.Sprintf("part_%d_%d.m4s", msn, i); p.uri != want {
					t.Errorf("%s: part URI %s, want %s", n, p.uri, want)
				}
			}
		}
		for _, s := range pl.segs {
			if math.Round(s.dur) > float64(pl.target) {
				t.Errorf("%s seg %d: %.3fs over the target duration", n, s.msn, s.dur)
			}
			if s.pdt.IsZero() {
				t.Errorf("%s seg %d: no PDT", n, s.msn)
			}
			if len(s.parts) > 0 {
				var sum float64
				for _, p := range s.parts {
					sum += p.dur
				}
				if math.Abs(sum-s.dur) > 0.001 {
					t.Errorf("%s seg %d: parts sum %.5f, EXTINF %.5f", n, s.msn, sum, s.dur)
				}
			}
			check(s.msn, s.parts, true)
		}
		m, _ := pl.lastPart()
		check(m, pl.trailing, false)
	}
}

// TestPartsConcatenateToSegment: init + a segment's parts concatenated
// equal init + the segment, byte for byte, for every rendition.
func TestPartsConcatenateToSegment(t *testing.T) {
	o := newTestOrigin(t)
	o.to(9 * time.Second)
	for _, n := range []string{"v0", "v1", "v2", "a0"} {
		pl := o.playlist(t, n+"/media.m3u8")
		for _, s := range pl.segs {
			if len(s.parts) == 0 {
				continue
			}
			var cat []byte
			for _, p := range s.parts {
				r := o.get(n + "/" + p.uri)
				if r.code != 200 {
					t.Fatalf("%s/%s: %d", n, p.uri, r.code)
				}
				if r.h.Get("Cache-Control") != ccImmutable {
					t.Errorf("part Cache-Control %q", r.h.Get("Cache-Control"))
				}
				cat = append(cat, r.body...)
			}
			seg := o.get(n + "/" + s.uri)
			if seg.code != 200 || !bytes.Equal(seg.body, cat) {
				t.Errorf("%s/%s: %d, %d bytes; its parts %d bytes (equal: %v)", n, s.uri, seg.code, len(seg.body), len(cat), bytes.Equal(seg.body, cat))
			}
			if !bytes.HasPrefix(seg.body[4:], []byte("styp")) {
				t.Errorf("%s/%s does not start with styp", n, s.uri)
			}
		}
	}
}

func parseF(s string) float64 {
	var v float64
	fmt.Sscanf(s, "%g", &v)
	return v
}

// TestPreloadHint: the hinted part is held until complete, then served;
// a part that will never exist is a 404 at once.
func TestPreloadHint(t *testing.T) {
	o := newTestOrigin(t)
	o.to(5*time.Second + 50*time.Millisecond)
	pl := o.playlist(t, "a0/media.m3u8")
	ch := o.async(context.Background(), "a0/"+pl.hint)
	o.parked(t, 1)
	select {
	case r := <-ch:
		t.Fatalf("hinted part answered before it was complete: %d", r.code)
	default:
	}
	o.to(5*time.Second + 300*time.Millisecond)
	r := <-ch
	if r.code != 200 || !bytes.Contains(r.body[:min(len(r.body), 64)], []byte("moof")) {
		t.Fatalf("hinted part: %d, %d bytes", r.code, len(r.body))
	}
	pl = o.playlist(t, "a0/media.m3u8")
	var msn, idx int
	if _, err := fmt.Sscanf(pl.hint, "part_%d_%d.m4s", &msn, &idx); err != nil {
		t.Fatal(pl.hint, err)
	}
	if r := o.get(fmt.Sprintf("a0/part_%d_%d.m4s", msn, idx+1)); r.code != 404 {
		t.Errorf("the part after the hinted one: %d, want 404 at once", r.code)
	}
}

// TestNotFound: out of the window, never produced, and hostile paths.
func TestNotFound(t *testing.T) {
	o := newTestOrigin(t, WithWindow(8*time.Second))
	o.to(31 * time.Second)
	pl := o.playlist(t, "v0/media.m3u8")
	if pl.seq < 5 {
		t.Fatalf("window did not slide: first MSN %d", pl.seq)
	}
	for _, p := range []string{
		"v0/seg_0.m4s", "v0/part_0_0.m4s", "v0/seg_99.m4s", "v0/part_99_0.m4s", "v0/init_7.mp4",
		"v9/media.m3u8", "v0/../../etc/passwd", "..%2f..%2fetc/passwd", "v0/seg_-1.m4s", "v0/seg_1e3.m4s",
		"v0/part_1.m4s", "v0/part_1_2_3.m4s", "v0/.hidden", "v0/",
	} {
		if r := o.get(p); r.code != 404 {
			t.Errorf("%s: %d, want 404", p, r.code)
		}
	}
	if r := fetch(context.Background(), o.srv.URL+"/etc/passwd"); r.code != 404 {
		t.Errorf("/etc/passwd: %d", r.code)
	}
	req, _ := http.NewRequest(http.MethodPost, o.url("v0/media.m3u8"), nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestChunkedSegment: a segment requested while in progress is sent as
// its parts complete, and ends up equal to the complete segment.
func TestChunkedSegment(t *testing.T) {
	o := newTestOrigin(t)
	o.to(4*time.Second + 500*time.Millisecond) // segment 2 in progress
	ch := o.async(context.Background(), "v0/seg_2.m4s")
	o.parked(t, 1)
	select {
	case r := <-ch:
		t.Fatalf("in-progress segment finished early: %d", r.code)
	default:
	}
	o.to(6*time.Second + 200*time.Millisecond)
	r := <-ch
	full := o.get("v0/seg_2.m4s")
	if r.code != 200 || !bytes.Equal(r.body, full.body) {
		t.Fatalf("chunked %d bytes, complete %d", len(r.body), len(full.body))
	}
	// Server-Timing says which (the latency experiment tells a chunk's
	// delivery from a whole segment's by it).
	if st := r.h.Get("Server-Timing"); !strings.HasSuffix(st, ", sk-chunked") {
		t.Errorf("chunked Server-Timing %q", st)
	}
	if st := full.h.Get("Server-Timing"); !strings.HasPrefix(st, "sk-arrive;") || strings.Contains(st, "chunked") {
		t.Errorf("complete Server-Timing %q", st)
	}
	// The next segment, not yet started, is held too (LL-DASH clients ask
	// availabilityTimeOffset early).
	o.idle(t)
	ch = o.async(context.Background(), "v0/seg_4.m4s")
	o.parked(t, 1)
	o.to(10*time.Second + 200*time.Millisecond)
	// The held request is answered with the whole segment. How depends
	// on when its goroutine runs while the clock moves from 6.2 s to
	// 10.2 s: with no part yet ("sk-chunked" alone), with its first parts
	// (their times, then "sk-chunked"), or complete (their times only).
	r = <-ch
	full = o.get("v0/seg_4.m4s")
	if r.code != 200 || !bytes.Equal(r.body, full.body) || !strings.Contains(r.h.Get("Server-Timing"), "sk-") {
		t.Errorf("next segment: %d, %d bytes (complete %d), Server-Timing %q", r.code, len(r.body), len(full.body), r.h.Get("Server-Timing"))
	}
}

// TestPDT: EXT-X-PROGRAM-DATE-TIME maps each segment to the wall-clock
// time its first frame was produced (epoch + presentation time), within
// a frame, on every rendition.
func TestPDT(t *testing.T) {
	o := newTestOrigin(t)
	o.to(9 * time.Second)
	ep, _ := o.p.Epoch()
	for _, n := range []string{"v0", "a0"} {
		pl := o.playlist(t, n+"/media.m3u8")
		for _, s := range pl.segs {
			// Content time 2·msn s is shown at live time 0.08 s + 2·msn s
			// (0.08 s: the video's B-frame delay, kept for every track).
			want := ep.Add(80*time.Millisecond + time.Duration(s.msn)*2*time.Second)
			if d := s.pdt.Sub(want); d < -40*time.Millisecond || d > 40*time.Millisecond {
				t.Errorf("%s seg %d PDT %v, want %v (off by %v)", n, s.msn, s.pdt, want, d)
			}
		}
	}
}

// TestCORS: every response allows any origin; preflight answers.
func TestCORS(t *testing.T) {
	o := newTestOrigin(t)
	o.to(3 * time.Second)
	r := o.get("master.m3u8")
	if r.h.Get("Access-Control-Allow-Origin") != "*" || r.h.Get("Cache-Control") != "no-cache" {
		t.Errorf("master headers %v", r.h)
	}
	req, _ := http.NewRequest(http.MethodOptions, o.url("v0/media.m3u8"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("preflight %d %v", resp.StatusCode, resp.Header)
	}
}

// TestPlainHLS: with low latency off the playlists have no parts, no
// server control and no rendition reports; blocking parameters are
// ignored.
func TestPlainHLS(t *testing.T) {
	o := newTestOrigin(t, WithLowLatency(false))
	o.to(9 * time.Second)
	r := o.get("v0/media.m3u8?_HLS_msn=50")
	if r.code != 200 {
		t.Fatalf("%d", r.code)
	}
	text := string(r.body)
	for _, tag := range []string{"#EXT-X-PART", "#EXT-X-SERVER-CONTROL", "#EXT-X-PRELOAD-HINT", "#EXT-X-RENDITION-REPORT", "#EXT-X-SKIP"} {
		if strings.Contains(text, tag) {
			t.Errorf("plain HLS has %s:\n%s", tag, text)
		}
	}
	pl := parsePlaylist(t, text)
	if len(pl.segs) != 4 || pl.version != 7 {
		t.Errorf("%d segments, version %d:\n%s", len(pl.segs), pl.version, text)
	}
}

// TestFirstPlaylistLongGOP: a source whose first GOP (8 s) is longer
// than the hold timeout (3 target durations, 6 s). The first playlist
// request waits for segment 0 while parts keep coming and is answered
// with it; before, it got 503 at 6 s, which costs hls.js one of its two
// playlist retries and fails Shaka's start. A source that stalls before
// segment 0 is complete still gets 503 after the hold timeout.
func TestFirstPlaylistLongGOP(t *testing.T) {
	for _, stallAt := range []time.Duration{0, 3 * time.Second} {
		clock := NewFakeClock(testEpoch)
		p := New(WithClock(clock), WithLowLatency(true))
		src, err := NewSampleSource(New(WithClock(NewFakeClock(testEpoch))))
		if err != nil {
			t.Fatal(err)
		}
		var st *srcTrack
		for _, x := range src.tracks {
			if x.rend == "v0" {
				st = x
			}
		}
		src.Close()
		if err := p.AddRendition("v0", st.t); err != nil {
			t.Fatal(err)
		}
		type sample struct {
			s    media.Sample
			data []byte
		}
		// The 8 s sample twice, its key frames but the first removed
		// from the first pass: a first GOP of 8 s.
		var samples []sample
		first := int64(-1)
		for loop := int64(0); loop < 2; loop++ {
			for s, err := range media.TrackSamples(st.d, st.t.ID) {
				if err != nil {
					t.Fatal(err)
				}
				data, err := st.d.ReadSample(&s, nil)
				if err != nil {
					t.Fatal(err)
				}
				if first < 0 {
					first = s.DTS
				}
				s.DTS, s.PTS = s.DTS-first+loop*st.loopTick, s.PTS-first+loop*st.loopTick
				if loop == 0 && s.DTS > 0 {
					s.Sync = false
				}
				samples = append(samples, sample{s, data})
			}
		}
		next := 0
		pushUntil := func(d time.Duration) {
			clock.Set(testEpoch.Add(d))
			for ; next < len(samples) && st.t.Seconds(samples[next].s.DTS) < d.Seconds(); next++ {
				if err := p.Push("v0", samples[next].s, samples[next].data); err != nil {
					t.Fatal(err)
				}
			}
		}
		pushUntil(500 * time.Millisecond)
		srv := httptest.NewServer(NewOrigin(p))
		ch := make(chan response, 1)
		go func() { ch <- fetch(context.Background(), srv.URL+"/live/v0/media.m3u8") }()
		done := make(chan struct{})
		timer := time.AfterFunc(20*time.Second, func() { close(done) })
		if !clock.WaitTimers(1, done) {
			t.Fatal("the request never parked")
		}
		timer.Stop()
		var r response
	steps:
		for d := 700 * time.Millisecond; d <= 15*time.Second; d += 200 * time.Millisecond {
			if stallAt > 0 && d > stallAt {
				clock.Set(testEpoch.Add(d))
			} else {
				pushUntil(d)
			}
			select {
			case r = <-ch:
				break steps
			case <-time.After(20 * time.Millisecond):
			}
		}
		if r.code == 0 {
			r = <-ch
		}
		switch {
		case stallAt == 0 && (r.code != 200 || !strings.Contains(string(r.body), "#EXTINF:")):
			t.Errorf("first GOP of 8 s: first playlist %d, want 200 with segment 0:\n%s", r.code, r.body)
		case stallAt > 0 && r.code != http.StatusServiceUnavailable:
			t.Errorf("source stalled at %v before segment 0: first playlist %d, want 503", stallAt, r.code)
		}
		p.End()
		srv.Close()
	}
}
