package integrity

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/Eyevinn/dash-mpd/mpd"
	m3u8 "github.com/Eyevinn/hls-m3u8/m3u8"
)

// maxManifest bounds a playlist or MPD read by Check.
const maxManifest = 16 << 20

// Source reads the files of a package: a directory (DirSource) or a web
// server (HTTPSource).
type Source interface {
	// Read returns length bytes at offset of ref, a slash-separated path
	// relative to the package root; length < 0 reads the whole file, up
	// to limit bytes (more is an error).
	Read(ctx context.Context, ref string, offset, length, limit int64) ([]byte, error)
}

// DirSource reads a package directory. Refs cannot leave it (os.Root:
// no "..", no symbolic links out), whatever a hostile manifest says.
func DirSource(dir string) (*Dir, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Dir{root: r}, nil
}

// Dir is a Source over a directory; Close it when done.
type Dir struct{ root *os.Root }

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Read implements Source.
func (d *Dir) Read(ctx context.Context, ref string, offset, length, limit int64) ([]byte, error) {
	f, err := d.root.Open(filepath.FromSlash(ref))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if length < 0 {
		return readAllLimited(f, limit, ref)
	}
	if length > limit {
		return nil, fmt.Errorf("%s: range of %d bytes above the limit %d", ref, length, limit)
	}
	// The length comes from a sidecar: check it against the file before
	// allocating for it.
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > fi.Size() || length > fi.Size()-offset {
		return nil, fmt.Errorf("%s: file ends before byte %d", ref, offset+length)
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, offset); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: file ends before byte %d", ref, offset+length)
		}
		return nil, err
	}
	return buf, nil
}

func readAllLimited(r io.Reader, limit int64, ref string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", ref, limit)
	}
	return b, nil
}

// HTTPSource reads a package from the web server at root (the URL of the
// directory holding the manifest). It fetches byte ranges with Range
// requests, never leaves root's scheme and host, and needs a client with
// a timeout (http.DefaultClient has none: pass nil for a 30 s one).
func HTTPSource(root *url.URL, client *http.Client) *HTTP {
	if client == nil {
		client = &http.Client{Timeout: 30e9}
	}
	return &HTTP{root: root, client: client}
}

// HTTP is a Source over a web server.
type HTTP struct {
	root   *url.URL
	client *http.Client
}

// Read implements Source.
func (h *HTTP) Read(ctx context.Context, ref string, offset, length, limit int64) ([]byte, error) {
	rel, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	u := h.root.ResolveReference(rel)
	if u.Scheme != h.root.Scheme || u.Host != h.root.Host {
		return nil, fmt.Errorf("%s: leaves %s://%s", ref, h.root.Scheme, h.root.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if length > limit {
		return nil, fmt.Errorf("%s: range of %d bytes above the limit %d", ref, length, limit)
	}
	if length >= 0 {
		if length == 0 {
			return []byte{}, nil
		}
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && length >= 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", offset)) {
			return nil, fmt.Errorf("%s: server answered range %q to bytes=%d-", ref, resp.Header.Get("Content-Range"), offset)
		}
		b, err := readAllLimited(resp.Body, length, ref)
		if err == nil && int64(len(b)) != length {
			err = fmt.Errorf("%s: %d bytes at %d, file has fewer", ref, length, offset)
		}
		return b, err
	case resp.StatusCode == http.StatusOK:
		if length < 0 {
			return readAllLimited(resp.Body, limit, ref)
		}
		// A server without range support: skip to the range.
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			return nil, fmt.Errorf("%s: file ends before byte %d", ref, offset)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, length))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) != length {
			return nil, fmt.Errorf("%s: file ends before byte %d", ref, offset+length)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s: HTTP %s", ref, resp.Status)
}

// Report is what Check found.
type Report struct {
	// Stream and KeyID of the sidecars checked.
	Stream, KeyID string
	// Renditions and Entries counted; Bytes of media hashed.
	Renditions, Entries int
	Bytes               int64
	// Problems, one line each, naming the file and the entry.
	Problems []Problem
}

// OK says whether the package verified with no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Problem is one failed check.
type Problem struct {
	// File is the sidecar, playlist or media file concerned.
	File string
	Err  error
}

// String is one line: the file, then why (unless the reason names the
// file already, as an entry's error does).
func (p Problem) String() string {
	msg := strings.TrimPrefix(p.Err.Error(), "integrity: ")
	if strings.Contains(msg, p.File) {
		return msg
	}
	return p.File + ": " + msg
}

// CheckOption configures Check.
type CheckOption func(*checkConfig)

type checkConfig struct {
	stream  string
	history *History
}

// CheckStream makes Check require stream id s; by default the stream id
// of the first sidecar read is used, and every other sidecar must match.
func CheckStream(s string) CheckOption { return func(c *checkConfig) { c.stream = s } }

// CheckHistory makes Check refuse sidecars older than those h records,
// and record those it accepts (see WithHistory).
func CheckHistory(h *History) CheckOption { return func(c *checkConfig) { c.history = h } }

