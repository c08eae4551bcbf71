package integrity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Errors. Test with errors.Is; the returned errors say which rendition,
// entry and file they are about.
var (
	// ErrFormat means a sidecar or key file is malformed.
	ErrFormat = errors.New("integrity: malformed")
	// ErrSignature means a signature does not verify with the trusted key.
	ErrSignature = errors.New("integrity: bad signature")
	// ErrKey means a sidecar names a key id other than the trusted key's.
	ErrKey = errors.New("integrity: signed with another key")
	// ErrStream means a sidecar or entry is for another stream or
	// rendition than the one being verified.
	ErrStream = errors.New("integrity: signed for another stream or rendition")
	// ErrOrder means sidecar entries are not in publication order
	// (reordered, duplicated) or an entry was added out of order.
	ErrOrder = errors.New("integrity: entries out of order")
	// ErrReplay means a sidecar is older than one already accepted, or
	// conflicts with one of the same generation.
	ErrReplay = errors.New("integrity: replayed older signature")
	// ErrMismatch means the data is not what was signed: the peer that
	// sent it is faulty or hostile.
	ErrMismatch = errors.New("integrity: data does not match the signed hash")
	// ErrUnknown means no signed entry covers the data: it cannot be
	// verified (yet); fetch it from the origin instead.
	ErrUnknown = errors.New("integrity: no signed entry for this data")
)

// Format identifies sidecar files; Version is the one this package
// writes and reads.
const (
	Format  = "streamkit-integrity"
	Version = 1
)

// Limits applied to hostile input before any allocation they drive.
const (
	// MaxSidecarSize bounds a sidecar file (an hour of LL-HLS parts at
	// 0.33 s is about 5 MB).
	MaxSidecarSize = 32 << 20
	// MaxEntries bounds the entries of one sidecar: 36 hours of 2 s
	// segments, or an LL-HLS window far beyond any live playlist's.
	MaxEntries = 1 << 16
	// MaxName bounds stream ids and rendition names, MaxURI entry URIs.
	MaxName = 256
	MaxURI  = 2048
	// MaxSafe is the largest integer a sidecar carries: 2^53-1, the
	// largest JavaScript number that is exact.
	MaxSafe = 1<<53 - 1
)

// SidecarName returns the file name of rendition's sidecar, written
// beside its media playlist (rendition + ".m3u8").
func SidecarName(rendition string) string { return rendition + ".integrity.json" }

// Kind says what an entry covers.
type Kind uint8

// Entry kinds, in the order they sort within one sequence number (init
// before everything).
const (
	KindInit    Kind = 1 // the CMAF header (init segment)
	KindSegment Kind = 2 // a whole media segment (or its byte range)
	KindPart    Kind = 3 // an LL-HLS partial segment
)

var kindNames = [...]string{KindInit: "init", KindSegment: "segment", KindPart: "part"}

