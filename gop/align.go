package gop

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Rendition is one encode of a ladder as [CheckAlignment] sees it.
type Rendition struct {
	// Name identifies the rendition in reports (a file name).
	Name string
	// Frames in decode order, as [ReadFrames] returns them.
	Frames []Frame
	// Timescale of the frames' timestamps.
	Timescale uint32
}

// AlignOption tunes [CheckAlignment].
type AlignOption func(*alignConfig)

type alignConfig struct {
	segment, tolerance time.Duration
}

// WithSegment sets the target segment duration. Boundaries are checked at
// every multiple of it from the first key frame; without it (or with 0)
// every key frame of every rendition is checked (strict GOP alignment).
func WithSegment(d time.Duration) AlignOption { return func(c *alignConfig) { c.segment = d } }

// WithTolerance sets how far apart two timestamps may be and still count as
// the same instant; by default (or with 0) half the shortest frame
// duration.
func WithTolerance(d time.Duration) AlignOption { return func(c *alignConfig) { c.tolerance = d } }

// Problem is why a rendition cannot cut a segment at a boundary.
type Problem string

// Alignment problems.
const (
	// ProblemNone: the rendition starts a closed GOP at the boundary.
	ProblemNone Problem = ""
	// ProblemMissingKeyframe: no key frame at the boundary.
	ProblemMissingKeyframe Problem = "missing keyframe"
	// ProblemNonIDR: an I frame that is not a random-access point (no IDR,
	// no recovery point) sits at the boundary.
	ProblemNonIDR Problem = "non-IDR I frame"
	// ProblemOpenGOP: the key frame at the boundary has leading pictures
	// that reference the previous segment.
	ProblemOpenGOP Problem = "open GOP leading pictures"
	// ProblemFrameRate: no frame at all starts at the boundary because
	// the rendition's frame rate differs from the others'.
	ProblemFrameRate Problem = "frame-rate mismatch"
)

// Cut is what one rendition has at a boundary.
type Cut struct {
	Rendition string `json:"rendition"`
	// At is the time (seconds) of the key frame where this rendition
	// would start the segment: the first key frame at or after the
	// boundary; -1 when there is none.
	At float64 `json:"at"`
	// Nearest is the presentation time of the rendition's frame closest
	// to the boundary and NearestType its type ("I", "P", "B").
	Nearest     float64  `json:"nearest"`
	NearestType PictType `json:"nearest_type"`
	Problem     Problem  `json:"problem,omitempty"`
	// Detail explains the problem in words.
	Detail string `json:"detail,omitempty"`
}

// Boundary is a segment boundary at which the renditions disagree.
type Boundary struct {
	// Time of the boundary in seconds: where the first rendition can cut.
	Time float64 `json:"time"`
	// Nominal is the boundary the segment duration asks for (equal to
	// Time when checking every key frame).
	Nominal float64 `json:"nominal"`
	// Cuts has one entry per rendition, in input order.
	Cuts []Cut `json:"cuts"`
	// Odd names the renditions that disagree with the majority: those
	// with a problem, or, when most renditions have one, those without.
	Odd []string `json:"odd"`
}

// AlignmentReport is the result of [CheckAlignment]. It is an error
// (Error lists every misaligned boundary) so that callers can return it;
// use [AlignmentReport.Err] to get nil when everything lines up.
type AlignmentReport struct {
	Renditions []string `json:"renditions"`
	// Segment is the target segment duration in seconds (0: every key frame).
	Segment float64 `json:"segment"`
	// Checked is the number of boundaries checked.
	Checked int `json:"checked"`
	// Misaligned lists the boundaries where some rendition cannot cut.
	Misaligned []Boundary `json:"misaligned"`
}

// Aligned reports whether every checked boundary lines up.
func (r *AlignmentReport) Aligned() bool { return len(r.Misaligned) == 0 }

// Err returns r when some boundary is misaligned, nil otherwise.
func (r *AlignmentReport) Err() error {
	if r.Aligned() {
		return nil
	}
	return r
}

