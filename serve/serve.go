// Package serve serves packaged HLS and DASH presentations over HTTP, with a browser player page.
//
// [Handler] serves the files below a directory with the MIME types
// players expect (m3u8, mpd, m4s, mp4, ts), CORS headers and HTTP range
// requests (byte-range HLS and DASH SegmentBase need them), and a player
// page at /_player/?src=PATH that plays PATH with hls.js (.m3u8) or
// dash.js (.mpd). The index page (/) lists every manifest found; it is
// kept in memory until the tree changes.
//
// Only what is inside the directory is served: a symbolic link out of it,
// dotfiles, directories (no listings), non-canonical paths and bad names
// are 404 unless [WithDotfiles] or [WithDirListings] ask otherwise, and a
// request may carry at most [DefaultMaxRanges] byte ranges
// ([WithMaxRanges]). The handler sets no timeouts or connection limit:
// streamkit serve runs it on internal/httpserver, which does.
//
// The player libraries are not part of streamkit and are not fetched from
// a CDN: they are served from a local npm install of the hls.js and
// dashjs packages, found with [WithPlayerJS], the STREAMKIT_PLAYER_JS
// environment variable, ./node_modules or ~/.cache/streamkit/playerjs
// (where .ci/run installs them):
//
//	npm install --prefix ~/.cache/streamkit/playerjs hls.js@1.7.4 dashjs@5.2.1
//
// The player page doubles as the browser test harness: with test=1 it
// starts playback by itself, forces a switch to another rendition once
// playing, and POSTs a JSON result (position reached, fatal errors,
// levels switched to) to the report URL. The package's browser test
// (browser_test.go) packages the sample ladder in several layouts and
// plays each in headless Debian Chromium (STREAMKIT_CHROMIUM, else
// chromium on PATH) started as
//
//	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
//	  --disable-background-networking --disable-component-update --disable-sync \
//	  --autoplay-policy=no-user-gesture-required --mute-audio --remote-debugging-port=0 \
//	  --user-data-dir=NEW_EMPTY_DIR 'http://127.0.0.1:PORT/_player/?src=/master.m3u8&test=1&report=/_test/report'
//
// with TMPDIR set to a new short directory. It skips when Chromium or the
// player libraries are missing, unless STREAMKIT_REQUIRE_TOOLS=1.
package serve

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed web/player.html
var web embed.FS

// EnvPlayerJS names the environment variable that points at the npm
// install holding hls.js and dashjs.
const EnvPlayerJS = "STREAMKIT_PLAYER_JS"

// PlayerPath is where the player page is served.
const PlayerPath = "/_player/"

// MIME types by file extension. Go's mime package does not know the
// streaming ones on every system, so they are fixed here.
var mimeTypes = map[string]string{
	".m3u8": "application/vnd.apple.mpegurl",
	".mpd":  "application/dash+xml",
	".m4s":  "video/iso.segment",
	".mp4":  "video/mp4",
	".m4a":  "audio/mp4",
	".m4v":  "video/mp4",
	".ts":   "video/mp2t",
	".aac":  "audio/aac",
	".vtt":  "text/vtt",
	".js":   "text/javascript; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".json": "application/json",
}

// MIMEType returns the Content-Type served for a file name ("" when the
// extension is not a streaming one).
func MIMEType(name string) string { return mimeTypes[strings.ToLower(path.Ext(name))] }

// Option configures Handler.
type Option func(*config)

type config struct {
	playerJS  string
	dotfiles  bool
	listDirs  bool
	maxRanges int
}

// DefaultMaxRanges is the most byte ranges one request may ask for
// (Apache's MaxRanges default): players ask for one; a header with
// hundreds is an attempt to make the server do hundreds of seeks and
// multipart headers for one request.
const DefaultMaxRanges = 200

// WithPlayerJS names a directory holding the hls.js and dashjs npm
// packages: an npm prefix (with node_modules/ inside), a node_modules
// directory, or a flat directory with hls.min.js and dash.all.min.js.
func WithPlayerJS(dir string) Option { return func(c *config) { c.playerJS = dir } }

