package segment

import (
	"bytes"
	"encoding/binary"
	"fmt"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// The CMAF writer lives here rather than using package mp4's Fragmenter
// because packaging for players needs something else than remuxing:
//
//   - timing: mp4.Fragmenter keeps the input's presentation through an edit
//     list (so that ffprobe shows the input's timestamps); DASH timelines
//     and hls.js/dash.js ignore or mis-apply edit lists in CMAF, so here
//     composition offsets are normalised (trun version 1, negative
//     offsets, ISO/IEC 23000-19 7.5.x) and tfdt is the presentation time
//     of each segment, which is what SegmentTimeline and $Time$ say;
//   - layout: one moof+mdat per GOP inside a segment, with the byte
//     offset of every moof and key frame for I-frame playlists, and
//     single-file output with a sidx for byte-range addressing.
//
// mp4ff does the box encoding.

// cmafTrackID is the track_ID of the single track in every CMAF header.
const cmafTrackID = 1

// configBoxType maps a codec to the four-character type of the
// configuration box that Track.Config.Record holds the body of.
var configBoxType = map[media.Codec]string{
	media.CodecH264: "avcC",
	media.CodecHEVC: "hvcC",
	media.CodecAV1:  "av1C",
	media.CodecAC3:  "dac3",
	media.CodecEAC3: "dec3",
	media.CodecOpus: "dOps",
}

// defaultSampleEntry is the sample entry used when the source had none
// (MPEG-TS input).
var defaultSampleEntry = map[media.Codec]string{
	media.CodecH264: "avc1",
	media.CodecHEVC: "hvc1",
	media.CodecAV1:  "av01",
	media.CodecAAC:  "mp4a",
	media.CodecAC3:  "ac-3",
	media.CodecEAC3: "ec-3",
	media.CodecOpus: "Opus",
}

// decodeRecord turns the body of a configuration box back into an mp4ff
// box by prefixing its header.
func decodeRecord(typ string, body []byte) (mp4ff.Box, error) {
	b := make([]byte, 8+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	copy(b[4:8], typ)
	copy(b[8:], body)
	box, err := mp4ff.DecodeBox(0, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("segment: decoding %s record: %w", typ, err)
	}
	return box, nil
}

// buildInit returns the CMAF header (ftyp+moov) for t.
func buildInit(t *media.Track) ([]byte, error) {
	init := mp4ff.CreateEmptyInit()
	kind := "video"
	if t.Kind == media.KindAudio {
		kind = "audio"
	}
	lang := t.Language
	if lang == "" {
		lang = "und"
	}
	trak := init.AddEmptyTrack(t.Timescale, kind, lang)
	stsd := trak.Mdia.Minf.Stbl.Stsd
	tag := t.CodecTag
	if len(tag) != 4 || t.Config.NALLengthSize == 0 && (t.Codec == media.CodecH264 || t.Codec == media.CodecHEVC) {
		// Annex B input (TS) is rewritten with 4-byte lengths and
		// out-of-band parameter sets: the plain sample entry.
		tag = defaultSampleEntry[t.Codec]
	}
	if tag == "" {
		return nil, fmt.Errorf("%w: %s in CMAF", ErrCodec, t.Codec)
	}
	switch t.Kind {
	case media.KindVideo:
		trak.Tkhd.Width = mp4ff.Fixed32(uint32(t.Width) << 16)
		trak.Tkhd.Height = mp4ff.Fixed32(uint32(t.Height) << 16)
		var cfg mp4ff.Box
		var err error
		switch {
		case len(t.Config.Record) > 0 && t.Config.NALLengthSize == 4 || len(t.Config.Record) > 0 && t.Codec == media.CodecAV1:
			cfg, err = decodeRecord(configBoxType[t.Codec], t.Config.Record)
		case t.Codec == media.CodecH264 && len(t.Config.SPS) > 0:
			err = trak.SetAVCDescriptor(tag, t.Config.SPS, t.Config.PPS, true)
		case t.Codec == media.CodecHEVC && len(t.Config.SPS) > 0:
			err = trak.SetHEVCDescriptor(tag, t.Config.VPS, t.Config.SPS, t.Config.PPS, nil, true)
		default:
			return nil, fmt.Errorf("%w: %s video without a decoder configuration", ErrCodec, t.Codec)
		}
		if err != nil {
			return nil, err
		}
		if cfg != nil {
			stsd.AddChild(mp4ff.CreateVisualSampleEntryBox(tag, uint16(t.Width), uint16(t.Height), cfg))
		}
		if vse, ok := lastEntry(stsd).(*mp4ff.VisualSampleEntryBox); ok && sarKnown(t.SampleAspect) {
			vse.AddChild(&mp4ff.PaspBox{HSpacing: uint32(t.SampleAspect.Num), VSpacing: uint32(t.SampleAspect.Den)})
		}
	case media.KindAudio:
		var cfg mp4ff.Box
		var err error
		switch t.Codec {
		case media.CodecAAC:
			if len(t.Config.AudioSpecificConfig) == 0 {
				return nil, fmt.Errorf("%w: AAC without an AudioSpecificConfig", ErrCodec)
			}
			cfg = mp4ff.CreateEsdsBox(t.Config.AudioSpecificConfig)
		case media.CodecAC3, media.CodecEAC3, media.CodecOpus:
			if len(t.Config.Record) == 0 {
				return nil, fmt.Errorf("%w: %s without its configuration box", ErrCodec, t.Codec)
			}
			cfg, err = decodeRecord(configBoxType[t.Codec], t.Config.Record)
		default:
			return nil, fmt.Errorf("%w: %s in CMAF", ErrCodec, t.Codec)
		}
		if err != nil {
			return nil, err
		}
		rate := t.SampleRate
		if rate > 65535 {
			rate = 0 // 16.16 field; the config box carries the real rate
		}
		stsd.AddChild(mp4ff.CreateAudioSampleEntryBox(tag, uint16(t.Channels), 16, uint16(rate), cfg))
	default:
		return nil, fmt.Errorf("%w: %s track", ErrCodec, t.Kind)
	}
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		return nil, fmt.Errorf("segment: encoding init segment: %w", err)
	}
	return buf.Bytes(), nil
}

func lastEntry(stsd *mp4ff.StsdBox) mp4ff.Box {
	if len(stsd.Children) == 0 {
		return nil
	}
	return stsd.Children[len(stsd.Children)-1]
}

func sarKnown(r media.Rational) bool {
	return r.Den > 0 && r.Num > 0 && r.Num != r.Den && r.Num < 1<<16 && r.Den < 1<<16
}

// fragSample is one sample ready for a fragment: normalised timestamps
// and the payload in MP4 form.
type fragSample struct {
	dts  int64
	cto  int32
	dur  uint32
	sync bool
	data []byte
}

// fragmentInfo locates a fragment and its first sample in the output.
type fragmentInfo struct {
	offset     int64 // of the moof
	firstEnd   int64 // end of the first sample's data
	start, dur int64
}

// writeFragment encodes samples as one moof+mdat at the end of buf.
func writeFragment(buf *bytes.Buffer, seq uint32, samples []fragSample) (fragmentInfo, error) {
	frag, err := mp4ff.CreateFragment(seq, cmafTrackID)
	if err != nil {
		return fragmentInfo{}, err
	}
	var dur int64
	for _, s := range samples {
		flags := mp4ff.NonSyncSampleFlags | mp4ff.SampleDependsOn1
		if s.sync {
			flags = mp4ff.SyncSampleFlags
		}
		// The payload is referenced, not copied: mdat is encoded from
		// the parts straight into the segment buffer.
		frag.AddSample(mp4ff.NewSample(flags, s.dur, uint32(len(s.data)), s.cto), uint64(s.dts))
		frag.Mdat.AddSampleDataPart(s.data)
		dur += int64(s.dur)
	}
	off := int64(buf.Len())
	if err := frag.Encode(buf); err != nil {
		return fragmentInfo{}, fmt.Errorf("segment: encoding fragment %d: %w", seq, err)
	}
	mdatHdr := int64(frag.Mdat.HeaderSize())
	info := fragmentInfo{
		offset:   off,
		firstEnd: off + int64(frag.Moof.Size()) + mdatHdr + int64(len(samples[0].data)),
		start:    samples[0].dts + int64(samples[0].cto),
		dur:      dur,
	}
	return info, nil
}

// toLengthPrefixed rewrites an Annex B access unit (start codes) as
// 4-byte length-prefixed NAL units, dropping access unit delimiters and
// parameter sets (they are in the sample entry). Other payloads are
// returned unchanged when lengthSize is already 4; 1- and 2-byte length
// prefixes are widened to 4.
func toLengthPrefixed(codec media.Codec, lengthSize int, data []byte) ([]byte, error) {
	if codec != media.CodecH264 && codec != media.CodecHEVC {
		return data, nil
	}
	if lengthSize == 4 {
		return data, nil
	}
	var nalus [][]byte
	if lengthSize == 0 {
		for _, n := range bitstream.AnnexB(data) {
			nalus = append(nalus, n)
		}
	} else {
		for p := 0; p < len(data); {
			if p+lengthSize > len(data) {
				return nil, fmt.Errorf("segment: NAL length prefix truncated at byte %d of a %d-byte sample", p, len(data))
			}
			n := 0
			for i := 0; i < lengthSize; i++ {
				n = n<<8 | int(data[p+i])
			}
			p += lengthSize
			if n > len(data)-p {
				return nil, fmt.Errorf("segment: NAL unit of %d bytes overruns the %d-byte sample", n, len(data))
			}
			nalus = append(nalus, data[p:p+n])
			p += n
		}
	}
	out := make([]byte, 0, len(data)+4*len(nalus))
	for _, n := range nalus {
		if len(n) == 0 || lengthSize == 0 && dropInBand(codec, n) {
			continue
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(n)))
		out = append(out, n...)
	}
	return out, nil
}

// dropInBand reports whether a NAL unit from an Annex B stream should be
// left out of an MP4 sample: access unit delimiters, and parameter sets
// (carried in avcC/hvcC; keeping them in band would need avc3/hev1).
func dropInBand(codec media.Codec, n []byte) bool {
	aud, ps := bitstream.NALRole(codec == media.CodecHEVC, n)
	return aud || ps
}

// stripADTS removes an ADTS header from an AAC frame read from MPEG-TS;
// MP4 samples are raw access units.
func stripADTS(codec media.Codec, data []byte) []byte {
	if n := bitstream.ADTSHeaderLen(data); codec == media.CodecAAC && n > 0 {
		return data[n:]
	}
	return data
}
