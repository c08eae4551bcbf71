package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/media"
	_ "github.com/streamkit-go/streamkit/mp4"
)

const (
	videoFile = "../sample/media/video_240.mp4"
	audioFile = "../sample/media/audio.m4a"
)

// needFFmpeg skips without ffmpeg and ffprobe, unless STREAMKIT_REQUIRE_TOOLS=1.
func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testtool.Required() {
				t.Fatalf("%s not installed and STREAMKIT_REQUIRE_TOOLS=1", tool)
			}
			t.Skipf("%s not installed: the ingest tests publish with it", tool)
		}
	}
}

// harness runs an ingest server with RTMP, SRT and UDP listeners on
// loopback and an HTTP origin, and checks at the end that every
// goroutine it started has ended.
type harness struct {
	t       *testing.T
	srv     *ingest.Server
	http    *httptest.Server
	rtmp    string // host:port
	srt     string
	udp     string
	udpName string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	errs    chan error
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func newHarness(t *testing.T, opts ...ingest.Option) *harness {
	t.Helper()
	base := runtime.NumGoroutine()
	h := &harness{t: t, errs: make(chan error, 3), udpName: "udpcam"}
	log := slog.New(slog.NewTextHandler(testLog{t}, nil))
	h.srv = ingest.New(append([]ingest.Option{
		ingest.WithLogger(log),
		ingest.WithPackagerOptions(live.WithSegmentDuration(2*time.Second), live.WithPartDuration(500*time.Millisecond)),
		ingest.WithReadTimeout(1500 * time.Millisecond),
		ingest.WithLadderWait(300 * time.Millisecond),
	}, opts...)...)
	h.http = httptest.NewServer(h.srv)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.rtmp = ln.Addr().String()
	sl, err := ingest.ListenSRT("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.srt = sl.Addr().String()
	uc, err := ingest.ListenUDP("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	h.udp = uc.LocalAddr().String()
	h.wg.Add(3)
	go func() { defer h.wg.Done(); h.errs <- h.srv.ServeRTMP(ctx, ln) }()
	go func() { defer h.wg.Done(); h.errs <- h.srv.ServeSRT(ctx, sl) }()
	go func() { defer h.wg.Done(); h.errs <- h.srv.ServeUDP(ctx, uc, h.udpName) }()
	t.Cleanup(func() {
		h.stop()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines left running (%d before):\n%s", n-base, base, buf[:runtime.Stack(buf, true)])
		}
	})
	return h
}

var stopOnce sync.Map

// stop shuts the listeners down, ends the streams and closes the HTTP
// server.
func (h *harness) stop() {
	if _, done := stopOnce.LoadOrStore(h, true); done {
		return
	}
	h.cancel()
	h.wg.Wait()
	close(h.errs)
	for err := range h.errs {
		if err != nil {
			h.t.Errorf("serve: %v", err)
		}
	}
	if err := h.srv.Close(); err != nil {
		h.t.Errorf("close: %v", err)
	}
	h.http.CloseClientConnections()
	h.http.Close()
}

// publish starts ffmpeg sending the sample video and audio to url in
// format (flv, mpegts), reading at rate × real time.
func (h *harness) publish(format, url string, rate float64, extra ...string) *exec.Cmd {
	h.t.Helper()
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-readrate", fmt.Sprint(rate),
		"-i", videoFile, "-readrate", fmt.Sprint(rate), "-i", audioFile, "-map", "0:v", "-map", "1:a", "-c", "copy"}
	args = append(args, extra...)
	args = append(args, "-f", format, url)
	cmd := exec.Command("ffmpeg", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if stderr.Len() > 0 {
			h.t.Logf("ffmpeg %s: %s", url, stderr.String())
		}
	})
	return cmd
}

