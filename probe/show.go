package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/streamkit-go/streamkit/media"
)

// ErrSelect is wrapped by errors about a -show_entries or -select_streams
// argument that cannot be parsed. Test with errors.Is.
var ErrSelect = errors.New("probe: bad selection")

// Selection chooses what [WriteSelected] prints, as ffprobe's -show_*,
// -show_entries and -select_streams options do.
type Selection struct {
	// Packets, Streams and Format are ffprobe's -show_packets,
	// -show_streams and -show_format. Sections named in Entries are shown
	// as well.
	Packets, Streams, Format bool
	// Entries limits the fields of each section (nil: all of them).
	Entries *Entries
	// Select limits streams and packets to the matching streams (nil:
	// all), as -select_streams does; the format section is not affected.
	Select *StreamSpecifier
	// JSON selects ffprobe's -of json; otherwise ffprobe's default
	// writer ([PACKET] ... key=value ... [/PACKET]).
	JSON bool
	// Warnings, when set, receives the damage the reader read past
	// (Result.Warnings), once the sections are written.
	Warnings func([]media.Warning)
}

// Entries is a parsed -show_entries argument.
//
// It is applied to the JSON objects the sections are written as, by key:
// every field [Result.WriteJSON] and [Packet] have can be named, including
// fields added later, without a list to keep in step.
type Entries struct {
	sections map[string]*entrySel
}

type entrySel struct {
	all    bool
	fields map[string]bool
	sub    map[string]*entrySel // by JSON key: tags, disposition, side_data_list
}

// subsections maps ffprobe's SECTION_SUB names to the JSON key they fill
// (side_data is an element of side_data_list).
var subsections = map[string]string{"tags": "tags", "disposition": "disposition", "side_data_list": "side_data_list", "side_data": "side_data_list"}

// ParseEntries parses ffprobe's -show_entries syntax:
//
//	SECTION[=FIELD[,FIELD...]][:SECTION[=...]]...
//
// with sections format, stream and packet and their subsections
// format_tags, stream_tags, stream_disposition, stream_side_data (and
// _list) and packet_side_data ("stream_tags=language",
// "packet_side_data=skip_samples"). A section without
// fields shows all of them, subsections included; a section with fields
// shows a subsection only when it is named too.
func ParseEntries(spec string) (*Entries, error) {
	e := &Entries{sections: map[string]*entrySel{}}
	for _, part := range strings.Split(spec, ":") {
		if part == "" {
			continue
		}
		name, fields, hasFields := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		section, sub := name, ""
		for _, s := range []string{"format", "stream", "packet"} {
			if name == s || name == s+"s" {
				section = s
				break
			}
			if rest, ok := strings.CutPrefix(name, s+"_"); ok {
				if key, ok := subsections[rest]; ok {
					section, sub = s, key
					break
				}
			}
		}
		if section != "format" && section != "stream" && section != "packet" {
			return nil, fmt.Errorf("%w: no section %q in -show_entries (have format, stream, packet and their _tags, _disposition, _side_data_list)", ErrSelect, name)
		}
		sel := e.sections[section]
		if sel == nil {
			sel = &entrySel{fields: map[string]bool{}, sub: map[string]*entrySel{}}
			e.sections[section] = sel
		}
		if sub != "" {
			ss := sel.sub[sub]
			if ss == nil {
				ss = &entrySel{fields: map[string]bool{}}
				sel.sub[sub] = ss
			}
			sel = ss
		}
		if !hasFields {
			sel.all = true
			continue
		}
		for _, f := range strings.Split(fields, ",") {
			if f = strings.TrimSpace(f); f != "" {
				sel.fields[f] = true
			}
		}
	}
	if len(e.sections) == 0 {
		return nil, fmt.Errorf("%w: empty -show_entries", ErrSelect)
	}
	return e, nil
}

// Has reports whether section ("format", "stream", "packet") is named.
func (e *Entries) Has(section string) bool {
	if e == nil {
		return false
	}
	_, ok := e.sections[section]
	return ok
}

