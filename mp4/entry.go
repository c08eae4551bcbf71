package mp4

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"

	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/hevc"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// entryBoxes collects the configuration boxes found inside a sample
// entry: for each, the whole box (header included, for mp4ff) and its
// body (the raw record that goes to CodecConfig.Record).
type entryBoxes struct {
	box, body map[fourCC][]byte
	off       map[fourCC]int64
}

func (e *entryBoxes) add(h header, full []byte) {
	if _, ok := e.box[h.typ]; ok {
		return
	}
	e.box[h.typ] = full
	e.body[h.typ] = full[h.hlen:]
	e.off[h.typ] = h.off
}

// Sample entry layouts (ISO/IEC 14496-12 §12.1.3, §12.2.3; QuickTime
// sound description versions 1 and 2):
//
//	SampleEntry:       reserved(6) data_reference_index(2)               = 8
//	VisualSampleEntry: + pre_defined/reserved(16) width(2) height(2)
//	                   + resolution(8) reserved(4) frame_count(2)
//	                   + compressorname(32) depth(2) pre_defined(2)      = 78
//	AudioSampleEntry:  + version(2) revision(2) vendor(4)
//	                   + channelcount(2) samplesize(2) compression_id(2)
//	                   + packet_size(2) samplerate(16.16)                = 28
//	                   QuickTime v1 adds 16 bytes, v2 adds 36.
const (
	visualEntryLen = 78
	audioEntryLen  = 28
)

// codecOfTag maps sample-entry four-character codes to codecs; mp4a and
// mp4v are refined from the esds objectTypeIndication.
var codecOfTag = map[string]media.Codec{
	"avc1": media.CodecH264, "avc2": media.CodecH264, "avc3": media.CodecH264, "avc4": media.CodecH264,
	"hvc1": media.CodecHEVC, "hev1": media.CodecHEVC, "dvh1": media.CodecHEVC, "dvhe": media.CodecHEVC,
	"av01": media.CodecAV1, "vp09": media.CodecVP9,
	"mp4v": media.CodecMPEG4Video, "mp4a": media.CodecAAC,
	"ac-3": media.CodecAC3, "ec-3": media.CodecEAC3, "Opus": media.CodecOpus,
	".mp3": media.CodecMP3, "mp3 ": media.CodecMP3,
	"fLaC": "flac", "alac": "alac", "sowt": "pcm_s16le", "twos": "pcm_s16be",
	"lpcm": "pcm_s16le", "ipcm": "pcm_s16le", "ulaw": "pcm_mulaw", "alaw": "pcm_alaw",
	"jpeg": "mjpeg", "mjpa": "mjpeg", "apcn": "prores", "apch": "prores", "apcs": "prores",
	"apco": "prores", "ap4h": "prores", "tx3g": "mov_text", "wvtt": "webvtt", "stpp": "ttml",
	"c608": "eia_608", "tmcd": "tmcd", "gpmd": "bin_data",
}

// objectTypeCodec maps MPEG-4 objectTypeIndication values (esds) to
// codecs as ffmpeg's ff_mp4_obj_type table does.
func objectTypeCodec(oti byte) media.Codec {
	switch oti {
	case 0x20:
		return media.CodecMPEG4Video
	case 0x21:
		return media.CodecH264
	case 0x23:
		return media.CodecHEVC
	case 0x40, 0x66, 0x67, 0x68:
		return media.CodecAAC
	case 0x60, 0x61, 0x62, 0x63, 0x64, 0x65:
		return media.CodecMPEG2Video
	case 0x6a:
		return media.CodecMPEG1Video
	case 0x69, 0x6b:
		return media.CodecMP3
	case 0xa5:
		return media.CodecAC3
	case 0xa6:
		return media.CodecEAC3
	case 0xad:
		return media.CodecOpus
	}
	return media.CodecUnknown
}

// decodeFF runs an mp4ff box decoder on one complete box, converting a
// panic inside the library into an error: input is hostile.
func decodeFF(full []byte, off int64, what string) (b mp4ff.Box, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, posErr(off, what, media.ErrCorrupt, "mp4ff panic: %v", p)
		}
	}()
	b, err = mp4ff.DecodeBoxSR(uint64(off), bits.NewFixedSliceReader(full))
	if err != nil {
		return nil, posErr(off, what, media.ErrCorrupt, "%v", err)
	}
	return b, nil
}