// get fetches path from the origin.
func (h *harness) get(path string) (int, []byte) {
	h.t.Helper()
	resp, err := http.Get(h.http.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// waitServed waits until stream name answers its HLS and DASH entry
// points with 200 and returns how long that took (logged; the issue's
// 3 s is measured, not asserted: no timed assertions in go test). It
// fails after limit, far above it, for a machine under load.
func (h *harness) waitServed(name string, limit time.Duration) time.Duration {
	h.t.Helper()
	start := time.Now()
	for {
		c1, _ := h.get("/live/" + name + "/master.m3u8")
		c2, mpd := h.get("/live/" + name + "/manifest.mpd")
		if c1 == 200 && c2 == 200 && bytes.Contains(mpd, []byte("<Period")) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			h.t.Fatalf("stream %s not served as HLS and DASH within %v (master %d, mpd %d)", name, limit, c1, c2)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitGone waits until stream name has no publisher.
func (h *harness) waitGone(name string) {
	h.t.Helper()
	for i := 0; i < 200; i++ {
		if st := h.srv.Stream(name); st != nil && st.Publishers() == 0 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	h.t.Fatalf("stream %s: publisher still connected", name)
}

// packaged downloads rendition rend of stream name (init segments and
// every segment of its playlist) and demuxes it: the samples the viewers
// get, and the number of discontinuities.
func (h *harness) packaged(name, rend string) ([]media.Sample, int) {
	h.t.Helper()
	code, pl := h.get("/live/" + name + "/" + rend + "/media.m3u8")
	if code != 200 {
		h.t.Fatalf("%s/%s playlist: %d", name, rend, code)
	}
	var all []media.Sample
	var init []byte
	discs := 0
	var body []byte
	flush := func() {
		if len(body) == 0 {
			return
		}
		file := append(append([]byte(nil), init...), body...)
		d, err := media.Open(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			h.t.Fatalf("%s/%s: demuxing the packaged segments: %v", name, rend, err)
		}
		for s, err := range d.Samples() {
			if err != nil {
				h.t.Fatal(err)
			}
			all = append(all, s)
		}
		body = nil
	}
	for _, line := range strings.Split(string(pl), "\n") {
		switch {
		case strings.HasPrefix(line, "#EXT-X-MAP:URI=\""):
			flush()
			uri := strings.TrimSuffix(strings.TrimPrefix(line, "#EXT-X-MAP:URI=\""), "\"")
			_, init = h.get("/live/" + name + "/" + rend + "/" + uri)
		case line == "#EXT-X-DISCONTINUITY":
			discs++
			flush()
		case line != "" && !strings.HasPrefix(line, "#"):
			_, seg := h.get("/live/" + name + "/" + rend + "/" + line)
			body = append(body, seg...)
		}
	}
	flush()
	return all, discs
}

type probePacket struct {
	PTSTime  string `json:"pts_time"`
	DTSTime  string `json:"dts_time"`
	Size     string `json:"size"`
	Flags    string `json:"flags"`
	Duration string `json:"duration_time"`
}

// ffprobePackets lists the packets of the first stream of kind v or a in path.
func ffprobePackets(t *testing.T, path, kind string) []probePacket {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", kind+":0", "-show_entries", "packet=pts_time,dts_time,size,flags,duration_time", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var r struct{ Packets []probePacket }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Packets
}

func secs(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// comparePackets checks that the packaged samples are a run of the
// published packets: same sizes (sizeOf maps a packaged sample to the
// published size) and key flags, timestamps shifted by one constant
// within tol seconds. It returns how many matched.
func comparePackets(t *testing.T, what string, got []media.Sample, ts uint32, want []probePacket, tol float64) int {
	t.Helper()
	if len(got) == 0 {
		t.Fatalf("%s: nothing packaged", what)
	}
	// The first packaged sample is the published packet with its size
	// and timestamps (video starts at a key frame, audio after it).
	start := -1
	for i, p := range want {
		if strconv.Itoa(int(got[0].Size)) == p.Size && (i+len(got) <= len(want)) {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatalf("%s: first packaged sample (size %d) is no published packet", what, got[0].Size)
	}
	shift := float64(got[0].DTS)/float64(ts) - secs(want[start].DTSTime)
	for i, s := range got {
		p := want[start+i]
		if strconv.Itoa(int(s.Size)) != p.Size || s.Sync != strings.HasPrefix(p.Flags, "K") {
			t.Fatalf("%s: packaged sample %d size %d key %v, published packet %d size %s flags %s", what, i, s.Size, s.Sync, start+i, p.Size, p.Flags)
		}
		if d := float64(s.DTS)/float64(ts) - secs(p.DTSTime) - shift; math.Abs(d) > tol {
			t.Fatalf("%s: sample %d DTS %.6f, published %s: off the constant shift by %.6fs", what, i, float64(s.DTS)/float64(ts), p.DTSTime, d)
		}
		if d := float64(s.PTS)/float64(ts) - secs(p.PTSTime) - shift; math.Abs(d) > tol {
			t.Fatalf("%s: sample %d PTS %.6f, published %s: off the constant shift by %.6fs", what, i, float64(s.PTS)/float64(ts), p.PTSTime, d)
		}
	}
	return len(got)
}

// logServed waits for stream name (up to 20 s) and logs how long it took
// to appear, against the 3 s.
func (h *harness) logServed(name string) time.Duration {
	h.t.Helper()
	d := h.waitServed(name, 20*time.Second)
	h.t.Logf("stream %s served as HLS and DASH %v after the publisher started (goal 3 s)", name, d.Round(time.Millisecond))
	return d
}
