package ingest_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
	"github.com/streamkit-go/streamkit/live"
)

// A publisher killed mid-stream and started again continues its stream
// after a discontinuity: EXT-X-DISCONTINUITY in the playlists, a new
// Period in the MPD, and the media of both publishes in the window.
func TestReconnectDiscontinuity(t *testing.T) {
	needFFmpeg(t)
	h := newHarness(t)
	url := "rtmp://" + h.rtmp + "/live/cam"
	first := h.publish("flv", url, 2)
	h.logServed("cam")
	time.Sleep(1500 * time.Millisecond)
	first.Process.Kill()
	first.Wait()
	h.waitGone("cam")
	second := h.publish("flv", url, 4)
	if err := second.Wait(); err != nil {
		t.Fatalf("second publish: %v", err)
	}
	h.waitGone("cam")
	_, pl := h.get("/live/cam/v0/media.m3u8")
	if !strings.Contains(string(pl), "#EXT-X-DISCONTINUITY") {
		t.Fatalf("no discontinuity after the reconnection:\n%s", pl)
	}
	_, mpd := h.get("/live/cam/manifest.mpd")
	if n := strings.Count(string(mpd), "<Period"); n < 2 {
		t.Errorf("MPD has %d Periods after the reconnection, want 2:\n%s", n, mpd)
	}
	vs, discs := h.packaged("cam", "v0")
	if discs < 1 {
		t.Errorf("packaged video crosses %d discontinuities", discs)
	}
	for i := 1; i < len(vs); i++ {
		if vs[i].DTS <= vs[i-1].DTS {
			t.Fatalf("video DTS %d after %d at sample %d: the timeline went back", vs[i].DTS, vs[i-1].DTS, i)
		}
	}
	if st := h.srv.Stream("cam").Stats(); st.Publishes != 2 {
		t.Errorf("stats %+v, want 2 publishes", st)
	}
}

// A connection sending random bytes is closed, and a stream published
// at the same time plays on.
func TestGarbagePublisher(t *testing.T) {
	needFFmpeg(t)
	h := newHarness(t)
	good := h.publish("flv", "rtmp://"+h.rtmp+"/live/good", 2)
	h.logServed("good")
	_, before := h.get("/live/good/v0/media.m3u8")
	// A stalled publisher: connected, silent. It is dropped after the
	// read timeout and blocks nobody meanwhile.
	stalled, err := net.Dial("tcp", h.rtmp)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	for _, addr := range []string{h.rtmp} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(junk)
		buf := make([]byte, 1<<16)
		closed := false
		for i := 0; i < 100; i++ {
			if _, err := c.Read(buf); err != nil {
				closed = true
				break
			}
		}
		c.Close()
		if !closed {
			t.Errorf("%s: the garbage connection was not closed", addr)
		}
	}
	// Garbage over SRT's UDP port and the TS-over-UDP port.
	for _, addr := range []string{h.srt, h.udp} {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			for p := 0; p+1316 <= len(junk); p += 1316 {
				c.Write(junk[p : p+1316])
				time.Sleep(200 * time.Microsecond) // no burst beyond the socket buffer
			}
		}
		c.Close()
	}
	if err := good.Wait(); err != nil {
		t.Fatalf("the good publisher failed: %v", err)
	}
	stalled.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := stalled.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("the stalled connection is still open after the read timeout: %v", err)
	}
	h.waitGone("good")
	_, after := h.get("/live/good/v0/media.m3u8")
	if bytes.Equal(before, after) || strings.Count(string(after), ".m4s") <= strings.Count(string(before), ".m4s") {
		t.Errorf("the good stream stopped while garbage arrived:\nbefore\n%s\nafter\n%s", before, after)
	}
	vs, _ := h.packaged("good", "v0")
	if len(vs) < 180 {
		t.Errorf("good stream: %d video frames packaged, want the 200 published", len(vs))
	}
}

