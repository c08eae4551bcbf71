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

// checkAligned runs gop.CheckAlignment over the video renditions at the
// segment boundaries a target duration asks for (the same grid cutTimes
// uses), analysing every frame (so open GOPs and non-IDR I frames at a
// boundary are caught, not only missing key frames).
func checkAligned(ctx context.Context, videos []*trackData, target time.Duration) error {
	if len(videos) < 2 {
		return nil
	}
	rs := make([]gop.Rendition, 0, len(videos))
	for _, v := range videos {
		frames, err := gop.ReadFrames(ctx, v.in.Demuxer, &v.track)
		if err != nil {
			return fmt.Errorf("%s: analysing frames for the alignment check: %w", v.in.Name, err)
		}
		rs = append(rs, gop.Rendition{Name: v.in.Name, Frames: frames, Timescale: v.track.Timescale})
	}
	rep := gop.CheckAlignment(rs, gop.AlignOptions{Segment: target})
	if rep.Err() != nil {
		return &MisalignedError{Report: rep}
	}
	return nil
}