// rendition to check: its sidecar and, from an HLS media playlist, the
// pieces the playlist references (which the sidecar must cover).
type checkRendition struct {
	id, sidecar string
	playlist    string
	pieces      []piece
}

type piece struct {
	label          string
	ref            string
	offset, length int64
	kind           Kind
}

// Check verifies a package: for every rendition the manifests list (an
// HLS multivariant or media playlist, a DASH MPD; refs relative to src's
// root), its sidecar must be signed by pub for the stream, in order and
// not older than recorded, every entry's data must hash as signed, and
// every init, segment and part an HLS media playlist references must be
// covered by an entry. It returns an error only when nothing could be
// checked (a manifest unreadable); everything else is a Problem in the
// Report.
func Check(ctx context.Context, src Source, manifests []string, pub ed25519.PublicKey, opts ...CheckOption) (*Report, error) {
	var cfg checkConfig
	for _, o := range opts {
		o(&cfg)
	}
	rep := &Report{KeyID: KeyID(pub), Stream: cfg.stream}
	var rends []*checkRendition
	seen := map[string]bool{}
	add := func(r *checkRendition) {
		if !seen[r.sidecar] {
			seen[r.sidecar] = true
			rends = append(rends, r)
		}
	}
	for _, m := range manifests {
		b, err := src.Read(ctx, m, 0, -1, maxManifest)
		if err != nil {
			return nil, fmt.Errorf("integrity: %w", err)
		}
		switch {
		case bytes.HasPrefix(bytes.TrimSpace(b), []byte("#EXTM3U")):
			err = hlsRenditions(ctx, src, m, b, add)
		case bytes.Contains(b[:min(len(b), 4096)], []byte("<MPD")):
			err = dashRenditions(m, b, add)
		default:
			err = errors.New("neither an HLS playlist nor a DASH MPD")
		}
		if err != nil {
			return nil, fmt.Errorf("integrity: %s: %w", m, err)
		}
	}
	var v *Verifier
	for _, r := range rends {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep.Renditions++
		b, err := src.Read(ctx, r.sidecar, 0, -1, MaxSidecarSize)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the Problem names the file
			}
			rep.Problems = append(rep.Problems, Problem{File: r.sidecar, Err: fmt.Errorf("%w: no sidecar (%v)", ErrUnknown, err)})
			continue
		}
		var sc Sidecar
		if err := sc.Unmarshal(b); err != nil {
			rep.Problems = append(rep.Problems, Problem{File: r.sidecar, Err: err})
			continue
		}
		if sc.Rendition != r.id {
			rep.Problems = append(rep.Problems, Problem{File: r.sidecar, Err: fmt.Errorf("%w: sidecar is for rendition %q, the manifest's is %q", ErrStream, sc.Rendition, r.id)})
			continue
		}
		if v == nil {
			if rep.Stream == "" {
				rep.Stream = sc.Stream
			}
			v = NewVerifier(pub, rep.Stream, WithHistory(cfg.history))
		}
		if err := v.Load(&sc); err != nil {
			rep.Problems = append(rep.Problems, Problem{File: r.sidecar, Err: err})
			continue
		}
		dir := path.Dir(r.sidecar)
		covered := map[string]bool{}
		for i := range sc.Entries {
			e := &sc.Entries[i]
			rep.Entries++
			ref := path.Join(dir, e.URI)
			covered[pieceKey(ref, int64(e.Offset))] = true
			if e.URI == "" {
				continue
			}
			data, err := src.Read(ctx, ref, int64(e.Offset), int64(e.Length), maxPiece)
			if err != nil {
				rep.Problems = append(rep.Problems, Problem{File: ref, Err: &Error{Rendition: r.id, Entry: e, Err: ErrMismatch, Detail: err.Error()}})
				continue
			}
			rep.Bytes += int64(len(data))
			if err := v.VerifyEntry(r.id, *e, data); err != nil {
				rep.Problems = append(rep.Problems, Problem{File: ref, Err: err})
			}
		}
		for _, p := range r.pieces {
			if !covered[pieceKey(p.ref, p.offset)] {
				rep.Problems = append(rep.Problems, Problem{File: r.playlist, Err: fmt.Errorf("%w: %s %s (%s) is not in %s", ErrUnknown, r.id, p.label, p.ref, r.sidecar)})
			}
		}
	}
	return rep, nil
}

func pieceKey(ref string, offset int64) string { return ref + "@" + strconv.FormatInt(offset, 10) }

// decodeM3U8 parses with hls-m3u8, turning a panic of the third-party
// parser on hostile input into an error.
func decodeM3U8(data []byte) (pl m3u8.Playlist, err error) {
	defer func() {
		if r := recover(); r != nil {
			pl, err = nil, fmt.Errorf("malformed playlist (%v)", r)
		}
	}()
	pl, _, err = m3u8.Decode(*bytes.NewBuffer(data), false)
	return pl, err
}

// localRef resolves uri against the directory of ref, refusing URLs and
// paths that leave the package.
func localRef(ref, uri string) (string, error) {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	if strings.Contains(uri, "://") || strings.HasPrefix(uri, "/") || uri == "" {
		return "", fmt.Errorf("URI %q is not a relative path", truncate(uri))
	}
	p := path.Join(path.Dir(ref), uri)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("URI %q leaves the package", truncate(uri))
	}
	return p, nil
}

