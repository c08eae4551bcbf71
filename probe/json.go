package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/streamkit-go/streamkit/media"
)

// The JSON types below mirror what ffprobe -show_format -show_streams
// -of json writes: the same key names, the same order, the same value
// types (many numbers are strings, "duration": "2.000000"), and keys
// ffprobe leaves out when a value is unknown are left out (pointers and
// omitempty), never written as null. streamkit's additions live under the
// "streamkit" key, which ffprobe does not use.

type jsonDoc struct {
	Streams []jsonStream `json:"streams"`
	Format  jsonFormat   `json:"format"`
	// Warnings: the damage the reader read past (Result.Warnings), under
	// a key ffprobe does not use; absent for an undamaged file. See
	// media.Warning.MarshalJSON.
	Warnings []media.Warning `json:"streamkit_warnings,omitempty"`
}

type jsonStream struct {
	Index              int              `json:"index"`
	CodecName          string           `json:"codec_name,omitempty"`
	CodecLongName      string           `json:"codec_long_name,omitempty"`
	Profile            string           `json:"profile,omitempty"`
	CodecType          string           `json:"codec_type,omitempty"`
	CodecTagString     string           `json:"codec_tag_string"`
	CodecTag           string           `json:"codec_tag"`
	Width              *int             `json:"width,omitempty"`
	Height             *int             `json:"height,omitempty"`
	CodedWidth         *int             `json:"coded_width,omitempty"`
	CodedHeight        *int             `json:"coded_height,omitempty"`
	HasBFrames         *int             `json:"has_b_frames,omitempty"`
	SampleAspectRatio  string           `json:"sample_aspect_ratio,omitempty"`
	DisplayAspectRatio string           `json:"display_aspect_ratio,omitempty"`
	PixFmt             string           `json:"pix_fmt,omitempty"`
	Level              *int             `json:"level,omitempty"`
	ColorRange         string           `json:"color_range,omitempty"`
	ColorSpace         string           `json:"color_space,omitempty"`
	ColorTransfer      string           `json:"color_transfer,omitempty"`
	ColorPrimaries     string           `json:"color_primaries,omitempty"`
	FieldOrder         string           `json:"field_order,omitempty"`
	IsAVC              string           `json:"is_avc,omitempty"`
	NALLengthSize      string           `json:"nal_length_size,omitempty"`
	SampleFmt          string           `json:"sample_fmt,omitempty"`
	SampleRate         string           `json:"sample_rate,omitempty"`
	Channels           *int             `json:"channels,omitempty"`
	ChannelLayout      string           `json:"channel_layout,omitempty"`
	BitsPerSample      *int             `json:"bits_per_sample,omitempty"`
	ID                 string           `json:"id,omitempty"`
	RFrameRate         string           `json:"r_frame_rate"`
	AvgFrameRate       string           `json:"avg_frame_rate"`
	TimeBase           string           `json:"time_base"`
	StartPTS           *int64           `json:"start_pts,omitempty"`
	StartTime          string           `json:"start_time,omitempty"`
	DurationTS         *int64           `json:"duration_ts,omitempty"`
	Duration           string           `json:"duration,omitempty"`
	BitRate            string           `json:"bit_rate,omitempty"`
	BitsPerRawSample   string           `json:"bits_per_raw_sample,omitempty"`
	NbFrames           string           `json:"nb_frames,omitempty"`
	Disposition        *jsonDisposition `json:"disposition,omitempty"`
	Tags               jsonTags         `json:"tags,omitempty"`
	SideDataList       []jsonSideData   `json:"side_data_list,omitempty"`
	Streamkit          *jsonExtra       `json:"streamkit,omitempty"`
}

type jsonSideData struct {
	SideDataType  string `json:"side_data_type"`
	DisplayMatrix string `json:"displaymatrix,omitempty"`
	Rotation      int    `json:"rotation"`
}

