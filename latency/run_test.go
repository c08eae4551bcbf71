package latency

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/serve"
)

// TestRun runs the experiment for LL-HLS over both ingests, briefly: it
// launches ffmpeg and headless Chromium (so this package belongs with
// the browser packages run one at a time). It checks what must hold on
// any machine, however loaded: frames are read from the pixels, every
// budgeted frame's stages add up, and the clocks agree (no negative
// stage on more than a few frames). Latency itself is not asserted (no
// timed assertions); BENCHMARKS.md has the numbers.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("short: the browser experiment is skipped")
	}
	need := func(what string, err error) {
		if err != nil {
			if testtool.Required() {
				t.Fatalf("%s is required (STREAMKIT_REQUIRE_TOOLS=1): %v", what, err)
			}
			t.Skipf("%s not installed: %v", what, err)
		}
	}
	_, err := exec.LookPath("ffmpeg")
	need("ffmpeg", err)
	_, err = playtest.FindChromium()
	need("Chromium", err)
	_, err = serve.FindPlayerJS("")
	need("hls.js", err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ing := range []struct {
		name string
		fn   func(map[string]string) Ingest
	}{{"rtmp", RTMPIngest}, {"pipe", PipeIngest}} {
		res, err := Run(ctx, []Mode{LLHLS}, WithIngest(ing.fn), WithWarmup(4*time.Second), WithDuration(4*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		r := res[0]
		if r.Err != nil {
			t.Fatalf("%s: %v", ing.name, r.Err)
		}
		s := r.Summary
		t.Logf("%s: %d frames displayed, %d readable, %d budgeted; median %v, budget %+v", ing.name, s.Displayed, s.Readable, s.Budgeted, s.Median, s.Budget)
		if s.Budgeted == 0 {
			t.Errorf("%s: no frame has a complete budget", ing.name)
			continue
		}
		if err := s.Check(); err != nil {
			t.Errorf("%s: %v", ing.name, err)
		}
		// The encoder keys every second and the parts are 200 ms: every
		// segment is five full parts. A short last part (the packager
		// once cut 33 ms ones from millisecond RTMP timestamps) is what
		// hls.js 1.7.4 skips, then stalls.
		if r.Segments == 0 || r.ShortLastParts > 0 {
			t.Errorf("%s: %d of %d segments end on a short part", ing.name, r.ShortLastParts, r.Segments)
		}
		t.Logf("%s: hls.js stalled %d times (target latency at the end %v)", ing.name, r.Stalls, r.PlayerTarget)
		if s.Negative > s.Budgeted/10 {
			t.Errorf("%s: %d of %d frames have a negative stage", ing.name, s.Negative, s.Budgeted)
		}
	}
	// An encoder that cannot start: that mode reports it, nothing hangs.
	res, err := Run(ctx, []Mode{LLHLS}, WithEncoder([]string{"/nonexistent/encoder"}))
	if err != nil || len(res) != 1 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "encoder") {
		t.Errorf("a missing encoder: %v, %+v", err, res)
	}
}
