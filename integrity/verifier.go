package integrity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Error is a verification failure: which rendition and entry, and why
// (Err is one of the package's sentinel errors). Its message is one line.
type Error struct {
	Rendition string
	// Entry is the entry concerned; nil for the sidecar as a whole.
	Entry  *Entry
	Err    error
	Detail string
}

func (e *Error) Error() string {
	what := "integrity: " + e.Rendition
	if e.Entry != nil {
		what += " " + e.Entry.Where()
	} else {
		what += " sidecar"
	}
	why := strings.TrimPrefix(e.Err.Error(), "integrity: ")
	if e.Detail == "" {
		return what + ": " + why
	}
	return what + ": " + why + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Verifier checks data against the signed sidecars of one stream. A peer
// makes one per stream with the publisher's public key, loads each
// rendition's sidecar (again whenever the origin rewrites it), and calls
// Verify before using bytes from another peer. Safe for concurrent use.
type Verifier struct {
	pub     ed25519.PublicKey
	keyID   string
	stream  string
	history *History

	mu    sync.Mutex
	rends map[string]*trusted
}

type trusted struct {
	gen     uint64
	session uint64
	digest  Hash
	entries map[[3]uint64]Entry
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithHistory makes the verifier remember, in h, the newest generation it
// accepted per key, stream and rendition, and refuse older sidecars
// (ErrReplay) even across runs when h is saved and loaded again.
func WithHistory(h *History) VerifierOption { return func(v *Verifier) { v.history = h } }

// NewVerifier returns a verifier trusting pub for stream.
func NewVerifier(pub ed25519.PublicKey, stream string, opts ...VerifierOption) *Verifier {
	v := &Verifier{pub: pub, keyID: KeyID(pub), stream: stream, rends: map[string]*trusted{}}
	for _, o := range opts {
		o(v)
	}
	return v
}

// KeyID returns the trusted key's id.
func (v *Verifier) KeyID() string { return v.keyID }

// Load checks sc, in this order: stream, key id, entry order, each
// entry's signature, the sidecar signature, then its generation against
// the newest one accepted for the rendition; and on success makes its
// entries the rendition's trusted entries (replacing older ones, as a
// live window slides).
func (v *Verifier) Load(sc *Sidecar) error {
	fail := func(err error, e *Entry, format string, a ...any) error {
		return &Error{Rendition: sc.Rendition, Entry: e, Err: err, Detail: fmt.Sprintf(format, a...)}
	}
	if err := sc.check(); err != nil {
		return &Error{Rendition: sc.Rendition, Err: err}
	}
	if sc.Stream != v.stream {
		return fail(ErrStream, nil, "sidecar is for stream %q, want %q", truncate(sc.Stream), v.stream)
	}
	if sc.KeyID != v.keyID {
		return fail(ErrKey, nil, "sidecar signed with key %s, trusted key is %s", sc.KeyID, v.keyID)
	}
	// Order before signatures: a reordered sidecar also fails its
	// signature, but "entries out of order" says what happened.
	for i := 1; i < len(sc.Entries); i++ {
		if !before(sc.Entries[i-1].order(), sc.Entries[i].order()) {
			return fail(ErrOrder, &sc.Entries[i], "entries[%d] comes after %s (entries reordered or repeated)", i, sc.Entries[i-1].Label())
		}
	}
	// An entry of another session carries a valid signature from an
	// earlier signer: a replayed older signature, named as such.
	for i := range sc.Entries {
		if e := &sc.Entries[i]; e.Session != sc.Session {
			return fail(ErrReplay, e, "entries[%d] was signed in session %d, this sidecar's session is %d", i, e.Session, sc.Session)
		}
	}
	var buf []byte
	for i := range sc.Entries {
		e := &sc.Entries[i]
		buf = AppendEntryStatement(buf[:0], sc.Stream, sc.Rendition, e)
		if !ed25519.Verify(v.pub, buf, e.Sig[:]) {
			return fail(ErrSignature, e, "entries[%d] signature does not match its fields (changed, or signed for another stream, rendition or position)", i)
		}
	}
	if !ed25519.Verify(v.pub, AppendSidecarStatement(buf[:0], sc), sc.Sig[:]) {
		return fail(ErrSignature, nil, "sidecar signature does not match (entries added, removed or generation changed after signing)")
	}
	digest := sha256.Sum256(AppendSidecarStatement(buf[:0], sc))
	v.mu.Lock()
	defer v.mu.Unlock()
	newest := v.history.get(v.keyID, v.stream, sc.Rendition)
	if t := v.rends[sc.Rendition]; t != nil {
		newest = max(newest, t.gen)
		if t.gen == sc.Generation && t.digest != digest {
			return fail(ErrReplay, nil, "another sidecar with generation %d was already accepted", sc.Generation)
		}
	}
	if sc.Generation < newest {
		return fail(ErrReplay, nil, "generation %d is older than generation %d already accepted", sc.Generation, newest)
	}
	if t := v.rends[sc.Rendition]; t != nil && sc.Session < t.session {
		return fail(ErrReplay, nil, "session %d is older than session %d already accepted", sc.Session, t.session)
	}
	t := &trusted{gen: sc.Generation, session: sc.Session, digest: digest, entries: make(map[[3]uint64]Entry, len(sc.Entries))}
	for _, e := range sc.Entries {
		t.entries[e.order()] = e
	}
	v.rends[sc.Rendition] = t
	v.history.set(v.keyID, v.stream, sc.Rendition, sc.Generation)
	return nil
}

// AddEntry trusts one entry pushed ahead of the next sidecar (a live
// publisher can send entries with the data): its signature must verify,
// and it must not contradict an entry already trusted.
func (v *Verifier) AddEntry(rendition string, e Entry) error {
	if err := e.check(); err != nil {
		return &Error{Rendition: rendition, Entry: &e, Err: ErrFormat, Detail: err.Error()}
	}
	if !ed25519.Verify(v.pub, AppendEntryStatement(nil, v.stream, rendition, &e), e.Sig[:]) {
		return &Error{Rendition: rendition, Entry: &e, Err: ErrSignature, Detail: "entry signature does not match"}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	t := v.rends[rendition]
	if t == nil {
		t = &trusted{entries: map[[3]uint64]Entry{}}
		v.rends[rendition] = t
	}
	if e.Session < t.session {
		return &Error{Rendition: rendition, Entry: &e, Err: ErrReplay, Detail: fmt.Sprintf("signed in session %d, older than the current session %d", e.Session, t.session)}
	}
	if old, ok := t.entries[e.order()]; ok && old != e {
		return &Error{Rendition: rendition, Entry: &e, Err: ErrReplay, Detail: "contradicts the entry already trusted"}
	}
	t.entries[e.order()] = e
	return nil
}

// Verify checks data as media segment seq of rendition: nil when it is
// exactly what the publisher signed; ErrUnknown when nothing trusted
// covers it (fetch it from the origin); ErrMismatch when it differs
// (drop the peer that sent it).
func (v *Verifier) Verify(rendition string, seq uint64, data []byte) error {
	return v.VerifyEntry(rendition, Entry{Kind: KindSegment, Seq: seq}, data)
}

// VerifyPart checks data as LL-HLS part part of segment seq.
func (v *Verifier) VerifyPart(rendition string, seq uint64, part uint32, data []byte) error {
	return v.VerifyEntry(rendition, Entry{Kind: KindPart, Seq: seq, Part: part}, data)
}

// VerifyInit checks data as rendition's init segment.
func (v *Verifier) VerifyInit(rendition string, data []byte) error {
	return v.VerifyEntry(rendition, Entry{Kind: KindInit}, data)
}

// VerifyEntry checks data as the trusted entry with want's kind, seq and
// part (the other fields of want are ignored).
func (v *Verifier) VerifyEntry(rendition string, want Entry, data []byte) error {
	v.mu.Lock()
	var e Entry
	ok := false
	if t := v.rends[rendition]; t != nil {
		e, ok = t.entries[want.order()]
	}
	v.mu.Unlock()
	if !ok {
		return &Error{Rendition: rendition, Entry: &want, Err: ErrUnknown}
	}
	if uint64(len(data)) != e.Length {
		return &Error{Rendition: rendition, Entry: &e, Err: ErrMismatch, Detail: fmt.Sprintf("%d bytes, signed %d", len(data), e.Length)}
	}
	if h := Hash(sha256.Sum256(data)); h != e.SHA256 {
		return &Error{Rendition: rendition, Entry: &e, Err: ErrMismatch, Detail: fmt.Sprintf("sha256 %.12s..., signed %.12s...", h, e.SHA256)}
	}
	return nil
}

// Generation returns the generation of rendition's trusted sidecar (0
// when none was loaded).
func (v *Verifier) Generation(rendition string) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if t := v.rends[rendition]; t != nil {
		return t.gen
	}
	return 0
}

// History records the newest sidecar generation accepted per key id,
// stream and rendition. Marshal it (JSON) between runs to carry replay
// protection over (streamkit verify --state). Safe for concurrent use.
type History struct {
	mu   sync.Mutex
	seen map[string]uint64
}

// historyKey quotes stream and rendition so that no two triples share a
// key, whatever spaces the names hold.
func historyKey(keyID, stream, rendition string) string {
	return keyID + " " + strconv.Quote(stream) + " " + strconv.Quote(rendition)
}

func (h *History) get(keyID, stream, rendition string) uint64 {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[historyKey(keyID, stream, rendition)]
}

func (h *History) set(keyID, stream, rendition string, gen uint64) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[string]uint64{}
	}
	k := historyKey(keyID, stream, rendition)
	h.seen[k] = max(h.seen[k], gen)
}

