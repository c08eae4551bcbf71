package live

import (
	"math"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// TestPartsMillisecondTimestamps: 30 fps video whose timestamps are whole
// milliseconds (RTMP/FLV: frame gaps of 33, 34, 33 ms), key frame every
// second, no frame rate known, 1 s segments and 200 ms parts: every
// segment is five parts of 200 ms. Estimating a frame's duration from the
// gap before it alone cut parts of 167, 200, 200, 200, 200 and 33 ms, and
// hls.js 1.7.4 skipped the one-frame last part whenever the playlist
// listed its segment complete before the part ahead of it was appended,
// then stalled (see estimateDur).
func TestPartsMillisecondTimestamps(t *testing.T) {
	p := msVideoPackager(t, 1000.0/30, 10*30)
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byName["v"]
	done := completeSegments(r)
	complete := len(done)
	for _, seg := range done {
		var durs []int64
		for _, pt := range seg.Parts {
			durs = append(durs, pt.Duration/90)
		}
		if len(durs) != 5 || durs[0] != 200 || durs[4] != 200 {
			t.Errorf("segment %d: parts of %v ms, want 5 of 200", seg.MSN, durs)
		}
	}
	if complete != 9 {
		t.Errorf("%d complete segments after 10 s, want 9", complete)
	}
}

// TestPartsNTSCMillisecondTimestamps: 29.97 fps over RTMP (33, 33, 34 ms
// gaps) without a signalled frame rate: six frames can measure 201 ms,
// which must not exceed PART-TARGET, and no part but a segment's last may
// be shorter than 85 % of it.
func TestPartsNTSCMillisecondTimestamps(t *testing.T) {
	p := msVideoPackager(t, 1001.0/30, 20*30)
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byName["v"]
	target := int64(math.Round(r.partTarget() * 90000))
	done := completeSegments(r)
	if len(done) < 18 {
		t.Fatalf("%d complete segments after 20 s", len(done))
	}
	for _, seg := range done {
		for i, pt := range seg.Parts {
			if pt.Duration > target {
				t.Errorf("segment %d part %d: %d ticks, PART-TARGET %d", seg.MSN, i, pt.Duration, target)
			}
			if i < len(seg.Parts)-1 && float64(pt.Duration) < 0.85*float64(target) {
				t.Errorf("segment %d part %d: %d ticks, under 85 %% of PART-TARGET %d", seg.MSN, i, pt.Duration, target)
			}
		}
	}
}

// msVideoPackager pushes n frames of the sample's video track, one every
// frameMS milliseconds with timestamps rounded to the millisecond (RTMP)
// on a 90 kHz timescale (what ingest gives an RTMP publish) and no
// signalled frame rate, a key frame every 30, into a packager with 1 s
// segments and 200 ms parts; the rendition is "v".
func msVideoPackager(t *testing.T, frameMS float64, n int) *Packager {
	t.Helper()
	in, err := SampleInputs()
	if err != nil {
		t.Fatal(err)
	}
	tr := *in[0].Demuxer.Tracks()[0]
	if tr.Kind != media.KindVideo {
		t.Fatalf("sample track 0 is %v, want video", tr.Kind)
	}
	tr.Timescale = 90000
	tr.FrameRate = media.Rational{}
	clock := NewFakeClock(testEpoch)
	p := New(WithClock(clock), WithSegmentDuration(time.Second), WithPartDuration(200*time.Millisecond), WithLowLatency(true))
	if err := p.AddRendition("v", &tr); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		ms := math.Round(float64(i) * frameMS)
		dts := int64(ms) * 90
		clock.Set(testEpoch.Add(time.Duration(ms) * time.Millisecond))
		if err := p.Push("v", media.Sample{DTS: dts, PTS: dts, Sync: i%30 == 0}, []byte{0, 0, 0, 1, 0x65}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestAudioPartsMillisecondTimestamps: AAC at 48 and 44.1 kHz whose
// timestamps are whole milliseconds (RTMP), 2 s segments and 200 ms
// parts: audio parts are cut on an even grid, 9 or 10 frames each at
// 48 kHz (8 or 9 at 44.1), and no part is a sliver, neither a segment's
// last (9-frame parts left 85 ms at every 48 kHz segment's end) nor one
// cut a frame early by the jitter (at 44.1 kHz nine frames measure up to
// 210 ms, past a 209 ms target).
func TestAudioPartsMillisecondTimestamps(t *testing.T) {
	base := sampleAudioTrack(t)
	for _, rate := range []int{48000, 44100} {
		tr := base
		tr.Timescale, tr.SampleRate = uint32(rate), rate
		clock := NewFakeClock(testEpoch)
		p := New(WithClock(clock), WithSegmentDuration(2*time.Second), WithPartDuration(200*time.Millisecond), WithLowLatency(true))
		if err := p.AddRendition("a", &tr); err != nil {
			t.Fatal(err)
		}
		tick := float64(rate) / 1000
		for i := range rate * 20 / 1024 {
			ms := math.Round(float64(i) * 1024 * 1000 / float64(rate))
			clock.Set(testEpoch.Add(time.Duration(ms) * time.Millisecond))
			dts := int64(math.Round(ms * tick))
			if err := p.Push("a", media.Sample{DTS: dts, PTS: dts, Sync: true}, []byte{0x21, 0x10, 0x04}); err != nil {
				t.Fatal(err)
			}
		}
		p.mu.Lock()
		r := p.byName["a"]
		done := completeSegments(r)
		complete := len(done)
		for _, seg := range done {
			for i, pt := range seg.Parts {
				if float64(pt.Duration) < 0.85*float64(r.partDur) || pt.Duration > r.partDur {
					t.Errorf("%d Hz: segment %d part %d of %d: %.1f ms for a part target of %.1f ms", rate, seg.MSN, i, len(seg.Parts), float64(pt.Duration)/tick, float64(r.partDur)/tick)
				}
			}
		}
		p.mu.Unlock()
		if complete < 8 {
			t.Errorf("%d Hz: %d complete segments after 20 s", rate, complete)
		}
	}
}

// TestAudioPartsFewFrames: where the even grid would hold parts of 4 or
// 5 frames (24 kHz AAC, or HE-AAC's 2048-sample frames, at 200 ms parts)
// its smaller parts fall under 85 % of PART-TARGET, which the draft
// forbids for any part but a segment's last: the parts are whole frames
// within the configured duration instead, each full part ≥ 85 % of the
// target and none over it.
func TestAudioPartsFewFrames(t *testing.T) {
	tr := sampleAudioTrack(t)
	tr.Timescale, tr.SampleRate = 24000, 24000
	clock := NewFakeClock(testEpoch)
	p := New(WithClock(clock), WithSegmentDuration(2*time.Second), WithPartDuration(200*time.Millisecond), WithLowLatency(true))
	if err := p.AddRendition("a", &tr); err != nil {
		t.Fatal(err)
	}
	for i := range 24000 * 12 / 1024 {
		dts := int64(i) * 1024
		clock.Set(testEpoch.Add(time.Duration(dts) * time.Second / 24000))
		if err := p.Push("a", media.Sample{DTS: dts, PTS: dts, Sync: true}, []byte{0x21, 0x10, 0x04}); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byName["a"]
	if r.partsPerSeg != 0 {
		t.Errorf("grid of %d parts per segment kept for 24 kHz: parts of 4 and 5 frames", r.partsPerSeg)
	}
	done := completeSegments(r)
	complete := len(done)
	for _, seg := range done {
		for i, pt := range seg.Parts {
			last := i == len(seg.Parts)-1
			if pt.Duration > r.partDur || !last && float64(pt.Duration) < 0.85*float64(r.partDur) {
				t.Errorf("segment %d part %d of %d: %d ticks for a part target of %d", seg.MSN, i, len(seg.Parts), pt.Duration, r.partDur)
			}
		}
	}
	if complete < 4 {
		t.Errorf("%d complete segments after 12 s", complete)
	}
}

// sampleAudioTrack is a copy of the embedded sample's AAC track, for
// tests that change its rate.
func sampleAudioTrack(t *testing.T) media.Track {
	t.Helper()
	in, err := SampleInputs()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range in {
		for _, x := range i.Demuxer.Tracks() {
			if x.Kind == media.KindAudio {
				return *x
			}
		}
	}
	t.Fatal("no audio track in the sample")
	return media.Track{}
}

// completeSegments lists r's complete segments in the window.
func completeSegments(r *Rendition) []*Segment {
	var out []*Segment
	for _, seg := range r.segs {
		if seg.Complete {
			out = append(out, seg)
		}
	}
	return out
}
