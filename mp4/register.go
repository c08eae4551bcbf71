package mp4

import (
	"io"

	"github.com/streamkit-go/streamkit/media"
)

func init() {
	media.RegisterFormat(media.Format{Name: "mp4", Match: Match,
		Open: func(r io.ReaderAt, size int64) (media.Demuxer, error) {
			return NewReader(r, size)
		},
		OpenStrict: func(r io.ReaderAt, size int64) (media.Demuxer, error) {
			return NewReader(r, size, WithStrict(true))
		}})
}

// topTypes are the box types an MP4 or QuickTime file may start with.
var topTypes = map[string]bool{
	"ftyp": true, "styp": true, "moov": true, "moof": true, "free": true, "skip": true,
	"wide": true, "mdat": true, "sidx": true, "pdin": true, "uuid": true,
}

// Match reports whether head, the first bytes of a file, looks like MP4:
// a known top-level box type at bytes 4..8 with a plausible size.
func Match(head []byte) bool {
	if len(head) < 8 || !topTypes[string(head[4:8])] {
		return false
	}
	size := be32(head)
	return size == 0 || size == 1 || size >= 8
}
