package media

import (
	"fmt"
	"strings"
)

// This file holds the stream metadata shared by every container: colour
// description, disposition and tags. The values and names are
// libavutil's, so that package probe prints what ffprobe prints.

// Color is the colour description of a video track (ISO/IEC 23091-2
// code points), from the H.264/HEVC VUI, the AV1 color_config or an MP4
// colr box. The zero value means nothing was signalled.
type Color struct {
	// Range is 0 when unknown, 1 for limited ("tv"), 2 for full ("pc").
	Range int
	// Described reports whether Primaries, Transfer and Matrix were
	// signalled; 2 in any of them means "unspecified".
	Described                   bool
	Primaries, Transfer, Matrix int
}

// RangeName returns ffprobe's color_range ("tv", "pc"), "" when unknown.
func (c Color) RangeName() string {
	switch c.Range {
	case 1:
		return "tv"
	case 2:
		return "pc"
	}
	return ""
}

// PrimariesName returns ffprobe's color_primaries, "" when unspecified.
func (c Color) PrimariesName() string {
	if !c.Described {
		return ""
	}
	return codePoint(c.Primaries, map[int]string{0: "reserved", 1: "bt709", 3: "reserved", 4: "bt470m", 5: "bt470bg",
		6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"})
}

// TransferName returns ffprobe's color_transfer, "" when unspecified.
func (c Color) TransferName() string {
	if !c.Described {
		return ""
	}
	return codePoint(c.Transfer, map[int]string{0: "reserved", 1: "bt709", 3: "reserved", 4: "gamma22", 5: "gamma28",
		6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100", 10: "log316", 11: "iec61966-2-4", 12: "bt1361e",
		13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"})
}

// SpaceName returns ffprobe's color_space (the matrix coefficients), ""
// when unspecified.
func (c Color) SpaceName() string {
	if !c.Described {
		return ""
	}
	return codePoint(c.Matrix, map[int]string{0: "gbr", 1: "bt709", 3: "reserved", 4: "fcc", 5: "bt470bg",
		6: "smpte170m", 7: "smpte240m", 8: "ycgco", 9: "bt2020nc", 10: "bt2020c", 11: "smpte2085",
		12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp"})
}

// codePoint names v; 2 (unspecified) and values libavutil has no name
// for are "" (ffprobe omits the key).
func codePoint(v int, names map[int]string) string {
	if v == 2 {
		return ""
	}
	return names[v]
}

// Disposition is a set of libavformat's AV_DISPOSITION_* flags, in the
// same bit order.
type Disposition uint32

// Disposition flags.
const (
	DispositionDefault Disposition = 1 << iota
	DispositionDub
	DispositionOriginal
	DispositionComment
	DispositionLyrics
	DispositionKaraoke
	DispositionForced
	DispositionHearingImpaired
	DispositionVisualImpaired
	DispositionCleanEffects
	DispositionAttachedPic
	DispositionTimedThumbnails
	DispositionCaptions
	DispositionDescriptions
	DispositionMetadata
	DispositionDependent
	DispositionStillImage
)

// DispositionNames are ffprobe's names of the flags, in bit order (the
// order ffprobe prints them).
var DispositionNames = []string{"default", "dub", "original", "comment", "lyrics", "karaoke", "forced",
	"hearing_impaired", "visual_impaired", "clean_effects", "attached_pic", "timed_thumbnails",
	"captions", "descriptions", "metadata", "dependent", "still_image"}

// Tag is one metadata key and value.
type Tag struct{ Key, Value string }

// FourCCString is libavutil's av_fourcc_make_string: printable characters
// as they are, others as "[n]" ("[0][0][0][0]", "[27][0][0][0]").
func FourCCString(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == ' ' || c == '-' || c == '_' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "[%d]", c)
		}
	}
	return sb.String()
}
