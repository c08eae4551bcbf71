package mp4

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/streamkit-go/streamkit/media"
)

// Box is one node of an MP4 box tree, as ReadBoxes returns it.
type Box struct {
	Type       string  `json:"type"`
	Offset     int64   `json:"offset"`
	Size       int64   `json:"size"`
	HeaderSize int     `json:"header_size"`
	Fields     []Field `json:"fields,omitempty"`
	Children   []*Box  `json:"children,omitempty"`
}

// Field is a decoded value of a box, such as mdhd's timescale.
type Field struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

func (b *Box) add(name string, v any) { b.Fields = append(b.Fields, Field{name, v}) }

// containers are boxes whose body is a sequence of boxes; the value is
// the number of bytes before the first child (full-box headers, entry
// counts).
var containers = map[string]int{
	"moov": 0, "trak": 0, "mdia": 0, "minf": 0, "stbl": 0, "edts": 0, "dinf": 0, "mvex": 0,
	"moof": 0, "traf": 0, "mfra": 0, "udta": 0, "tref": 0, "sinf": 0, "schi": 0, "rinf": 0,
	"trgr": 0, "strk": 0, "strd": 0, "meco": 0, "iprp": 0, "ipco": 0, "wave": 0, "ilst": 0,
	"stsd": 8, "dref": 8, "meta": 4,
}

// ReadBoxes returns the box tree of an MP4 file, reading only box
// headers and the container boxes (never mdat). Leaf boxes carry a few
// decoded fields (brands, timescales, track IDs, entry counts, tfdt).
// On malformed input it returns the tree read so far with the error.
func ReadBoxes(r io.ReaderAt, size int64, opts ...Option) ([]*Box, error) {
	cfg := config{maxBox: DefaultMaxBoxSize}
	for _, o := range opts {
		o(&cfg)
	}
	var out []*Box
	var hb [16]byte
	nodes := 0
	for off := int64(0); off < size; {
		n := min(int64(len(hb)), size-off)
		if _, err := r.ReadAt(hb[:n], off); err != nil && err != io.EOF {
			return out, &media.PosError{Format: "mp4", Offset: off, What: "box header", Err: err}
		}
		h, err := parseHeader(hb[:n], off, size-off, "")
		if err != nil {
			return out, err
		}
		b := &Box{Type: h.typ.String(), Offset: h.off, Size: h.size, HeaderSize: int(h.hlen)}
		out = append(out, b)
		if nodes++; nodes > MaxBoxes {
			return out, posErr(h.off, b.Type, media.ErrUnsupported, "more than %d boxes; listing stops here", MaxBoxes)
		}
		name := h.typ.String()
		_, isContainer := containers[name]
		if isContainer || leafFields()[name] != nil {
			limit := cfg.maxBox
			if !isContainer {
				limit = min(h.size, 4096) // the fields sit at the start
			}
			if h.size > cfg.maxBox && isContainer {
				return out, &media.PosError{Format: "mp4", Offset: h.off, What: name,
					Err: fmt.Errorf("%w: %d bytes, limit %d", ErrBoxTooLarge, h.size, cfg.maxBox)}
			}
			buf := make([]byte, min(h.size, limit))
			if _, err := r.ReadAt(buf, h.off); err != nil && err != io.EOF {
				return out, &media.PosError{Format: "mp4", Offset: h.off, What: name, Err: err}
			}
			if err := describe(b, h, buf, name, 0, &nodes); err != nil {
				return out, err
			}
		}
		off = h.end()
	}
	return out, nil
}

// describe fills in the fields and children of b from its bytes (the
// whole box for containers, a prefix for leaves).
func describe(b *Box, h header, full []byte, where string, depth int, nodes *int) error {
	name := h.typ.String()
	if depth > maxDepth {
		return posErr(h.off, where, media.ErrCorrupt, "boxes nested more than %d deep", maxDepth)
	}
	body := full[min(int(h.hlen), len(full)):]
	if f := leafFields()[name]; f != nil {
		f(b, body)
	}
	skip, ok := containers[name]
	if !ok {
		if n, entry := sampleEntrySkip(name, body); entry {
			skip, ok = n, true
		}
	}
	if !ok || int64(len(full)) < h.size {
		return nil
	}
	if name == "meta" && len(body) >= 8 && string(body[4:8]) == "hdlr" {
		skip = 0 // QuickTime meta: not a full box
	}
	if skip > len(body) {
		return posErr(h.off, where, media.ErrTruncated, "%d-byte body, children start at %d", len(body), skip)
	}
	err := children(body[skip:], h.bodyOff()+int64(skip), where, func(ch header, _, cfull []byte) error {
		c := &Box{Type: ch.typ.String(), Offset: ch.off, Size: ch.size, HeaderSize: int(ch.hlen)}
		b.Children = append(b.Children, c)
		if *nodes++; *nodes > MaxBoxes {
			return posErr(ch.off, where+"/"+c.Type, media.ErrUnsupported, "more than %d boxes; listing stops here", MaxBoxes)
		}
		return describe(c, ch, cfull, where+"/"+c.Type, depth+1, nodes)
	})
	if err != nil && !structural[name] {
		// udta, meta, sample entries and the like hold vendor data that
		// is not always boxes: list what parsed and move on.
		return nil
	}
	return err
}

