package mp4

import (
	"math/big"

	"github.com/streamkit-go/streamkit/media"
)

// EditShift returns the number of ticks (of t.Timescale) that the track's
// edit list moves its samples on the presentation timeline: the summed
// duration of the leading empty edits (rescaled from the movie timescale)
// minus the media_time of the first real edit.
//
// ffprobe (libavformat's mov demuxer) applies exactly this shift to the
// pts and dts of every packet, whether the samples are described in moov
// or in movie fragments, so
//
//	ffprobe_pts = Sample.PTS + EditShift(track)
//
// For example an AAC track with one edit at media_time 1024 (encoder
// priming) gives -1024: the first packet has pts -1024 and is marked for
// discard. A video track whose B-frames delay presentation by two frames
// has media_time = that delay, so that the first frame is shown at 0; an
// empty first edit of 0.5 s adds 0.5 s. Only the first real edit is
// taken into account; later edits (cuts, repeats) change which samples
// are presented, not this offset. nil Edits give 0.
func EditShift(t *media.Track) int64 {
	var empty int64
	for _, e := range t.Edits {
		if e.MediaTime == -1 {
			empty += rescale(e.Duration, int64(t.Timescale), int64(t.MovieTimescale))
			continue
		}
		return empty - e.MediaTime
	}
	return empty
}

// DTSShift returns how far libavformat moves the decode timestamps of
// track i back to keep them at or below the presentation timestamps:
// minus the smallest negative ctts composition offset, else 0.
func (m *Reader) DTSShift(i int) int64 {
	if i < 0 || i >= len(m.tk) {
		return 0
	}
	return m.tk[i].dtsShift
}

// rescale returns v*num/den rounded to nearest, without overflow.
func rescale(v, num, den int64) int64 {
	if den == 0 {
		return 0
	}
	if v < 1<<31 && num < 1<<31 && v >= 0 && num >= 0 {
		return (v*num + den/2) / den
	}
	x := new(big.Int).Mul(big.NewInt(v), big.NewInt(num))
	x.Add(x, big.NewInt(den/2))
	x.Quo(x, big.NewInt(den))
	if !x.IsInt64() {
		return 0
	}
	return x.Int64()
}