// parseStsd fills the codec fields of t from the first sample entry of
// an stsd box. Multiple entries are rare (spliced content); ffprobe also
// reports the first. Errors in a codec configuration are not fatal for
// the file: the track keeps its CodecTag and Codec and the error is
// recorded as a warning, as ffprobe prints the stream with fewer fields.
func (r *Reader) parseStsd(t *media.Track, h header, b []byte, where string) error {
	_, _, body, err := fullBox(b, h, where)
	if err != nil {
		return err
	}
	if len(body) < 4 {
		return posErr(h.off, where, media.ErrTruncated, "stsd without entry_count")
	}
	if be32(body) == 0 || len(body) < 12 {
		return nil // no sample entry: codec stays unknown
	}
	eoff := h.bodyOff() + 8
	eh, err := parseHeader(body[4:], eoff, int64(len(body)-4), where)
	if err != nil {
		return err
	}
	tag := eh.typ.String()
	ewhere := where + "/" + tag
	entry := body[4:][eh.hlen:eh.size]
	t.CodecTag = tag
	t.Codec = codecOfTag[tag]
	switch tag {
	case "tx3g", "wvtt", "stpp", "c608", "c708":
		t.Kind = media.KindSubtitle
	case "text":
		// A QuickTime text sample entry under a non-subtitle handler:
		// ffprobe reports opaque data.
		if t.Kind != media.KindSubtitle {
			t.Kind, t.Codec = media.KindData, "bin_data"
		}
	}

	eb := entryBoxes{box: map[fourCC][]byte{}, body: map[fourCC][]byte{}, off: map[fourCC]int64{}}
	var walk func(b []byte, off int64, where string)
	walk = func(b []byte, off int64, where string) {
		// Lenient: trailing junk after the last config box is common in
		// old QuickTime files; stop at the first malformed header.
		_ = children(b, off, where, func(ch header, cb, full []byte) error {
			eb.add(ch, full)
			switch ch.typ {
			case fcc("wave"), fcc("sinf"):
				walk(cb, ch.bodyOff(), where+"/"+ch.typ.String())
			}
			return nil
		})
	}

	kind := t.Kind
	switch {
	case kind == media.KindVideo || (kind != media.KindAudio && len(entry) >= visualEntryLen && isVisualTag(tag)):
		if len(entry) < visualEntryLen {
			return posErr(eh.off, ewhere, media.ErrTruncated, "visual sample entry of %d bytes", len(entry))
		}
		t.Width, t.Height = int(be16(entry[24:])), int(be16(entry[26:]))
		t.Tags = append(t.Tags, media.Tag{Key: "vendor_id", Value: media.FourCCString(entry[12:16])})
		// compressorname: a length byte and up to 31 characters; mov
		// reports a non-empty one as the encoder.
		if n := min(int(entry[42]), 31); n > 0 {
			name := entry[43 : 43+n]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) > 0 {
				t.Tags = append(t.Tags, media.Tag{Key: "encoder", Value: strings.ToValidUTF8(string(name), "\uFFFD")})
			}
		}
		walk(entry[visualEntryLen:], eh.bodyOff()+visualEntryLen, ewhere)
	case kind == media.KindAudio:
		if len(entry) < audioEntryLen {
			return posErr(eh.off, ewhere, media.ErrTruncated, "audio sample entry of %d bytes", len(entry))
		}
		ver := be16(entry[8:])
		t.Tags = append(t.Tags, media.Tag{Key: "vendor_id", Value: media.FourCCString(entry[12:16])})
		t.Channels = int(be16(entry[16:]))
		t.SampleRate = int(be32(entry[24:]) >> 16)
		n := audioEntryLen
		switch ver {
		case 1:
			n += 16
		case 2:
			n += 36
			if len(entry) >= n {
				// QuickTime v2: samplerate is a float64 at 32, channels at 40.
				t.SampleRate = int(math.Float64frombits(be64(entry[32:])))
				t.Channels = int(be32(entry[40:]))
			}
		}
		if len(entry) >= n {
			walk(entry[n:], eh.bodyOff()+int64(n), ewhere)
		}
	}

	// Encrypted entries name the original format in sinf/frma.
	if f, ok := eb.body[fcc("frma")]; ok && len(f) >= 4 {
		tag = fourCC(be32(f)).String()
		t.CodecTag = tag
		t.Codec = codecOfTag[tag]
	}
	if bt, ok := eb.body[fcc("btrt")]; ok && len(bt) >= 12 {
		t.Bitrate = int64(be32(bt[8:]))
	}
	if c, ok := eb.body[fcc("colr")]; ok {
		t.Color = colr(c)
		t.ContainerColor = t.Color
	}
	if f, ok := eb.body[fcc("fiel")]; ok {
		t.FieldOrder = fiel(f)
		t.ContainerFieldOrder = t.FieldOrder
	}
	if p, ok := eb.body[fcc("pasp")]; ok && len(p) >= 8 && be32(p) > 0 && be32(p[4:]) > 0 {
		t.SampleAspect = media.Rational{Num: int64(be32(p)), Den: int64(be32(p[4:]))}.Reduce()
	}

	if err := r.applyConfig(t, &eb, ewhere); err != nil {
		r.warn(err)
	}
	if t.Codec == media.CodecUnknown && t.CodecString == "" {
		t.CodecString = tag
	}
	return nil
}

