package segment

import "strings"

// iso639 maps the ISO 639-2/T codes MP4 and TS carry to the two-letter
// ISO 639-1 codes BCP 47 prefers, and names them for EXT-X-MEDIA NAME.
var iso639 = map[string][2]string{
	"ara": {"ar", "Arabic"}, "ces": {"cs", "Czech"}, "dan": {"da", "Danish"}, "deu": {"de", "Deutsch"},
	"ell": {"el", "Greek"}, "eng": {"en", "English"}, "fin": {"fi", "Finnish"}, "fra": {"fr", "Français"},
	"heb": {"he", "Hebrew"}, "hin": {"hi", "Hindi"}, "hun": {"hu", "Magyar"}, "ita": {"it", "Italiano"},
	"jpn": {"ja", "Japanese"}, "kor": {"ko", "Korean"}, "nld": {"nl", "Nederlands"}, "nor": {"no", "Norsk"},
	"pol": {"pl", "Polski"}, "por": {"pt", "Português"}, "rus": {"ru", "Russian"}, "spa": {"es", "Español"},
	"swe": {"sv", "Svenska"}, "tur": {"tr", "Türkçe"}, "ukr": {"uk", "Ukrainian"}, "zho": {"zh", "Chinese"},
	"ger": {"de", "Deutsch"}, "fre": {"fr", "Français"}, "dut": {"nl", "Nederlands"}, "chi": {"zh", "Chinese"},
}

// LanguageTag returns the language tag for an ISO 639-2 code ("eng" -> "en"),
// "" for unknown ("und" or empty).
func LanguageTag(iso6392 string) string {
	l := strings.ToLower(iso6392)
	if l == "" || l == "und" {
		return ""
	}
	if e, ok := iso639[l]; ok {
		return e[0]
	}
	return l
}

// LanguageName returns a human-readable name for an ISO 639-2 code.
func LanguageName(iso6392 string) string {
	l := strings.ToLower(iso6392)
	if e, ok := iso639[l]; ok {
		return e[1]
	}
	if l == "" || l == "und" {
		return "Audio"
	}
	return l
}
