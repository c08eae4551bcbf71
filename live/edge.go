package live

import (
	_ "embed"
	"strings"
	"text/template"
)

//go:embed web/nginx-edge.conf
var edgeTemplate string

// edgeValues fill the nginx edge template.
type edgeValues struct {
	Origin string // host:port of the origin
	Listen string // what nginx listens on ("127.0.0.1:8081", "80")
	Dir    string // nginx prefix: cache, temporary files, pid and log go here
	User   string // the worker user ("" leaves nginx's default)
}

// EdgeOption sets an optional part of the edge configuration.
type EdgeOption func(*edgeValues)

// WithEdgeUser runs nginx's workers as this user (nginx's default when
// not given).
func WithEdgeUser(user string) EdgeOption { return func(v *edgeValues) { v.User = user } }

// EdgeConfig returns an nginx configuration for a caching edge in front
// of the origin: the query string in the cache key (_HLS_msn/_HLS_part),
// request collapsing with proxy_cache_lock, the origin's Cache-Control
// followed, timeouts above the origin's longest hold, and DASH segments
// in progress passed through chunk by chunk. origin is the origin's
// host:port, listen what nginx listens on ("127.0.0.1:8081", "80"), dir
// nginx's prefix (cache, temporary files, pid and log go there).
func EdgeConfig(origin, listen, dir string, opts ...EdgeOption) (string, error) {
	o := edgeValues{Origin: origin, Listen: listen, Dir: dir}
	for _, opt := range opts {
		opt(&o)
	}
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
