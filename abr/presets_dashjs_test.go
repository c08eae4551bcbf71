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
	l := calLadder(20)
	kbps := l.Kbps
	tr := &abr.Trace{Name: "outage", Periods: []abr.Period{
		{DurationMs: 4000, Kbps: 3000, LatencyMs: 20}, {DurationMs: 10000, Kbps: 0}, {DurationMs: 3600e3, Kbps: 3000, LatencyMs: 20},
	}}
	recs := runPreset(t, "dashjs", l, tr)
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

// runPreset runs the preset name on l over tr as playtest's comparison
// does (buffer cap out of the way, playback from the first segment,
// abandonment on) and returns every download's record.
func runPreset(t *testing.T, name string, l *abr.Ladder, tr *abr.Trace, opts ...abr.AlgorithmOption) []abr.SegmentRecord {
	t.Helper()
	alg, err := abr.New(name, opts...)
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
	return recs
}

// calLadder is the calibration set's DASH ladder (playtest/testdata/calibration):
// 2 s segments of 279-2094 kbit/s video, each with the 69 kbit/s audio
// segment fetched beside it.
func calLadder(n int) *abr.Ladder {
	kbps := []float64{279, 542, 1055, 2094}
	l := &abr.Ladder{SegmentMs: 2000, Kbps: kbps}
	for range n {
		row := make([]float64, len(kbps))
		for q, k := range kbps {
			row[q] = k*2000 + 138000
		}
		l.Sizes = append(l.Sizes, row)
	}
	return l
}

// TestDashJSFastSwitch pins dash.js 5.2.1's fast switching
// (dist/modern/esm/dash.all.debug.js: StreamProcessor._prepareForFastQualitySwitch,
// on by default through MediaPlayerModel.getFastSwitchEnabled): when the
// ABR switches to a representation of higher bandwidth than the segment
// buffered 1.5 segment durations (3 s) ahead of the play position, with
// at least 3 s buffered, the next request is the segment at play+3 s
// (setExplicitBufferingTime), and the requests after it go on from there,
// overwriting the buffered segments one by one. On 600 kbit/s for 30 s
// and then 5 Mbit/s, the preset must replace, after its first up-switch
// on the fast link, exactly the segment at play+3 s and then the
// following ones in order, never the segment playing, and play the new
// quality from there.
func TestDashJSFastSwitch(t *testing.T) {
	l := calLadder(40)
	tr := &abr.Trace{Name: "rise", Periods: []abr.Period{
		{DurationMs: 30000, Kbps: 600, LatencyMs: 20}, {DurationMs: 3600e3, Kbps: 5000, LatencyMs: 20},
	}}
	recs := runPreset(t, "dashjs", l, tr)
	played := make([]int, 40) // quality buffered (and then played) per segment
	next, cur := 0, -1
	first, fsNext := -1, -1 // the first replacement's record; the segment a replacement chain goes on with
	for i, r := range recs {
		if r.Abandoned {
			continue
		}
		pos := float64(next)*2000 - r.BufferBefore // play position at the request, ms
		at3 := int((pos + 3000) / 2000)            // the segment at play+3 s
		up := r.Quality != cur && r.BufferBefore >= 3000 && at3 < next && played[at3] < r.Quality
		switch {
		case up: // a switch up: the next request is the segment at play+3 s
			if !r.Replacement || r.Index != at3 {
				t.Errorf("record %d: switch %d→%d with segment %d (quality %d) buffered at play+3 s: downloaded segment %d (replacement %v), want %d replaced",
					i, cur, r.Quality, at3, played[at3], r.Index, r.Replacement, at3)
			}
			if first < 0 {
				first = i
			}
		case fsNext >= 0 && fsNext < next: // a replacement chain goes on in order
			if !r.Replacement || r.Index != fsNext {
				t.Errorf("record %d: segment %d (replacement %v), want segment %d replaced next", i, r.Index, r.Replacement, fsNext)
			}
		default: // otherwise the next segment, appended
			if r.Replacement || r.Index != next {
				t.Errorf("record %d: segment %d (replacement %v), want %d appended", i, r.Index, r.Replacement, next)
			}
		}
		if r.Replacement && float64(r.Index)*2000 < pos {
			t.Errorf("record %d: replaced segment %d at play position %.0f ms: it is playing already", i, r.Index, pos)
		}
		played[r.Index], cur = r.Quality, r.Quality
		if r.Replacement {
			fsNext = r.Index + 1
		} else {
			next, fsNext = next+1, -1 // the chain reached the end of the buffer
		}
	}
	if first < 0 {
		t.Fatalf("no buffered segment replaced after the link rose: %+v", recs)
	}
	if recs[first].StartMs < 30000 {
		t.Errorf("first replacement at %.1f s, before the link rose at 30 s", recs[first].StartMs/1000)
	}
}
