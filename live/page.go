package live

import (
	_ "embed"
	"html"
	"net/http"
	"strings"
)

//go:embed web/player.html
var playerPage string

// page serves the player page: hls.js (lowLatencyMode), dash.js (low
// latency) and Shaka, with the live latency of the frame on screen.
func (o *Origin) page(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; style-src 'unsafe-inline'")
	body := strings.ReplaceAll(playerPage, "{{PREFIX}}", html.EscapeString(o.prefix))
	o.write(w, req, "text/html; charset=utf-8", ccLive, []byte(body))
}