type jsonExtra struct {
	Codecs     string `json:"codecs,omitempty"`
	Program    int    `json:"program,omitempty"`
	Interlaced bool   `json:"interlaced,omitempty"`
}

type jsonFormat struct {
	Filename       string            `json:"filename"`
	NbStreams      int               `json:"nb_streams"`
	NbPrograms     int               `json:"nb_programs"`
	FormatName     string            `json:"format_name"`
	FormatLongName string            `json:"format_long_name"`
	StartTime      string            `json:"start_time,omitempty"`
	Duration       string            `json:"duration,omitempty"`
	Size           string            `json:"size"`
	BitRate        string            `json:"bit_rate,omitempty"`
	ProbeScore     int               `json:"probe_score"`
	Tags           map[string]string `json:"tags,omitempty"`
	Streamkit      *jsonFormatExtra  `json:"streamkit,omitempty"`
}

type jsonFormatExtra struct {
	Container string `json:"container"`
	BytesRead int64  `json:"bytes_read"`
}

// JSON returns the result in ffprobe's JSON schema, indented as ffprobe
// indents it.
func (r *Result) JSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteJSON writes the result in ffprobe's JSON schema
// (ffprobe -show_format -show_streams -of json).
func (r *Result) WriteJSON(w io.Writer) error {
	doc := jsonDoc{Streams: make([]jsonStream, 0, len(r.Streams))}
	for i := range r.Streams {
		doc.Streams = append(doc.Streams, r.Streams[i].json(r.Format.Container))
	}
	f := &r.Format
	doc.Format = jsonFormat{
		Filename:       f.Filename,
		NbStreams:      f.NbStreams,
		NbPrograms:     f.NbPrograms,
		FormatName:     f.Name,
		FormatLongName: f.LongName,
		Size:           fmt.Sprint(f.Size),
		ProbeScore:     f.ProbeScore,
		Tags:           f.Tags,
		Streamkit:      &jsonFormatExtra{Container: f.Container, BytesRead: r.BytesRead},
	}
	if f.StartTime != Unknown {
		doc.Format.StartTime = seconds(f.StartTime, 1, 1000000)
	}
	if f.Duration != Unknown {
		doc.Format.Duration = seconds(f.Duration, 1, 1000000)
	}
	if f.BitRate >= 0 {
		doc.Format.BitRate = fmt.Sprint(f.BitRate)
	}
	doc.Warnings = r.Warnings
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// seconds formats v*num/den as ffprobe's "%f" does (six decimals).
func seconds(v, num, den int64) string {
	return fmt.Sprintf("%.6f", float64(v)*float64(num)/float64(den))
}

func ratio(num, den int64) string {
	if den == 0 {
		return "0/0"
	}
	return fmt.Sprintf("%d/%d", num, den)
}

// jsonCodecType is codec_type as ffprobe's JSON writer prints it: a type
// libavutil has no name for is an optional field (print_str_opt), which
// the JSON writer omits (the default writer prints "unknown").
func jsonCodecType(t string) string {
	if t == "unknown" {
		return ""
	}
	return t
}

func (s *Stream) json(container string) jsonStream {
	j := jsonStream{
		Index:          s.Index,
		CodecName:      s.CodecName,
		CodecLongName:  s.CodecLongName,
		Profile:        s.Profile,
		CodecType:      jsonCodecType(s.CodecType),
		CodecTagString: s.CodecTagString,
		CodecTag:       fmt.Sprintf("0x%04x", s.CodecTag),
		RFrameRate:     ratio(s.RFrameRate.Num, s.RFrameRate.Den),
		AvgFrameRate:   ratio(s.AvgFrameRate.Num, s.AvgFrameRate.Den),
		TimeBase:       ratio(s.TimeBase.Num, s.TimeBase.Den),
	}
	if s.ID != 0 || container == "mpegts" {
		j.ID = fmt.Sprintf("0x%x", s.ID)
	}
	switch s.CodecType {
	case "video":
		j.Width, j.Height = ptr(s.Width), ptr(s.Height)
		if s.SampleAspectRatio.Den > 0 {
			j.SampleAspectRatio = fmt.Sprintf("%d:%d", s.SampleAspectRatio.Num, s.SampleAspectRatio.Den)
			j.DisplayAspectRatio = fmt.Sprintf("%d:%d", s.DisplayAspectRatio.Num, s.DisplayAspectRatio.Den)
		}
		j.PixFmt = s.PixFmt
		j.Level = ptr(s.Level)
		j.CodedWidth, j.CodedHeight = ptr(s.CodedWidth), ptr(s.CodedHeight)
		j.HasBFrames = ptr(s.HasBFrames)
		j.ColorRange, j.ColorSpace, j.ColorTransfer, j.ColorPrimaries = s.ColorRange, s.ColorSpace, s.ColorTransfer, s.ColorPrimaries
		j.FieldOrder = s.FieldOrder
		if s.BitsPerRawSample > 0 {
			j.BitsPerRawSample = fmt.Sprint(s.BitsPerRawSample)
		}
		if s.CodecName == "h264" {
			// ffprobe's H.264 extras: length-prefixed (avcC) or Annex B.
			j.IsAVC = fmt.Sprint(s.NALLengthSize > 0)
			j.NALLengthSize = fmt.Sprint(s.NALLengthSize)
		}
		if s.Rotation != 0 {
			j.SideDataList = []jsonSideData{{SideDataType: "Display Matrix", DisplayMatrix: displayMatrix(s.Rotation), Rotation: s.Rotation}}
		}
	case "audio":
		j.SampleFmt = s.SampleFmt
		if s.SampleRate > 0 {
			j.SampleRate = fmt.Sprint(s.SampleRate)
		}
		j.Channels = ptr(s.Channels)
		j.ChannelLayout = s.ChannelLayout
		j.BitsPerSample = ptr(bitsPerSample(s.CodecName))
	}
	if s.StartPTS != Unknown && s.TimeBase.Den > 0 {
		j.StartPTS = ptr(s.StartPTS)
		j.StartTime = seconds(s.StartPTS, s.TimeBase.Num, s.TimeBase.Den)
	}
	if s.DurationTS != Unknown && s.TimeBase.Den > 0 {
		j.DurationTS = ptr(s.DurationTS)
		j.Duration = seconds(s.DurationTS, s.TimeBase.Num, s.TimeBase.Den)
	}
	if s.BitRate > 0 {
		j.BitRate = fmt.Sprint(s.BitRate)
	}
	if s.NbFrames > 0 {
		j.NbFrames = fmt.Sprint(s.NbFrames)
	}
	j.Disposition = newDisposition(s.Disposition)
	j.Tags = s.jsonTags()
	if s.CodecString != "" || s.Program != 0 || s.Interlaced {
		j.Streamkit = &jsonExtra{Codecs: s.CodecString, Program: s.Program, Interlaced: s.Interlaced}
	}
	return j
}

func ptr[T any](v T) *T { return &v }

// displayMatrix prints the 3x3 display matrix of a pure rotation the way
// ffprobe prints side data (libavutil's av_display_rotation_set, then
// one "%08x: " row of three " %11d" per line).
func displayMatrix(deg int) string {
	rad := float64(deg) * math.Pi / 180
	c, s := math.Cos(rad), math.Sin(rad)
	conv := func(x float64) int32 { return int32(math.Round(x * (1 << 16))) }
	m := [9]int32{conv(c), conv(-s), 0, conv(s), conv(c), 0, 0, 0, 1 << 30}
	var b bytes.Buffer
	b.WriteByte('\n')
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&b, "%08x:  %11d %11d %11d\n", i, m[3*i], m[3*i+1], m[3*i+2])
	}
	return b.String()
}