// WithDotfiles serves files and directories whose name starts with a dot
// (.env, .git, the temporaries of a package run in progress); by default
// they are 404.
func WithDotfiles() Option { return func(c *config) { c.dotfiles = true } }

// WithDirListings lists the entries of a directory requested by path; by
// default a directory is 404. Dotfiles stay hidden unless WithDotfiles.
func WithDirListings() Option { return func(c *config) { c.listDirs = true } }

// WithMaxRanges caps the byte ranges of one request: a Range header with
// more gets 416 Range Not Satisfiable. n < 1 means DefaultMaxRanges.
func WithMaxRanges(n int) Option { return func(c *config) { c.maxRanges = n } }

// playerLibs are the candidate locations of each library inside a player
// JS directory.
var playerLibs = map[string][]string{
	"hls.js": {
		"node_modules/hls.js/dist/hls.min.js", "hls.js/dist/hls.min.js", "hls.min.js",
	},
	"dash.js": {
		"node_modules/dashjs/dist/modern/umd/dash.all.min.js", "dashjs/dist/modern/umd/dash.all.min.js",
		"node_modules/dashjs/dist/dash.all.min.js", "dashjs/dist/dash.all.min.js", "dash.all.min.js",
	},
}

// ErrNoPlayerJS means hls.js or dash.js could not be found.
var ErrNoPlayerJS = errors.New("serve: hls.js/dash.js not found (npm install hls.js dashjs, then --player-js DIR or " + EnvPlayerJS + ")")

// FindPlayerJS returns the files of hls.js and dash.js ("hls.js" and
// "dash.js" keys) in dir, or, when dir is "", in $STREAMKIT_PLAYER_JS,
// ./node_modules's parent and ~/.cache/streamkit/playerjs, in that order.
func FindPlayerJS(dir string) (map[string]string, error) {
	var dirs []string
	if dir != "" {
		dirs = []string{dir}
	} else {
		if e := os.Getenv(EnvPlayerJS); e != "" {
			dirs = append(dirs, e)
		}
		dirs = append(dirs, ".")
		if home, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(home, ".cache", "streamkit", "playerjs"))
		}
	}
	for _, d := range dirs {
		found := map[string]string{}
		for lib, cands := range playerLibs {
			for _, c := range cands {
				p := filepath.Join(d, filepath.FromSlash(c))
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
					found[lib] = p
					break
				}
			}
		}
		if len(found) == len(playerLibs) {
			return found, nil
		}
	}
	return nil, fmt.Errorf("%w; looked in %s", ErrNoPlayerJS, strings.Join(dirs, ", "))
}

