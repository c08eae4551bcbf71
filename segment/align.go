package segment

import (
	"fmt"
	"math"
	"strings"
)

// checkAligned verifies that every video rendition has its random-access
// points at the same presentation times as the first one (within half a
// frame), so that segment boundaries can coincide.
func checkAligned(videos []*trackData) error {
	if len(videos) < 2 {
		return nil
	}
	ref := videos[0]
	refKeys := ref.keyTimes()
	var b strings.Builder
	for _, v := range videos[1:] {
		keys := v.keyTimes()
		tol := 0.5 / math.Max(ref.track.FrameRate.Float(), 1)
		var missing, extra []string
		for _, k := range refKeys {
			if !near(keys, k, tol) {
				missing = append(missing, fmt.Sprintf("%.3f", k))
			}
		}
		for _, k := range keys {
			if !near(refKeys, k, tol) {
				extra = append(extra, fmt.Sprintf("%.3f", k))
			}
		}
		if len(missing) > 0 || len(extra) > 0 {
			if b.Len() > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " %s (track %d) vs %s (track %d):", v.in.Name, v.track.ID, ref.in.Name, ref.track.ID)
			if len(missing) > 0 {
				fmt.Fprintf(&b, " no key frame at %s s", strings.Join(missing, ", "))
			}
			if len(extra) > 0 {
				if len(missing) > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, " key frames at %s s that the reference lacks", strings.Join(extra, ", "))
			}
		}
	}
	if b.Len() > 0 {
		return fmt.Errorf("%w:%s", ErrMisaligned, b.String())
	}
	return nil
}

func near(sorted []float64, t, tol float64) bool {
	for _, k := range sorted {
		if math.Abs(k-t) <= tol {
			return true
		}
	}
	return false
}