// Error describes every misaligned boundary, one per line.
func (r *AlignmentReport) Error() string {
	if r.Aligned() {
		return fmt.Sprintf("gop: %d renditions aligned at %d boundaries", len(r.Renditions), r.Checked)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "gop: %d of %d segment boundaries misaligned", len(r.Misaligned), r.Checked)
	for _, m := range r.Misaligned {
		fmt.Fprintf(&b, "\n  at %.3f s (odd one out: %s):", m.Time, strings.Join(m.Odd, ", "))
		for _, c := range m.Cuts {
			if c.Problem == ProblemNone {
				fmt.Fprintf(&b, " %s cuts at %.3f s;", c.Rendition, c.At)
				continue
			}
			fmt.Fprintf(&b, " %s: %s (%s);", c.Rendition, c.Problem, c.Detail)
		}
	}
	return b.String()
}

type renditionView struct {
	name     string
	pts      []float64 // presentation times, sorted
	types    []PictType
	frames   []*Frame // same order as pts
	keys     []int    // indices into pts of key frames
	frameDur float64  // median frame duration (s)
}

func newView(r Rendition) renditionView {
	v := renditionView{name: r.Name}
	ts := float64(r.Timescale)
	if ts <= 0 {
		ts = 1
	}
	idx := make([]int, 0, len(r.Frames))
	for i := range r.Frames {
		if !r.Frames[i].Discarded {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return r.Frames[idx[a]].PTS < r.Frames[idx[b]].PTS })
	for _, i := range idx {
		f := &r.Frames[i]
		if f.Key {
			v.keys = append(v.keys, len(v.pts))
		}
		v.pts = append(v.pts, float64(f.PTS)/ts)
		v.types = append(v.types, f.Type)
		v.frames = append(v.frames, f)
	}
	var d []float64
	for i := 1; i < len(v.pts); i++ {
		if g := v.pts[i] - v.pts[i-1]; g > 0 {
			d = append(d, g)
		}
	}
	if len(d) > 0 {
		sort.Float64s(d)
		v.frameDur = d[len(d)/2]
	}
	return v
}

// CheckAlignment tells whether the renditions' random-access points line
// up where segments would be cut, so that a player can switch between
// them at every segment boundary. Every boundary where some rendition has
// no clean key frame at the same instant as the others is reported, with
// each rendition's timestamps and the reason: missing keyframe, non-IDR I
// frame, open-GOP leading pictures or frame-rate mismatch.
func CheckAlignment(renditions []Rendition, opts ...AlignOption) *AlignmentReport {
	var o alignConfig
	for _, opt := range opts {
		opt(&o)
	}
	rep := &AlignmentReport{Segment: o.segment.Seconds()}
	views := make([]renditionView, len(renditions))
	minDur := math.Inf(1)
	for i, r := range renditions {
		views[i] = newView(r)
		rep.Renditions = append(rep.Renditions, r.Name)
		if views[i].frameDur > 0 {
			minDur = math.Min(minDur, views[i].frameDur)
		}
	}
	if len(views) == 0 {
		return rep
	}
	tol := o.tolerance.Seconds()
	if tol <= 0 {
		tol = 0.001
		if !math.IsInf(minDur, 1) {
			tol = minDur / 2
		}
	}
	// The common timeline: from the latest first frame to the earliest end.
	start, end := math.Inf(-1), math.Inf(1)
	for _, v := range views {
		if len(v.pts) == 0 {
			return rep
		}
		start = math.Max(start, v.pts[0])
		end = math.Min(end, v.pts[len(v.pts)-1])
	}
	var bounds []float64
	if o.segment > 0 {
		seg := o.segment.Seconds()
		for t := start + seg; t <= end+tol; t += seg {
			bounds = append(bounds, t)
		}
	} else {
		for _, v := range views {
			for _, k := range v.keys {
				if t := v.pts[k]; t > start+tol && t <= end+tol {
					bounds = append(bounds, t)
				}
			}
		}
		sort.Float64s(bounds)
		bounds = dedupe(bounds, tol)
	}
	rep.Checked = len(bounds)
	for _, nominal := range bounds {
		t := nominal
		if o.segment > 0 {
			// A packager cuts at the first key frame at or after the
			// nominal boundary; the renditions agree when they all cut at
			// the same instant, the earliest of their candidates.
			t = math.Inf(1)
			for i := range views {
				if at := views[i].nextKey(nominal, tol); at >= 0 {
					t = math.Min(t, at)
				}
			}
			if math.IsInf(t, 1) {
				continue // no rendition has a key frame left: the last segment
			}
		}
		cuts := make([]Cut, len(views))
		bad := false
		for i := range views {
			cuts[i] = views[i].cutAt(t, tol, views)
			if cuts[i].Problem != ProblemNone {
				bad = true
			}
		}
		if bad {
			rep.Misaligned = append(rep.Misaligned, Boundary{Time: t, Nominal: nominal, Cuts: cuts, Odd: oddOnes(cuts)})
		}
	}
	return rep
}