// colr decodes a colour information box as libavformat's mov does:
// nclx (ISO/IEC 23001-8, with a full-range flag) and QuickTime nclc
// (without); ICC profiles carry no code points.
func colr(b []byte) media.Color {
	if len(b) < 10 {
		return media.Color{}
	}
	typ := string(b[:4])
	if typ != "nclx" && typ != "nclc" {
		return media.Color{}
	}
	c := media.Color{Described: true, Primaries: int(be16(b[4:])), Transfer: int(be16(b[6:])), Matrix: int(be16(b[8:]))}
	if typ == "nclx" && len(b) >= 11 {
		c.Range = 1
		if b[10]&0x80 != 0 {
			c.Range = 2
		}
	}
	return c
}

// fiel decodes a QuickTime field information box as libavformat's
// mov_read_fiel does: a field count of 1 is progressive; 2 fields with
// detail 1, 6, 9 or 14 are tt, bb, tb and bt; anything else is unknown.
// ffmpeg's mov muxer writes one whenever it knows the field order, so
// remuxed HEVC files carry "progressive" that no HEVC bitstream says.
func fiel(b []byte) string {
	if len(b) < 2 {
		return ""
	}
	switch b[0] {
	case 1:
		return "progressive"
	case 2:
		return map[byte]string{0x01: "tt", 0x06: "bb", 0x09: "tb", 0x0E: "bt"}[b[1]]
	}
	return ""
}

func isVisualTag(tag string) bool {
	switch codecOfTag[tag] {
	case media.CodecH264, media.CodecHEVC, media.CodecAV1, media.CodecVP9, media.CodecMPEG4Video, "mjpeg", "prores":
		return true
	}
	return tag == "encv"
}