func (k Kind) String() string {
	if k >= KindInit && k <= KindPart {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText and UnmarshalText give kinds their JSON names.
func (k Kind) MarshalText() ([]byte, error) {
	if k < KindInit || k > KindPart {
		return nil, fmt.Errorf("%w: entry kind %d", ErrFormat, uint8(k))
	}
	return []byte(kindNames[k]), nil
}

func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n != "" && n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown kind %q (want init, segment or part)", truncate(string(b)))
}

// Entry is one signed piece of a rendition.
type Entry struct {
	Kind Kind   `json:"kind"`
	Seq  uint64 `json:"seq"`
	// Part is the part index within segment Seq (KindPart only).
	Part uint32 `json:"part,omitempty"`
	// Session is the signer's session (Signer.Session): the same for
	// every entry of a sidecar, so an entry signed by an earlier signer
	// (an older packaging, a live packager before a restart) is told
	// apart even where its signature is valid.
	Session uint64 `json:"session"`
	// URI locates the data relative to the sidecar; Offset and Length are
	// its byte range in that file (Offset 0 and the file size for a file
	// of its own).
	URI    string `json:"uri"`
	Offset uint64 `json:"offset"`
	Length uint64 `json:"length"`
	// SHA256 is the hash of the data, Sig the Ed25519 signature of the
	// entry statement.
	SHA256 Hash `json:"sha256"`
	Sig    Sig  `json:"sig"`
}

// Label names the entry in messages: "segment 3", "part 3.1", "init".
func (e *Entry) Label() string {
	switch e.Kind {
	case KindInit:
		return "init"
	case KindPart:
		return fmt.Sprintf("part %d.%d", e.Seq, e.Part)
	}
	return fmt.Sprintf("%s %d", e.Kind, e.Seq)
}

// Where names the entry and its file: "segment 3 (video/seg_3.m4s)", with
// the byte range when the entry is one.
func (e *Entry) Where() string {
	if e.URI == "" {
		return e.Label()
	}
	if e.Offset > 0 {
		return fmt.Sprintf("%s (%s bytes %d-%d)", e.Label(), e.URI, e.Offset, e.Offset+e.Length-1)
	}
	return fmt.Sprintf("%s (%s)", e.Label(), e.URI)
}

// order is the entry's place in publication order: init first, then by
// sequence number, parts before their whole segment.
func (e *Entry) order() [3]uint64 {
	switch e.Kind {
	case KindInit:
		return [3]uint64{0, 0, 0}
	case KindPart:
		return [3]uint64{e.Seq + 1, 0, uint64(e.Part)}
	}
	return [3]uint64{e.Seq + 1, 1, 0}
}

func before(a, b [3]uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Hash is a SHA-256, hex in JSON.
type Hash [sha256.Size]byte

// Sig is an Ed25519 signature, hex in JSON.
type Sig [ed25519.SignatureSize]byte

func (h Hash) MarshalText() ([]byte, error)  { return hexText(h[:]), nil }
func (s Sig) MarshalText() ([]byte, error)   { return hexText(s[:]), nil }
func (h *Hash) UnmarshalText(b []byte) error { return unhex(h[:], b) }
func (s *Sig) UnmarshalText(b []byte) error  { return unhex(s[:], b) }
func (h Hash) String() string                { return hex.EncodeToString(h[:]) }

func hexText(b []byte) []byte {
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	return out
}

func unhex(dst, src []byte) error {
	if len(src) != 2*len(dst) {
		return fmt.Errorf("want %d hex digits, got %d", 2*len(dst), len(src))
	}
	if _, err := hex.Decode(dst, src); err != nil {
		return err
	}
	return nil
}

// Sidecar is the signed list of a rendition's entries.
type Sidecar struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Stream  string `json:"stream"`
	// Rendition names the rendition (its media playlist without .m3u8,
	// its DASH Representation id).
	Rendition string `json:"rendition"`
	// Generation grows with every sidecar the signer writes.
	Generation uint64 `json:"generation"`
	// Session is the signer's session; every entry has the same.
	Session uint64 `json:"session"`
	// KeyID names the signing key (see KeyID).
	KeyID   string  `json:"key_id"`
	Entries []Entry `json:"entries"`
	// Sig signs the sidecar statement.
	Sig Sig `json:"sig"`
}

// Marshal returns the sidecar as indented JSON, one entry per line.
func (sc *Sidecar) Marshal() ([]byte, error) {
	if err := sc.check(); err != nil {
		return nil, err
	}
	head := *sc
	head.Entries = nil
	var b bytes.Buffer
	// One entry per line keeps sidecars diffable and readable without
	// a JSON viewer, at little cost over compact JSON.
	hb, err := json.Marshal(&head)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(hb, []byte(`"entries":null`))
	b.Write(hb[:i])
	b.WriteString("\"entries\":[")
	for n := range sc.Entries {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  ")
		eb, err := json.Marshal(&sc.Entries[n])
		if err != nil {
			return nil, err
		}
		b.Write(eb)
	}
	b.WriteString("\n],")
	b.Write(hb[i+len(`"entries":null,`):])
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// Unmarshal parses a sidecar. Input is treated as hostile: its size is
// bounded, unknown fields are refused, and errors give the byte offset or
// the field (entries[3].sha256) at fault. Unmarshal checks the form, not
// the signatures: that is Verifier.Load's work.
func (sc *Sidecar) Unmarshal(b []byte) error {
	if len(b) > MaxSidecarSize {
		return fmt.Errorf("%w: sidecar of %d bytes (limit %d)", ErrFormat, len(b), MaxSidecarSize)
	}
	// A bound on the entry count before decoding allocates them: every
	// entry is an object, so there are at most as many as '{' bytes
	// (keys cannot hide one behind \u escapes, as they could "sha256").
	if n := bytes.Count(b, []byte("{")) - 1; n > MaxEntries {
		return fmt.Errorf("%w: sidecar with about %d entries (limit %d)", ErrFormat, n, MaxEntries)
	}
	var w wireSidecar
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return fmt.Errorf("%w: sidecar: %s", ErrFormat, jsonWhere(err, d))
	}
	if d.More() {
		return fmt.Errorf("%w: sidecar: byte %d: data after the JSON object", ErrFormat, d.InputOffset())
	}
	out := Sidecar{Format: w.Format, Version: w.Version, Stream: w.Stream, Rendition: w.Rendition,
		Generation: w.Generation, Session: w.Session, KeyID: w.KeyID, Entries: make([]Entry, len(w.Entries))}
	if err := decodeHex(out.Sig[:], w.Sig, "sig"); err != nil {
		return err
	}
	for i, we := range w.Entries {
		e := &out.Entries[i]
		field := fmt.Sprintf("entries[%d].", i)
		if err := e.Kind.UnmarshalText([]byte(we.Kind)); err != nil {
			return fmt.Errorf("%w: sidecar %skind: %v", ErrFormat, field, err)
		}
		e.Seq, e.Part, e.Session, e.URI, e.Offset, e.Length = we.Seq, we.Part, we.Session, we.URI, we.Offset, we.Length
		if err := decodeHex(e.SHA256[:], we.SHA256, field+"sha256"); err != nil {
			return err
		}
		if err := decodeHex(e.Sig[:], we.Sig, field+"sig"); err != nil {
			return err
		}
	}
	if err := out.check(); err != nil {
		return err
	}
	*sc = out
	return nil
}

// wireSidecar is the JSON as read: hashes and signatures as strings, so
// that a bad one is reported with its field path.
type wireSidecar struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Stream     string `json:"stream"`
	Rendition  string `json:"rendition"`
	Generation uint64 `json:"generation"`
	Session    uint64 `json:"session"`
	KeyID      string `json:"key_id"`
	Entries    []struct {
		Kind    string `json:"kind"`
		Seq     uint64 `json:"seq"`
		Part    uint32 `json:"part"`
		Session uint64 `json:"session"`
		URI     string `json:"uri"`
		Offset  uint64 `json:"offset"`
		Length  uint64 `json:"length"`
		SHA256  string `json:"sha256"`
		Sig     string `json:"sig"`
	} `json:"entries"`
	Sig string `json:"sig"`
}

