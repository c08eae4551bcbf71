package shape

import (
	"net/http"
	"path"
	"strings"
)

// Class is the kind of a request, for fault rules.
type Class int

// Request classes. ClassAny in a fault rule matches every class.
const (
	ClassOther    Class = iota // anything else (player page, scripts, keys)
	ClassPlaylist              // HLS playlist or DASH MPD, LL-HLS blocking reloads included
	ClassInit                  // initialization segment
	ClassSegment               // media segment
	ClassPart                  // LL-HLS partial segment
	numClasses
	ClassAny Class = -1
)

var classNameList = [...]string{"other", "playlist", "init", "segment", "part"}

func (c Class) String() string {
	if c == ClassAny {
		return "any"
	}
	if c >= 0 && int(c) < len(classNameList) {
		return classNameList[c]
	}
	return "class?"
}

func classNames() []string { return append([]string{"any"}, classNameList[:]...) }

func classByName(s string) (Class, bool) {
	if s == "any" {
		return ClassAny, true
	}
	for i, n := range classNameList {
		if n == s {
			return Class(i), true
		}
	}
	return 0, false
}

var mediaExt = map[string]bool{
	".m4s": true, ".mp4": true, ".m4v": true, ".m4a": true, ".ts": true, ".aac": true, ".cmfv": true,
	".cmfa": true, ".cmft": true, ".mp3": true, ".ac3": true, ".ec3": true, ".vtt": true, ".webm": true,
}

// Classify is the default classifier. By the last path element:
//
//   - .m3u8 and .mpd are playlists (so are LL-HLS blocking reloads, which
//     carry _HLS_msn/_HLS_part in the query);
//   - a media file (.m4s, .mp4, .ts, .aac, .cmfv, ...) whose name contains
//     "init" is an init segment, and so is a ranged request for bytes 0-
//     of a single-file (byte-range) presentation;
//   - a media file whose name contains "part" (mediamtx and gohlslib name
//     LL-HLS parts partN.mp4), or requested with _HLS_part in its query, is
//     a part;
//   - any other media file is a segment; the rest is ClassOther.
func Classify(r *http.Request) Class {
	base := strings.ToLower(path.Base(r.URL.Path))
	ext := path.Ext(base)
	switch {
	case ext == ".m3u8" || ext == ".mpd":
		return ClassPlaylist
	case !mediaExt[ext]:
		return ClassOther
	case strings.Contains(base, "init"):
		return ClassInit
	case strings.Contains(base, "part") || r.URL.Query().Has("_HLS_part"):
		return ClassPart
	case strings.HasPrefix(r.Header.Get("Range"), "bytes=0-"):
		return ClassInit
	}
	return ClassSegment
}
