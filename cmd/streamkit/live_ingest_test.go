package main

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLiveIngestCLI: `streamkit live --ingest udp://…` serves an MPEG-TS
// stream sent to it at /live/NAME/ and prints its entry points when it
// starts.
func TestLiveIngestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the ingest for 3 s in real time")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	data, err := os.ReadFile("../../testdata/media/ts_multi.ts")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := runCLI(t, "live", "--listen", "127.0.0.1:0", "--ingest", "udp://"+addr+"?name=tv", "--duration", "3s")
		done <- result{out, err}
	}()
	time.Sleep(500 * time.Millisecond)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < len(data); p += 1316 {
		c.Write(data[p:min(p+1316, len(data))])
		time.Sleep(time.Millisecond)
	}
	c.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.out)
	}
	re := regexp.MustCompile(`(?m)^hls: http://127\.0\.0\.1:\d+/live/tv/master\.m3u8\ndash: http://127\.0\.0\.1:\d+/live/tv/manifest\.mpd$`)
	if !re.MatchString(r.out) || !strings.Contains(r.out, "ingest: udp://"+addr) {
		t.Fatalf("no entry points for stream tv:\n%s", r.out)
	}
}

func TestLiveIngestCLIErrors(t *testing.T) {
	for _, args := range [][]string{
		{"live", "--ingest", "ftp://127.0.0.1:21"},
		{"live", "--ingest", "udp://127.0.0.1:0", "x.mp4"},
		{"live", "--ingest", "srt://127.0.0.1:0?latency=soon"},
		{"live", "--ingest", "rtmp://127.0.0.1:0", "--tracker"},
	} {
		_, err := runCLI(t, args...)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v", args, err)
		}
	}
}