// jsonDisposition is ffprobe's disposition object: every flag, 0 or 1,
// in libavformat's order.
type jsonDisposition struct {
	Default         int `json:"default"`
	Dub             int `json:"dub"`
	Original        int `json:"original"`
	Comment         int `json:"comment"`
	Lyrics          int `json:"lyrics"`
	Karaoke         int `json:"karaoke"`
	Forced          int `json:"forced"`
	HearingImpaired int `json:"hearing_impaired"`
	VisualImpaired  int `json:"visual_impaired"`
	CleanEffects    int `json:"clean_effects"`
	AttachedPic     int `json:"attached_pic"`
	TimedThumbnails int `json:"timed_thumbnails"`
	Captions        int `json:"captions"`
	Descriptions    int `json:"descriptions"`
	Metadata        int `json:"metadata"`
	Dependent       int `json:"dependent"`
	StillImage      int `json:"still_image"`
}

func newDisposition(d media.Disposition) *jsonDisposition {
	b := func(f media.Disposition) int {
		if d&f != 0 {
			return 1
		}
		return 0
	}
	return &jsonDisposition{
		Default: b(media.DispositionDefault), Dub: b(media.DispositionDub), Original: b(media.DispositionOriginal),
		Comment: b(media.DispositionComment), Lyrics: b(media.DispositionLyrics), Karaoke: b(media.DispositionKaraoke),
		Forced: b(media.DispositionForced), HearingImpaired: b(media.DispositionHearingImpaired),
		VisualImpaired: b(media.DispositionVisualImpaired), CleanEffects: b(media.DispositionCleanEffects),
		AttachedPic: b(media.DispositionAttachedPic), TimedThumbnails: b(media.DispositionTimedThumbnails),
		Captions: b(media.DispositionCaptions), Descriptions: b(media.DispositionDescriptions),
		Metadata: b(media.DispositionMetadata), Dependent: b(media.DispositionDependent),
		StillImage: b(media.DispositionStillImage),
	}
}