func hlsRenditions(ctx context.Context, src Source, ref string, data []byte, add func(*checkRendition)) error {
	pl, err := decodeM3U8(data)
	if err != nil {
		return err
	}
	if mp, ok := pl.(*m3u8.MediaPlaylist); ok {
		r, err := hlsMedia(ref, mp)
		if err != nil {
			return err
		}
		add(r)
		return nil
	}
	mv, ok := pl.(*m3u8.MasterPlaylist)
	if !ok {
		return errors.New("not a playlist")
	}
	var uris []string
	for _, v := range mv.Variants {
		if v == nil || v.Iframe {
			continue
		}
		uris = append(uris, v.URI)
		for _, a := range v.Alternatives {
			if a != nil && a.URI != "" {
				uris = append(uris, a.URI)
			}
		}
	}
	done := map[string]bool{}
	for _, u := range uris {
		p, err := localRef(ref, u)
		if err != nil {
			return err
		}
		if done[p] {
			continue
		}
		done[p] = true
		b, err := src.Read(ctx, p, 0, -1, maxManifest)
		if err != nil {
			return err
		}
		pl, err := decodeM3U8(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		mp, ok := pl.(*m3u8.MediaPlaylist)
		if !ok {
			return fmt.Errorf("%s: not a media playlist", p)
		}
		r, err := hlsMedia(p, mp)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		add(r)
	}
	return nil
}

// SidecarFor returns the rendition of the HLS media playlist at path
// playlist ("/a/video_360p.m3u8" or a URL path) and the path of its
// sidecar: the playlist's name without .m3u8, its sidecar beside it; but a
// playlist named media.m3u8 in a folder of its own (the live origin's
// layout, NAME/media.m3u8) is rendition NAME, whose sidecar sits beside
// the folder.
func SidecarFor(playlist string) (rendition, sidecar string) {
	id := strings.TrimSuffix(path.Base(playlist), ".m3u8")
	dir := path.Dir(playlist)
	if d := path.Base(dir); id == "media" && d != "." && d != "/" && d != ".." {
		id, dir = d, path.Dir(dir)
	}
	return id, path.Join(dir, SidecarName(id))
}

// hlsMedia lists what media playlist ref references. Its rendition is
// the playlist's name without .m3u8, its sidecar beside it; but a
// playlist named media.m3u8 in a folder of its own (the live origin's
// layout, NAME/media.m3u8) is rendition NAME, whose sidecar sits beside
// the folder, where the DASH manifest's sidecars are too.
func hlsMedia(ref string, mp *m3u8.MediaPlaylist) (*checkRendition, error) {
	id, sidecar := SidecarFor(ref)
	r := &checkRendition{id: id, playlist: ref, sidecar: sidecar}
	addPiece := func(label, uri string, offset, length int64, k Kind) error {
		p, err := localRef(ref, uri)
		if err != nil {
			return err
		}
		r.pieces = append(r.pieces, piece{label: label, ref: p, offset: offset, length: length, kind: k})
		return nil
	}
	maps := map[string]bool{}
	addMap := func(m *m3u8.Map) error {
		if m == nil || maps[pieceKey(m.URI, m.Offset)] {
			return nil
		}
		maps[pieceKey(m.URI, m.Offset)] = true
		return addPiece("init", m.URI, m.Offset, m.Limit, KindInit)
	}
	if err := addMap(mp.Map); err != nil {
		return nil, err
	}
	for i, s := range mp.GetAllSegments() {
		if s == nil {
			continue
		}
		if err := addMap(s.Map); err != nil {
			return nil, err
		}
		if err := addPiece(fmt.Sprintf("segment #%d", i+1), s.URI, s.Offset, s.Limit, KindSegment); err != nil {
			return nil, err
		}
	}
	for _, p := range mp.PartialSegments {
		if p == nil || p.Gap {
			continue
		}
		if err := addPiece(fmt.Sprintf("part %d", p.SeqID), p.URI, p.Offset, p.Limit, KindPart); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// dashRenditions lists the MPD's Representations; their sidecars sit
// beside the MPD. (Segment URLs are not cross-checked for DASH: the HLS
// playlists of the same package reference the same files.)
func dashRenditions(ref string, data []byte, add func(*checkRendition)) error {
	m, err := mpd.ReadFromString(string(data))
	if err != nil {
		return err
	}
	for _, p := range m.Periods {
		if p == nil {
			continue
		}
		for _, as := range p.AdaptationSets {
			if as == nil {
				continue
			}
			for _, rep := range as.Representations {
				if rep == nil {
					continue
				}
				if err := checkName("representation id", rep.Id); err != nil || strings.ContainsAny(rep.Id, "/\\") {
					return fmt.Errorf("representation id %q cannot name a sidecar", truncate(rep.Id))
				}
				add(&checkRendition{id: rep.Id, playlist: ref, sidecar: path.Join(path.Dir(ref), SidecarName(rep.Id))})
			}
		}
	}
	return nil
}
