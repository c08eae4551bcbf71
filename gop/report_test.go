package gop

import (
	"strconv"
	"strings"
	"testing"
)

// mkFrames builds frames in decode order from "TYPE:pts" tokens; a
// trailing "*" marks a key frame, "r" a reference B, "!" an open-GOP key
// (recovery point rather than IDR).
func mkFrames(spec string) []Frame {
	var out []Frame
	for i, tok := range strings.Fields(spec) {
		f := Frame{Index: int64(i), DTS: int64(i), Size: 100, Duration: 1, RecoveryFrameCnt: -1}
		f.Type = PictType(tok[0])
		flags, num, _ := strings.Cut(tok[1:], ":")
		for _, c := range flags {
			switch c {
			case '*':
				f.Key, f.RAP = true, RAPIDR
			case '!':
				f.Key, f.RAP = true, RAPRecovery
			case 'r':
				f.Reference = true
			}
		}
		pts, err := strconv.Atoi(num)
		if err != nil {
			panic(tok)
		}
		f.PTS = int64(pts)
		if f.Type == TypeI {
			f.Size = 1000
		}
		if f.Type != TypeB {
			f.Reference = true
		}
		out = append(out, f)
	}
	SetDisplayOrder(out)
	MarkLeading(out)
	return out
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name      string
		spec      string
		gops      int
		closed    []bool
		pattern   []string
		reason    string // substring of the last GOP's reason
		maxB      int
		pyramid   bool
		reorder   int
		fixed     bool
		shortGOPs int
	}{
		{name: "IPPP fixed", spec: "I*:0 P:1 P:2 I*:3 P:4 P:5 I*:6 P:7 P:8 I*:9",
			gops: 4, closed: []bool{true, true, true, true}, pattern: []string{"IPP", "IPP", "IPP", "I"}, reason: "IDR", fixed: true},
		{name: "IBBP closed", spec: "I*:0 P:3 B:1 B:2 P:6 B:4 B:5 I*:7 P:10 B:8 B:9",
			gops: 2, closed: []bool{true, true}, pattern: []string{"IBBPBBP", "IBBP"}, maxB: 2, reorder: 1, reason: "IDR", fixed: true},
		{name: "pyramid", spec: "I*:0 P:4 Br:2 B:1 B:3 P:8 Br:6 B:5 B:7",
			gops: 1, closed: []bool{true}, pattern: []string{"IBBBPBBBP"}, maxB: 3, pyramid: true, reorder: 2, fixed: true},
		{name: "open GOP", spec: "I*:0 P:3 B:1 B:2 I!:6 B:4 B:5 P:9 B:7 B:8",
			gops: 2, closed: []bool{true, false}, pattern: []string{"IBBP", "BBIBBP"}, maxB: 2, reorder: 1,
			reason: "2 leading frames reference the previous GOP", fixed: true},
		{name: "scene cut", spec: "I*:0 P:1 P:2 P:3 I*:4 P:5 I*:6 P:7 P:8 P:9 I*:10",
			gops: 4, closed: []bool{true, true, true, true}, pattern: []string{"IPPP", "IP", "IPPP", "I"}, reason: "IDR", shortGOPs: 1},
		{name: "joined mid-GOP", spec: "P:0 P:1 I*:2 P:3",
			gops: 2, closed: []bool{false, true}, pattern: []string{"PP", "IP"}, reason: "IDR", fixed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Analyze(mkFrames(tt.spec), 1)
			if len(rep.GOPs) != tt.gops {
				t.Fatalf("%d GOPs, want %d", len(rep.GOPs), tt.gops)
			}
			for i, g := range rep.GOPs {
				if g.Closed != tt.closed[i] || g.Pattern != tt.pattern[i] {
					t.Errorf("GOP %d: closed %v pattern %q (%s), want %v %q", i, g.Closed, g.Pattern, g.Reason, tt.closed[i], tt.pattern[i])
				}
			}
			last := rep.GOPs[len(rep.GOPs)-1]
			if !strings.Contains(last.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", last.Reason, tt.reason)
			}
			s := rep.Summary
			if s.MaxBFrames != tt.maxB || s.Pyramid != tt.pyramid || s.ReorderDepth != tt.reorder {
				t.Errorf("maxB %d pyramid %v reorder %d, want %d %v %d", s.MaxBFrames, s.Pyramid, s.ReorderDepth, tt.maxB, tt.pyramid, tt.reorder)
			}
			if s.Fixed != tt.fixed || s.ShortGOPs != tt.shortGOPs {
				t.Errorf("fixed %v short %d, want %v %d (lengths %d-%d)", s.Fixed, s.ShortGOPs, tt.fixed, tt.shortGOPs, s.MinLength, s.MaxLength)
			}
			if s.Types.Total().Count != len(strings.Fields(tt.spec)) {
				t.Errorf("type counts %+v", s.Types)
			}
			if s.String() == "" {
				t.Error("empty summary")
			}
		})
	}
}

func TestSummaryStringAndSVG(t *testing.T) {
	frames := mkFrames("I*:0 P:3 B:1 B:2 P:6 B:4 B:5 I*:7 P:10 B:8 B:9")
	s := Analyze(frames, 1).Summary.String()
	for _, want := range []string{"11 frames in 2 GOPs", "all closed", "up to 2 consecutive B-frames", "I 2 (mean 1000 B)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	var b strings.Builder
	if err := WriteSVG(&b, frames, 1, "a <test>"); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<rect") < len(frames)+1 || !strings.Contains(svg, "a &lt;test&gt;") ||
		strings.Count(svg, "stroke-dasharray") != 3 {
		t.Errorf("unexpected SVG:\n%s", svg)
	}
}

func TestSpanOpenGOP(t *testing.T) {
	rep := Analyze(mkFrames("I*:0 P:3 B:1 B:2 I!:6 B:4 B:5 P:9 B:7 B:8"), 1)
	if g := rep.GOPs; g[0].Frames != 4 || g[0].Span != 6 || g[1].Frames != 6 || g[1].Span != 4 {
		t.Errorf("frames/span %d/%d %d/%d, want 4/6 6/4", g[0].Frames, g[0].Span, g[1].Frames, g[1].Span)
	}
	if s := rep.Summary; s.MinLength != 6 || s.MaxLength != 6 {
		t.Errorf("summary lengths %d-%d, want the key-frame distance 6", s.MinLength, s.MaxLength)
	}
}