// applyConfig decodes the codec configuration box that matches the
// sample entry and fills the track through the media.Track setters.
func (r *Reader) applyConfig(t *media.Track, eb *entryBoxes, where string) error {
	sar := t.SampleAspect
	keep := func(w, h int) {
		// The SPS knows the cropped size; the sample entry is a fallback.
		if t.Width == 0 {
			t.Width = w
		}
		if t.Height == 0 {
			t.Height = h
		}
		if t.SampleAspect.IsZero() {
			t.SampleAspect = sar
		}
	}
	w, h := t.Width, t.Height
	switch t.Codec {
	case media.CodecH264:
		body, ok := eb.body[fcc("avcC")]
		if !ok {
			return nil
		}
		t.Config.Record = body
		off := eb.off[fcc("avcC")]
		if len(body) >= 5 {
			t.Config.NALLengthSize = int(body[4]&3) + 1
		}
		rec, err := decodeAVCC(body)
		if err != nil {
			return posErr(off, where+"/avcC", media.ErrCorrupt, "%v", err)
		}
		t.LevelIDC = int(rec.AVCLevelIndication)
		if len(rec.SPSnalus) == 0 {
			return nil
		}
		t.Width, t.Height = 0, 0
		err = t.SetAVC(rec.SPSnalus, rec.PPSnalus)
		keep(w, h)
		if err != nil {
			return posErr(off, where+"/avcC", media.ErrCorrupt, "%v", err)
		}
	case media.CodecHEVC:
		body, ok := eb.body[fcc("hvcC")]
		if !ok {
			return nil
		}
		t.Config.Record = body
		off := eb.off[fcc("hvcC")]
		if len(body) >= 22 {
			t.Config.NALLengthSize = int(body[21]&3) + 1
		}
		rec, err := decodeHVCC(body)
		if err != nil {
			return posErr(off, where+"/hvcC", media.ErrCorrupt, "%v", err)
		}
		var vps, sps, pps [][]byte
		for _, a := range rec.NaluArrays {
			switch a.NaluType() {
			case hevc.NALU_VPS:
				vps = append(vps, a.Nalus...)
			case hevc.NALU_SPS:
				sps = append(sps, a.Nalus...)
			case hevc.NALU_PPS:
				pps = append(pps, a.Nalus...)
			}
		}
		if len(sps) == 0 {
			return nil
		}
		t.Width, t.Height = 0, 0
		err = t.SetHEVC(vps, sps, pps)
		keep(w, h)
		if err != nil {
			return posErr(off, where+"/hvcC", media.ErrCorrupt, "%v", err)
		}
	case media.CodecAV1:
		body, ok := eb.body[fcc("av1C")]
		if !ok {
			return nil
		}
		err := t.SetAV1(body)
		t.Config.Record = body
		keep(w, h)
		if err != nil {
			return posErr(eb.off[fcc("av1C")], where+"/av1C", media.ErrCorrupt, "%v", err)
		}
	case media.CodecAC3:
		if body, ok := eb.body[fcc("dac3")]; ok {
			if err := t.SetAC3(body); err != nil {
				return posErr(eb.off[fcc("dac3")], where+"/dac3", media.ErrCorrupt, "%v", err)
			}
		}
	case media.CodecEAC3:
		if body, ok := eb.body[fcc("dec3")]; ok {
			if err := t.SetEAC3(body); err != nil {
				return posErr(eb.off[fcc("dec3")], where+"/dec3", media.ErrCorrupt, "%v", err)
			}
		}
	case media.CodecOpus:
		if body, ok := eb.body[fcc("dOps")]; ok {
			if err := t.SetOpus(body); err != nil {
				return posErr(eb.off[fcc("dOps")], where+"/dOps", media.ErrCorrupt, "%v", err)
			}
		}
	}
	if full, ok := eb.box[fcc("esds")]; ok {
		return r.applyEsds(t, full, eb.off[fcc("esds")], where+"/esds")
	}
	return nil
}

// applyEsds refines mp4a/mp4v tracks from the MPEG-4 ES descriptor.
func (r *Reader) applyEsds(t *media.Track, full []byte, off int64, where string) error {
	b, err := decodeFF(full, off, where)
	if err != nil {
		return err
	}
	esds, ok := b.(*mp4ff.EsdsBox)
	if !ok || esds.DecConfigDescriptor == nil {
		return nil
	}
	dc := esds.DecConfigDescriptor
	if c := objectTypeCodec(dc.ObjectType); c != media.CodecUnknown {
		t.Codec = c
	}
	if t.Bitrate == 0 && dc.AvgBitrate > 0 {
		t.Bitrate = int64(dc.AvgBitrate)
	}
	var dsi []byte
	if dc.DecSpecificInfo != nil {
		dsi = dc.DecSpecificInfo.DecConfig
	}
	switch t.Codec {
	case media.CodecAAC:
		t.CodecString = fmt.Sprintf("mp4a.%02X", dc.ObjectType)
		if len(dsi) > 0 {
			sr, ch := t.SampleRate, t.Channels
			if err := t.SetAAC(dsi); err != nil {
				t.SampleRate, t.Channels = sr, ch
				return posErr(off, where, media.ErrCorrupt, "AudioSpecificConfig: %v", err)
			}
		}
	case media.CodecMP3:
		t.CodecString = fmt.Sprintf("mp4a.%02X", dc.ObjectType)
		t.FrameSize = 1152
		t.LevelIDC = -99
	case media.CodecMPEG2Video, media.CodecMPEG1Video:
		// The decoder specific info of MPEG-2 video is its sequence
		// header and extensions (what ffmpeg writes as extradata). The
		// codec stays the objectTypeIndication's, as libavformat's mov
		// demuxer keeps it (ff_mp4_obj_type), whatever the header says.
		t.CodecString = fmt.Sprintf("mp4v.%02X", dc.ObjectType)
		t.Config.Record = dsi
		var units [][]byte
		for i := bitstream.NextStartCode(dsi, 0); i >= 0; {
			j := bitstream.NextStartCode(dsi, i+3)
			end := j
			if j < 0 {
				end = len(dsi)
			}
			units = append(units, dsi[i+3:end])
			i = j
		}
		if len(units) > 0 {
			codec := t.Codec
			if err := t.SetMPEG2Video(units[0], units[1:]); err != nil {
				return posErr(off, where, media.ErrCorrupt, "%v", err)
			}
			t.Codec = codec
		}
	case media.CodecMPEG4Video:
		t.CodecString = fmt.Sprintf("mp4v.%02X", dc.ObjectType)
		t.Config.Record = dsi
		// libavcodec's mpeg4 decoder outputs yuv420p for every
		// profile but the studio ones (mpeg4Profile clears it).
		t.PixelFormat = "yuv420p"
		mpeg4Profile(t, dsi)
	default:
		t.CodecString = fmt.Sprintf("%s.%02X", t.CodecTag, dc.ObjectType)
	}
	return nil
}

