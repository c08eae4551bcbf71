package latency

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/live"
)

var t0 = time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)

func frameAt(i int, stages ...time.Duration) Frame {
	f := Frame{Index: i, Capture: t0.Add(time.Duration(i) * 33 * time.Millisecond)}
	at := f.Capture
	ptrs := []*time.Time{&f.Arrived, &f.Published, &f.Fetched, &f.Displayed}
	for k, d := range stages {
		at = at.Add(d)
		*ptrs[k] = at
	}
	return f
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	frames := []Frame{
		frameAt(0, 10*ms, 100*ms, 20*ms, 600*ms),
		frameAt(1, 30*ms, 300*ms, 40*ms, 400*ms),
		frameAt(2, 20*ms, 200*ms, -10*ms, 500*ms),                   // a clock disagreement
		{Index: 3, Capture: t0, Displayed: t0.Add(2 * time.Second)}, // readable, no budget
	}
	s := Summarize(frames, 4)
	if s.Displayed != 8 || s.Readable != 4 || s.Budgeted != 3 || s.Negative != 1 {
		t.Errorf("counts %+v", s)
	}
	if s.Budget != (Budget{20 * ms, 200 * ms, 50 * ms / 3, 500 * ms}) {
		t.Errorf("budget %+v", s.Budget)
	}
	if want := (730*ms + 770*ms + 710*ms) / 3; s.Mean != want || s.Budget.Sum()-s.Mean > ms {
		t.Errorf("mean %v, sum %v, want %v", s.Mean, s.Budget.Sum(), want)
	}
	if s.Median != 770*ms || s.P95 != 2*time.Second {
		t.Errorf("median %v p95 %v", s.Median, s.P95)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	bad := s
	bad.Mean += 60 * ms
	if bad.Check() == nil {
		t.Error("a budget 60 ms off the total passes")
	}
	if (Summary{}).Check() == nil {
		t.Error("an empty summary passes")
	}
}

// TestFetched: the fetch that brought a frame is the earliest of its
// part's and its segment's; a chunked segment counts from the later of
// its response start and the part's publication.
func TestFetched(t *testing.T) {
	loc := live.Location{MSN: 7, Part: 2, PartPublish: t0.Add(500 * time.Millisecond)}
	pd := pageData{}
	add := func(url string, start, end time.Duration, chunked bool) {
		pd.Resources = append(pd.Resources, struct {
			URL     string  `json:"url"`
			Start   float64 `json:"start"`
			End     float64 `json:"end"`
			Publish float64 `json:"publish"`
			Chunked bool    `json:"chunked"`
		}{url, float64(t0.Add(start).UnixMicro()) / 1000, float64(t0.Add(end).UnixMicro()) / 1000, 0, chunked})
	}
	if got := fetched(pd, loc, "v0"); !got.IsZero() {
		t.Errorf("nothing fetched: %v", got)
	}
	add("/live/clock/v0/seg_7.m4s", 900*time.Millisecond, 1500*time.Millisecond, false)
	add("/live/clock/v0/part_7_1.m4s", 0, 300*time.Millisecond, false) // another part
	if got := fetched(pd, loc, "v0"); !got.Equal(t0.Add(1500 * time.Millisecond)) {
		t.Errorf("segment: %v", got.Sub(t0))
	}
	add("/live/clock/v0/part_7_2.m4s", 400*time.Millisecond, 510*time.Millisecond, false)
	if got := fetched(pd, loc, "v0"); !got.Equal(t0.Add(510 * time.Millisecond)) {
		t.Errorf("part: %v", got.Sub(t0))
	}
	pd.Resources = nil
	add("/live/clock/v0/seg_7.m4s", 100*time.Millisecond, 1100*time.Millisecond, true)
	if got := fetched(pd, loc, "v0"); !got.Equal(loc.PartPublish) {
		t.Errorf("chunked: %v", got.Sub(t0))
	}
}

func TestReport(t *testing.T) {
	ms := time.Millisecond
	var fs []Frame
	for i := range 60 {
		fs = append(fs, frameAt(i, 5*ms, 100*ms+time.Duration(i)*ms, 10*ms, 500*ms))
	}
	res := []Result{
		{Mode: LLHLS, Frames: fs, Summary: Summarize(fs, 2)},
		{Mode: PlainHLS, Err: ErrNoEncoder},
	}
	var b bytes.Buffer
	if err := WriteTable(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"LL-HLS", "200ms", "96.8%", "HLS: not measured: latency: no encoder"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := WriteSVG(&b, res); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<polyline") != 1 || !strings.Contains(svg, "not measured") ||
		!strings.Contains(svg, "<title>packaging 130 ms</title>") {
		t.Errorf("svg:\n%s", svg)
	}
}
