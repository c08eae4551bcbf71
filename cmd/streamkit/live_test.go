package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamkit-go/streamkit/integrity"
)

// TestLiveCLI runs `streamkit live` for a short while in real time: it
// prints exactly the two entry points, mirrors the stream to --out, signed
// with --sign, and ends it cleanly.
func TestLiveCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 3 s of live stream in real time")
	}
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "live")
	if _, err := runCLI(t, "keygen", "-o", key); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "live", "--listen", "127.0.0.1:0", "--duration", "3s", "--out", dir, "--player-js", dir, "--sign", key+".key")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var urls []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "hls: ") || strings.HasPrefix(line, "dash: ") {
			urls = append(urls, line)
		}
	}
	re := regexp.MustCompile(`^(hls: http://127\.0\.0\.1:\d+/live/master\.m3u8|dash: http://127\.0\.0\.1:\d+/live/manifest\.mpd)$`)
	if len(urls) != 2 || !re.MatchString(urls[0]) || !re.MatchString(urls[1]) || !strings.HasPrefix(urls[0], "hls:") {
		t.Fatalf("entry points %q\n%s", urls, out)
	}
	pl, err := os.ReadFile(filepath.Join(dir, "v0", "media.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pl), "#EXT-X-ENDLIST") || !strings.Contains(string(pl), "seg_0.m4s") {
		t.Errorf("mirrored playlist after --duration:\n%s", pl)
	}
	for _, f := range []string{"master.m3u8", "manifest.mpd", "v0/init_0.mp4", "a0/seg_0.m4s", "v2/part_0_0.m4s"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}
	// --sign: the mirror verifies as a signed package (streamkit verify
	// finds NAME.integrity.json for NAME/media.m3u8 and for the MPD).
	if out, err := runCLI(t, "verify", dir, "--pubkey", key+".pub", "--stream-id", "live"); err != nil || !strings.Contains(out, "OK: 4 renditions") {
		t.Errorf("verify the signed mirror: %v\n%s", err, out)
	}
}

// TestLiveCLIErrors: bad flag combinations are one-line errors.
func TestLiveCLIErrors(t *testing.T) {
	for _, args := range [][]string{
		{"live", "--part", "3s", "--segment", "2s"},
		{"live", "--window", "1s"},
		{"live", "--cert", "x.pem"},
		{"live", "no-such-file.mp4"},
	} {
		_, err := runCLI(t, args...)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// lineWriter sends what is written to it, line by line, on a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.buf[:i]):
		default: // nobody reads any more
		}
		w.buf = w.buf[i+1:]
	}
}

// startLive runs `streamkit live` (runLive with o) until the returned
// stop is called, and returns the lines it printed on stdout before the
// stream started (the entry points) and stop, which returns runLive's
// result (once; later calls return the same).
func startLive(t *testing.T, o liveOptions) (map[string]string, func() error) {
	t.Helper()
	o.listen, o.segment, o.part, o.window, o.ll = "127.0.0.1:0", 2*time.Second, 200*time.Millisecond, 30*time.Second, true
	o.maxConns, o.playerJS = 64, t.TempDir()
	if o.seed == 0 {
		o.seed = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &lineWriter{lines: make(chan string, 16)}
	done := make(chan error, 1)
	go func() { done <- runLive(ctx, stdout, io.Discard, o, nil) }()
	entries := map[string]string{}
	timeout := time.After(30 * time.Second)
	for entries["dash"] == "" || (o.tracker && entries["tracker"] == "") {
		select {
		case line := <-stdout.lines:
			if k, v, ok := strings.Cut(line, ": "); ok {
				entries[k] = v
			}
		case err := <-done:
			cancel()
			t.Fatalf("live ended before printing its entry points: %v", err)
		case <-timeout:
			cancel()
			t.Fatal("no entry points within 30 s")
		}
	}
	var once sync.Once
	var err error
	return entries, func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				err = errors.New("live did not stop within 30 s")
			}
		})
		return err
	}
}

