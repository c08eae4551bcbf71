package gop

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/streamkit-go/streamkit/media"
)

// TypeStats counts the frames of one picture type and their bytes.
type TypeStats struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Mean returns the mean frame size in bytes (0 without frames).
func (s TypeStats) Mean() float64 {
	if s.Count == 0 {
		return 0
	}
	return float64(s.Bytes) / float64(s.Count)
}

// ByType holds statistics for I, P and B frames; Other counts the rest
// (SI, SP, S, unknown).
type ByType struct {
	I     TypeStats `json:"I"`
	P     TypeStats `json:"P"`
	B     TypeStats `json:"B"`
	Other TypeStats `json:"other"`
}

func (b *ByType) add(t PictType, size int) {
	s := &b.Other
	switch t {
	case TypeI:
		s = &b.I
	case TypeP:
		s = &b.P
	case TypeB:
		s = &b.B
	}
	s.Count++
	s.Bytes += int64(size)
}

// Total returns the sum over all types.
func (b ByType) Total() TypeStats {
	return TypeStats{Count: b.I.Count + b.P.Count + b.B.Count + b.Other.Count,
		Bytes: b.I.Bytes + b.P.Bytes + b.B.Bytes + b.Other.Bytes}
}

// GOP is one group of pictures: a key frame and the frames that follow
// it in decode order up to the next key frame.
type GOP struct {
	// Index is the GOP's zero-based position.
	Index int `json:"index"`
	// FirstFrame is the decode index of the GOP's first frame.
	FirstFrame int64 `json:"first_frame"`
	// StartPTS is the PTS of the key frame (of the first frame for a
	// Partial GOP), Start the same in seconds.
	StartPTS int64   `json:"start_pts"`
	Start    float64 `json:"start"`
	// Frames is the number of frames of the GOP in decode order (leading
	// frames included). Span is the key-frame distance in frames: how many
	// frames are presented from this GOP's start up to the next one's;
	// the two differ only for open GOPs. Duration is the time in seconds
	// from this GOP's start to the next one's (to the end of the last
	// frame for the final GOP).
	Frames   int     `json:"frames"`
	Span     int     `json:"span"`
	Duration float64 `json:"duration"`
	// Key is the GOP's first frame type and RAP its kind of random-access
	// point.
	Key PictType `json:"key"`
	RAP RAP      `json:"rap"`
	// Partial is set for frames before the first key frame.
	Partial bool `json:"partial"`
	// Closed reports whether the GOP decodes without frames of the
	// previous GOP; Reason says why (or why not).
	Closed bool   `json:"closed"`
	Reason string `json:"reason"`
	// LeadingSkipped and LeadingDecodable count the leading pictures
	// (presented before the key frame) that need the previous GOP (RASL,
	// open-GOP B frames) and that do not (RADL).
	LeadingSkipped   int `json:"leading_skipped"`
	LeadingDecodable int `json:"leading_decodable"`
	// Pattern is the frame types in presentation order ("IBBPBBP").
	Pattern string `json:"pattern"`
	// BRuns are the lengths of the runs of consecutive B frames in
	// presentation order; MaxBRun is the longest.
	BRuns   []int `json:"b_runs"`
	MaxBRun int   `json:"max_b_run"`
	// ReferenceB counts B frames used as references (B-pyramid).
	ReferenceB int `json:"reference_b"`
	// ReorderDepth is the largest number of frames decoded before, but
	// presented after, some frame of the GOP.
	ReorderDepth int `json:"reorder_depth"`
	// Types counts frames and bytes per type.
	Types ByType `json:"types"`
}

