package abr_test

import (
	"testing"

	"github.com/streamkit-go/streamkit/abr"
)

// TestDashJSAbandonedSample: dash.js takes a throughput sample from an
// abandoned request too, weighted by its (long) transfer, so after a
// download that spanned an outage is abandoned its estimate recovers
// slowly. The calibration's outage scenario (playtest/testdata/calibration):
// 3 Mbit/s for 4 s, nothing for 10 s, 3 Mbit/s, on its 279-2094 kbit/s
// ladder. The preset must abandon the top-rendition download caught by the
// outage and must not go back to the top on the first up-switch after it
// (without the sample it did: its estimate was the link's 3 Mbit/s again).
func TestDashJSAbandonedSample(t *testing.T) {
	kbps := []float64{279, 542, 1055, 2094}
	l := &abr.Ladder{SegmentMs: 2000, Kbps: kbps}
	for range 20 {
		row := make([]float64, len(kbps))
		for q, k := range kbps {
			row[q] = k*2000 + 138000 // the video and the 69 kbit/s audio fetched beside it
		}
		l.Sizes = append(l.Sizes, row)
	}
	tr := &abr.Trace{Name: "outage", Periods: []abr.Period{
		{DurationMs: 4000, Kbps: 3000, LatencyMs: 20}, {DurationMs: 10000, Kbps: 0}, {DurationMs: 3600e3, Kbps: 3000, LatencyMs: 20},
	}}
	alg, err := abr.New("dashjs")
	if err != nil {
		t.Fatal(err)
	}
	s, err := abr.NewSession(l, tr, alg, abr.WithBuffer(600e3), abr.WithStartup(0), abr.WithAbandonment(true))
	if err != nil {
		t.Fatal(err)
	}
	var recs []abr.SegmentRecord
	s.SetOnSegment(func(r *abr.SegmentRecord) { recs = append(recs, *r) })
	if _, err := s.Run(); err != nil {
		t.Fatal(err)
	}
	ab := -1
	for i, r := range recs {
		if r.Abandoned {
			ab = i
			break
		}
	}
	if ab < 0 {
		t.Fatalf("no download abandoned across the outage: %+v", recs)
	}
	from := recs[ab].AbandonTo
	for _, r := range recs[ab+1:] {
		if r.Quality > from {
			if r.Quality == len(kbps)-1 {
				t.Errorf("segment %d at %.1f s: back to the top rendition on the first up-switch after the abandonment; the abandoned download's slow sample should hold the estimate down", r.Index, r.StartMs/1000)
			}
			return
		}
	}
}
