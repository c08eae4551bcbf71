package httpreader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serve starts a loopback server for content; ranges as net/http's
// ServeContent answers them unless plain is set.
func serve(t *testing.T, content []byte, plain bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/media.ts" {
			http.NotFound(w, r)
			return
		}
		if plain {
			_, _ = w.Write(content)
			return
		}
		http.ServeContent(w, r, "media.ts", time.Time{}, bytes.NewReader(content))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/media.ts"
}

func content(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}

func TestReadAt(t *testing.T) {
	data := content(1<<20 + 777)
	u := serve(t, data, false)
	r, err := Open(context.Background(), u, WithBlockSize(64<<10), WithCacheBlocks(4))
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(data)) {
		t.Fatalf("size %d, want %d", r.Size(), len(data))
	}
	// Sequential small reads (an MPEG-TS reader's pattern) cost one
	// request per block.
	buf := make([]byte, 188)
	for off := int64(0); off+188 <= r.Size(); off += 188 {
		if _, err := r.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, data[off:off+188]) {
			t.Fatalf("bytes differ at %d", off)
		}
	}
	if want := (len(data) + 64<<10 - 1) / (64 << 10); r.Requests() != want {
		t.Errorf("%d requests for a sequential read, want %d", r.Requests(), want)
	}
	// Random reads across block boundaries, and the tail.
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 200; i++ {
		off := rng.Int63n(int64(len(data)))
		p := make([]byte, rng.Intn(200<<10))
		n, err := r.ReadAt(p, off)
		if end := off + int64(len(p)); end > int64(len(data)) {
			if !errors.Is(err, io.EOF) || n != len(data)-int(off) {
				t.Fatalf("read past the end: n %d err %v", n, err)
			}
		} else if err != nil || n != len(p) {
			t.Fatalf("ReadAt(%d, %d): %d, %v", len(p), off, n, err)
		}
		if !bytes.Equal(p[:n], data[off:off+int64(n)]) {
			t.Fatalf("bytes differ at %d", off)
		}
	}
	if _, err := r.ReadAt(buf, -1); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "file:///etc/passwd"); !errors.Is(err, ErrScheme) {
		t.Errorf("file URL: %v", err)
	}
	big := serve(t, content(1<<20), true)
	if _, err := Open(ctx, big, WithBlockSize(64<<10)); !errors.Is(err, ErrNoRange) {
		t.Errorf("server without ranges: %v", err)
	}
	small := content(1000)
	r, err := Open(ctx, serve(t, small, true))
	if err != nil {
		t.Fatalf("small file from a server without ranges: %v", err)
	}
	got, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if !bytes.Equal(got, small) {
		t.Error("small file differs")
	}
	u := serve(t, small, false)
	if _, err := Open(ctx, strings.TrimSuffix(u, "media.ts")+"missing.ts"); !errors.Is(err, ErrStatus) {
		t.Errorf("404: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Open(cctx, u); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestParseContentRange(t *testing.T) {
	for _, c := range []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 0-99/1234", 0, 1234, true},
		{"bytes 100-199/200", 100, 200, true},
		{"bytes */0", 0, 0, true},
		{"bytes 5-4/10", 0, 0, false},
		{"bytes 0-10/10", 0, 0, false},
		{"items 0-1/2", 0, 0, false},
		{"bytes 0-1", 0, 0, false},
		{"bytes -1-2/3", 0, 0, false},
	} {
		s, tot, err := ParseContentRange(c.in)
		if (err == nil) != c.ok || c.ok && (s != c.start || tot != c.total) {
			t.Errorf("%q: %d %d %v", c.in, s, tot, err)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/1234", "bytes */0", "bytes 9223372036854775806-9223372036854775806/9223372036854775807", "bytes 1-0/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, total, err := ParseContentRange(s)
		if err == nil && (start < 0 || total < 0 || start > total) {
			t.Fatalf("%q: start %d total %d", s, start, total)
		}
	})
}

// TestCappedRanges: a server that answers at most 1000 bytes per range
// request (some CDNs and object stores cap them) still gives every byte;
// a short 206 is completed with more requests, never cached as a whole
// block.
func TestCappedRanges(t *testing.T) {
	data := content(200_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a, b int64
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b); err != nil || a < 0 || a > b || a >= int64(len(data)) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		b = min(b, a+999, int64(len(data))-1)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, len(data)))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(data[a : b+1])
	}))
	t.Cleanup(srv.Close)
	r, err := Open(context.Background(), srv.URL+"/x.ts", WithBlockSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if _, err := r.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("bytes differ from the file")
	}
}
