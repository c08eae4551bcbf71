package live

import (
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
)

// TestLiveSigning: with WithSigner a client that follows the live stream
// (media playlist, then the sidecar, on a fake clock) can verify every
// part and segment the playlist lists with integrity.NewVerifier as soon
// as it is listed; a flipped byte is rejected; entries leave the sidecar
// with the window; the mirror holds the same sidecar.
func TestLiveSigning(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	clock := NewFakeClock(testEpoch)
	signer, err := integrity.NewSigner(priv, "match-42", integrity.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := New(WithClock(clock), WithSigner(signer), WithWindow(6*time.Second), WithMirror(dir))
	src, err := NewSampleSource(p)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s := &testStream{t: t, clock: clock, p: p, src: src}
	srv := httptest.NewServer(NewOrigin(p))
	defer srv.Close()
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + "/live/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return b
	}
	v := integrity.NewVerifier(pub, "match-42")
	listed := regexp.MustCompile(`(?m)^(?:#EXT-X-PART:.*URI="(part_(\d+)_(\d+)\.m4s)"|(seg_(\d+)\.m4s))`)
	parts, segs := 0, 0
	var lastSeg []byte
	var lastMSN uint64
	// From 2.7 s: the origin lists nothing before segment 0 is complete.
	for step := 3; step <= 14; step++ {
		s.to(time.Duration(step) * 900 * time.Millisecond)
		pl := get("v0/media.m3u8") // the playlist first, then the sidecar
		var sc integrity.Sidecar
		if err := sc.Unmarshal(get("v0.integrity.json")); err != nil {
			t.Fatal(err)
		}
		if err := v.Load(&sc); err != nil {
			t.Fatalf("step %d: sidecar: %v", step, err)
		}
		if step == 1 {
			if err := v.VerifyInit("v0", get("v0/init_0.mp4")); err != nil {
				t.Errorf("init: %v", err)
			}
		}
		firstMSN := uint64(1 << 62)
		for _, m := range listed.FindAllStringSubmatch(string(pl), -1) {
			if m[1] != "" {
				msn, _ := strconv.ParseUint(m[2], 10, 64)
				idx, _ := strconv.ParseUint(m[3], 10, 32)
				if err := v.VerifyPart("v0", msn, uint32(idx), get("v0/"+m[1])); err != nil {
					t.Errorf("step %d: %s: %v", step, m[1], err)
				}
				parts++
				continue
			}
			msn, _ := strconv.ParseUint(m[5], 10, 64)
			firstMSN = min(firstMSN, msn)
			data := get("v0/" + m[4])
			if err := v.Verify("v0", msn, data); err != nil {
				t.Errorf("step %d: %s: %v", step, m[4], err)
			}
			segs++
			lastSeg, lastMSN = data, msn
		}
		// Trimmed with the window: no media entry before the playlist's
		// first segment.
		for _, e := range sc.Entries {
			if e.Kind != integrity.KindInit && firstMSN != 1<<62 && e.Seq < firstMSN {
				t.Errorf("step %d: sidecar keeps %s, before the window's first segment %d", step, e.Label(), firstMSN)
				break
			}
		}
	}
	if parts < 20 || segs < 5 {
		t.Fatalf("verified %d parts and %d segments, want many", parts, segs)
	}
	if sc := mustSidecar(t, get("v0.integrity.json")); sc.Entries[0].Kind != integrity.KindInit || sc.Entries[1].Seq == 0 {
		t.Errorf("window never slid in the sidecar: first entries %s, %s", sc.Entries[0].Label(), sc.Entries[1].Label())
	}
	bad := append([]byte(nil), lastSeg...)
	bad[len(bad)/2] ^= 0x01
	if err := v.Verify("v0", lastMSN, bad); !errors.Is(err, integrity.ErrMismatch) {
		t.Errorf("flipped byte in segment %d: %v, want ErrMismatch", lastMSN, err)
	}
	// The mirror has the sidecar beside the rendition's folder.
	b, err := os.ReadFile(filepath.Join(dir, "v0.integrity.json"))
	if err != nil {
		t.Fatal(err)
	}
	sc := mustSidecar(t, b)
	mv := integrity.NewVerifier(pub, "match-42")
	if err := mv.Load(sc); err != nil {
		t.Fatal(err)
	}
	last := sc.Entries[len(sc.Entries)-1]
	seg, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(last.URI)))
	if err != nil {
		t.Fatal(err)
	}
	if err := mv.VerifyEntry("v0", last, seg); err != nil {
		t.Errorf("mirrored %s: %v", last.URI, err)
	}
	if !strings.HasPrefix(last.URI, "v0/") {
		t.Errorf("sidecar URI %q not relative to the sidecar", last.URI)
	}
	// Without a signer there is no sidecar.
	plain := httptest.NewServer(NewOrigin(newTestStream(t).p))
	defer plain.Close()
	resp, err := http.Get(plain.URL + "/live/v0.integrity.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("sidecar without a signer: %d, want 404", resp.StatusCode)
	}
}

func mustSidecar(t *testing.T, b []byte) *integrity.Sidecar {
	t.Helper()
	var sc integrity.Sidecar
	if err := sc.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	return &sc
}