// Summary describes a whole track's GOP structure.
type Summary struct {
	// Frames, GOPs and Duration (seconds, first PTS to end of last frame).
	Frames   int     `json:"frames"`
	GOPs     int     `json:"gops"`
	Duration float64 `json:"duration"`
	// MinLength, MaxLength and MeanLength are GOP lengths (key-frame
	// distances, GOP.Span) in frames over the complete GOPs (all but a
	// Partial first and the last, unless there are no others);
	// MinSeconds, MaxSeconds and MeanSeconds the same in seconds.
	// KeyInterval is MeanSeconds.
	MinLength   int     `json:"min_length"`
	MaxLength   int     `json:"max_length"`
	MeanLength  float64 `json:"mean_length"`
	MinSeconds  float64 `json:"min_seconds"`
	MaxSeconds  float64 `json:"max_seconds"`
	MeanSeconds float64 `json:"mean_seconds"`
	KeyInterval float64 `json:"key_interval"`
	// Fixed reports a constant GOP length; otherwise ShortGOPs counts the
	// GOPs shorter than the longest (cut early by scene changes or forced
	// key frames).
	Fixed     bool `json:"fixed"`
	ShortGOPs int  `json:"short_gops"`
	// Closed and Open count GOPs of each kind.
	Closed int `json:"closed"`
	Open   int `json:"open"`
	// MaxBFrames is the longest run of consecutive B frames.
	MaxBFrames int `json:"max_b_frames"`
	// Pyramid reports hierarchical B frames (B frames used as references).
	Pyramid bool `json:"pyramid"`
	// ReorderDepth is the largest reorder depth from PTS/DTS.
	ReorderDepth int `json:"reorder_depth"`
	// Types counts frames and bytes per type.
	Types ByType `json:"types"`
}

// Report is the result of [Analyze].
type Report struct {
	Summary Summary `json:"summary"`
	GOPs    []GOP   `json:"gops"`
}

// Analyze groups frames (in decode order, as [ReadFrames] returns them)
// into GOPs at every key frame and summarises them. timescale converts
// timestamps to seconds.
func Analyze(frames []Frame, timescale uint32) *Report {
	rep := &Report{}
	if len(frames) == 0 {
		return rep
	}
	ts := float64(timescale)
	if ts <= 0 {
		ts = 1
	}
	sec := func(t int64) float64 { return float64(t) / ts }

	// Split into GOPs (decode order).
	var starts []int
	for i := range frames {
		if frames[i].Key || i == 0 {
			starts = append(starts, i)
		}
	}
	var endPTS int64 = math.MinInt64
	var firstPTS int64 = math.MaxInt64
	for i := range frames {
		f := &frames[i]
		if e := f.PTS + f.Duration; e > endPTS {
			endPTS = e
		}
		firstPTS = min(firstPTS, f.PTS)
	}
	sum := &rep.Summary
	sum.Frames = len(frames)
	sum.Duration = sec(endPTS - firstPTS)
	for gi, s := range starts {
		e := len(frames)
		if gi+1 < len(starts) {
			e = starts[gi+1]
		}
		g := buildGOP(frames[s:e], gi)
		g.Start = sec(g.StartPTS)
		if gi+1 < len(starts) {
			g.Duration = sec(frames[e].PTS - g.StartPTS)
		} else {
			g.Duration = sec(endPTS - g.StartPTS)
		}
		rep.GOPs = append(rep.GOPs, g)
	}
	// Spans: frames presented between consecutive GOP starts.
	pts := make([]int64, len(frames))
	for i := range frames {
		pts[i] = frames[i].PTS
	}
	slices.Sort(pts)
	for i := range rep.GOPs {
		lo := rep.GOPs[i].StartPTS
		a, _ := slices.BinarySearch(pts, lo)
		b := len(pts)
		if i+1 < len(rep.GOPs) {
			b, _ = slices.BinarySearch(pts, rep.GOPs[i+1].StartPTS)
		}
		if i == 0 {
			a = 0 // frames shown before the first key frame belong to the first GOP
		}
		rep.GOPs[i].Span = max(b-a, 0)
	}
	// Summary.
	sum.GOPs = len(rep.GOPs)
	complete := rep.GOPs
	if len(complete) > 0 && complete[0].Partial {
		complete = complete[1:]
	}
	if len(complete) > 1 {
		complete = complete[:len(complete)-1]
	}
	for i, g := range complete {
		if i == 0 || g.Span < sum.MinLength {
			sum.MinLength = g.Span
		}
		if i == 0 || g.Duration < sum.MinSeconds {
			sum.MinSeconds = g.Duration
		}
		sum.MaxLength = max(sum.MaxLength, g.Span)
		sum.MaxSeconds = max(sum.MaxSeconds, g.Duration)
		sum.MeanLength += float64(g.Span)
		sum.MeanSeconds += g.Duration
	}
	if n := len(complete); n > 0 {
		sum.MeanLength /= float64(n)
		sum.MeanSeconds /= float64(n)
	}
	sum.KeyInterval = sum.MeanSeconds
	sum.Fixed = sum.MinLength == sum.MaxLength
	for _, g := range complete {
		if g.Span < sum.MaxLength {
			sum.ShortGOPs++
		}
	}
	for _, g := range rep.GOPs {
		if g.Partial {
			continue
		}
		if g.Closed {
			sum.Closed++
		} else {
			sum.Open++
		}
	}
	for _, g := range rep.GOPs {
		sum.MaxBFrames = max(sum.MaxBFrames, g.MaxBRun)
		sum.ReorderDepth = max(sum.ReorderDepth, g.ReorderDepth)
		if g.ReferenceB > 0 {
			sum.Pyramid = true
		}
		for _, p := range []struct{ dst, src *TypeStats }{{&sum.Types.I, &g.Types.I}, {&sum.Types.P, &g.Types.P},
			{&sum.Types.B, &g.Types.B}, {&sum.Types.Other, &g.Types.Other}} {
			p.dst.Count += p.src.Count
			p.dst.Bytes += p.src.Bytes
		}
	}
	return rep
}

