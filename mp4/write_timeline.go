package mp4

import (
	"github.com/streamkit-go/streamkit/media"
)

// This file plans each output track's timeline: the edit list that keeps
// the presentation ffprobe shows for the input.

// planTimeline sets edits and movieTS of every output track from the
// observed first DTS (d0) and smallest PTS of each track. origin reports
// whether MPEG-TS normalisation applies. durations holds each track's
// presentation length (max PTS+duration-d0); nil means fragmented output,
// whose synthesised edits get duration 0 ("until the end of the media").
// oDen > 0 imposes the origin oNum/oDen seconds (shared between CMAF
// tracks written separately).
//
// For a track with an input edit list (MP4 input) the edits are kept and
// their media times moved by the first DTS. Otherwise the track's
// timestamps minus the global origin P (the smallest first PTS, in
// seconds, over all tracks) must be what ffprobe shows:
//
//	shown = media_time_of_sample - M + E = DTS - d0 - M + E
//
// so E - M = d0 - P. M is the track's own composition delay (libavformat
// honours a media-time edit only from a key frame's presentation time on)
// and an empty edit E makes up the rest.
func planTimeline(tracks []*outTrack, origin bool, durations map[uint32]int64, oNum, oDen int64) {
	mts := uint32(0)
	for _, ot := range tracks {
		if ot.t.MovieTimescale != 0 && len(ot.t.Edits) > 0 {
			mts = ot.t.MovieTimescale
			break
		}
	}
	if mts == 0 {
		mts = 1000
		if origin && len(tracks) > 0 {
			mts = tracks[0].t.Timescale
		}
	}
	// origin in seconds, as an exact rational P = num/den.
	var pNum int64
	var pDen int64 = 1
	if origin {
		if num, den := earliestPTS(tracks); den != 0 {
			pNum, pDen = num, den
		}
		if oDen > 0 {
			pNum, pDen = oNum, oDen
		}
	}
	for _, ot := range tracks {
		ot.movieTS = mts
		ts := int64(ot.t.Timescale)
		dur := durations[ot.id]
		if len(ot.t.Edits) > 0 && !origin {
			src := ot.t.MovieTimescale
			if src == 0 {
				src = mts
			}
			ot.edits = make([]media.Edit, len(ot.t.Edits))
			for i, e := range ot.t.Edits {
				e.Duration = media.Rescale(e.Duration, int64(mts), int64(src))
				if e.MediaTime >= 0 {
					e.MediaTime = max(e.MediaTime-ot.d0, 0)
				}
				if e.Duration == 0 && durations != nil && e.MediaTime >= 0 && i == len(ot.t.Edits)-1 {
					// A fragmented input's "until the end" edit gets the
					// actual length in a progressive file.
					e.Duration = media.Rescale(max(dur-e.MediaTime, 0), int64(mts), ts)
				}
				ot.edits[i] = e
			}
			continue
		}
		ot.edits = nil
		shift := ot.d0
		if origin {
			shift = ot.d0 - media.Rescale(pNum, ts, pDen)
			if pNum < 0 {
				shift = ot.d0 + media.Rescale(-pNum, ts, pDen)
			}
		}
		if shift == 0 {
			continue
		}
		// E - M = shift. libavformat only honours a media-time edit that
		// starts at or after a key frame's presentation time, so M is the
		// track's own composition delay and E makes up the rest.
		m := max(ot.minPTS-ot.d0, 0)
		e := shift + m
		if e < 0 {
			m, e = -shift, 0
		}
		if e > 0 {
			ot.edits = append(ot.edits, media.Edit{Duration: media.Rescale(e, int64(mts), ts), MediaTime: -1, RateInt: 1})
		}
		ot.edits = append(ot.edits, media.Edit{Duration: media.Rescale(max(dur-m, 0), int64(mts), ts), MediaTime: m, RateInt: 1})
	}
}

// editDuration is the presentation duration an edit list describes, in
// the movie timescale.
func editDuration(edits []media.Edit) int64 {
	var d int64
	for _, e := range edits {
		d += e.Duration
	}
	return d
}
