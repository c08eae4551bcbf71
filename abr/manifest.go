package abr

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Manifest is what the simulator needs to know about a piece of content: a
// bitrate ladder and the size of every segment at every level. A packaged HLS
// or DASH presentation can implement it from another package (abr imports no
// container package).
type Manifest interface {
	// SegmentDuration is the duration of every segment in milliseconds.
	SegmentDuration() float64
	// Bitrates returns the ladder in kbit/s, ascending. The caller must not
	// modify the slice.
	Bitrates() []float64
	// NumSegments is the number of segments in the presentation.
	NumSegments() int
	// SegmentSize is the size of segment i at quality q, in bits.
	SegmentSize(i, q int) float64
}

// Errors returned by the parsers and by the simulators. Each parse error wraps
// one of these and names the file and the line or field at fault.
var (
	ErrMalformed     = errors.New("abr: malformed input")
	ErrEmptyLadder   = errors.New("abr: empty bitrate ladder")
	ErrMismatch      = errors.New("abr: segment count or ladder size mismatch")
	ErrNeverDelivers = errors.New("abr: trace never delivers any data")
	// ErrFormat: LoadManifest was given a format no reader is registered
	// for (an HLS playlist or DASH MPD without package manifest linked).
	ErrFormat = errors.New("abr: no reader registered for this manifest format")
)

// ParseError describes a bad input: the file, where in it (line, or field
// path for JSON), and what is wrong.
type ParseError struct {
	File  string // file name, or "<input>"
	Line  int    // 1-based line, 0 when unknown
	Field string // JSON field path or column name, empty when unknown
	Msg   string
	Err   error // ErrMalformed, ErrEmptyLadder, ErrMismatch or ErrNeverDelivers
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

func perr(file string, line int, field string, err error, format string, a ...any) error {
	if file == "" {
		file = "<input>"
	}
	return &ParseError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, a...), Err: err}
}

// Ladder is a Manifest held in memory: the Sabre movie format (segment sizes
// in bits). It is also the type every other manifest reader in this package
// returns.
type Ladder struct {
	SegmentMs float64     // segment duration, ms
	Kbps      []float64   // ascending bitrates, kbit/s
	Sizes     [][]float64 // Sizes[i][q] in bits
	// flat holds the rows of Sizes end to end when ReadSabreManifest made
	// them so (SizeTable): sessions then share it instead of copying it.
	flat []float64
}

// SizeTable implements SizeTabler for a Ladder read by ReadSabreManifest
// whose rows are still the ones it read (nil otherwise: a session then
// copies the sizes).
func (l *Ladder) SizeTable() []float64 {
	n := len(l.Kbps)
	if l.flat == nil || n == 0 || len(l.flat) != len(l.Sizes)*n {
		return nil
	}
	for i, row := range l.Sizes {
		if len(row) != n || &row[0] != &l.flat[i*n] {
			return nil
		}
	}
	return l.flat
}

// SegmentDuration implements Manifest.
func (l *Ladder) SegmentDuration() float64 { return l.SegmentMs }

// Bitrates implements Manifest.
func (l *Ladder) Bitrates() []float64 { return l.Kbps }

// NumSegments implements Manifest.
func (l *Ladder) NumSegments() int { return len(l.Sizes) }

// SegmentSize implements Manifest.
func (l *Ladder) SegmentSize(i, q int) float64 { return l.Sizes[i][q] }