// filter returns the compact JSON object obj keeping the selected keys
// of section, in their order.
func (e *Entries) filter(section string, obj []byte) ([]byte, error) {
	if e == nil {
		return obj, nil
	}
	sel := e.sections[section]
	if sel == nil {
		return obj, nil
	}
	return sel.filterObject(obj)
}

func (s *entrySel) filterObject(obj []byte) ([]byte, error) {
	if s.all && len(s.sub) == 0 {
		return obj, nil
	}
	var out bytes.Buffer
	out.WriteByte('{')
	n := 0
	err := eachKey(obj, func(key string, val json.RawMessage) error {
		keep := s.all || s.fields[key]
		if _, isSub := subsections[key]; isSub && !s.all {
			ss := s.sub[key]
			if ss == nil {
				return nil
			}
			keep = true
			var err error
			if val, err = ss.filterValue(val); err != nil {
				return err
			}
		}
		if !keep {
			return nil
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(key)
		out.Write(k)
		out.WriteByte(':')
		out.Write(val)
		return nil
	})
	out.WriteByte('}')
	return out.Bytes(), err
}

// filterValue filters a subsection: an object (tags, disposition) or an
// array of objects (side_data_list).
func (s *entrySel) filterValue(v json.RawMessage) (json.RawMessage, error) {
	if s.all {
		return v, nil
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			return nil, err
		}
		var out bytes.Buffer
		out.WriteByte('[')
		for i, it := range items {
			f, err := s.filterObject(it)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				out.WriteByte(',')
			}
			out.Write(f)
		}
		out.WriteByte(']')
		return out.Bytes(), nil
	}
	return s.filterObject(v)
}

// eachKey calls fn for the keys of a JSON object in their order.
func eachKey(obj []byte, fn func(key string, val json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("probe: not a JSON object: %.40q", obj)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		if err := fn(key, val); err != nil {
			return err
		}
	}
	return nil
}

// StreamSpecifier is a parsed ffprobe stream specifier (-select_streams):
//
//	N        the stream with index N
//	v a s d  every video, audio, subtitle or data stream (V: video too)
//	v:N      the N-th (from 0) stream of that type
//	p:PROG   the streams of MPEG-TS program PROG (p:PROG:v, p:PROG:a:1 …)
//	#ID i:ID the stream with that ID (MP4 track_ID, MPEG-TS PID)
type StreamSpecifier struct {
	index   int // -1: any
	kind    string
	nth     int // -1: any
	program int // -1: any
	id      int // -1: any
}

// ParseStreamSpecifier parses an ffprobe stream specifier.
func ParseStreamSpecifier(spec string) (*StreamSpecifier, error) {
	s := &StreamSpecifier{index: -1, nth: -1, program: -1, id: -1}
	bad := func() (*StreamSpecifier, error) {
		return nil, fmt.Errorf("%w: stream specifier %q (want N, v, a, s, d, v:N, p:PROG[:...], #ID or i:ID)", ErrSelect, spec)
	}
	rest := strings.TrimSpace(spec)
	if rest == "" {
		return bad()
	}
	if r, ok := strings.CutPrefix(rest, "p:"); ok {
		num, tail, _ := strings.Cut(r, ":")
		p, err := strconv.Atoi(num)
		if err != nil || p < 0 {
			return bad()
		}
		s.program, rest = p, tail
		if rest == "" {
			return s, nil
		}
	}
	if r, ok := strings.CutPrefix(rest, "#"); ok {
		rest = "i:" + r
	}
	if r, ok := strings.CutPrefix(rest, "i:"); ok {
		id, err := strconv.ParseInt(r, 0, 32)
		if err != nil || id < 0 {
			return bad()
		}
		s.id = int(id)
		return s, nil
	}
	kind, tail, hasTail := strings.Cut(rest, ":")
	switch kind {
	case "v", "V":
		s.kind = "video"
	case "a":
		s.kind = "audio"
	case "s":
		s.kind = "subtitle"
	case "d":
		s.kind = "data"
	default:
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return bad()
		}
		if s.program >= 0 {
			s.nth = n // p:PROG:N is the N-th stream of the program
		} else {
			s.index = n
		}
		return s, nil
	}
	if hasTail {
		n, err := strconv.Atoi(tail)
		if err != nil || n < 0 {
			return bad()
		}
		s.nth = n
	}
	return s, nil
}