// MPEG-TS over UDP through a relay that drops 1 % of the datagrams keeps
// playing, and the loss is counted.
func TestUDPLoss(t *testing.T) {
	needFFmpeg(t)
	h := newHarness(t)
	relay, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	out, err := net.Dial("udp", h.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	done := make(chan int)
	go func() {
		rng := rand.New(rand.NewPCG(3, 4))
		buf := make([]byte, 1<<16)
		dropped := 0
		for {
			relay.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, _, err := relay.ReadFrom(buf)
			if err != nil {
				done <- dropped
				return
			}
			if rng.IntN(100) == 0 {
				dropped++
				continue
			}
			out.Write(buf[:n])
		}
	}()
	pub := h.publish("mpegts", "udp://"+relay.LocalAddr().String()+"?pkt_size=1316", 4)
	h.logServed(h.udpName)
	if err := pub.Wait(); err != nil {
		t.Fatal(err)
	}
	h.waitGone(h.udpName)
	relay.Close()
	dropped := <-done
	st := h.srv.Stream(h.udpName).Stats()
	vs, _ := h.packaged(h.udpName, "v0")
	t.Logf("relay dropped %d datagrams; ingest counted %d continuity errors, %d PES errors; %d video frames packaged", dropped, st.TS.CCErrors, st.TS.PESErrors, len(vs))
	if dropped > 0 && st.TS.CCErrors == 0 {
		t.Errorf("%d datagrams dropped, no continuity error counted: %+v", dropped, st)
	}
	if len(vs) < 150 {
		t.Errorf("%d of 200 video frames packaged after 1%% loss", len(vs))
	}
}

// SRT with a passphrase and a publish key: the right ones publish, a
// wrong key or passphrase is refused at the handshake.
func TestSRTKeyAndPassphrase(t *testing.T) {
	needFFmpeg(t)
	h := newHarness(t, ingest.WithPublishKey("k1"))
	const pass = "0123456789abcdef"
	ln, err := ingest.ListenSRT("127.0.0.1:0", ingest.WithSRTPassphrase(pass), ingest.WithSRTLatency(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.ServeSRT(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := ln.Addr().String()
	for _, bad := range []string{"streamid=publish:bad:k2&passphrase=" + pass, "streamid=publish:bad:k1&passphrase=wrongwrongwrong"} {
		cmd := h.publish("mpegts", "srt://"+addr+"?"+bad+"&pkt_size=1316&connect_timeout=2000", 4, "-t", "1")
		kill := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		if err := cmd.Wait(); err == nil {
			t.Errorf("%s: ffmpeg published", bad)
		}
		kill.Stop()
		if h.srv.Stream("bad") != nil && len(h.srv.Stream("bad").P.Renditions()) > 0 {
			t.Errorf("%s: stream bad exists", bad)
		}
	}
	cmd := h.publish("mpegts", "srt://"+addr+"?streamid=publish:good:k1&passphrase="+pass+"&pkt_size=1316&linger=3", 4, "-t", "2")
	h.logServed("good")
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestUDPStrayDatagram: a datagram from another address while the UDP
// source is alive — junk or even MPEG-TS — is dropped and counted, not a
// new publisher; MPEG-TS from another address after the source has been
// silent for a second takes over (a restarted encoder on a new port).
func TestUDPStrayDatagram(t *testing.T) {
	data, err := os.ReadFile("../testdata/media/ts_multi.ts")
	if err != nil {
		t.Fatal(err)
	}
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := live.NewFakeClock(epoch)
	conn, err := ingest.ListenUDP("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	srv := ingest.New(ingest.WithClock(clock), ingest.WithReadTimeout(30*time.Second))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeUDP(ctx, conn, "u") }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("udp", conn.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := dial(), dial()
	// waitFor polls the stream's counters, bounded in time.
	waitFor := func(what string, ok func(ingest.Stats) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if st := srv.Stream("u"); st != nil && ok(st.Stats()) {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		st := srv.Stream("u")
		if st == nil {
			t.Fatalf("%s: no stream", what)
		}
		t.Fatalf("%s: stats %+v", what, st.Stats())
	}
	half := len(data) / 2 / 1316 * 1316
	for p := 0; p < half; p += 1316 {
		a.Write(data[p : p+1316])
		time.Sleep(200 * time.Microsecond)
	}
	waitFor("the first half from A", func(s ingest.Stats) bool { return s.TS.Packets >= int64(half/188)*9/10 })
	clock.Set(epoch.Add(100 * time.Millisecond))
	b.Write([]byte("GET / HTTP/1.0\r\n\r\n")) // junk
	b.Write(data[:1316])                      // MPEG-TS, while A is alive
	waitFor("two strays from B", func(s ingest.Stats) bool { return s.Strays == 2 })
	if st := srv.Stream("u").Stats(); st.Publishes != 1 {
		t.Fatalf("a stray datagram started a new publish: %+v", st)
	}
	// A falls silent; after a second B's MPEG-TS is a new publisher.
	clock.Set(epoch.Add(1200 * time.Millisecond))
	b.Write(data[:1316])
	waitFor("B taking over", func(s ingest.Stats) bool { return s.Publishes == 2 })
}
