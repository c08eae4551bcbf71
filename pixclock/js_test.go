package pixclock_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/streamkit-go/streamkit/pixclock"
)

func TestServeScript(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := pixclock.ServeScript(next)
	for _, c := range []struct {
		method, path string
		code         int
		body         bool
	}{
		{"GET", pixclock.ScriptPath, 200, true},
		{"HEAD", pixclock.ScriptPath, 200, false},
		{"POST", pixclock.ScriptPath, http.StatusTeapot, false},
		{"GET", "/js/hls.js", http.StatusTeapot, false},
		{"GET", pixclock.ScriptPath + "x", http.StatusTeapot, false},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.code || (rec.Body.String() == pixclock.JavaScript) != c.body {
			t.Errorf("%s %s: %d, %d bytes", c.method, c.path, rec.Code, rec.Body.Len())
		}
		if c.code == 200 && rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.method, rec.Header().Get("Content-Type"))
		}
	}
}