// jsonTags is a tags object that keeps ffprobe's key order (a Go map
// would sort the keys).
type jsonTags []media.Tag

// MarshalJSON writes the tags as one JSON object in order.
func (t jsonTags) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range t {
		if i > 0 {
			b.WriteByte(',')
		}
		// An encoder, so that "&" and "<" stay as they are (as in
		// WriteJSON); Encode adds a newline, which is trimmed.
		var kb, vb bytes.Buffer
		for _, p := range [...]struct {
			buf *bytes.Buffer
			v   string
		}{{&kb, kv.Key}, {&vb, kv.Value}} {
			enc := json.NewEncoder(p.buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(p.v); err != nil {
				return nil, err
			}
		}
		b.Write(bytes.TrimRight(kb.Bytes(), "\n"))
		b.WriteByte(':')
		b.Write(bytes.TrimRight(vb.Bytes(), "\n"))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonTags returns the stream's tags in the order libavformat sets them:
// creation_time and language (mdhd, or an MPEG-TS descriptor), then the
// rest (handler_name, vendor_id, encoder).
func (s *Stream) jsonTags() jsonTags {
	var out jsonTags
	rest := s.Tags
	for len(rest) > 0 && rest[0].Key == "creation_time" {
		out = append(out, rest[0])
		rest = rest[1:]
	}
	if s.Language != "" {
		out = append(out, media.Tag{Key: "language", Value: s.Language})
	}
	out = append(out, rest...)
	return out
}

// bitsPerSample is libavcodec's av_get_bits_per_sample: the sample size
// of PCM codecs ("pcm_s16le" 16, "pcm_mulaw" 8), 0 for compressed audio.
func bitsPerSample(codec string) int {
	switch codec {
	case "pcm_mulaw", "pcm_alaw", "pcm_s8", "pcm_u8":
		return 8
	}
	var n int
	for _, p := range []string{"pcm_s", "pcm_u", "pcm_f"} {
		if len(codec) > len(p) && codec[:len(p)] == p {
			if _, err := fmt.Sscanf(codec[len(p):], "%d", &n); err == nil {
				return n
			}
		}
	}
	return 0
}
