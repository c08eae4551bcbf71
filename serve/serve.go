// Package serve serves packaged HLS and DASH presentations over HTTP, with a browser player page.
//
// [Handler] serves the files below a directory with the MIME types
// players expect (m3u8, mpd, m4s, mp4, ts), CORS headers and HTTP range
// requests (byte-range HLS and DASH SegmentBase need them), and a player
// page at /_player/?src=PATH that plays PATH with hls.js (.m3u8) or
// dash.js (.mpd). The index page (/) lists every manifest found.
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
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
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
	playerJS string
}

// WithPlayerJS names a directory holding the hls.js and dashjs npm
// packages: an npm prefix (with node_modules/ inside), a node_modules
// directory, or a flat directory with hls.min.js and dash.all.min.js.
func WithPlayerJS(dir string) Option { return func(c *config) { c.playerJS = dir } }

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
func Handler(root string, opts ...Option) (http.Handler, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	libs, libErr := FindPlayerJS(cfg.playerJS)
	h := &handler{root: r.FS(), files: http.FileServerFS(r.FS()), libs: libs, libErr: libErr}
	return h, libErr
}

type handler struct {
	root   fs.FS
	files  http.Handler
	libs   map[string]string
	libErr error
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Range, Origin, Accept")
	hd.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")
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
		h.index(w, req)
		return
	case p == PlayerPath || p == PlayerPath+"index.html":
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
	if t := MIMEType(p); t != "" {
		hd.Set("Content-Type", t)
	}
	if strings.HasSuffix(p, ".m3u8") || strings.HasSuffix(p, ".mpd") {
		hd.Set("Cache-Control", "no-cache")
	}
	h.files.ServeHTTP(w, req)
}

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>streamkit serve</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}li{margin:.3em 0}</style></head>
<body><h1>Presentations</h1>
{{if .Items}}<ul>{{range .Items}}<li><a href="{{$.Player}}?src=/{{.}}">{{.}}</a> (<a href="/{{.}}">manifest</a>)</li>{{end}}</ul>
{{else}}<p>No .m3u8 multivariant playlist or .mpd found. Package something first: <code>streamkit package -o DIR ...</code></p>{{end}}
</body></html>`))

// manifests lists the multivariant playlists and MPDs below root.
func (h *handler) manifests() []string {
	var out []string
	fs.WalkDir(h.root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.Count(p, "/") > 3 {
			return fs.SkipDir
		}
		switch path.Ext(p) {
		case ".mpd":
			out = append(out, p)
		case ".m3u8":
			if b, err := fs.ReadFile(h.root, p); err == nil && strings.Contains(string(b), "#EXT-X-STREAM-INF") {
				out = append(out, p)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func (h *handler) index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", mimeTypes[".html"])
	w.Header().Set("Cache-Control", "no-cache")
	indexTmpl.Execute(w, struct {
		Items  []string
		Player string
	}{h.manifests(), PlayerPath})
}
