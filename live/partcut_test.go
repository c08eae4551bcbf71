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
	in, err := SampleInputs()
	if err != nil {
		t.Fatal(err)
	}
	tr := *in[0].Demuxer.Tracks()[0]
	if tr.Kind != media.KindVideo {
		t.Fatalf("sample track 0 is %v, want video", tr.Kind)
	}
	tr.Timescale = 90000 // what ingest gives an RTMP publish
	tr.FrameRate = media.Rational{}
	clock := NewFakeClock(testEpoch)
	p := New(WithClock(clock), WithSegmentDuration(time.Second), WithPartDuration(200*time.Millisecond), WithLowLatency(true))
	if err := p.AddRendition("v", &tr); err != nil {
		t.Fatal(err)
	}
	for i := range 10 * 30 {
		ms := math.Round(float64(i) * 1000 / 30)
		dts := int64(ms) * 90
		clock.Set(testEpoch.Add(time.Duration(ms) * time.Millisecond))
		if err := p.Push("v", media.Sample{DTS: dts, PTS: dts, Sync: i%30 == 0}, []byte{0, 0, 0, 1, 0x65}); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byName["v"]
	complete := 0
	for _, seg := range r.segs {
		if !seg.Complete {
			continue
		}
		complete++
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
