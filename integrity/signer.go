package integrity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Signer signs the pieces of one stream as a packager publishes them and
// builds each rendition's signed sidecar. It is safe for concurrent use
// (one goroutine per rendition, say).
//
// The live packager calls one Add method per published init, part and
// segment, then Sidecar to rewrite that rendition's sidecar:
//
//	s, _ := integrity.NewSigner(priv, "match-42")
//	s.AddPart("video_720p", 118, 0, "video_720p/part_118.0.m4s", partBytes)
//	s.AddSegment("video_720p", 118, "video_720p/seg_118.m4s", segBytes)
//	s.WriteSidecar(dir, "video_720p") // before the playlist that lists them
type Signer struct {
	priv   ed25519.PrivateKey
	stream string
	keyID  string
	clock  func() time.Time

	session uint64

	mu      sync.Mutex
	lastGen uint64
	rends   map[string]*signed
}

type signed struct {
	entries []Entry
}

// SignerOption configures a Signer.
type SignerOption func(*Signer)

// WithClock sets the clock generations are taken from (time.Now by
// default). Live code passes its injected clock.
func WithClock(now func() time.Time) SignerOption { return func(s *Signer) { s.clock = now } }

// WithGeneration makes every generation greater than g, whatever the
// clock says: a publisher that restarts with a slow clock passes the last
// generation it published.
func WithGeneration(g uint64) SignerOption { return func(s *Signer) { s.lastGen = g } }

// NewSigner returns a signer for stream (1 to MaxName bytes: the id
// verifiers expect, e.g. the channel or event id; it is signed, so a
// sidecar of one stream is refused for another).
func NewSigner(priv ed25519.PrivateKey, stream string, opts ...SignerOption) (*Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key of %d bytes", ErrFormat, len(priv))
	}
	if err := checkName("stream id", stream); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	s := &Signer{priv: priv, stream: stream, keyID: KeyID(priv.Public().(ed25519.PublicKey)),
		clock: time.Now, rends: map[string]*signed{}}
	for _, o := range opts {
		o(s)
	}
	// The session is the first generation: later than any generation an
	// earlier signer of this stream gave (as long as the clock grows or
	// WithGeneration says where it stopped).
	s.session = max(s.lastGen+1, uint64(max(s.clock().UnixMilli(), 0)))
	if s.session > MaxSafe {
		return nil, fmt.Errorf("integrity: session %d above 2^53-1", s.session)
	}
	s.lastGen = s.session - 1
	return s, nil
}

// Session returns the signer's session: every entry it signs carries it,
// and its sidecars' generations start there.
func (s *Signer) Session() uint64 { return s.session }

// KeyID returns the signing key's id.
func (s *Signer) KeyID() string { return s.keyID }

// Stream returns the stream id.
func (s *Signer) Stream() string { return s.stream }

// AddInit signs rendition's init segment (before any other entry).
func (s *Signer) AddInit(rendition, uri string, data []byte) (Entry, error) {
	return s.Add(rendition, Entry{Kind: KindInit, URI: uri}, data)
}

// AddSegment signs media segment seq of rendition, a file of its own.
func (s *Signer) AddSegment(rendition string, seq uint64, uri string, data []byte) (Entry, error) {
	return s.Add(rendition, Entry{Kind: KindSegment, Seq: seq, URI: uri}, data)
}

// AddByteRange signs media segment seq stored at offset in file uri
// (byte-range packaging: one file, many ranges).
func (s *Signer) AddByteRange(rendition string, seq uint64, uri string, offset uint64, data []byte) (Entry, error) {
	return s.Add(rendition, Entry{Kind: KindSegment, Seq: seq, URI: uri, Offset: offset}, data)
}

// AddPart signs LL-HLS part number part (from 0) of segment seq. Parts
// come before their whole segment.
func (s *Signer) AddPart(rendition string, seq uint64, part uint32, uri string, data []byte) (Entry, error) {
	return s.Add(rendition, Entry{Kind: KindPart, Seq: seq, Part: part, URI: uri}, data)
}

