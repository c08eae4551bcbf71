package mp4

import (
	"bytes"
	"fmt"
	"math"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamkit-go/streamkit/media"
)

// This file rebuilds sample entries (avc1/hvc1/av01, mp4a, ac-3/ec-3,
// Opus) and their codec records from a media.Track.

// planTracks selects the writable tracks of d and prepares their sample
// entries and payload converters.
func planTracks(tracks []*media.Track, cfg *writeConfig) ([]*outTrack, error) {
	var out []*outTrack
	for _, t := range tracks {
		if cfg.tracks != nil && !cfg.tracks[t.ID] {
			continue
		}
		if t.Kind != media.KindVideo && t.Kind != media.KindAudio {
			continue
		}
		ot := &outTrack{t: t, id: uint32(len(out) + 1)}
		if err := ot.buildEntry(); err != nil {
			return nil, err
		}
		out = append(out, ot)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no audio or video track to write", ErrWrite)
	}
	return out, nil
}

// buildEntry builds the sample entry box and picks the payload converter.
func (ot *outTrack) buildEntry() error {
	t := ot.t
	var w box
	switch t.Codec {
	case media.CodecH264, media.CodecHEVC:
		ot.hdlr = "vide"
		rec := t.Config.Record
		tag := t.CodecTag
		if t.Config.NALLengthSize == 0 {
			// Annex B input (MPEG-TS): build the record from the
			// parameter sets; samples get 4-byte lengths.
			var err error
			rec, err = buildRecord(t)
			if err != nil {
				return err
			}
			ot.conv = &annexBConv{codec: t.Codec, ps: paramSets(t)}
			tag = "avc1"
			if t.Codec == media.CodecHEVC {
				tag = "hvc1"
			}
		} else if len(rec) == 0 {
			var err error
			if rec, err = buildRecord(t); err != nil {
				return err
			}
		}
		if !validTag(tag, t.Codec) {
			tag = map[media.Codec]string{media.CodecH264: "avc1", media.CodecHEVC: "hvc1"}[t.Codec]
		}
		cfgBox := "avcC"
		if t.Codec == media.CodecHEVC {
			cfgBox = "hvcC"
		}
		visualEntry(&w, tag, t, cfgBox, rec)
	case media.CodecAV1:
		ot.hdlr = "vide"
		if len(t.Config.Record) == 0 {
			return fmt.Errorf("%w: track %d: av1 without av1C", ErrWrite, t.ID)
		}
		visualEntry(&w, "av01", t, "av1C", t.Config.Record)
	case media.CodecAAC, media.CodecMP3, media.CodecMP2:
		ot.hdlr = "soun"
		var dsi []byte
		oti := byte(0x40)
		switch t.Codec {
		case media.CodecAAC:
			dsi = t.Config.AudioSpecificConfig
			if len(dsi) == 0 {
				return fmt.Errorf("%w: track %d: aac without AudioSpecificConfig", ErrWrite, t.ID)
			}
			ot.conv = adtsConv{}
		case media.CodecMP3:
			oti = 0x6b
		case media.CodecMP2:
			oti = 0x69
		}
		esds, err := buildEsds(dsi, oti, t)
		if err != nil {
			return err
		}
		audioEntry(&w, "mp4a", t, esds)
	case media.CodecAC3, media.CodecEAC3:
		ot.hdlr = "soun"
		tag, cb := "ac-3", "dac3"
		if t.Codec == media.CodecEAC3 {
			tag, cb = "ec-3", "dec3"
		}
		rec := t.Config.Record
		if len(rec) == 0 {
			// MPEG-TS carries no dac3/dec3: it is built from the first
			// syncframe when the first sample arrives.
			ot.conv = &ac3Conv{ot: ot, tag: tag, cfgBox: cb}
			return nil
		}
		var c box
		c.raw(cb, rec)
		audioEntry(&w, tag, t, c.b)
	case media.CodecOpus:
		ot.hdlr = "soun"
		if len(t.Config.Record) == 0 {
			return fmt.Errorf("%w: track %d: opus without dOps", ErrWrite, t.ID)
		}
		var c box
		c.raw("dOps", t.Config.Record)
		audioEntry(&w, "Opus", t, c.b)
	default:
		return fmt.Errorf("%w: track %d: codec %q (%s) has no MP4 sample entry in this writer", ErrWrite, t.ID, t.Codec, t.CodecTag)
	}
	ot.entry = w.b
	return nil
}

func validTag(tag string, c media.Codec) bool {
	switch c {
	case media.CodecH264:
		return tag == "avc1" || tag == "avc3"
	case media.CodecHEVC:
		return tag == "hvc1" || tag == "hev1"
	}
	return false
}