// decodeAVCC reads the parameter sets of an AVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 §5.3.3.1). mp4ff's decoder rejects records whose
// lengthSizeMinusOne is not 3, which real files use (2-byte NAL lengths),
// so the few fields needed here are read directly:
//
//	version(8) profile(8) compat(8) level(8) reserved(6) lengthSizeMinusOne(2)
//	reserved(3) numSPS(5) { length(16) SPS } numPPS(8) { length(16) PPS }
func decodeAVCC(b []byte) (rec avc.DecConfRec, err error) {
	if len(b) < 6 {
		return rec, fmt.Errorf("avcC: %d bytes, need at least 6", len(b))
	}
	rec.AVCProfileIndication, rec.ProfileCompatibility, rec.AVCLevelIndication = b[1], b[2], b[3]
	pos := 6
	sets := func(n int) ([][]byte, error) {
		var out [][]byte
		for i := 0; i < n; i++ {
			if pos+2 > len(b) {
				return nil, fmt.Errorf("avcC: parameter set %d length cut off", i)
			}
			l := int(be16(b[pos:]))
			pos += 2
			if pos+l > len(b) {
				return nil, fmt.Errorf("avcC: parameter set %d of %d bytes, %d left", i, l, len(b)-pos)
			}
			out = append(out, b[pos:pos+l])
			pos += l
		}
		return out, nil
	}
	if rec.SPSnalus, err = sets(int(b[5] & 31)); err != nil {
		return rec, err
	}

	if pos >= len(b) {
		return rec, nil // no PPS count: tolerated, as ffmpeg does
	}
	n := int(b[pos])
	pos++
	rec.PPSnalus, err = sets(n)
	return rec, err
}

// mpeg4Profile names the MPEG-4 Part 2 profile from the
// profile_and_level_indication that follows the visual object sequence
// start code (00 00 01 B0) of the decoder specific info.
func mpeg4Profile(t *media.Track, dsi []byte) {
	if len(dsi) < 5 || dsi[0] != 0 || dsi[1] != 0 || dsi[2] != 1 || dsi[3] != 0xb0 {
		return
	}
	plv := dsi[4]
	if plv >= 0xe1 && plv <= 0xe8 {
		// Studio profiles code 4:2:2 and 4:4:4 at 10 bits and more,
		// which the VOL tells; the pixel format stays unknown.
		t.PixelFormat = ""
	}
	switch {
	case plv >= 1 && plv <= 3 || plv == 8:
		t.Profile, t.LevelIDC = "Simple Profile", int(plv&15)
	case plv >= 0xf0 && plv <= 0xf7:
		t.Profile, t.LevelIDC = "Advanced Simple Profile", int(plv&7)
	}
}

func decodeHVCC(b []byte) (rec hevc.DecConfRec, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("hvcC parser panic: %v", p)
		}
	}()
	return hevc.DecodeHEVCDecConfRec(b)
}
