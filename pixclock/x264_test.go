package pixclock_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/pixclock"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	return testtool.Path(t, name)
}

// generate runs pixclock.Run on a fake clock (no sleeping), writing the
// Y4M stream to w, and returns each frame's stamp.
func generate(t *testing.T, w io.Writer, frames int, opts ...pixclock.RunOption) []time.Time {
	t.Helper()
	clk := live.NewFakeClock(time.Date(2026, 12, 6, 14, 0, 0, 7e6, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { // the driver: whenever Run parks on a timer, move to it
		defer close(done)
		for clk.WaitTimers(1, ctx.Done()) {
			if at, ok := clk.Next(); ok {
				clk.Set(at)
			}
		}
	}()
	stamps := make([]time.Time, 0, frames)
	opts = append(opts, pixclock.WithFrames(frames), pixclock.WithOnFrame(func(i int, at time.Time) { stamps = append(stamps, at) }))
	if err := pixclock.Run(ctx, w, clk, opts...); err != nil {
		t.Error(err)
	}
	cancel()
	<-done
	return stamps
}

// TestX264 is the acceptance test of the code: clock frames encoded by
// x264 at 200 kbit/s (640x360, 30 fps: about 830 bytes a frame) and
// scaled to 320x180 on decoding decode to the exact millisecond or are
// reported unreadable, never to a wrong time. The JavaScript decoder
// gives the same verdict on every frame.
func TestX264(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg")
	n := 1050
	if testing.Short() {
		n = 300
	}
	dir := t.TempDir()
	enc := filepath.Join(dir, "clock.mp4")
	cmd := exec.Command(ffmpeg, "-nostdin", "-loglevel", "error", "-f", "yuv4mpegpipe", "-i", "-",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-b:v", "200k", "-maxrate", "200k", "-bufsize", "100k",
		"-g", "60", "-pix_fmt", "yuv420p", "-y", enc)
	// The frames stream into the encoder: 1,050 of them are 360 MB.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var encOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &encOut, &encOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stamps := generate(t, stdin, n)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg encode: %v\n%s", err, encOut.String())
	}
	st, _ := os.Stat(enc)
	kbps := float64(st.Size()*8) / (float64(n) / 30) / 1000
	const w, h = 320, 180
	gray := filepath.Join(dir, "clock.gray")
	cmd = exec.Command(ffmpeg, "-nostdin", "-loglevel", "error", "-i", enc, "-vf", fmt.Sprintf("scale=%d:%d", w, h),
		"-fps_mode", "passthrough", "-pix_fmt", "gray", "-f", "rawvideo", "-y", gray)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg decode: %v\n%s", err, out)
	}
	f, err := os.Open(gray)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := bufio.NewReaderSize(f, w*h)
	img := image.NewGray(image.Rect(0, 0, w, h))
	var goVerdicts []string
	read, i := 0, 0
	for ; ; i++ {
		if _, err := io.ReadFull(rd, img.Pix); err != nil {
			break
		}
		if i >= len(stamps) {
			t.Fatalf("ffmpeg returned more frames (%d) than it was given (%d)", i+1, len(stamps))
		}
		got, err := pixclock.Decode(img)
		switch {
		case errors.Is(err, pixclock.ErrUnreadable):
			goVerdicts = append(goVerdicts, "unreadable")
		case err != nil:
			t.Fatalf("frame %d: %v", i, err)
		case got.UnixMilli() != stamps[i].UnixMilli():
			t.Errorf("frame %d decodes to %v, was stamped %v: a WRONG value", i, got.UnixMilli(), stamps[i].UnixMilli())
		default:
			read++
			goVerdicts = append(goVerdicts, fmt.Sprint(got.UnixMilli()))
		}
	}
	if i != len(stamps) {
		t.Fatalf("ffmpeg returned %d frames, was given %d", i, len(stamps))
	}
	frac := float64(read) / float64(i)
	t.Logf("x264 %.0f kbit/s 640x360 → 320x180: %d of %d frames readable (%.1f %%), none wrong", kbps, read, i, 100*frac)
	// Readability is what makes the measurement useful, not what makes
	// it right; still, a code that x264 destroys is not doing its job.
	if frac < 0.9 {
		t.Errorf("only %.1f %% of the frames are readable", 100*frac)
	}

	node, err := exec.LookPath("node")
	if err != nil {
		if testtool.Required() {
			t.Fatal("node is required (STREAMKIT_REQUIRE_TOOLS=1)")
		}
		t.Log("node not installed: the JavaScript decoder is not checked")
		return
	}
	out, err := exec.Command(node, filepath.Join("js", "decode_test.mjs"), gray, fmt.Sprint(w), fmt.Sprint(h)).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	j := 0
	for ; sc.Scan(); j++ {
		var r struct {
			OK bool
			MS int64
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		v := "unreadable"
		if r.OK {
			v = fmt.Sprint(r.MS)
		}
		if j < len(goVerdicts) && v != goVerdicts[j] {
			t.Errorf("frame %d: JavaScript says %s, Go says %s", j, v, goVerdicts[j])
		}
	}
	if j != len(goVerdicts) {
		t.Errorf("JavaScript decoded %d frames, Go %d", j, len(goVerdicts))
	}
}
