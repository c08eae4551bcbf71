package integrity_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
)

// llhlsPackage writes a small LL-HLS rendition by hand: init, two
// segments with two parts each, a media playlist listing them and the
// signed sidecar. It returns the directory and the public key.
func llhlsPackage(t testing.TB) (string, ed25519.PublicKey) {
	dir := t.TempDir()
	pub, priv := testKey(6)
	s, _ := integrity.NewSigner(priv, "ll", integrity.WithClock(fixedClock))
	os.MkdirAll(filepath.Join(dir, "v"), 0o755)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pl := "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=1.0\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-MAP:URI=\"v/init.mp4\"\n"
	write("v/init.mp4", []byte("init"))
	s.AddInit("v", "v/init.mp4", []byte("init"))
	for seq := 5; seq <= 6; seq++ {
		var whole []byte
		for p := 0; p < 2; p++ {
			b := []byte(fmt.Sprintf("part %d.%d ", seq, p))
			name := fmt.Sprintf("v/p%d.%d.m4s", seq, p)
			write(name, b)
			s.AddPart("v", uint64(seq), uint32(p), name, b)
			pl += fmt.Sprintf("#EXT-X-PART:DURATION=1.0,URI=\"%s\"\n", name)
			whole = append(whole, b...)
		}
		name := fmt.Sprintf("v/s%d.m4s", seq)
		write(name, whole)
		s.AddSegment("v", uint64(seq), name, whole)
		pl += fmt.Sprintf("#EXTINF:2.0,\n%s\n", name)
	}
	write("v.m3u8", []byte(pl))
	if err := s.WriteSidecar(dir, "v"); err != nil {
		t.Fatal(err)
	}
	return dir, pub
}

func check(t *testing.T, dir string, pub ed25519.PublicKey, opts ...integrity.CheckOption) *integrity.Report {
	t.Helper()
	src, err := integrity.DirSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rep, err := integrity.Check(context.Background(), src, []string{"v.m3u8"}, pub, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func problems(rep *integrity.Report) string {
	var s []string
	for _, p := range rep.Problems {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

func TestCheckLLHLS(t *testing.T) {
	dir, pub := llhlsPackage(t)
	rep := check(t, dir, pub)
	if !rep.OK() || rep.Entries != 7 || rep.Renditions != 1 || rep.Stream != "ll" {
		t.Fatalf("report %+v\n%s", rep, problems(rep))
	}
	// A part altered on disk.
	os.WriteFile(filepath.Join(dir, "v/p6.1.m4s"), []byte("part 6.1!"), 0o644)
	rep = check(t, dir, pub)
	if got := problems(rep); len(rep.Problems) != 1 || !strings.Contains(got, "v part 6.1 (v/p6.1.m4s): data does not match the signed hash: sha256 ") {
		t.Errorf("altered part:\n%s", got)
	}
	// A part the playlist lists but nobody signed.
	os.WriteFile(filepath.Join(dir, "v/p6.1.m4s"), []byte("part 6.1 "), 0o644)
	pl, _ := os.ReadFile(filepath.Join(dir, "v.m3u8"))
	os.WriteFile(filepath.Join(dir, "v.m3u8"), append(pl, "#EXT-X-PART:DURATION=1.0,URI=\"v/p7.0.m4s\"\n"...), 0o644)
	rep = check(t, dir, pub)
	if got := problems(rep); len(rep.Problems) != 1 || !strings.Contains(got, "v.m3u8: no signed entry for this data: v part 7 (v/p7.0.m4s) is not in v.integrity.json") {
		t.Errorf("unsigned part:\n%s", got)
	}
	// A hostile playlist pointing out of the package is refused before
	// anything is read.
	os.WriteFile(filepath.Join(dir, "v.m3u8"), append(pl, "#EXTINF:2.0,\n../../etc/passwd\n"...), 0o644)
	src, _ := integrity.DirSource(dir)
	defer src.Close()
	if _, err := integrity.Check(context.Background(), src, []string{"v.m3u8"}, pub); err == nil || !strings.Contains(err.Error(), "leaves the package") {
		t.Errorf("escaping URI: %v", err)
	}
	// A sidecar entry pointing out of the package cannot be read (os.Root).
	if _, err := src.Read(context.Background(), "../x", 0, -1, 10); err == nil {
		t.Error("DirSource read outside its root")
	}
	// A length from a (hostile) sidecar is checked against the file
	// before anything is allocated for it.
	if _, err := src.Read(context.Background(), "v/init.mp4", 2, 1<<29, 1<<30); err == nil || !strings.Contains(err.Error(), "file ends before") {
		t.Errorf("range beyond the file: %v", err)
	}
}

// rangelessHandler serves files but ignores Range headers, as some
// servers do: HTTPSource must still read the right bytes.
type rangelessHandler struct{ dir string }

func (h rangelessHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := os.ReadFile(filepath.Join(h.dir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/"))))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

func TestCheckHTTP(t *testing.T) {
	dir, pub := llhlsPackage(t)
	for name, h := range map[string]http.Handler{"ranges": http.FileServer(http.Dir(dir)), "no ranges": rangelessHandler{dir}} {
		srv := httptest.NewServer(h)
		root, _ := url.Parse(srv.URL + "/")
		c := &http.Client{Timeout: 10 * time.Second}
		rep, err := integrity.Check(context.Background(), integrity.HTTPSource(root, c), []string{"v.m3u8"}, pub)
		if err != nil || !rep.OK() || rep.Entries != 7 {
			t.Errorf("%s: %v %+v", name, err, rep)
		}
		// A byte range read through the source.
		b, err := integrity.HTTPSource(root, c).Read(context.Background(), "v/s5.m4s", 5, 4, 100)
		if err != nil || string(b) != "5.0 " {
			t.Errorf("%s: range read %q, %v", name, b, err)
		}
		// Never off the host.
		if _, err := integrity.HTTPSource(root, c).Read(context.Background(), "http://example.invalid/x", 0, -1, 100); err == nil || !strings.Contains(err.Error(), "leaves") {
			t.Errorf("%s: other host: %v", name, err)
		}
		srv.Close()
	}
}

func TestCheckNoSidecar(t *testing.T) {
	dir, pub := llhlsPackage(t)
	os.Remove(filepath.Join(dir, integrity.SidecarName("v")))
	rep := check(t, dir, pub)
	if got := problems(rep); !errors.Is(rep.Problems[0].Err, integrity.ErrUnknown) || !strings.HasPrefix(got, "v.integrity.json: no signed entry for this data: no sidecar (no such file or directory)") {
		t.Errorf("missing sidecar:\n%s", got)
	}
}

// Check verifies a package in a directory (or, with HTTPSource, on a web
// server) and reports each problem on one line.
func ExampleCheck() {
	dir, pub := llhlsPackage(&testing.T{})
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "v/s6.m4s"), []byte("part 6.0 part 6.1?"), 0o644)

	src, _ := integrity.DirSource(dir)
	defer src.Close()
	rep, err := integrity.Check(context.Background(), src, []string{"v.m3u8"}, pub)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range rep.Problems {
		fmt.Println(p)
	}
	fmt.Println(rep.Renditions, "rendition,", rep.Entries, "entries, ok:", rep.OK())
	// Output:
	// v segment 6 (v/s6.m4s): data does not match the signed hash: sha256 34ee5c05ca8a..., signed a2edd4c65149...
	// 1 rendition, 7 entries, ok: false
}