// buildGOP describes the frames of one GOP (decode order).
func buildGOP(fr []Frame, index int) GOP {
	k := &fr[0]
	g := GOP{Index: index, FirstFrame: k.Index, StartPTS: k.PTS, Frames: len(fr), Key: k.Type, RAP: k.RAP,
		Partial: !k.Key}
	for i := range fr {
		f := &fr[i]
		g.Types.add(f.Type, f.Size)
		switch f.Leading {
		case LeadingSkipped:
			g.LeadingSkipped++
		case LeadingDecodable:
			g.LeadingDecodable++
		}
		if f.Type == TypeB && f.Reference {
			g.ReferenceB++
		}
		// Reorder depth: frames decoded earlier in this GOP but shown later.
		d := 0
		for j := max(0, i-64); j < i; j++ {
			if fr[j].PTS > f.PTS {
				d++
			}
		}
		g.ReorderDepth = max(g.ReorderDepth, d)
	}
	// Presentation order pattern and B runs.
	order := make([]int, len(fr))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case fr[a].PTS < fr[b].PTS:
			return -1
		case fr[a].PTS > fr[b].PTS:
			return 1
		}
		return 0
	})
	var sb strings.Builder
	run := 0
	for _, i := range order {
		sb.WriteByte(byte(fr[i].Type))
		if fr[i].Type == TypeB {
			run++
			continue
		}
		if run > 0 {
			g.BRuns = append(g.BRuns, run)
			g.MaxBRun = max(g.MaxBRun, run)
			run = 0
		}
	}
	if run > 0 {
		g.BRuns = append(g.BRuns, run)
		g.MaxBRun = max(g.MaxBRun, run)
	}
	g.Pattern = sb.String()
	g.Closed, g.Reason = closedness(&g, k)
	return g
}

