package segment

import (
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// TestBandwidthPeak pins the peak segment bit rate: the largest rate of
// any segment on its own, a short last one included (BANDWIDTH must hold
// for every segment a client may fetch), never below the average.
func TestBandwidthPeak(t *testing.T) {
	for _, c := range []struct {
		name      string
		segs      [][2]int64 // size in bytes, duration in ms
		peak, avg int64
	}{
		// 10 s GOPs cut at a 4 s target, a short low-rate last segment:
		// the peak is the 300,000-byte 10 s segment.
		{"short low-rate last", [][2]int64{{250_000, 10_000}, {300_000, 10_000}, {260_000, 10_000}, {3_000, 800}}, 240_000, 211_169},
		// A one-frame last segment holding a key frame sets the peak.
		{"short high-rate last", [][2]int64{{250_000, 2_000}, {250_000, 2_000}, {20_000, 33}}, 4_848_485, 1_031_491},
		// One short segment alone: its rate is peak and average.
		{"single short", [][2]int64{{1000, 300}}, 26_667, 26_667},
	} {
		r := &Rendition{Timescale: 1000}
		for i, sd := range c.segs {
			r.Segments = append(r.Segments, Segment{Number: i + 1, Range: Range{Size: sd[0]}, Duration: sd[1]})
		}
		peak, avg := bandwidths(r)
		if peak != c.peak || avg != c.avg {
			t.Errorf("%s: peak %d average %d, want %d and %d", c.name, peak, avg, c.peak, c.avg)
		}
		if peak < avg {
			t.Errorf("%s: peak %d below average %d", c.name, peak, avg)
		}
	}
}

// TestCutTimesHugeGap: key frames 1e9 s apart cost one step each, not one
// per target length (a hostile sample delta once made Cut spin).
func TestCutTimesHugeGap(t *testing.T) {
	td := &trackData{}
	td.track.Timescale = 1
	for i, pts := range []int64{0, 1_000_000_000, 1_000_000_001} {
		td.samples = append(td.samples, sampleAt(i, pts))
	}
	cuts := cutTimes(td, 0.1)
	if len(cuts) != 2 || cuts[0] != 1e9 || cuts[1] != 1e9+1 {
		t.Errorf("cuts %v, want [1e9 1e9+1]", cuts)
	}
}

func sampleAt(i int, pts int64) media.Sample {
	return media.Sample{Index: int64(i), DTS: pts, PTS: pts, Sync: true}
}