// Add hashes data into e (Length and SHA256), signs it and appends it to
// rendition's entries. Entries must come in publication order (init,
// then by seq, parts before their segment); Add refuses one that does not
// (ErrOrder) so a packager bug cannot publish a sidecar that verifiers
// reject.
func (s *Signer) Add(rendition string, e Entry, data []byte) (Entry, error) {
	e.Length = uint64(len(data))
	e.SHA256 = sha256.Sum256(data)
	return s.AddHashed(rendition, e)
}

// AddHashed is Add for data already hashed: e.Length and e.SHA256 are
// taken as given (a packager that hashed while writing).
func (s *Signer) AddHashed(rendition string, e Entry) (Entry, error) {
	if err := checkName("rendition", rendition); err != nil {
		return Entry{}, fmt.Errorf("integrity: %w", err)
	}
	e.Session = s.session
	if err := e.check(); err != nil {
		return Entry{}, fmt.Errorf("%w: %s %s: %v", ErrFormat, rendition, e.Label(), err)
	}
	var buf [256]byte
	e.Sig = Sig(ed25519.Sign(s.priv, AppendEntryStatement(buf[:0], s.stream, rendition, &e)))
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rends[rendition]
	if r == nil {
		r = &signed{}
		s.rends[rendition] = r
	}
	if n := len(r.entries); n > 0 && !before(r.entries[n-1].order(), e.order()) {
		return Entry{}, fmt.Errorf("%w: %s: %s added after %s", ErrOrder, rendition, e.Label(), r.entries[n-1].Label())
	}
	if n := len(r.entries); n >= MaxEntries {
		return Entry{}, fmt.Errorf("integrity: %s: %d entries: Trim the live window", rendition, n)
	}
	r.entries = append(r.entries, e)
	return e, nil
}

// Trim drops rendition's media entries before sequence number seq (the
// init entry stays): a live packager calls it as segments leave the
// playlist window so sidecars stay small.
func (s *Signer) Trim(rendition string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rends[rendition]
	if r == nil {
		return
	}
	keep := r.entries[:0]
	for _, e := range r.entries {
		if e.Kind == KindInit || e.Seq >= seq {
			keep = append(keep, e)
		}
	}
	clear(r.entries[len(keep):])
	r.entries = keep
}

// Renditions returns the renditions with entries, sorted.
func (s *Signer) Renditions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.rends))
	for r := range s.rends {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Sidecar returns rendition's signed sidecar with a new generation: the
// clock in milliseconds since 1970, or one more than the last generation
// this signer gave, whichever is greater. So generations grow across
// restarts of a publisher as long as its clock does.
//
// A publisher writes the sidecar before the playlist that references the
// new piece, so a verifier never sees a segment listed but not signed.
func (s *Signer) Sidecar(rendition string) (*Sidecar, error) {
	if err := checkName("rendition", rendition); err != nil {
		return nil, fmt.Errorf("integrity: %w", err)
	}
	s.mu.Lock()
	gen := max(s.lastGen+1, uint64(max(s.clock().UnixMilli(), 0)))
	if gen > MaxSafe {
		s.mu.Unlock()
		return nil, fmt.Errorf("integrity: generation %d above 2^53-1", gen)
	}
	s.lastGen = gen
	var entries []Entry
	if r := s.rends[rendition]; r != nil {
		entries = append([]Entry(nil), r.entries...)
	}
	s.mu.Unlock()
	sc := &Sidecar{Format: Format, Version: Version, Stream: s.stream, Rendition: rendition,
		Generation: gen, Session: s.session, KeyID: s.keyID, Entries: entries}
	sc.Sig = Sig(ed25519.Sign(s.priv, AppendSidecarStatement(nil, sc)))
	return sc, nil
}

// WriteSidecar writes rendition's new sidecar into dir as
// SidecarName(rendition), atomically (a reader sees the old or the new
// one, never half of one).
func (s *Signer) WriteSidecar(dir, rendition string) error {
	sc, err := s.Sidecar(rendition)
	if err != nil {
		return err
	}
	return sc.WriteFile(filepath.Join(dir, SidecarName(rendition)))
}