func closedness(g *GOP, k *Frame) (bool, string) {
	if g.Partial {
		return false, "starts without a key frame (stream joined mid-GOP)"
	}
	lead := func() string {
		if g.LeadingSkipped == 1 {
			return "1 leading frame references the previous GOP"
		}
		return fmt.Sprintf("%d leading frames reference the previous GOP", g.LeadingSkipped)
	}
	switch k.RAP {
	case RAPIDR:
		if g.LeadingDecodable > 0 {
			return true, fmt.Sprintf("IDR with %d decodable leading frames (RADL)", g.LeadingDecodable)
		}
		if k.NALType >= 0 && k.Hidden {
			return true, "key frame"
		}
		return true, "IDR"
	case RAPCRA, RAPBLA:
		if g.LeadingSkipped > 0 {
			return false, fmt.Sprintf("%s: %s (RASL)", k.RAP, lead())
		}
		return true, fmt.Sprintf("%s without RASL frames", k.RAP)
	case RAPRecovery:
		if g.LeadingSkipped > 0 {
			return false, "non-IDR I frame with recovery point: " + lead()
		}
		return true, "non-IDR I frame with recovery point, no leading frames"
	case RAPIntra:
		if g.LeadingSkipped > 0 {
			return false, "I frame: " + lead()
		}
		return true, "I frame, no leading frames"
	}
	// Key without a RAP kind: AV1 shown-existing key frame.
	if g.LeadingSkipped > 0 {
		return false, "key frame: " + lead()
	}
	return true, "key frame"
}

// String is a one-paragraph summary, as streamkit demo prints it.
func (s Summary) String() string {
	if s.Frames == 0 {
		return "no frames"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d frames in %d GOPs over %.2f s; ", s.Frames, s.GOPs, s.Duration)
	if s.Fixed {
		fmt.Fprintf(&b, "fixed GOP of %d frames (%.2f s)", s.MaxLength, s.MeanSeconds)
	} else {
		fmt.Fprintf(&b, "GOP %d-%d frames (mean %.1f, %.2f s), %d shorter than the longest (scene cuts or forced key frames)",
			s.MinLength, s.MaxLength, s.MeanLength, s.MeanSeconds, s.ShortGOPs)
	}
	switch {
	case s.Open == 0:
		b.WriteString(", all closed")
	case s.Closed == 0:
		b.WriteString(", all open")
	default:
		fmt.Fprintf(&b, ", %d closed / %d open", s.Closed, s.Open)
	}
	if s.MaxBFrames > 0 {
		fmt.Fprintf(&b, "; up to %d consecutive B-frames", s.MaxBFrames)
		if s.Pyramid {
			b.WriteString(" (B-pyramid)")
		}
		fmt.Fprintf(&b, ", reorder depth %d", s.ReorderDepth)
	} else {
		b.WriteString("; no B-frames")
	}
	b.WriteString("; ")
	first := true
	for _, x := range []struct {
		n string
		s TypeStats
	}{{"I", s.Types.I}, {"P", s.Types.P}, {"B", s.Types.B}, {"other", s.Types.Other}} {
		if x.s.Count == 0 {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		fmt.Fprintf(&b, "%s %d (mean %s)", x.n, x.s.Count, humanBytes(x.s.Mean()))
	}
	return b.String()
}

func humanBytes(v float64) string {
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

// AnalyzeTrack reads the frames of track t of d with [ReadFrames] and
// analyses the ones a player shows (frames an edit list discards are left
// out). It is what `streamkit gop` and the demo print:
//
//	rep, _, err := gop.AnalyzeTrack(ctx, d, t)
//	fmt.Println(rep.Summary) // "200 frames in 4 GOPs over 8.00 s; fixed GOP of 50 frames ..."
func AnalyzeTrack(ctx context.Context, d media.Demuxer, t *media.Track, opts ...Option) (*Report, []Frame, error) {
	frames, err := ReadFrames(ctx, d, t, opts...)
	if err != nil {
		return nil, frames, err
	}
	shown := frames[:0:0]
	for _, f := range frames {
		if !f.Discarded {
			shown = append(shown, f)
		}
	}
	if len(shown) != len(frames) {
		SetDisplayOrder(shown)
	}
	return Analyze(shown, t.Timescale), shown, nil
}
