package segment

import "testing"

// TestBandwidthShortLastSegment pins RFC 8216bis's peak segment bit rate
// when segments are longer than the configured target (10 s GOPs cut at
// a 4 s target) and the last one is short: the window is the
// presentation's target duration (the longest segment), so the short last
// segment does not set the peak alone and the peak is not below the
// average.
func TestBandwidthShortLastSegment(t *testing.T) {
	r := &Rendition{Timescale: 1000}
	for i, c := range []struct{ size, dur int64 }{
		{250_000, 10_000}, {300_000, 10_000}, {260_000, 10_000}, {3_000, 800},
	} {
		r.Segments = append(r.Segments, Segment{Number: i + 1, Range: Range{Size: c.size}, Duration: c.dur})
	}
	p := &Presentation{Video: []*Rendition{r}}
	peak, avg := bandwidths(r, p.targetDuration())
	if want := int64(240_000); peak != want {
		t.Errorf("peak %d, want %d (the 300,000-byte 10 s segment)", peak, want)
	}
	if peak < avg {
		t.Errorf("peak %d below average %d", peak, avg)
	}
	// One short segment alone: the peak is its rate, never below average.
	one := &Rendition{Timescale: 1000, Segments: []Segment{{Range: Range{Size: 1000}, Duration: 300}}}
	if peak, avg := bandwidths(one, 1); peak < avg || peak != 26_667 {
		t.Errorf("single short segment: peak %d average %d, want 26667 both", peak, avg)
	}
}
