package serve

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

// countingFS counts the playlists opened for reading.
type countingFS struct {
	fstest.MapFS
	reads atomic.Int64
}

func (c *countingFS) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".m3u8") {
		c.reads.Add(1)
	}
	return c.MapFS.Open(name)
}

func (c *countingFS) ReadFile(name string) ([]byte, error) {
	if strings.HasSuffix(name, ".m3u8") {
		c.reads.Add(1)
	}
	return c.MapFS.ReadFile(name)
}

func TestIndexCachedUntilTreeChanges(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	fsys := &countingFS{MapFS: fstest.MapFS{
		"a/master.m3u8": {Data: []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"), ModTime: t0},
		"a/v.m3u8":      {Data: []byte("#EXTM3U\n"), ModTime: t0},
	}}
	h := newHandler(fsys, config{maxRanges: DefaultMaxRanges})
	get := func(hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/", nil)
		if len(hdr) == 2 {
			req.Header.Set(hdr[0], hdr[1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := get()
	if !strings.Contains(first.Body.String(), `href="/a/master.m3u8"`) || strings.Contains(first.Body.String(), `href="/a/v.m3u8"`) {
		t.Fatalf("index: %s", first.Body)
	}
	if n := fsys.reads.Load(); n != 2 {
		t.Fatalf("first index read %d playlists, want 2", n)
	}
	for range 5 {
		if rec := get(); rec.Body.String() != first.Body.String() {
			t.Fatal("index changed without a change in the tree")
		}
	}
	if n := fsys.reads.Load(); n != 2 {
		t.Errorf("5 more GET / read %d playlists again, want 0", n-2)
	}
	if rec := get("If-None-Match", first.Header().Get("ETag")); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: %d", rec.Code)
	}
	// A new presentation: only its playlist is read.
	fsys.MapFS["b/master.m3u8"] = &fstest.MapFile{Data: []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2\nv.m3u8\n"), ModTime: t0}
	rec := get()
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), `href="/b/master.m3u8"`) {
		t.Errorf("new presentation not listed: %s", body)
	}
	if n := fsys.reads.Load(); n != 3 {
		t.Errorf("after adding one playlist %d reads in all, want 3", n)
	}
	// A media playlist rewritten as a multivariant one.
	fsys.MapFS["a/v.m3u8"] = &fstest.MapFile{Data: []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=3\nw.m3u8\n"), ModTime: t0.Add(time.Second)}
	if rec := get(); !strings.Contains(rec.Body.String(), `href="/a/v.m3u8"`) {
		t.Errorf("rewritten playlist not listed: %s", rec.Body)
	}
	if rec := get("If-None-Match", first.Header().Get("ETag")); rec.Code != 200 {
		t.Errorf("stale ETag: %d, want 200", rec.Code)
	}
}

func BenchmarkIndex(b *testing.B) {
	fsys := fstest.MapFS{}
	for i := range 50 {
		fsys[strings.Repeat("d/", i%4)+string(rune('a'+i%26))+"/master.m3u8"] = &fstest.MapFile{Data: []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n")}
	}
	h := newHandler(fsys, config{maxRanges: DefaultMaxRanges})
	req := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
