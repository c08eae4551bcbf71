// Package p2pplayer is the P2P player page that `streamkit serve
// --tracker` and `streamkit live --tracker` offer at /_p2p/?src=PLAYLIST:
// hls.js with p2p-media-loader-core and -hlsjs 2.3.1, pointed at a
// WebTorrent tracker (package tracker), every segment received from a
// peer checked against the signed integrity sidecar (package integrity's
// JavaScript half) before hls.js gets it, and a live panel of bytes from
// peers and from the origin, bytes uploaded, offload and peers.
//
// The libraries are not part of streamkit and are not fetched from a
// CDN: they come from local npm installs, p2p-media-loader from
// [WithP2PJS], $STREAMKIT_P2P_JS or ~/.cache/streamkit/p2pjs (where .ci/run
// installs it), hls.js from the file [WithHLSJS] names (serve.FindPlayerJS
// finds it):
//
//	npm install --prefix ~/.cache/streamkit/p2pjs p2p-media-loader-core@2.3.1 p2p-media-loader-hlsjs@2.3.1
//
// Page query: src (playlist), tracker (default ws(s)://HOST/announce),
// pubkey (URL of the publisher's PEM public key: turns validation on),
// stream (the stream id sidecars must be signed for), swarm
// (p2p-media-loader's swarmId), stun (a STUN server; none by default, so
// that peers connect on this host or LAN only), hdw (highDemandTimeWindow
// in seconds: near the live edge the default 15 s sends everything over
// HTTP), and for tests test=1,
// until=SECONDS, report=URL (the stats are POSTed there as JSON, and
// window.p2pStats has them all along).
package p2pplayer

import (
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamkit-go/streamkit/integrity"
)

//go:embed web/p2p.html
var page []byte

// Path is where the commands mount the page.
const Path = "/_p2p/"

// EnvP2PJS names the environment variable that points at the npm
// install holding p2p-media-loader.
const EnvP2PJS = "STREAMKIT_P2P_JS"

// ErrNoP2PJS means p2p-media-loader could not be found.
var ErrNoP2PJS = errors.New("p2pplayer: p2p-media-loader 2.3.1 not found (npm install --prefix ~/.cache/streamkit/p2pjs p2p-media-loader-core@2.3.1 p2p-media-loader-hlsjs@2.3.1, or " + EnvP2PJS + ")")

// Option configures Handler.
type Option func(*config)

type config struct {
	p2pJS, hlsJS string
}

// WithP2PJS names the npm prefix (or node_modules directory) holding
// p2p-media-loader-core and -hlsjs.
func WithP2PJS(dir string) Option { return func(c *config) { c.p2pJS = dir } }

// WithHLSJS names hls.js's file (hls.min.js).
func WithHLSJS(file string) Option { return func(c *config) { c.hlsJS = file } }

var libs = map[string]string{
	"p2p-media-loader-core.js":  "p2p-media-loader-core/dist/p2p-media-loader-core.es.min.js",
	"p2p-media-loader-hlsjs.js": "p2p-media-loader-hlsjs/dist/p2p-media-loader-hlsjs.es.min.js",
}

// FindP2PJS returns the files of p2p-media-loader-core and -hlsjs (by the
// names the page loads them with) in dir, or, when dir is "", in
// $STREAMKIT_P2P_JS and ~/.cache/streamkit/p2pjs.
func FindP2PJS(dir string) (map[string]string, error) {
	var dirs []string
	if dir != "" {
		dirs = []string{dir}
	} else {
		if e := os.Getenv(EnvP2PJS); e != "" {
			dirs = append(dirs, e)
		}
		if home, err := os.UserHomeDir(); err == nil {
			dirs = append(dirs, filepath.Join(home, ".cache", "streamkit", "p2pjs"))
		}
	}
	for _, d := range dirs {
		found := map[string]string{}
		for name, rel := range libs {
			for _, p := range []string{filepath.Join(d, "node_modules", filepath.FromSlash(rel)), filepath.Join(d, filepath.FromSlash(rel))} {
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
					found[name] = p
					break
				}
			}
		}
		if len(found) == len(libs) {
			return found, nil
		}
	}
	return nil, fmt.Errorf("%w; looked in %s", ErrNoP2PJS, strings.Join(dirs, ", "))
}

// Handler serves the page and its scripts below Path (mount it there).
// When p2p-media-loader or hls.js is missing, the handler still serves
// and the page says what is missing; the error says it to the caller.
func Handler(opts ...Option) (http.Handler, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	files, err := FindP2PJS(c.p2pJS)
	if files == nil {
		files = map[string]string{}
	}
	if c.hlsJS != "" {
		files["hls.js"] = c.hlsJS
	} else if err == nil {
		err = errors.New("p2pplayer: hls.js not given (WithHLSJS)")
	}
	return &handler{files: files, err: err}, err
}

type handler struct {
	files map[string]string
	err   error
}

// Query limits: values longer than this are refused with 400.
const maxQueryValue = 2048

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, Path)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch name {
	case "", "index.html":
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			http.Error(w, "malformed query", http.StatusBadRequest)
			return
		}
		for k, vs := range q {
			for _, v := range vs {
				if len(v) > maxQueryValue || strings.ContainsAny(v, "\x00\r\n") {
					http.Error(w, "query value "+k+" too long or not text", http.StatusBadRequest)
					return
				}
			}
		}
		if q.Get("src") == "" {
			http.Error(w, "want ?src=PLAYLIST", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	case "integrity.mjs":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(integrity.JavaScript))
	default:
		f, ok := h.files[name]
		if !ok {
			msg := "not found"
			if h.err != nil && (name == "hls.js" || libs[name] != "") {
				msg = h.err.Error()
			}
			http.Error(w, msg, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFile(w, r, f)
	}
}