type historyFile struct {
	Format string            `json:"format"`
	Seen   map[string]uint64 `json:"seen"`
}

const historyFormat = "streamkit-integrity-history"

// Marshal encodes the history as JSON: {"format": ..., "seen": {"KEYID
// \"STREAM\" \"RENDITION\"": generation}}.
func (h *History) Marshal() ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := make([]string, 0, len(h.seen))
	for k := range h.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := make(map[string]uint64, len(keys))
	for _, k := range keys {
		seen[k] = h.seen[k]
	}
	b, err := json.MarshalIndent(historyFile{Format: historyFormat, Seen: seen}, "", "  ")
	return append(b, '\n'), err
}

// Unmarshal reads a history written by Marshal.
func (h *History) Unmarshal(b []byte) error {
	if len(b) > MaxSidecarSize {
		return fmt.Errorf("%w: history of %d bytes", ErrFormat, len(b))
	}
	var f historyFile
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return fmt.Errorf("%w: history: %s", ErrFormat, jsonWhere(err, d))
	}
	if f.Format != historyFormat {
		return fmt.Errorf("%w: history format %q, want %q", ErrFormat, truncate(f.Format), historyFormat)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = f.Seen
	return nil
}

// WriteFile saves the history atomically.
func (h *History) WriteFile(name string) error {
	b, err := h.Marshal()
	if err != nil {
		return err
	}
	return writeAtomic(name, b, 0o644)
}
