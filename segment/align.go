package segment

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/gop"
)

// MisalignedError is returned when the video renditions cannot be cut at
// the same instants. It wraps ErrMisaligned and carries the GOP
// package's report: which boundary, which rendition, and why (missing
// key frame, non-IDR I frame, open-GOP leading pictures, frame-rate
// mismatch).
type MisalignedError struct {
	Report *gop.AlignmentReport
}

// Error puts the whole report on one line (the CLI prints one line).
func (e *MisalignedError) Error() string {
	lines := strings.Split(strings.TrimSpace(e.Report.Error()), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(strings.TrimSpace(lines[i]), ";")
	}
	return ErrMisaligned.Error() + ": " + strings.Join(lines, "; ")
}

func (e *MisalignedError) Unwrap() error { return ErrMisaligned }

// analyseFrames reads every video track's frames with gop.ReadFrames
// (NAL headers only), in a pass of its own: Cut analyses the frames while
// it writes them, and calls this only when writing failed with several
// renditions, so that misaligned renditions get the alignment check's
// report rather than the first cut that did not fit. With one rendition
// a failure only costs the independence claim; with several the
// alignment check needs them.
func analyseFrames(ctx context.Context, videos []*trackData) error {
	for _, v := range videos {
		frames, err := gop.ReadFrames(ctx, v.in.Demuxer, &v.track)
		if err != nil {
			if len(videos) > 1 || ctx.Err() != nil {
				return fmt.Errorf("%s: analysing frames for the alignment check: %w", v.in.Name, err)
			}
			continue
		}
		v.frames = frames
	}
	return nil
}

// checkAligned runs gop.CheckAlignment over the video renditions at the
// segment boundaries a target duration asks for (the same grid cutTimes
// uses): missing key frames, non-IDR I frames, open-GOP leading pictures
// and frame-rate mismatches at a boundary are all reported.
func checkAligned(videos []*trackData, target time.Duration) error {
	if len(videos) < 2 {
		return nil
	}
	rs := make([]gop.Rendition, 0, len(videos))
	for _, v := range videos {
		rs = append(rs, gop.Rendition{Name: v.in.Name, Frames: v.frames, Timescale: v.track.Timescale})
	}
	rep := gop.CheckAlignment(rs, gop.WithSegment(target))
	if rep.Err() != nil {
		return &MisalignedError{Report: rep}
	}
	return nil
}

// closedStart reports whether the segment starting at sample k decodes
// on its own: its first frame is an IDR (or intra start), or no frame of
// its GOP references the previous one (RASL / open-GOP B frames). Unknown
// (frames not analysed) counts as not closed.
func (td *trackData) closedStart(k int) bool {
	if td.frames == nil {
		return false
	}
	byIndex := func(i int) *gop.Frame {
		if i < len(td.frames) && td.frames[i].Index == int64(i) {
			return &td.frames[i]
		}
		for j := range td.frames {
			if td.frames[j].Index == int64(i) {
				return &td.frames[j]
			}
		}
		return nil
	}
	f := byIndex(k)
	if f == nil {
		return false
	}
	if f.RAP == gop.RAPIDR {
		return true // no leading picture may reference across an IDR
	}
	for i := k + 1; i < len(td.samples) && !td.samples[i].Sync; i++ {
		if g := byIndex(i); g == nil || g.Leading == gop.LeadingSkipped {
			return false
		}
	}
	return true
}

// sapType returns the type of the stream access point the segment of
// samples [k, end) starts with (ISO/IEC 14496-12 annex I): 1 when its
// first frame decodes on its own and no frame of the segment is shown
// before it, 2 when frames of its closed GOP are shown before it, 3 when
// its GOP is open (leading pictures reference the previous segment, or
// the frames were not analysed).
func (td *trackData) sapType(k, end int) int {
	if !td.closedStart(k) {
		return 3
	}
	for i := k + 1; i < end; i++ {
		if td.samples[i].PTS < td.samples[k].PTS {
			return 2
		}
	}
	return 1
}
