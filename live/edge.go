package live

import (
	_ "embed"
	"strings"
	"text/template"
)

//go:embed web/nginx-edge.conf
var edgeTemplate string

// EdgeOptions fills the nginx edge configuration.
type EdgeOptions struct {
	Origin string // host:port of the origin
	Listen string // what nginx listens on ("127.0.0.1:8081", "80")
	Dir    string // nginx prefix: cache, temporary files, pid and log go here
	User   string // the worker user ("" leaves nginx's default)
}

// EdgeConfig returns an nginx configuration for a caching edge in front
// of the origin: the query string in the cache key (_HLS_msn/_HLS_part),
// request collapsing with proxy_cache_lock, the origin's Cache-Control
// followed, timeouts above the origin's longest hold, and DASH segments
// in progress passed through chunk by chunk.
func EdgeConfig(o EdgeOptions) (string, error) {
	t, err := template.New("edge").Parse(edgeTemplate)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, o); err != nil {
		return "", err
	}
	return b.String(), nil
}