// TestLiveShape: with --shape the origin's responses go through the
// shaper: a scenario failing every playlist request with 503 fails the
// multivariant playlist, while an init segment is served.
func TestLiveShape(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the live origin in real time")
	}
	sc := filepath.Join(t.TempDir(), "playlist-503.json")
	os.WriteFile(sc, []byte(`{"name":"playlist-503","phases":[{"duration_s":60,"kbps":100000}],
		"faults":[{"class":"playlist","kind":"status","status":503,"rate":1}]}`), 0o600)
	entries, stop := startLive(t, liveOptions{shape: sc, seed: 3})
	defer stop()
	hls := entries["hls"]
	get := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(hls); code != http.StatusServiceUnavailable {
		t.Errorf("shaped playlist: %d, want the scenario's 503", code)
	}
	if code := get(strings.TrimSuffix(hls, "master.m3u8") + "v0/init_0.mp4"); code != http.StatusOK {
		t.Errorf("shaped init segment: %d, want 200", code)
	}
	if err := stop(); err != nil {
		t.Errorf("live: %v", err)
	}
	if _, err := runCLI(t, "live", "--shape", filepath.Join(t.TempDir(), "none.json")); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing scenario: %v, want a one-line error", err)
	}
}

// TestLiveTracker: with --tracker the origin's port also serves a
// WebTorrent tracker at /announce, printed as a third entry point; a peer
// announces, and stopping the stream closes its WebSocket with 1001
// (going away) and returns without waiting for it.
func TestLiveTracker(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the live origin in real time")
	}
	entries, stop := startLive(t, liveOptions{tracker: true})
	defer stop()
	url := entries["tracker"]
	if !regexp.MustCompile(`^ws://127\.0\.0\.1:\d+/announce$`).MatchString(url) {
		t.Fatalf("tracker entry point %q (entries %q)", url, entries)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	msg, _ := json.Marshal(map[string]any{"action": "announce", "info_hash": "aaaaaaaaaaaaaaaaaaaa", "peer_id": "-SK0100-bbbbbbbbbbbb", "event": "started"})
	if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatal(err)
	}
	_, b, err := ws.Read(ctx)
	if err != nil || !strings.Contains(string(b), `"incomplete":1`) {
		t.Fatalf("announce: %s %v", b, err)
	}
	// The media is on the same port.
	resp, err := http.Get(strings.Replace(strings.TrimSuffix(url, "announce"), "ws:", "http:", 1) + "live/v0/init_0.mp4")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("init segment next to the tracker: %d", resp.StatusCode)
	}
	closed := make(chan error, 1)
	go func() {
		_, _, err := ws.Read(ctx)
		closed <- err
	}()
	start := time.Now()
	if err := stop(); err != nil {
		t.Errorf("live: %v", err)
	}
	if err := <-closed; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("tracker connection at shutdown: %v, want close 1001", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Logf("shutdown took %v (the tracker's close should not wait for the grace period)", d)
	}
}

// TestLiveSign: with --sign the live origin serves a signed sidecar per
// rendition, and the parts it lists verify with the public key; a bad
// key file is a one-line error.
func TestLiveSign(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the live origin in real time")
	}
	pub, priv, err := integrity.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(t.TempDir(), "live")
	if err := integrity.WriteKeyPair(base, pub, priv); err != nil {
		t.Fatal(err)
	}
	entries, stop := startLive(t, liveOptions{sign: base + ".key", streamID: "match-42"})
	defer stop()
	prefix := strings.TrimSuffix(entries["hls"], "master.m3u8")
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(prefix + path)
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
	get("v1/media.m3u8?_HLS_msn=0&_HLS_part=1") // blocks until part 1 is published
	var sc integrity.Sidecar
	if err := sc.Unmarshal(get("v1.integrity.json")); err != nil {
		t.Fatal(err)
	}
	v := integrity.NewVerifier(pub, "match-42")
	if err := v.Load(&sc); err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyInit("v1", get("v1/init_0.mp4")); err != nil {
		t.Errorf("init: %v", err)
	}
	for i := uint32(0); i < 2; i++ {
		data := get("v1/part_0_" + strconv.Itoa(int(i)) + ".m4s")
		if err := v.VerifyPart("v1", 0, i, data); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
		data[len(data)-1] ^= 0x80
		if err := v.VerifyPart("v1", 0, i, data); !errors.Is(err, integrity.ErrMismatch) {
			t.Errorf("part %d with a flipped byte: %v, want ErrMismatch", i, err)
		}
	}
	if err := integrity.NewVerifier(pub, "other").Load(&sc); err == nil {
		t.Error("sidecar accepted for another stream id")
	}
	if err := stop(); err != nil {
		t.Errorf("live: %v", err)
	}
	if _, err := runCLI(t, "live", "--sign", base+".pub"); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("--sign with a public key: %v, want a one-line error", err)
	}
}