// oddOnes returns the minority: the renditions with a problem unless
// they outnumber those without.
func oddOnes(cuts []Cut) []string {
	var good, bad []string
	for _, c := range cuts {
		if c.Problem == ProblemNone {
			good = append(good, c.Rendition)
		} else {
			bad = append(bad, c.Rendition)
		}
	}
	if len(good) > 0 && len(good) < len(bad) {
		return good
	}
	return bad
}

func dedupe(v []float64, tol float64) []float64 {
	out := v[:0]
	for _, x := range v {
		if len(out) == 0 || x-out[len(out)-1] > tol {
			out = append(out, x)
		}
	}
	return out
}

// nextKey returns the time of the first key frame at or after t, or -1.
func (v *renditionView) nextKey(t, tol float64) float64 {
	for _, k := range v.keys {
		if v.pts[k] >= t-tol {
			return v.pts[k]
		}
	}
	return -1
}

// cutAt says whether v can start a clean segment at time t.
func (v *renditionView) cutAt(t, tol float64, all []renditionView) Cut {
	c := Cut{Rendition: v.name, At: -1}
	// Nearest frame.
	i := sort.SearchFloat64s(v.pts, t)
	near := len(v.pts)
	for _, j := range []int{i - 1, i, i + 1} {
		if j >= 0 && j < len(v.pts) && (near == len(v.pts) || math.Abs(v.pts[j]-t) < math.Abs(v.pts[near]-t)) {
			near = j
		}
	}
	if near < len(v.pts) {
		c.Nearest = v.pts[near]
		c.NearestType = v.types[near]
	}
	c.At = v.nextKey(t, tol)
	atBoundary := near < len(v.pts) && math.Abs(v.pts[near]-t) <= tol
	switch {
	case atBoundary && v.frames[near].Key:
		f := v.frames[near]
		if n := v.leadingAfter(near); n > 0 && f.RAP != RAPIDR {
			c.Problem = ProblemOpenGOP
			c.Detail = fmt.Sprintf("%s at %.3f s has %d leading frames referencing the previous segment", f.RAP, c.Nearest, n)
		}
	case atBoundary && v.frames[near].IsIntra():
		c.Problem = ProblemNonIDR
		c.Detail = fmt.Sprintf("I frame at %.3f s is not a random-access point", c.Nearest)
	case !atBoundary && v.frameDur > 0 && otherRate(v, all, tol):
		c.Problem = ProblemFrameRate
		c.Detail = fmt.Sprintf("no frame starts at %.3f s: frame duration %.4f s vs %s; nearest frame %.3f s", t, v.frameDur,
			otherDurations(v, all), c.Nearest)
	case !atBoundary || !v.frames[near].Key:
		c.Problem = ProblemMissingKeyframe
		if c.At >= 0 {
			c.Detail = fmt.Sprintf("%s frame at %.3f s; next key frame at %.3f s", c.NearestType, c.Nearest, c.At)
		} else {
			c.Detail = fmt.Sprintf("%s frame at %.3f s; no key frame after it", c.NearestType, c.Nearest)
		}
	}
	return c
}

// leadingAfter counts the frames decoded after the key frame at
// presentation position k that are presented before it and need the
// previous GOP.
func (v *renditionView) leadingAfter(k int) int {
	n := 0
	for i := k - 1; i >= 0 && i >= k-64; i-- {
		f := v.frames[i]
		if f.Index > v.frames[k].Index && f.Leading == LeadingSkipped {
			n++
		}
	}
	return n
}

func otherRate(v *renditionView, all []renditionView, tol float64) bool {
	for i := range all {
		o := &all[i]
		if o.name != v.name && o.frameDur > 0 && math.Abs(o.frameDur-v.frameDur) > tol/10 {
			return true
		}
	}
	return false
}

func otherDurations(v *renditionView, all []renditionView) string {
	var parts []string
	for i := range all {
		o := &all[i]
		if o.name != v.name && math.Abs(o.frameDur-v.frameDur) > 1e-9 {
			parts = append(parts, fmt.Sprintf("%.4f s in %s", o.frameDur, o.name))
		}
	}
	return strings.Join(parts, ", ")
}
