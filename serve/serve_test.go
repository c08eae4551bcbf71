package serve_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/serve"
)

// fakePlayerJS makes a flat player JS directory.
func fakePlayerJS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"hls.min.js", "dash.all.min.js"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("/* "+f+" */"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func presentation(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"master.m3u8":        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
		"v.m3u8":             "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-ENDLIST\n",
		"manifest.mpd":       "<MPD/>",
		"v/init.mp4":         "init",
		"v/seg_1.m4s":        "0123456789",
		"v/seg_1.ts":         "ts",
		"audio/seg_1.m4a":    "a",
		"nested/x/other.mpd": "<MPD/>",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHandler(t *testing.T) {
	h, err := serve.Handler(presentation(t), serve.WithPlayerJS(fakePlayerJS(t)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cases := []struct {
		method, path, rng string
		status            int
		ctype, body       string
	}{
		{"GET", "/master.m3u8", "", 200, "application/vnd.apple.mpegurl", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"},
		{"GET", "/manifest.mpd", "", 200, "application/dash+xml", "<MPD/>"},
		{"GET", "/v/init.mp4", "", 200, "video/mp4", "init"},
		{"GET", "/v/seg_1.m4s", "", 200, "video/iso.segment", "0123456789"},
		{"GET", "/v/seg_1.ts", "", 200, "video/mp2t", "ts"},
		{"GET", "/v/seg_1.m4s", "bytes=2-5", 206, "video/iso.segment", "2345"},
		{"GET", "/v/seg_1.m4s", "bytes=20-30", 416, "", ""},
		{"HEAD", "/v/seg_1.m4s", "", 200, "video/iso.segment", ""},
		{"OPTIONS", "/v/seg_1.m4s", "", 204, "", ""},
		{"POST", "/master.m3u8", "", 405, "", ""},
		{"GET", "/nope.m3u8", "", 404, "", ""},
		{"GET", "/../../etc/passwd", "", 404, "", ""},
		{"GET", "/_player/hls.js", "", 200, "text/javascript; charset=utf-8", "/* hls.min.js */"},
		{"GET", "/_player/dash.js", "", 200, "text/javascript; charset=utf-8", "/* dash.all.min.js */"},
		{"GET", "/_player/other.js", "", 404, "", ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path+" "+c.rng, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
			if c.rng != "" {
				req.Header.Set("Range", c.rng)
			}
			req.Header.Set("Origin", "http://elsewhere.example")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.status, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
			if c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), c.ctype)
			}
			if c.body != "" && string(body) != c.body {
				t.Errorf("body %q, want %q", body, c.body)
			}
			if c.method == "OPTIONS" && !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") {
				t.Errorf("preflight does not allow Range")
			}
			if c.status == 206 && !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Content-Range") {
				t.Errorf("Content-Range not exposed to scripts")
			}
		})
	}
}

func TestIndexAndPlayerPage(t *testing.T) {
	h, _ := serve.Handler(presentation(t), serve.WithPlayerJS(fakePlayerJS(t)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(p string) string {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	idx := get("/")
	for _, want := range []string{"/_player/?src=/master.m3u8", "/_player/?src=/manifest.mpd", "other.mpd"} {
		if !strings.Contains(idx, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	if strings.Contains(idx, "src=/v.m3u8") {
		t.Errorf("index lists a media playlist as a presentation")
	}
	page := get(serve.PlayerPath + "?src=/master.m3u8")
	for _, want := range []string{`<script src="hls.js">`, `<script src="dash.js">`, "<video"} {
		if !strings.Contains(page, want) {
			t.Errorf("player page lacks %s", want)
		}
	}
}

func TestMissingPlayerJS(t *testing.T) {
	empty := t.TempDir()
	h, err := serve.Handler(presentation(t), serve.WithPlayerJS(empty))
	if !errors.Is(err, serve.ErrNoPlayerJS) || h == nil {
		t.Fatalf("Handler = %v, %v; want a handler and ErrNoPlayerJS", h, err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/_player/hls.js")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "npm install") {
		t.Errorf("missing library: %d %q", resp.StatusCode, b)
	}
	if _, err := serve.Handler(filepath.Join(empty, "nope")); err == nil {
		t.Errorf("missing root accepted")
	}
}

func TestFindPlayerJSLayouts(t *testing.T) {
	for _, layout := range [][]string{
		{"node_modules/hls.js/dist/hls.min.js", "node_modules/dashjs/dist/modern/umd/dash.all.min.js"},
		{"hls.js/dist/hls.min.js", "dashjs/dist/modern/umd/dash.all.min.js"},
		{"node_modules/hls.js/dist/hls.min.js", "node_modules/dashjs/dist/dash.all.min.js"},
	} {
		dir := t.TempDir()
		for _, f := range layout {
			p := filepath.Join(dir, filepath.FromSlash(f))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte("x"), 0o644)
		}
		libs, err := serve.FindPlayerJS(dir)
		if err != nil || libs["hls.js"] == "" || libs["dash.js"] == "" {
			t.Errorf("%v: %v %v", layout, libs, err)
		}
	}
}

func ExampleHandler() {
	dir, _ := os.MkdirTemp("", "out") // a packaged presentation (streamkit package -o dir)
	defer os.RemoveAll(dir)
	h, err := serve.Handler(dir)
	if h == nil {
		panic(err)
	}
	// A non-nil err with a handler only says hls.js/dash.js were not
	// found: files are served, the player page cannot play.
	srv := httptest.NewServer(h) // or http.ListenAndServe("127.0.0.1:8080", h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/master.m3u8")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	fmt.Println(serve.MIMEType("master.m3u8"), serve.MIMEType("manifest.mpd"), serve.MIMEType("seg_1.m4s"))
	// Output:
	// 404 *
	// application/vnd.apple.mpegurl application/dash+xml video/iso.segment
}
