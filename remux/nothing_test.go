package remux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNothingToWrite: an MP4 cut before its first sample, or inside its
// first (video) sample, is refused with one line that says where; a cut
// after the first sample is written. h264_faststart.mp4 has its moov
// first (ending at byte 2915) and its first sample, video, at
// 2931–6113.
func TestNothingToWrite(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "h264_faststart.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		cut  int
		want string // in the error; "" for success
	}{
		{2925, "no sample before the damage"},
		{4000, "the only sample, video sample 0 of track 1 at byte 2931, is cut by the end of the file at byte 4000"},
		{len(b) / 2, ""},
	} {
		in := filepath.Join(dir, "cut.mp4")
		if err := os.WriteFile(in, b[:c.cut], 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out.mp4")
		os.Remove(out)
		err := Remux(context.Background(), in, out, To(MP4))
		if c.want == "" {
			if err != nil {
				t.Errorf("cut at %d: %v", c.cut, err)
			}
			continue
		}
		if !errors.Is(err, ErrNothingToWrite) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("cut at %d: %v, want one line with ErrNothingToWrite and %q", c.cut, err, c.want)
		}
		if _, serr := os.Stat(out); serr == nil {
			t.Errorf("cut at %d: refused but %s exists", c.cut, out)
		}
	}
}