// Handler serves the presentations below root. When the player libraries
// cannot be found the files are still served and the player page says
// what is missing; the error is returned alongside a working handler so
// that callers can warn.
//
// Only what is inside root is served: the files are opened through an
// [os.Root], so a symbolic link that leads out of the tree is 404, as are
// directories (unless [WithDirListings]), names starting with a dot
// (unless [WithDotfiles]), paths that are not in canonical form (/./,
// //, /a/../b), names with NUL or control bytes and names longer than a
// file system allows. Handler sets no timeouts or connection limits: run
// it with a server that does (streamkit serve uses internal/httpserver).
func Handler(root string, opts ...Option) (http.Handler, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxRanges < 1 {
		cfg.maxRanges = DefaultMaxRanges
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	libs, libErr := FindPlayerJS(cfg.playerJS)
	h := newHandler(r.FS(), cfg)
	h.libs, h.libErr = libs, libErr
	return h, libErr
}

func newHandler(root fs.FS, cfg config) *handler {
	return &handler{root: root, cfg: cfg}
}

type handler struct {
	root   fs.FS
	cfg    config
	libs   map[string]string
	libErr error
	index  indexCache
}

// Limits on names: longer paths or elements are 404 without asking the
// file system (which would say ENAMETOOLONG).
const (
	maxPathLen = 4096
	maxNameLen = 255
)

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Range, Origin, Accept")
	hd.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")
	hd.Set("X-Content-Type-Options", "nosniff")
	switch req.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodHead:
	default:
		hd.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := req.URL.Path
	switch {
	case p == "/" || p == "/index.html":
		h.serveIndex(w, req)
		return
	case p == PlayerPath || p == PlayerPath+"index.html":
		if err := checkPlayerQuery(req.URL.Query()); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hd.Set("Content-Type", mimeTypes[".html"])
		hd.Set("Cache-Control", "no-cache")
		b, _ := web.ReadFile("web/player.html")
		w.Write(b)
		return
	case strings.HasPrefix(p, PlayerPath):
		lib := strings.TrimPrefix(p, PlayerPath)
		f, ok := h.libs[lib]
		if !ok {
			msg := "not found"
			if h.libErr != nil {
				msg = h.libErr.Error()
			}
			http.Error(w, msg, http.StatusNotFound)
			return
		}
		hd.Set("Content-Type", mimeTypes[".js"])
		http.ServeFile(w, req, f)
		return
	}
	name, ok := h.fileName(p)
	if !ok {
		http.NotFound(w, req)
		return
	}
	f, err := h.root.Open(name)
	if err != nil {
		// Missing, outside the tree (a symlink out of it), unreadable or
		// refused by the file system: all the same to a client.
		http.NotFound(w, req)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.NotFound(w, req)
		return
	}
	if fi.IsDir() {
		if !h.cfg.listDirs {
			http.NotFound(w, req)
			return
		}
		h.listDir(w, p, f)
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !fi.Mode().IsRegular() || !ok {
		http.NotFound(w, req)
		return
	}
	if rh := req.Header.Get("Range"); rh != "" && strings.Count(rh, ",") >= h.cfg.maxRanges {
		hd.Set("Content-Range", fmt.Sprintf("bytes */%d", fi.Size()))
		http.Error(w, fmt.Sprintf("more than %d ranges in one request", h.cfg.maxRanges), http.StatusRequestedRangeNotSatisfiable)
		return
	}
	if t := MIMEType(p); t != "" {
		hd.Set("Content-Type", t)
	}
	if strings.HasSuffix(p, ".m3u8") || strings.HasSuffix(p, ".mpd") {
		hd.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, req, fi.Name(), fi.ModTime(), rs)
}

// fileName turns a URL path into a name below root, or says it is not
// one this handler serves.
func (h *handler) fileName(p string) (string, bool) {
	if len(p) > maxPathLen || !strings.HasPrefix(p, "/") {
		return "", false
	}
	name := strings.TrimPrefix(p, "/")
	if h.cfg.listDirs {
		name = strings.TrimSuffix(name, "/")
	}
	if name == "" || !fs.ValidPath(name) {
		// fs.ValidPath refuses ., .., empty elements and a trailing
		// slash: /./, //x, /a/../b and /dir/ are not canonical names.
		return "", false
	}
	for _, el := range strings.Split(name, "/") {
		if len(el) > maxNameLen || el[0] == '.' && !h.cfg.dotfiles {
			return "", false
		}
		for i := 0; i < len(el); i++ {
			if el[i] < 0x20 || el[i] == 0x7f || el[i] == '\\' {
				return "", false
			}
		}
	}
	return name, true
}

// checkPlayerQuery refuses player page parameters that are not what the
// page takes: src and report must be paths on this server (the page must
// not be a way to make a visitor's browser fetch or post elsewhere).
func checkPlayerQuery(q url.Values) error {
	for _, k := range []string{"src", "report"} {
		v := q.Get(k)
		if v == "" {
			continue
		}
		if len(v) > maxPathLen || !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.ContainsAny(v, "\\\x00\r\n<>\"'") {
			return fmt.Errorf("serve: %s must be a path on this server", k)
		}
	}
	if v := q.Get("until"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err != nil || !(f >= 0 && f <= 1e6) {
			return fmt.Errorf("serve: until must be a number of seconds")
		}
	}
	return nil
}

// maxListing bounds a directory listing.
const maxListing = 10000

func (h *handler) listDir(w http.ResponseWriter, p string, f fs.File) {
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		http.Error(w, "not a directory", http.StatusNotFound)
		return
	}
	ents, _ := d.ReadDir(maxListing)
	var names []string
	for _, e := range ents {
		if e.Name()[0] == '.' && !h.cfg.dotfiles {
			continue
		}
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", mimeTypes[".html"])
	listTmpl().Execute(w, struct {
		Dir   string
		Names []string
	}{strings.TrimSuffix(p, "/") + "/", names})
}

// The page templates are parsed on first use, not in every command's
// start-up (every streamkit command links this package).
var listTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("list").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Dir}}</title></head>
<body><h1>{{.Dir}}</h1><ul>{{range .Names}}<li><a href="{{$.Dir}}{{.}}">{{.}}</a></li>{{end}}</ul></body></html>`))
})

var indexTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>streamkit serve</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}li{margin:.3em 0}</style></head>
<body><h1>Presentations</h1>
{{if .Items}}<ul>{{range .Items}}<li><a href="{{$.Player}}?src=/{{.}}">{{.}}</a> (<a href="/{{.}}">manifest</a>)</li>{{end}}</ul>
{{else}}<p>No .m3u8 multivariant playlist or .mpd found. Package something first: <code>streamkit package -o DIR ...</code></p>{{end}}
</body></html>`))
})

