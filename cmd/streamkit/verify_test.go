package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
)

// signedSample keygens into dir and packages the embedded sample there,
// signed, with the signer's clock at gen (milliseconds).
func signedSample(t *testing.T, dir, name string, gen int64, extra packageOptions) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "k.key")); err != nil {
		if text, err := runCLI(t, "keygen", "-o", filepath.Join(dir, "k")); err != nil || !strings.Contains(text, "k.pub") {
			t.Fatalf("keygen: %v\n%s", err, text)
		}
	}
	out := filepath.Join(dir, name)
	extra.Sign, extra.StreamID = filepath.Join(dir, "k.key"), "sample"
	extra.signClock = func() time.Time { return time.UnixMilli(gen) }
	res, err := packageSample(context.Background(), out, extra)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sidecars) != 4 {
		t.Fatalf("sidecars: %v", res.Sidecars)
	}
	return out
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// verifyFails runs verify and wants it to fail with a FAIL line holding
// every one of want.
func verifyFails(t *testing.T, target string, args []string, want ...string) {
	t.Helper()
	text, err := runCLI(t, append([]string{"verify", target}, args...)...)
	if err == nil {
		t.Fatalf("verify %s passed:\n%s", target, text)
	}
	var fails []string
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(l, "FAIL ") {
			fails = append(fails, l)
		}
	}
	if len(fails) != 1 {
		t.Fatalf("want one FAIL line, got:\n%s", text)
	}
	for _, w := range want {
		if !strings.Contains(fails[0], w) {
			t.Errorf("FAIL line lacks %q: %s", w, fails[0])
		}
	}
	if !strings.Contains(err.Error(), "1 problem(s)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("summary: %v", err)
	}
}

func TestKeygenCLI(t *testing.T) {
	base := filepath.Join(t.TempDir(), "origin")
	text, err := runCLI(t, "keygen", "-o", base)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := integrity.ReadPublicKeyFile(base + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, integrity.KeyID(pub)) {
		t.Errorf("output lacks the key id:\n%s", text)
	}
	if fi, err := os.Stat(base + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v %v", err, fi.Mode())
	}
	if _, err := runCLI(t, "keygen", "-o", base); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second keygen over the same name: %v", err)
	}
}