func decodeHex(dst []byte, s, field string) error {
	if err := unhex(dst, []byte(s)); err != nil {
		return fmt.Errorf("%w: sidecar %s: %v", ErrFormat, field, err)
	}
	return nil
}

func jsonWhere(err error, d *json.Decoder) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return fmt.Sprintf("byte %d: field %s: want %v, got %s", te.Offset, te.Field, te.Type, te.Value)
	}
	return fmt.Sprintf("byte %d: %s", d.InputOffset(), truncate(err.Error()))
}

// check validates the form: format, version, lengths and number ranges.
func (sc *Sidecar) check() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: sidecar %s: %s", ErrFormat, field, fmt.Sprintf(format, a...))
	}
	if sc.Format != Format {
		return bad("format", "%q, want %q", truncate(sc.Format), Format)
	}
	if sc.Version != Version {
		return bad("version", "%d, this reader knows version %d", sc.Version, Version)
	}
	if err := checkName("stream", sc.Stream); err != nil {
		return bad("stream", "%v", err)
	}
	if err := checkName("rendition", sc.Rendition); err != nil {
		return bad("rendition", "%v", err)
	}
	if sc.Generation > MaxSafe {
		return bad("generation", "%d above 2^53-1", sc.Generation)
	}
	if sc.Session > MaxSafe {
		return bad("session", "%d above 2^53-1", sc.Session)
	}
	if len(sc.KeyID) != 16 || strings.Trim(sc.KeyID, "0123456789abcdef") != "" {
		return bad("key_id", "%q, want 16 lower-case hex digits", truncate(sc.KeyID))
	}
	if len(sc.Entries) > MaxEntries {
		return bad("entries", "%d entries (limit %d)", len(sc.Entries), MaxEntries)
	}
	for i := range sc.Entries {
		if err := sc.Entries[i].check(); err != nil {
			return bad(fmt.Sprintf("entries[%d]", i), "%v", err)
		}
	}
	return nil
}