func paramSets(t *media.Track) [][]byte {
	var ps [][]byte
	ps = append(ps, trimNALs(t.Config.VPS)...)
	ps = append(ps, trimNALs(t.Config.SPS)...)
	return append(ps, trimNALs(t.Config.PPS)...)
}

// trimNALs drops trailing zero bytes from NAL units taken from an Annex B
// stream: they are trailing_zero_8bits of the byte stream (or the first
// byte of a 4-byte start code), not part of the NAL unit, and would make
// the parameter sets differ from the in-band copies.
func trimNALs(nals [][]byte) [][]byte {
	out := make([][]byte, 0, len(nals))
	for _, n := range nals {
		for len(n) > 1 && n[len(n)-1] == 0 {
			n = n[:len(n)-1]
		}
		out = append(out, n)
	}
	return out
}

// buildRecord builds an avcC or hvcC body from the track's parameter sets.
func buildRecord(t *media.Track) (rec []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: track %d: building %s record: %v", ErrWrite, t.ID, t.Codec, p)
		}
	}()
	if len(t.Config.SPS) == 0 || len(t.Config.PPS) == 0 {
		return nil, fmt.Errorf("%w: track %d: %s without SPS/PPS (no parameter sets in band before the first key frame?)", ErrWrite, t.ID, t.Codec)
	}
	var b mp4ff.Box
	vps, sps, pps := trimNALs(t.Config.VPS), trimNALs(t.Config.SPS), trimNALs(t.Config.PPS)
	if t.Codec == media.CodecH264 {
		b, err = mp4ff.CreateAvcC(sps, pps, true)
	} else {
		b, err = mp4ff.CreateHvcC(vps, sps, pps, true, true, true, true)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: track %d: %v", ErrWrite, t.ID, err)
	}
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return nil, fmt.Errorf("%w: track %d: %v", ErrWrite, t.ID, err)
	}
	return buf.Bytes()[8:], nil
}

// buildEsds returns a complete esds box for an MPEG-4 audio track.
func buildEsds(dsi []byte, oti byte, t *media.Track) ([]byte, error) {
	e := mp4ff.CreateEsdsBox(dsi)
	e.DecConfigDescriptor.ObjectType = oti
	if oti != 0x40 {
		e.DecConfigDescriptor.DecSpecificInfo.DecConfig = nil
	}
	if t.Bitrate > 0 && t.Bitrate < math.MaxUint32 {
		e.DecConfigDescriptor.AvgBitrate = uint32(t.Bitrate)
	}
	var buf bytes.Buffer
	if err := e.Encode(&buf); err != nil {
		return nil, fmt.Errorf("%w: track %d: esds: %v", ErrWrite, t.ID, err)
	}
	return buf.Bytes(), nil
}

// visualEntry writes a VisualSampleEntry (ISO/IEC 14496-12 §12.1.3).
func visualEntry(w *box, tag string, t *media.Track, cfgBox string, rec []byte) {
	i := w.open(tag)
	w.zeros(6)
	w.u16(1) // data_reference_index
	w.zeros(16)
	w.u16(uint16(t.Width))
	w.u16(uint16(t.Height))
	w.u32(0x00480000)
	w.u32(0x00480000)
	w.u32(0)
	w.u16(1) // frame_count
	w.zeros(32)
	w.u16(0x0018)
	w.u16(0xffff)
	w.raw(cfgBox, rec)
	if sar := t.SampleAspect; !sar.IsZero() && sar.Num > 0 && sar.Num != sar.Den && sar.Num < 1<<32 && sar.Den < 1<<32 {
		p := w.open("pasp")
		w.u32(uint32(sar.Num))
		w.u32(uint32(sar.Den))
		w.close(p)
	}
	w.close(i)
}

// audioEntry writes an AudioSampleEntry (ISO/IEC 14496-12 §12.2.3).
func audioEntry(w *box, tag string, t *media.Track, child []byte) {
	i := w.open(tag)
	w.zeros(6)
	w.u16(1)
	w.zeros(8)
	ch := t.Channels
	if ch <= 0 || tag == "ac-3" || tag == "ec-3" {
		ch = 2 // the dac3/dec3 record is authoritative
	}
	w.u16(uint16(ch))
	w.u16(16)
	w.u32(0)
	rate := t.SampleRate
	if rate > 0xffff || rate < 0 {
		rate = 0
	}
	w.u32(uint32(rate) << 16)
	w.bytes(child)
	w.close(i)
}