// MaxBoxes bounds the number of boxes ReadBoxes lists (a day of 2-second
// fragments is about a million), so that a file of tiny boxes cannot make
// it build a tree many times the file's size.
const MaxBoxes = 4 << 20

// maxDepth bounds the nesting ReadBoxes follows (real files stay under 12).
const maxDepth = 32

// structural containers must parse completely; errors in others (udta,
// meta, sample entries) only end their child list.
var structural = map[string]bool{
	"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true, "edts": true,
	"mvex": true, "moof": true, "traf": true, "stsd": true,
}

// sampleEntrySkip returns where the child boxes of a sample entry start.
func sampleEntrySkip(name string, body []byte) (int, bool) {
	if isVisualTag(name) || name == "encv" {
		return visualEntryLen, true
	}
	switch codecOfTag[name] {
	case media.CodecAAC, media.CodecAC3, media.CodecEAC3, media.CodecOpus, media.CodecMP3, "flac", "alac":
	default:
		if name != "enca" {
			return 0, false
		}
	}
	if len(body) < audioEntryLen {
		return 0, false
	}
	switch be16(body[8:]) {
	case 1:
		return audioEntryLen + 16, true
	case 2:
		return audioEntryLen + 36, true
	}
	return audioEntryLen, true
}

// versioned reads a 32- or 64-bit field depending on the full-box version.
func versioned(v byte, b []byte) (uint64, []byte, bool) {
	if v == 1 {
		if len(b) < 8 {
			return 0, b, false
		}
		return be64(b), b[8:], true
	}
	if len(b) < 4 {
		return 0, b, false
	}
	return uint64(be32(b)), b[4:], true
}

func brands(b *Box, body []byte) {
	if len(body) < 8 {
		return
	}
	b.add("major_brand", fourCC(be32(body)).String())
	b.add("minor_version", be32(body[4:]))
	var cb []string
	for i := 8; i+4 <= len(body); i += 4 {
		cb = append(cb, fourCC(be32(body[i:])).String())
	}
	b.add("compatible_brands", cb)
}

func entryCount(b *Box, body []byte) {
	if len(body) >= 8 {
		b.add("entry_count", be32(body[4:]))
	}
}

// afterTimes skips a full box's version/flags and its creation and
// modification times (32 or 64 bits each by version), as mvhd, tkhd and
// mdhd all start so; it returns the version and what follows.
func afterTimes(body []byte) (v byte, rest []byte, ok bool) {
	if len(body) < 4 {
		return 0, nil, false
	}
	v, rest = body[0], body[4:]
	for range 2 {
		if _, rest, ok = versioned(v, rest); !ok {
			return 0, nil, false
		}
	}
	return v, rest, true
}

