package p2pplayer_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/p2pplayer"
)

// fakeNPM lays out the files Handler looks for.
func fakeNPM(t *testing.T) (dir, hls string) {
	dir = t.TempDir()
	for _, rel := range []string{
		"node_modules/p2p-media-loader-core/dist/p2p-media-loader-core.es.min.js",
		"node_modules/p2p-media-loader-hlsjs/dist/p2p-media-loader-hlsjs.es.min.js",
	} {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("// "+rel), 0o644)
	}
	hls = filepath.Join(dir, "hls.min.js")
	os.WriteFile(hls, []byte("// hls"), 0o644)
	return dir, hls
}

func TestHandler(t *testing.T) {
	dir, hls := fakeNPM(t)
	h, err := p2pplayer.Handler(p2pplayer.WithP2PJS(dir), p2pplayer.WithHLSJS(hls))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("", h))
	defer srv.Close()
	for _, c := range []struct {
		path, want string
		code       int
	}{
		{"/_p2p/?src=/v.m3u8", "p2p-media-loader-hlsjs.js", 200},
		{"/_p2p/", "want ?src", 400},
		{"/_p2p/?src=%zz", "malformed", 400},
		{"/_p2p/?src=" + strings.Repeat("a", 5000), "too long", 400},
		{"/_p2p/?src=a%0Ab", "not text", 400},
		{"/_p2p/p2p-media-loader-core.js", "p2p-media-loader-core.es.min.js", 200},
		{"/_p2p/p2p-media-loader-hlsjs.js", "p2p-media-loader-hlsjs.es.min.js", 200},
		{"/_p2p/hls.js", "// hls", 200},
		{"/_p2p/integrity.mjs", "export function p2pValidator", 200},
		{"/_p2p/../../etc/passwd", "", 404},
		{"/_p2p/node_modules/x", "", 404},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1<<20)
		n, _ := resp.Body.Read(b)
		for n < len(b) {
			k, err := resp.Body.Read(b[n:])
			n += k
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(b[:n]), c.want) {
			t.Errorf("%s: %d %q, want %d with %q", c.path[:min(len(c.path), 60)], resp.StatusCode, trunc(string(b[:n])), c.code, c.want)
		}
	}
	if !strings.Contains(integrity.JavaScript, "verifyURL") {
		t.Error("integrity.JavaScript has no verifyURL, which the page calls")
	}
}

func TestHandlerSaysWhatIsMissing(t *testing.T) {
	h, err := p2pplayer.Handler(p2pplayer.WithP2PJS(t.TempDir()))
	if err == nil {
		t.Fatal("no error without p2p-media-loader")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/_p2p/p2p-media-loader-core.js", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "npm install") {
		t.Errorf("%d %q", rec.Code, rec.Body.String())
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