// Match reports whether streams[i] matches the specifier.
func (s *StreamSpecifier) Match(streams []Stream, i int) bool {
	if s == nil {
		return true
	}
	if i < 0 || i >= len(streams) {
		return false
	}
	st := &streams[i]
	switch {
	case s.index >= 0:
		return st.Index == s.index
	case s.id >= 0:
		return st.ID == s.id && (s.program < 0 || st.Program == s.program)
	}
	ok := func(x *Stream) bool {
		return (s.program < 0 || x.Program == s.program) && (s.kind == "" || x.CodecType == s.kind)
	}
	if !ok(st) {
		return false
	}
	if s.nth < 0 {
		return true
	}
	n := 0
	for j := 0; j < i; j++ {
		if ok(&streams[j]) {
			n++
		}
	}
	return n == s.nth
}

// WriteSelected probes the file at path and writes the sections sel
// asks for, in ffprobe's order (packets, streams, format) and in its
// JSON or default format. Packets are streamed as they are read.
func WriteSelected(ctx context.Context, w io.Writer, path string, sel Selection, opts ...Option) error {
	f, size, opts, closeAll, err := openPath(path, opts)
	if err != nil {
		return err
	}
	defer closeAll()
	return WriteSelectedReader(ctx, w, f, size, filepath.Base(path), sel, opts...)
}

// WriteSelectedReader is [WriteSelected] for the input r of the given
// size (standard input, a URL); name is what format.filename reports.
func WriteSelectedReader(ctx context.Context, w io.Writer, r io.ReaderAt, size int64, name string, sel Selection, opts ...Option) error {
	res, err := Reader(ctx, r, size, name, opts...)
	if err != nil {
		return err
	}
	showPackets := sel.Packets || sel.Entries.Has("packet")
	showStreams := sel.Streams || sel.Entries.Has("stream")
	showFormat := sel.Format || sel.Entries.Has("format")
	selected := map[int]bool{}
	for i := range res.Streams {
		if sel.Select.Match(res.Streams, i) {
			selected[res.Streams[i].Index] = true
		}
	}
	out := &sectionWriter{w: w, json: sel.JSON}
	out.begin()
	if showPackets {
		out.array("packets", "PACKET")
		err := Packets(ctx, r, size, func(p *Packet) error {
			if !selected[p.StreamIndex] {
				return nil
			}
			b, err := json.Marshal(p)
			if err != nil {
				return err
			}
			if b, err = sel.Entries.filter("packet", b); err != nil {
				return err
			}
			return out.item(b)
		}, opts...)
		if err != nil {
			return err
		}
		out.endArray()
	}
	if showStreams {
		out.array("streams", "STREAM")
		for i := range res.Streams {
			if !selected[res.Streams[i].Index] {
				continue
			}
			b, err := json.Marshal(res.Streams[i].json(res.Format.Container))
			if err != nil {
				return err
			}
			if b, err = sel.Entries.filter("stream", b); err != nil {
				return err
			}
			if err := out.item(b); err != nil {
				return err
			}
		}
		out.endArray()
	}
	if showFormat {
		var doc bytes.Buffer
		if err := res.WriteJSON(&doc); err != nil {
			return err
		}
		var whole struct {
			Format json.RawMessage `json:"format"`
		}
		if err := json.Unmarshal(doc.Bytes(), &whole); err != nil {
			return err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, whole.Format); err != nil {
			return err
		}
		b, err := sel.Entries.filter("format", compact.Bytes())
		if err != nil {
			return err
		}
		out.object("format", "FORMAT", b)
	}
	if err := out.end(); err != nil {
		return err
	}
	if sel.Warnings != nil && len(res.Warnings) > 0 {
		sel.Warnings(res.Warnings)
	}
	return nil
}

