package pixclock

import (
	_ "embed"
	"io"
	"net/http"
	"strconv"
)

// JavaScript is js/pixclock.mjs: the browser half of this package, an ES
// module without dependencies with the same decoder (decodeLuma,
// decodeImageData) and watch, which reads the code of every frame a
// video element presents (requestVideoFrameCallback, canvas) and reports
// capture → display latency. Servers serve it as text/javascript; the
// live origin at /js/pixclock.mjs. js_test.go checks it against Decode
// with Node.
//
//go:embed js/pixclock.mjs
var JavaScript string

// ScriptPath is where a server serves JavaScript: the live player page's
// ?clock=1 imports it from there.
const ScriptPath = "/js/pixclock.mjs"

// ServeScript wraps h: GET or HEAD ScriptPath gets JavaScript (for
// servers that front an origin they do not build, such as the ingest
// server of `streamkit live --ingest`); every other request goes to h.
func ServeScript(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ScriptPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Length", strconv.Itoa(len(JavaScript)))
		if r.Method == http.MethodGet {
			io.WriteString(w, JavaScript)
		}
	})
}
