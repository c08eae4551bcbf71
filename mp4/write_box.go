package mp4

import (
	"encoding/binary"
	"math"

	"github.com/streamkit-go/streamkit/media"
)

// This file encodes the structural boxes both writers share (ftyp/styp,
// mvhd, tkhd, mdhd, hdlr, the media headers, stsd, edts) with a small
// append-only builder instead of mp4ff's box structs: a progressive moov
// must be sized before its chunk offsets are known, and its tables can
// hold millions of entries, which one flat buffer serialises in a single
// pass without a struct per entry. (mp4ff builds only the codec records
// that must be synthesised, in write_entry.go.)

// box is an append-only MP4 box builder.
type box struct{ b []byte }

func (w *box) open(typ string) int {
	i := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0, typ[0], typ[1], typ[2], typ[3])
	return i
}

func (w *box) openFull(typ string, version byte, flags uint32) int {
	i := w.open(typ)
	w.u32(uint32(version)<<24 | flags&0xffffff)
	return i
}

func (w *box) close(i int) { binary.BigEndian.PutUint32(w.b[i:], uint32(len(w.b)-i)) }

func (w *box) u8(v uint8) { w.b = append(w.b, v) }

func (w *box) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }

func (w *box) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *box) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }

func (w *box) bytes(v []byte) { w.b = append(w.b, v...) }

func (w *box) zeros(n int) { w.b = append(w.b, make([]byte, n)...) }

func (w *box) raw(typ string, body []byte) {
	i := w.open(typ)
	w.bytes(body)
	w.close(i)
}

// unityMatrix is the identity transformation of mvhd and tkhd.
var unityMatrix = [9]int32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000}

// rotationMatrix returns the tkhd matrix for a display rotation as
// ffprobe reports it (see rotation in reader.go: ffprobe's value is the
// negated angle of the matrix).
func rotationMatrix(deg int) [9]int32 {
	const one = 0x10000
	switch ((deg % 360) + 360) % 360 {
	case 90: // ffprobe 90: matrix rotates by -90 (counter-clockwise display)
		return [9]int32{0, -one, 0, one, 0, 0, 0, 0, 0x40000000}
	case 180:
		return [9]int32{-one, 0, 0, 0, -one, 0, 0, 0, 0x40000000}
	case 270:
		return [9]int32{0, one, 0, -one, 0, 0, 0, 0, 0x40000000}
	}
	return unityMatrix
}

// writeEdts writes an edts/elst box (version 1 when a value needs it).
func writeEdts(w *box, edits []media.Edit) {
	if len(edits) == 0 {
		return
	}
	v := byte(0)
	for _, e := range edits {
		if e.Duration > math.MaxUint32 || e.MediaTime > math.MaxInt32 || e.MediaTime < -1 {
			v = 1
		}
	}
	i := w.open("edts")
	j := w.openFull("elst", v, 0)
	w.u32(uint32(len(edits)))
	for _, e := range edits {
		rate := e.RateInt
		if rate == 0 && e.RateFrac == 0 {
			rate = 1
		}
		if v == 1 {
			w.u64(uint64(e.Duration))
			w.u64(uint64(e.MediaTime))
		} else {
			w.u32(uint32(e.Duration))
			w.u32(uint32(int32(e.MediaTime)))
		}
		w.u16(uint16(rate))
		w.u16(uint16(e.RateFrac))
	}
	w.close(j)
	w.close(i)
}

// writeMvhd writes mvhd with next_track_ID.
func writeMvhd(w *box, mts uint32, dur int64, next uint32) {
	v := byte(0)
	if dur > math.MaxUint32 {
		v = 1
	}
	i := w.openFull("mvhd", v, 0)
	if v == 1 {
		w.u64(0)
		w.u64(0)
		w.u32(mts)
		w.u64(uint64(dur))
	} else {
		w.u32(0)
		w.u32(0)
		w.u32(mts)
		w.u32(uint32(dur))
	}
	w.u32(0x00010000) // rate 1.0
	w.u16(0x0100)     // volume 1.0
	w.zeros(10)
	for _, m := range unityMatrix {
		w.u32(uint32(m))
	}
	w.zeros(24)
	w.u32(next)
	w.close(i)
}