// sectionWriter writes sections as ffprobe's JSON writer (four-space
// indentation, an empty array as "[\n\n    ]") or its default writer does.
type sectionWriter struct {
	w     io.Writer
	json  bool
	err   error
	n     int    // sections written
	items int    // items in the current array
	tag   string // default writer: the current array's section name
}

func (s *sectionWriter) write(p []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
}

func (s *sectionWriter) begin() {
	if s.json {
		s.write([]byte("{"))
	}
}

func (s *sectionWriter) sep() {
	if s.n > 0 {
		s.write([]byte(","))
	}
	s.n++
}

func (s *sectionWriter) array(key, tag string) {
	s.items, s.tag = 0, tag
	if s.json {
		s.sep()
		s.write([]byte("\n    \"" + key + "\": ["))
	}
}

func (s *sectionWriter) item(obj []byte) error {
	if s.json {
		var b bytes.Buffer
		if err := json.Indent(&b, obj, "        ", "    "); err != nil {
			return err
		}
		if s.items > 0 {
			s.write([]byte(","))
		}
		s.write([]byte("\n        "))
		s.write(b.Bytes())
	} else {
		s.flat(s.tag, obj)
	}
	s.items++
	return s.err
}

func (s *sectionWriter) endArray() {
	if !s.json {
		return
	}
	if s.items == 0 {
		s.write([]byte("\n"))
	}
	s.write([]byte("\n    ]"))
}

func (s *sectionWriter) object(key, tag string, obj []byte) {
	if !s.json {
		s.flat(tag, obj)
		return
	}
	s.sep()
	var b bytes.Buffer
	if err := json.Indent(&b, obj, "    ", "    "); err != nil && s.err == nil {
		s.err = err
	}
	s.write([]byte("\n    \"" + key + "\": "))
	s.write(b.Bytes())
}

func (s *sectionWriter) end() error {
	if s.json {
		s.write([]byte("\n}\n"))
	}
	return s.err
}

// flat writes one object in ffprobe's default format: [TAG], key=value
// lines (strings unquoted), tags as TAG:key=value, disposition as
// DISPOSITION:key=value, side data as [SIDE_DATA] blocks, [/TAG].
func (s *sectionWriter) flat(tag string, obj []byte) {
	s.write([]byte("[" + tag + "]\n"))
	err := eachKey(obj, func(key string, val json.RawMessage) error {
		v := bytes.TrimSpace(val)
		switch {
		case len(v) > 0 && v[0] == '{':
			prefix := key + "."
			switch key {
			case "tags":
				prefix = "TAG:"
			case "disposition":
				prefix = "DISPOSITION:"
			}
			return eachKey(v, func(k string, iv json.RawMessage) error {
				s.write([]byte(prefix + k + "=" + scalar(iv) + "\n"))
				return nil
			})
		case len(v) > 0 && v[0] == '[':
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				return err
			}
			for _, it := range items {
				if len(bytes.TrimSpace(it)) > 0 && bytes.TrimSpace(it)[0] == '{' {
					s.flat("SIDE_DATA", it)
				}
			}
		default:
			s.write([]byte(key + "=" + scalar(v) + "\n"))
		}
		return nil
	})
	if err != nil && s.err == nil {
		s.err = err
	}
	s.write([]byte("[/" + tag + "]\n"))
}

// scalar prints a JSON scalar as ffprobe's default writer does.
func scalar(v json.RawMessage) string {
	var str string
	if json.Unmarshal(v, &str) == nil {
		return str
	}
	return string(bytes.TrimSpace(v))
}
