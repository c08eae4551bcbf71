package gop

import (
	"strings"
	"testing"
	"time"
)

// encode builds an IPPP... rendition: n frames of dur ticks (timescale
// 1000), a key frame every keyEvery frames; mod may change frames.
func encode(n, keyEvery int, dur int64, mod func(i int, f *Frame)) []Frame {
	out := make([]Frame, n)
	for i := range out {
		f := Frame{Index: int64(i), PTS: int64(i) * dur, DTS: int64(i) * dur, Duration: dur, Type: TypeP, Reference: true, RecoveryFrameCnt: -1}
		if i%keyEvery == 0 {
			f.Type, f.Key, f.RAP = TypeI, true, RAPIDR
		}
		if mod != nil {
			mod(i, &f)
		}
		out[i] = f
	}
	SetDisplayOrder(out)
	MarkLeading(out)
	return out
}

func TestCheckAlignment(t *testing.T) {
	ref := Rendition{Name: "ref", Frames: encode(150, 50, 40, nil), Timescale: 1000}
	tests := []struct {
		name    string
		other   Rendition
		segment time.Duration
		want    Problem
		at      float64
	}{
		{"aligned", Rendition{Name: "b", Frames: encode(150, 50, 40, nil), Timescale: 1000}, 0, ProblemNone, 0},
		{"aligned 4s segments", Rendition{Name: "b", Frames: encode(150, 25, 40, nil), Timescale: 1000}, 4 * time.Second, ProblemNone, 0},
		{"missing keyframe", Rendition{Name: "b", Frames: encode(150, 45, 40, nil), Timescale: 1000}, 0, ProblemMissingKeyframe, 2},
		{"non-IDR I", Rendition{Name: "b", Frames: encode(150, 50, 40, func(i int, f *Frame) {
			if i == 50 {
				f.Key, f.RAP = false, RAPNone
			}
		}), Timescale: 1000}, 0, ProblemNonIDR, 2},
		{"open GOP", Rendition{Name: "b", Frames: encode(150, 50, 40, func(i int, f *Frame) {
			switch i {
			case 50:
				f.RAP = RAPRecovery
			case 51: // decoded after the key frame, shown before it
				f.Type, f.PTS, f.Reference = TypeB, 49*40+20, false
			}
		}), Timescale: 1000}, 0, ProblemOpenGOP, 2},
		{"frame rate", Rendition{Name: "b", Frames: encode(86, 28, 70, nil), Timescale: 1000}, 0, ProblemFrameRate, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := CheckAlignment([]Rendition{ref, tt.other}, WithSegment(tt.segment))
			if tt.want == ProblemNone {
				if err := rep.Err(); err != nil {
					t.Fatalf("misaligned: %v", err)
				}
				if rep.Checked == 0 {
					t.Fatal("nothing checked")
				}
				return
			}
			if rep.Aligned() || rep.Err() == nil {
				t.Fatal("reported aligned")
			}
			found := false
			for _, m := range rep.Misaligned {
				for _, c := range m.Cuts {
					if c.Rendition == "b" && c.Problem == tt.want && m.Time > tt.at-0.05 && m.Time < tt.at+0.05 {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("no %q for b at %.2f s in:\n%v", tt.want, tt.at, rep.Error())
			}
			if !strings.Contains(rep.Error(), "b:") || !strings.Contains(rep.Error(), string(tt.want)) {
				t.Errorf("Error() lacks the rendition or reason: %s", rep.Error())
			}
		})
	}
}