// writeTkhd writes tkhd; dur in the movie timescale.
func writeTkhd(w *box, ot *outTrack, dur int64) {
	v := byte(0)
	if dur > math.MaxUint32 {
		v = 1
	}
	i := w.openFull("tkhd", v, 3) // enabled, in movie
	if v == 1 {
		w.u64(0)
		w.u64(0)
		w.u32(ot.id)
		w.u32(0)
		w.u64(uint64(dur))
	} else {
		w.u32(0)
		w.u32(0)
		w.u32(ot.id)
		w.u32(0)
		w.u32(uint32(dur))
	}
	w.zeros(8)
	w.u16(0) // layer
	if ot.hdlr == "soun" {
		w.u16(1) // alternate_group
		w.u16(0x0100)
	} else {
		w.u16(0)
		w.u16(0)
	}
	w.u16(0)
	mx := rotationMatrix(ot.t.Rotation)
	for _, m := range mx {
		w.u32(uint32(m))
	}
	if ot.hdlr == "vide" {
		wd := float64(ot.t.Width)
		if sar := ot.t.SampleAspect; !sar.IsZero() && sar.Num > 0 {
			wd = wd * float64(sar.Num) / float64(sar.Den)
		}
		w.u32(uint32(wd * 65536))
		w.u32(uint32(ot.t.Height) << 16)
	} else {
		w.u32(0)
		w.u32(0)
	}
	w.close(i)
}

// writeMdhd writes mdhd with the track's language.
func writeMdhd(w *box, ot *outTrack, dur int64) {
	v := byte(0)
	if dur > math.MaxUint32 {
		v = 1
	}
	i := w.openFull("mdhd", v, 0)
	if v == 1 {
		w.u64(0)
		w.u64(0)
		w.u32(ot.t.Timescale)
		w.u64(uint64(dur))
	} else {
		w.u32(0)
		w.u32(0)
		w.u32(ot.t.Timescale)
		w.u32(uint32(dur))
	}
	w.u16(packLanguage(ot.t.Language))
	w.u16(0)
	w.close(i)
}

// packLanguage packs an ISO 639-2/T code into mdhd's 3×5 bits; "und" when
// absent or malformed.
func packLanguage(l string) uint16 {
	if len(l) != 3 {
		l = "und"
	}
	var v uint16
	for i := range 3 {
		c := l[i]
		if c < 'a' || c > 'z' {
			return packLanguage("und")
		}
		v = v<<5 | uint16(c-0x60)
	}
	return v
}

// writeHdlrMinfHeader writes hdlr (in mdia) and returns after opening minf
// with its media header and dinf; the caller writes stbl and closes minf.
func writeHdlr(w *box, hdlr string) {
	name := map[string]string{"vide": "VideoHandler", "soun": "SoundHandler"}[hdlr]
	i := w.openFull("hdlr", 0, 0)
	w.u32(0)
	w.bytes([]byte(hdlr))
	w.zeros(12)
	w.bytes([]byte(name))
	w.u8(0)
	w.close(i)
}

func writeMediaHeader(w *box, hdlr string) {
	if hdlr == "vide" {
		i := w.openFull("vmhd", 0, 1)
		w.zeros(8)
		w.close(i)
	} else {
		i := w.openFull("smhd", 0, 0)
		w.zeros(4)
		w.close(i)
	}
	d := w.open("dinf")
	r := w.openFull("dref", 0, 0)
	w.u32(1)
	u := w.openFull("url ", 0, 1) // self-contained
	w.close(u)
	w.close(r)
	w.close(d)
}

// writeStsd writes stsd with the track's sample entry.
func writeStsd(w *box, ot *outTrack) {
	i := w.openFull("stsd", 0, 0)
	w.u32(1)
	w.bytes(ot.entry)
	w.close(i)
}

// ftyp brands.
func writeFtyp(w *box, typ, major string, minor uint32, compat ...string) {
	i := w.open(typ)
	w.bytes([]byte(major))
	w.u32(minor)
	for _, c := range compat {
		w.bytes([]byte(c))
	}
	w.close(i)
}

// codecBrands returns the compatible brands naming the codecs inside.
func codecBrands(tracks []*outTrack) []string {
	var b []string
	for _, ot := range tracks {
		switch ot.t.Codec {
		case media.CodecH264:
			b = appendOnce(b, "avc1")
		case media.CodecAV1:
			b = appendOnce(b, "av01")
		}
	}
	return b
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