// Validate checks the invariants the simulators rely on.
func (l *Ladder) Validate(file string) error {
	if len(l.Kbps) == 0 {
		return perr(file, 0, "bitrates_kbps", ErrEmptyLadder, "no bitrates")
	}
	if !(l.SegmentMs > 0) || math.IsInf(l.SegmentMs, 0) {
		return perr(file, 0, "segment_duration_ms", ErrMalformed, "must be a positive number, got %v", l.SegmentMs)
	}
	for q, b := range l.Kbps {
		if !(b > 0) || math.IsInf(b, 0) {
			return perr(file, 0, fmt.Sprintf("bitrates_kbps[%d]", q), ErrMalformed, "must be a positive number, got %v", b)
		}
		if q > 0 && b <= l.Kbps[q-1] {
			return perr(file, 0, fmt.Sprintf("bitrates_kbps[%d]", q), ErrMalformed, "bitrates must be strictly ascending (%v after %v)", b, l.Kbps[q-1])
		}
	}
	if len(l.Sizes) == 0 {
		return perr(file, 0, "segment_sizes_bits", ErrMismatch, "no segments")
	}
	for i, row := range l.Sizes {
		if len(row) != len(l.Kbps) {
			return perr(file, 0, fmt.Sprintf("segment_sizes_bits[%d]", i), ErrMismatch, "%d sizes, want %d (one per bitrate)", len(row), len(l.Kbps))
		}
		for q, s := range row {
			if !(s > 0) || math.IsInf(s, 0) {
				return perr(file, 0, fmt.Sprintf("segment_sizes_bits[%d][%d]", i, q), ErrMalformed, "size must be a positive number, got %v", s)
			}
		}
	}
	return nil
}

