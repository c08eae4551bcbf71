package mp4

import "github.com/streamkit-go/streamkit/media"

// FFprobeTimestamps returns, for track i, a function that gives each of the
// track's samples the timestamps ffprobe shows for it after libavformat's
// edit-list re-indexing (FFprobePackets), and whether ffprobe shows it at
// all (false for the packets it marks for discard). Samples ffprobe does
// not list get their raw timestamps shifted by EditShift and false. It is
// what gop.WithTimestamps takes to reproduce ffprobe -show_frames exactly.
func (m *Reader) FFprobeTimestamps(i int) func(s *media.Sample) (pts, dts int64, shown bool) {
	type ts struct {
		pts, dts int64
		shown    bool
	}
	byIndex := map[int64]ts{}
	for _, p := range m.FFprobePackets(i) {
		byIndex[p.Sample.Index] = ts{p.PTS, p.DTS, !p.Discard}
	}
	var shift int64
	if i >= 0 && i < len(m.tracks) {
		shift = EditShift(m.tracks[i])
	}
	return func(s *media.Sample) (int64, int64, bool) {
		if v, ok := byIndex[s.Index]; ok {
			return v.pts, v.dts, v.shown
		}
		return s.PTS + shift, s.DTS + shift, false
	}
}