// leafFields decode the key fields of a box body. The table is built on
// first use, not at start-up: every streamkit command links this package
// (BENCHMARKS.md, "Start-up and trace reading").
var leafFields = sync.OnceValue(func() map[string]func(b *Box, body []byte) {
	m := map[string]func(b *Box, body []byte){
		"ftyp": brands,
		"styp": brands,
		"mvhd": func(b *Box, body []byte) {
			v, rest, ok := afterTimes(body)
			if !ok || len(rest) < 4 {
				return
			}
			b.add("timescale", be32(rest))
			if d, _, ok := versioned(v, rest[4:]); ok {
				b.add("duration", d)
			}
		},
		"tkhd": func(b *Box, body []byte) {
			v, rest, ok := afterTimes(body)
			if !ok {
				return
			}
			if len(rest) < 8 {
				return
			}
			b.add("track_id", be32(rest))
			d, rest, ok := versioned(v, rest[8:])
			if !ok {
				return
			}
			b.add("duration", d)
			if len(rest) >= 16+36+8 {
				b.add("width", float64(be32(rest[52:]))/65536)
				b.add("height", float64(be32(rest[56:]))/65536)
			}
		},
		"mdhd": func(b *Box, body []byte) {
			v, rest, ok := afterTimes(body)
			if !ok {
				return
			}
			if len(rest) < 4 {
				return
			}
			b.add("timescale", be32(rest))
			d, rest, ok := versioned(v, rest[4:])
			if !ok {
				return
			}
			b.add("duration", d)
			if len(rest) >= 2 {
				b.add("language", language(be16(rest)))
			}
		},
		"hdlr": func(b *Box, body []byte) {
			if len(body) < 12 {
				return
			}
			b.add("handler_type", fourCC(be32(body[8:])).String())
			if len(body) > 24 {
				b.add("name", strings.TrimRight(string(body[24:]), "\x00"))
			}
		},
		"elst": func(b *Box, body []byte) {
			if len(body) < 8 {
				return
			}
			n := be32(body[4:])
			b.add("entry_count", n)
			rest := body[8:]
			var es []string
			for i := uint32(0); i < n && i < 8; i++ {
				d, r, ok := versioned(body[0], rest)
				if !ok {
					break
				}
				mt, r, ok := versioned(body[0], r)
				if !ok || len(r) < 4 {
					break
				}
				m := int64(mt)
				if body[0] == 0 {
					m = int64(int32(mt))
				}
				es = append(es, fmt.Sprintf("duration=%d media_time=%d rate=%d", d, m, int16(be16(r))))
				rest = r[4:]
			}
			b.add("entries", es)
		},
		"stsd": entryCount, "stts": entryCount, "ctts": entryCount, "stsc": entryCount,
		"stco": entryCount, "co64": entryCount, "stss": entryCount, "dref": entryCount,
		"stsz": func(b *Box, body []byte) {
			if len(body) >= 12 {
				b.add("sample_size", be32(body[4:]))
				b.add("sample_count", be32(body[8:]))
			}
		},
		"mehd": func(b *Box, body []byte) {
			if len(body) >= 4 {
				if d, _, ok := versioned(body[0], body[4:]); ok {
					b.add("fragment_duration", d)
				}
			}
		},
		"trex": func(b *Box, body []byte) {
			if len(body) >= 24 {
				b.add("track_id", be32(body[4:]))
				b.add("default_sample_duration", be32(body[12:]))
				b.add("default_sample_size", be32(body[16:]))
				b.add("default_sample_flags", fmt.Sprintf("%#08x", be32(body[20:])))
			}
		},
		"mfhd": func(b *Box, body []byte) {
			if len(body) >= 8 {
				b.add("sequence_number", be32(body[4:]))
			}
		},
		"tfhd": func(b *Box, body []byte) {
			if len(body) >= 8 {
				b.add("flags", fmt.Sprintf("%#06x", be32(body)&0xffffff))
				b.add("track_id", be32(body[4:]))
			}
		},
		"tfdt": func(b *Box, body []byte) {
			if len(body) >= 4 {
				if d, _, ok := versioned(body[0], body[4:]); ok {
					b.add("base_media_decode_time", d)
				}
			}
		},
		"trun": func(b *Box, body []byte) {
			if len(body) < 8 {
				return
			}
			fl := be32(body) & 0xffffff
			b.add("flags", fmt.Sprintf("%#06x", fl))
			b.add("sample_count", be32(body[4:]))
			if fl&trunDataOffset != 0 && len(body) >= 12 {
				b.add("data_offset", int32(be32(body[8:])))
			}
		},
		"sidx": func(b *Box, body []byte) {
			if len(body) < 12 {
				return
			}
			b.add("reference_id", be32(body[4:]))
			b.add("timescale", be32(body[8:]))
			ept, rest, ok := versioned(body[0], body[12:])
			if !ok {
				return
			}
			fo, rest, ok := versioned(body[0], rest)
			if !ok || len(rest) < 4 {
				return
			}
			b.add("earliest_presentation_time", ept)
			b.add("first_offset", fo)
			b.add("reference_count", be16(rest[2:]))
		},
		"btrt": func(b *Box, body []byte) {
			if len(body) >= 12 {
				b.add("max_bitrate", be32(body[4:]))
				b.add("avg_bitrate", be32(body[8:]))
			}
		},
		"pasp": func(b *Box, body []byte) {
			if len(body) >= 8 {
				b.add("h_spacing", be32(body))
				b.add("v_spacing", be32(body[4:]))
			}
		},
		"hvcC": func(b *Box, body []byte) {
			if len(body) >= 22 {
				b.add("profile_idc", body[1]&31)
				b.add("level_idc", body[12])
				b.add("nal_length_size", int(body[21]&3)+1)
			}
		},
		"av1C": func(b *Box, body []byte) {
			if len(body) >= 3 {
				b.add("seq_profile", body[1]>>5)
				b.add("seq_level_idx", body[1]&31)
			}
		},
		"dOps": func(b *Box, body []byte) {
			if len(body) >= 11 {
				b.add("channels", body[1])
				b.add("pre_skip", be16(body[2:]))
				b.add("input_sample_rate", be32(body[4:]))
			}
		},
		"avcC": func(b *Box, body []byte) {
			if len(body) >= 5 {
				b.add("profile", body[1])
				b.add("level", body[3])
				b.add("nal_length_size", int(body[4]&3)+1)
			}
		},
	}
	// Sample entries: size and channel fields.
	for tag := range codecOfTag {
		if _, ok := m[tag]; ok {
			continue
		}
		m[tag] = func(b *Box, body []byte) {
			if n, ok := sampleEntrySkip(tag, body); ok && n == visualEntryLen && len(body) >= 28 {
				b.add("width", be16(body[24:]))
				b.add("height", be16(body[26:]))
			} else if ok && len(body) >= audioEntryLen {
				b.add("channels", be16(body[16:]))
				b.add("sample_rate", be32(body[24:])>>16)
			}
		}
	}
	return m
})