func TestVerifySignedPackage(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k.pub")
	good := signedSample(t, dir, "good", 1_000_000, packageOptions{})
	text, err := runCLI(t, "verify", good, "--pubkey", key, "--stream-id", "sample")
	if err != nil || !strings.HasPrefix(text, "OK: 4 renditions, 12 entries") {
		t.Fatalf("verify good: %v\n%s", err, text)
	}
	// The same over HTTP (loopback), and a manifest file given directly.
	srv := httptest.NewServer(http.FileServer(http.Dir(good)))
	defer srv.Close()
	for _, target := range []string{srv.URL + "/master.m3u8", srv.URL + "/manifest.mpd", srv.URL + "/", filepath.Join(good, "manifest.mpd")} {
		if text, err := runCLI(t, "verify", target, "--pubkey", key); err != nil || !strings.Contains(text, "OK: 4 renditions") {
			t.Errorf("verify %s: %v\n%s", target, err, text)
		}
	}
	// Byte-range packaging: entries are ranges of one file per rendition.
	br := signedSample(t, dir, "br", 1_000_000, packageOptions{ByteRange: true, Segment: 2 * time.Second})
	if text, err := runCLI(t, "verify", br, "--pubkey", key); err != nil || !strings.Contains(text, "OK: 4 renditions, 20 entries") {
		t.Errorf("verify byte ranges: %v\n%s", err, text)
	}
	brsrv := httptest.NewServer(http.FileServer(http.Dir(br)))
	defer brsrv.Close()
	if text, err := runCLI(t, "verify", brsrv.URL+"/master.m3u8", "--pubkey", key); err != nil || !strings.Contains(text, "OK:") {
		t.Errorf("verify byte ranges over HTTP: %v\n%s", err, text)
	}

	t.Run("flipped byte", func(t *testing.T) {
		pkg := filepath.Join(t.TempDir(), "p")
		copyDir(t, good, pkg)
		seg := filepath.Join(pkg, "video_360p", "seg_2.m4s")
		b, _ := os.ReadFile(seg)
		b[len(b)/2] ^= 0x01
		os.WriteFile(seg, b, 0o644)
		verifyFails(t, pkg, []string{"--pubkey", key}, "video_360p segment 2 (video_360p/seg_2.m4s)", "does not match the signed hash")
		// Over HTTP too.
		s := httptest.NewServer(http.FileServer(http.Dir(pkg)))
		defer s.Close()
		verifyFails(t, s.URL+"/master.m3u8", []string{"--pubkey", key}, "video_360p/seg_2.m4s", "does not match")
	})
	t.Run("flipped byte in a byte range", func(t *testing.T) {
		pkg := filepath.Join(t.TempDir(), "p")
		copyDir(t, br, pkg)
		f := filepath.Join(pkg, "audio_und", "audio_und.mp4")
		b, _ := os.ReadFile(f)
		b[len(b)-10] ^= 0x80
		os.WriteFile(f, b, 0o644)
		verifyFails(t, pkg, []string{"--pubkey", key}, "audio_und segment 4 (audio_und/audio_und.mp4 bytes", "does not match")
	})
	t.Run("reordered sidecar", func(t *testing.T) {
		pkg := filepath.Join(t.TempDir(), "p")
		copyDir(t, good, pkg)
		name := filepath.Join(pkg, integrity.SidecarName("video_240p"))
		b, _ := os.ReadFile(name)
		var sc integrity.Sidecar
		if err := sc.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		sc.Entries[1], sc.Entries[2] = sc.Entries[2], sc.Entries[1]
		if err := sc.WriteFile(name); err != nil {
			t.Fatal(err)
		}
		verifyFails(t, pkg, []string{"--pubkey", key}, "video_240p.integrity.json: video_240p segment 1", "entries out of order", "reordered")
		// Reordering the hashes only (sequence numbers kept) breaks the
		// entries' signatures instead.
		sc.Entries[1], sc.Entries[2] = sc.Entries[2], sc.Entries[1]
		sc.Entries[1].SHA256, sc.Entries[2].SHA256 = sc.Entries[2].SHA256, sc.Entries[1].SHA256
		sc.WriteFile(name)
		verifyFails(t, pkg, []string{"--pubkey", key}, "video_240p.integrity.json", "bad signature", "entries[1]")
	})
	t.Run("wrong key", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		if _, err := runCLI(t, "keygen", "-o", other); err != nil {
			t.Fatal(err)
		}
		otherPub, _ := integrity.ReadPublicKeyFile(other + ".pub")
		text, err := runCLI(t, "verify", good, "--pubkey", other+".pub")
		if err == nil || strings.Count(text, "FAIL ") != 4 || !strings.Contains(text, "signed with another key: sidecar signed with key") ||
			!strings.Contains(text, "trusted key is "+integrity.KeyID(otherPub)) || !strings.Contains(err.Error(), "4 problem(s)") {
			t.Errorf("wrong key: %v\n%s", err, text)
		}
	})
	t.Run("replayed older signature", func(t *testing.T) {
		// An older signing of the same stream (generation 500 000), then
		// the current one (1 000 000) is verified with --state ...
		sub := t.TempDir()
		copyDir(t, dir, sub)
		older := signedSample(t, sub, "older", 500_000, packageOptions{})
		state := filepath.Join(sub, "seen.json")
		pkg := filepath.Join(sub, "p")
		copyDir(t, good, pkg)
		if text, err := runCLI(t, "verify", pkg, "--pubkey", key, "--state", state); err != nil {
			t.Fatalf("first verify: %v\n%s", err, text)
		}
		// ... and someone puts the older, validly signed sidecar back.
		name := integrity.SidecarName("audio_und")
		b, _ := os.ReadFile(filepath.Join(older, name))
		os.WriteFile(filepath.Join(pkg, name), b, 0o644)
		verifyFails(t, pkg, []string{"--pubkey", key, "--state", state}, "audio_und.integrity.json", "replayed older signature: generation 500003 is older than generation 1000003 already accepted")
		// Without the state the old sidecar on its own is consistent:
		// replay protection needs memory, which --state provides.
		if _, err := runCLI(t, "verify", pkg, "--pubkey", key); err != nil {
			t.Errorf("without --state: %v", err)
		}
		// One older signature spliced into the current sidecar needs no
		// memory: it carries the older signer's session.
		os.WriteFile(filepath.Join(pkg, name), func() []byte { b, _ := os.ReadFile(filepath.Join(good, name)); return b }(), 0o644)
		var cur, old integrity.Sidecar
		b, _ = os.ReadFile(filepath.Join(pkg, name))
		cur.Unmarshal(b)
		b, _ = os.ReadFile(filepath.Join(older, name))
		old.Unmarshal(b)
		cur.Entries[2] = old.Entries[2]
		cur.WriteFile(filepath.Join(pkg, name))
		verifyFails(t, pkg, []string{"--pubkey", key}, "audio_und.integrity.json: audio_und segment 2 (audio_und/seg_2.m4s)", "replayed older signature: entries[2] was signed in session 500000, this sidecar's session is 1000000")
	})
	t.Run("other stream", func(t *testing.T) {
		text, err := runCLI(t, "verify", filepath.Join(good, "master.m3u8"), "--pubkey", key, "--stream-id", "other")
		if err == nil || strings.Count(text, "FAIL ") != 4 || !strings.Contains(text, "FAIL video_240p.integrity.json: video_240p sidecar: signed for another stream or rendition: sidecar is for stream \"sample\", want \"other\"\n") {
			t.Errorf("other stream: %v\n%s", err, text)
		}
	})
	t.Run("unsigned segment in the playlist", func(t *testing.T) {
		pkg := filepath.Join(t.TempDir(), "p")
		copyDir(t, good, pkg)
		name := filepath.Join(pkg, integrity.SidecarName("video_480p"))
		b, _ := os.ReadFile(name)
		var sc integrity.Sidecar
		sc.Unmarshal(b)
		// A sidecar missing its last entry no longer matches its
		// signature: that is what verify reports.
		sc.Entries = sc.Entries[:len(sc.Entries)-1]
		sc.WriteFile(name)
		verifyFails(t, pkg, []string{"--pubkey", key}, "video_480p.integrity.json", "sidecar signature does not match")
	})
	// Usage errors are one line.
	for _, args := range [][]string{{"verify", good}, {"verify", good, "--pubkey", filepath.Join(dir, "k.key")}, {"verify", filepath.Join(dir, "nope"), "--pubkey", key}} {
		if _, err := runCLI(t, args...); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v", args, err)
		}
	}
	if _, err := runCLI(t, "package", "-o", filepath.Join(dir, "x"), "--sign", key); err == nil || !strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("package --sign with a public key: %v", err)
	}
}