func (e *Entry) check() error {
	switch {
	case e.Kind < KindInit || e.Kind > KindPart:
		return fmt.Errorf("kind %d", uint8(e.Kind))
	case e.Kind != KindPart && e.Part != 0:
		return fmt.Errorf("part %d on a %s", e.Part, e.Kind)
	case e.Kind == KindInit && e.Seq != 0:
		return fmt.Errorf("seq %d on an init entry (want 0)", e.Seq)
	case e.Seq > MaxSafe || e.Session > MaxSafe || e.Offset > MaxSafe || e.Length > MaxSafe || e.Offset+e.Length > MaxSafe:
		return errors.New("number above 2^53-1")
	case len(e.URI) > MaxURI:
		return fmt.Errorf("uri of %d bytes (limit %d)", len(e.URI), MaxURI)
	}
	return nil
}

func checkName(what, s string) error {
	if s == "" || len(s) > MaxName {
		return fmt.Errorf("%s must be 1..%d bytes", what, MaxName)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s has a control character", what)
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Statement encoding: see the package documentation for the diagram.
const (
	domain        = "streamkit-integrity"
	typeEntry     = 1
	typeSidecar   = 2
	statementHead = 1 + len(domain) + 2
)

func appendHead(b []byte, typ byte, stream, rendition string) []byte {
	b = append(b, byte(len(domain)))
	b = append(b, domain...)
	b = append(b, Version, typ)
	b = appendStr(b, stream)
	return appendStr(b, rendition)
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// AppendEntryStatement appends the bytes an entry's signature covers.
// Names and URIs must be within MaxName and MaxURI (Sidecar.Unmarshal
// and the Signer ensure it), so their 2-byte lengths cannot overflow.
func AppendEntryStatement(b []byte, stream, rendition string, e *Entry) []byte {
	b = appendHead(b, typeEntry, stream, rendition)
	b = binary.BigEndian.AppendUint64(b, e.Session)
	b = append(b, byte(e.Kind))
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = binary.BigEndian.AppendUint32(b, e.Part)
	b = appendStr(b, e.URI)
	b = binary.BigEndian.AppendUint64(b, e.Offset)
	b = binary.BigEndian.AppendUint64(b, e.Length)
	return append(b, e.SHA256[:]...)
}

// AppendSidecarStatement appends the bytes a sidecar's signature covers.
func AppendSidecarStatement(b []byte, sc *Sidecar) []byte {
	b = appendHead(b, typeSidecar, sc.Stream, sc.Rendition)
	b = binary.BigEndian.AppendUint64(b, sc.Session)
	b = binary.BigEndian.AppendUint64(b, sc.Generation)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sc.Entries)))
	d := entriesDigest(sc.Stream, sc.Rendition, sc.Entries)
	return append(b, d[:]...)
}

func entriesDigest(stream, rendition string, entries []Entry) Hash {
	h := sha256.New()
	var buf []byte
	for i := range entries {
		buf = AppendEntryStatement(buf[:0], stream, rendition, &entries[i])
		h.Write(buf)
	}
	var d Hash
	h.Sum(d[:0])
	return d
}

// WriteFile writes the sidecar to name atomically: a temporary file in
// the same directory renamed into place, so a reader (or an HTTP server
// of a live package) never sees half a sidecar.
func (sc *Sidecar) WriteFile(name string) error {
	b, err := sc.Marshal()
	if err != nil {
		return err
	}
	return writeAtomic(name, b, 0o644)
}

func writeAtomic(name string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