// indexCache keeps the index page until the tree changes. Each GET /
// walks the directories (at most indexDepth deep) and stats the manifests,
// and compares that with the last walk: unchanged, the page is served from
// memory (and 304 to a matching If-None-Match); changed, only the
// playlists whose size or time changed are read again (to see whether they
// are multivariant). The walk is what notices a new presentation without
// a file-system watcher, which would need a platform-specific dependency.
type indexCache struct {
	mu    sync.Mutex
	sig   uint64
	page  []byte
	etag  string
	files map[string]manifestInfo
}

type manifestInfo struct {
	mod   time.Time
	size  int64
	multi bool
}

// Bounds of the index walk: how deep, and how many entries at most.
const (
	indexDepth   = 4
	indexEntries = 100000
)

func (h *handler) serveIndex(w http.ResponseWriter, req *http.Request) {
	page, etag := h.indexPage()
	w.Header().Set("Content-Type", mimeTypes[".html"])
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", etag)
	if req.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(page)
}

// indexPage returns the index page and its ETag, rebuilt only when the
// tree has changed since the last call.
func (h *handler) indexPage() ([]byte, string) {
	type cand struct {
		path string
		info fs.FileInfo
	}
	var cands []cand
	sum := fnv.New64a()
	seen := 0
	fs.WalkDir(h.root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if seen++; seen > indexEntries {
			return fs.SkipAll
		}
		if p != "." && d.Name()[0] == '.' && !h.cfg.dotfiles {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		ext := path.Ext(p)
		if !d.IsDir() && ext != ".mpd" && ext != ".m3u8" {
			return nil
		}
		if d.IsDir() && strings.Count(p, "/") >= indexDepth {
			return fs.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fmt.Fprintf(sum, "%s\x00%d\x00%d\x00", p, info.ModTime().UnixNano(), info.Size())
		if !d.IsDir() {
			cands = append(cands, cand{p, info})
		}
		return nil
	})
	sig := sum.Sum64()
	c := &h.index
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.page != nil && sig == c.sig {
		return c.page, c.etag
	}
	files := make(map[string]manifestInfo, len(cands))
	var items []string
	for _, f := range cands {
		mi := manifestInfo{mod: f.info.ModTime(), size: f.info.Size(), multi: path.Ext(f.path) == ".mpd"}
		if old, ok := c.files[f.path]; ok && old.mod.Equal(mi.mod) && old.size == mi.size {
			mi.multi = old.multi
		} else if !mi.multi {
			b, err := fs.ReadFile(h.root, f.path)
			mi.multi = err == nil && bytes.Contains(b, []byte("#EXT-X-STREAM-INF"))
		}
		files[f.path] = mi
		if mi.multi {
			items = append(items, f.path)
		}
	}
	sort.Strings(items)
	var buf bytes.Buffer
	indexTmpl().Execute(&buf, struct {
		Items  []string
		Player string
	}{items, PlayerPath})
	c.sig, c.page, c.files = sig, buf.Bytes(), files
	c.etag = fmt.Sprintf(`"%016x"`, sig)
	return c.page, c.etag
}
