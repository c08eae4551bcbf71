package mp4

import "github.com/streamkit-go/streamkit/media"

// EditShift returns the ticks by which the track's edit list moves its
// samples on the presentation timeline, as ffprobe applies it:
//
//	ffprobe_pts = Sample.PTS + EditShift(track)
//
// It is [media.EditShift] (where the rule is written), here beside the
// edit-list reader for callers that think in MP4 terms.
func EditShift(t *media.Track) int64 { return media.EditShift(t) }

// DTSShift returns how far libavformat moves the decode timestamps of
// track i back to keep them at or below the presentation timestamps:
// minus the smallest negative ctts composition offset, else 0.
func (m *Reader) DTSShift(i int) int64 {
	if i < 0 || i >= len(m.tk) {
		return 0
	}
	return m.tk[i].dtsShift
}