// ReadSabreManifest parses Sabre's movie JSON:
//
//	{"segment_duration_ms": 3000, "bitrates_kbps": [230, ...],
//	 "segment_sizes_bits": [[886360, ...], ...]}
//
// name is used in error messages.
func ReadSabreManifest(r io.Reader, name string) (*Ladder, error) {
	data, err := readAllSized(r, 1<<30)
	if err != nil {
		return nil, perr(name, 0, "", ErrMalformed, "read: %v", err)
	}
	// The size table is decoded by sizeRows into one flat slice (a movie
	// of 3 million segments in 144 MB, not 3 million small slices and
	// encoding/json's growth); a table outside its simple subset is decoded
	// again by encoding/json, so values and errors stay encoding/json's.
	var fast struct {
		SegmentMs *float64  `json:"segment_duration_ms"`
		Kbps      []float64 `json:"bitrates_kbps"`
		Sizes     sizeRows  `json:"segment_sizes_bits"`
	}
	if err := json.Unmarshal(data, &fast); err == nil && fast.Sizes.ok && fast.SegmentMs != nil {
		l := &Ladder{SegmentMs: *fast.SegmentMs, Kbps: fast.Kbps, Sizes: fast.Sizes.rows, flat: fast.Sizes.flat}
		if err := l.Validate(name); err != nil {
			return nil, err
		}
		return l, nil
	}
	var raw struct {
		SegmentMs *float64    `json:"segment_duration_ms"`
		Kbps      []float64   `json:"bitrates_kbps"`
		Sizes     [][]float64 `json:"segment_sizes_bits"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonErr(name, data, err)
	}
	if raw.SegmentMs == nil {
		return nil, perr(name, 0, "segment_duration_ms", ErrMalformed, "missing")
	}
	l := &Ladder{SegmentMs: *raw.SegmentMs, Kbps: raw.Kbps, Sizes: raw.Sizes}
	if err := l.Validate(name); err != nil {
		return nil, err
	}
	return l, nil
}

// readAllSized is io.ReadAll(io.LimitReader(r, limit)) that reads a file
// into a buffer of its size (no doubling growth for a 200 MB movie).
func readAllSized(r io.Reader, limit int64) ([]byte, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() < limit {
			buf := make([]byte, 0, st.Size()+1)
			for {
				n, err := f.Read(buf[len(buf):cap(buf)])
				buf = buf[:len(buf)+n]
				if err == io.EOF {
					return buf, nil
				}
				if err != nil {
					return nil, err
				}
				if len(buf) == cap(buf) { // the file grew: finish the usual way
					rest, err := io.ReadAll(io.LimitReader(f, limit-int64(len(buf))))
					return append(buf, rest...), err
				}
			}
		}
	}
	return io.ReadAll(io.LimitReader(r, limit))
}

// sizeRows decodes Sabre's segment_sizes_bits when it is an array of
// equally long arrays of plain decimal numbers (parseDecimal) into rows
// that share one flat slice; ok is false for anything else.
type sizeRows struct {
	rows [][]float64
	flat []float64
	ok   bool
}

// UnmarshalJSON implements json.Unmarshaler. It parses data before it
// returns (encoding/json's buffer is not kept) and never fails: ok says
// whether the table was in the subset.
func (z *sizeRows) UnmarshalJSON(data []byte) error {
	z.ok = false
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil
	}
	// rows ≤ the number of '[' − 1: size the slices once
	est := bytes.Count(data, []byte{'['}) - 1
	n := -1
	var flat []float64
	rows := 0
	i = skipWS(data, i+1)
	for {
		if i >= len(data) || data[i] != '[' {
			return nil
		}
		i = skipWS(data, i+1)
		k := 0
		for {
			v, m, good := parseDecimal(data[i:])
			if !good {
				return nil
			}
			flat = append(flat, v)
			k++
			i = skipWS(data, i+m)
			if i < len(data) && data[i] == ',' {
				i = skipWS(data, i+1)
				continue
			}
			if i >= len(data) || data[i] != ']' {
				return nil
			}
			break
		}
		if n < 0 {
			n = k
			// Every value takes at least two bytes ("1,"): a capacity above
			// len(data)/2 could only come from stray '[' (hostile input).
			if est > 1 && n*est <= len(data)/2 { // the first row is read: one allocation for the table
				f := make([]float64, n, n*est)
				copy(f, flat)
				flat = f
			}
		} else if k != n {
			return nil
		}
		rows++
		i = skipWS(data, i+1)
		if i < len(data) && data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if i >= len(data) || data[i] != ']' || skipWS(data, i+1) != len(data) {
			return nil
		}
		break
	}
	z.flat = flat[:len(flat):len(flat)]
	z.rows = make([][]float64, rows)
	for r := range z.rows {
		z.rows[r] = z.flat[r*n : (r+1)*n : (r+1)*n]
	}
	z.ok = true
	return nil
}

// jsonErr turns an encoding/json error into a ParseError with a line number.
func jsonErr(name string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return perr(name, lineOf(data, se.Offset), "", ErrMalformed, "invalid JSON: %v", se)
	case errors.As(err, &te):
		return perr(name, lineOf(data, te.Offset), te.Field, ErrMalformed, "JSON %s where %s expected", te.Value, te.Type)
	}
	return perr(name, 0, "", ErrMalformed, "invalid JSON: %v", err)
}

func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// LoadSabreManifest reads a Sabre movie JSON file.
func LoadSabreManifest(path string) (*Ladder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadSabreManifest(f, path)
}

// PensieveLadderKbps is the ladder of Pensieve's test video (MODELS.md §3.1).
var PensieveLadderKbps = []float64{300, 750, 1200, 1850, 2850, 4300}

// ReadChunkSizes parses one Pensieve video_size_N file: one chunk size in
// bytes per line. Blank lines are ignored.
func ReadChunkSizes(r io.Reader, name string) ([]float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var out []float64
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= 0) || math.IsInf(v, 0) {
			return nil, perr(name, line, "", ErrMalformed, "chunk size %q is not a non-negative number", clip(s))
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, perr(name, line+1, "", ErrMalformed, "%v", err)
	}
	if len(out) == 0 {
		return nil, perr(name, 0, "", ErrMismatch, "no chunk sizes")
	}
	return out, nil
}

// VideoSizes is Pensieve's chunk-size table: Bytes[q][i] for level q and chunk
// i, with the ladder in kbit/s. It implements Manifest (sizes in bits, 4 s
// chunks, Chunks segments).
type VideoSizes struct {
	Kbps    []float64
	Bytes   [][]float64
	ChunkMs float64
	Chunks  int // segments exposed through Manifest (48 for Pensieve's video)
}

// SegmentDuration implements Manifest.
func (v *VideoSizes) SegmentDuration() float64 { return v.ChunkMs }

// Bitrates implements Manifest.
func (v *VideoSizes) Bitrates() []float64 { return v.Kbps }

// NumSegments implements Manifest.
func (v *VideoSizes) NumSegments() int { return v.Chunks }

// SegmentSize implements Manifest (bits).
func (v *VideoSizes) SegmentSize(i, q int) float64 { return v.Bytes[q][i] * 8 }

// LoadVideoSizes reads dir/video_size_0 ... video_size_{n-1} where n is the
// number of levels in kbps (PensieveLadderKbps when nil). Every file must
// have the same number of chunks, at least 48+1 for the Pensieve model.
func LoadVideoSizes(dir string, kbps []float64) (*VideoSizes, error) {
	if kbps == nil {
		kbps = PensieveLadderKbps
	}
	if len(kbps) == 0 {
		return nil, perr(dir, 0, "", ErrEmptyLadder, "no bitrates")
	}
	v := &VideoSizes{Kbps: kbps, ChunkMs: 4000}
	for q := range kbps {
		p := filepath.Join(dir, fmt.Sprintf("video_size_%d", q))
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		s, err := ReadChunkSizes(f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
		if q > 0 && len(s) != len(v.Bytes[0]) {
			return nil, perr(p, 0, "", ErrMismatch, "%d chunk sizes, but video_size_0 has %d", len(s), len(v.Bytes[0]))
		}
		v.Bytes = append(v.Bytes, s)
	}
	v.Chunks = len(v.Bytes[0]) - 1
	if v.Chunks > pensieveChunks {
		v.Chunks = pensieveChunks
	}
	if v.Chunks < 1 {
		return nil, perr(dir, 0, "", ErrMismatch, "need at least 2 chunk sizes per level")
	}
	return v, nil
}

// repeated is a Manifest that repeats and cuts another one to a given number
// of segments (Sabre's -ml).
type repeated struct {
	Manifest
	n int
}

func (r repeated) NumSegments() int { return r.n }
func (r repeated) SegmentSize(i, q int) float64 {
	return r.Manifest.SegmentSize(i%r.Manifest.NumSegments(), q)
}

// Looped returns m repeated end to end and cut to ceil(lengthMs/P)
// segments, as Sabre's -ml option does. (Not an option: With… names are
// the package's functional options.)
func Looped(m Manifest, lengthMs float64) Manifest {
	n := int(math.Ceil(lengthMs / m.SegmentDuration()))
	if n < 1 {
		n = 1
	}
	return repeated{m, n}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ManifestLoader reads the Manifest stored at path.
type ManifestLoader func(path string) (Manifest, error)

// manifestFormats maps a lower-case file extension (".m3u8") to its loader.
var manifestFormats = map[string]ManifestLoader{}

// RegisterManifestFormat makes LoadManifest (and so the Sabre -m option and
// sweeps) read files whose name ends in ext (".m3u8", ".mpd"; compared
// without regard to case) with load. Package abr imports no container or
// manifest package: whoever links one registers it. Package manifest
// registers the packaged HLS and DASH readers (hls.ReadLadder,
// dash.ReadLadder) when imported. A later registration for the same ext replaces the
// earlier one. It is meant for init functions, not for concurrent use with
// LoadManifest.
func RegisterManifestFormat(ext string, load ManifestLoader) {
	if ext == "" || ext == "." || load == nil {
		panic("abr: RegisterManifestFormat needs an extension and a loader")
	}
	if ext[0] != '.' {
		ext = "." + ext
	}
	manifestFormats[strings.ToLower(ext)] = load
}

// LoadManifest reads a manifest: a directory of Pensieve video_size_N files
// (Pensieve's ladder, 4 s chunks), a file whose extension was registered
// with RegisterManifestFormat, or else a Sabre movie JSON file. An HLS
// playlist or DASH MPD with no registered reader is an ErrFormat error
// that names manifest.Load, the one call that reads every format.
func LoadManifest(path string) (Manifest, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		v, err := LoadVideoSizes(path, nil)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return v, nil
	}
	if load := manifestFormats[strings.ToLower(filepath.Ext(path))]; load != nil {
		m, err := load(path)
		if err == nil && m == nil {
			err = fmt.Errorf("%w: %s: the %s reader returned no manifest", ErrMalformed, path, filepath.Ext(path))
		}
		return m, err
	}
	if kind := packagedKind(path); kind != "" {
		// A Sabre JSON parse error ("invalid JSON") would hide the fix.
		return nil, fmt.Errorf("%w: %s is %s, which package abr does not read (it imports no container package): "+
			"load it with manifest.Load (github.com/streamkit-go/streamkit/manifest), which also registers the format here",
			ErrFormat, path, kind)
	}
	l, err := LoadSabreManifest(path)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// packagedKind names the packaged-manifest formats LoadManifest knows by
// extension but reads only through a registered loader.
func packagedKind(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".m3u8", ".m3u":
		return "an HLS playlist"
	case ".mpd":
		return "a DASH MPD"
	}
	return ""
}
