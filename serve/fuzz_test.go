package serve_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/streamkit-go/streamkit/serve"
)

// FuzzRequest sends hostile paths, queries and Range headers: the handler
// never panics and never answers 500 (bad names are 404, bad player
// parameters 400, too many ranges 416).
func FuzzRequest(f *testing.F) {
	for _, s := range [][3]string{
		{"/master.m3u8", "", ""},
		{"/v/seg_1.m4s", "", "bytes=0-1,4-5"},
		{"/./", "", ""},
		{"/.env", "", ""},
		{"/v/../master.m3u8", "", ""},
		{"/a\x00b", "", ""},
		{serve.PlayerPath, "src=/master.m3u8&test=1&report=/_test/report&until=5.5", ""},
		{serve.PlayerPath, "src=https://evil.example/&until=NaN", ""},
		{"/v/seg_1.m4s", "", "bytes=-5,1-,0-0,99999999999999999999-"},
		{"/index.html", "%zz;", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	dir := fuzzTree(f)
	h, _ := serve.Handler(dir)
	hd, _ := serve.Handler(dir, serve.WithDotfiles(), serve.WithDirListings(), serve.WithMaxRanges(3))
	f.Fuzz(func(t *testing.T, path, query, rng string) {
		for _, h := range []http.Handler{h, hd} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL = &url.URL{Path: path, RawQuery: query}
			if rng != "" {
				req.Header.Set("Range", rng)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			switch rec.Code {
			case 200, 206, 304, 400, 404, 416:
			default:
				t.Fatalf("GET %q ?%q Range %q: status %d", path, query, rng, rec.Code)
			}
		}
	})
}
