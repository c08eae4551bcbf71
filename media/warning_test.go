package media_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

func TestWarningLog(t *testing.T) {
	var l media.WarningLog
	if l.Warnings() != nil {
		t.Fatal("zero log not empty")
	}
	w := media.WarningAt("mpegts", 28200, "packet 150", media.ErrTruncated, "last packet cut: %d of %d bytes", 77, 188)
	l.Add(w)
	l.Add(w) // a second Samples pass finds the same damage
	if got := l.Warnings(); len(got) != 1 || !got[0].Truncated() || !errors.Is(got[0], media.ErrTruncated) {
		t.Fatalf("warnings %v, want one truncation", got)
	}
	if s := w.Error(); s != "mpegts: packet 150 at byte 28200: media: truncated input: last packet cut: 77 of 188 bytes" {
		t.Errorf("Error() = %q", s)
	}
	var pe *media.PosError
	if err := error(w.PosError()); !errors.As(err, &pe) || pe.Offset != 28200 || !errors.Is(err, media.ErrTruncated) {
		t.Errorf("PosError() = %v", err)
	}
	// Bounded: concurrent adders, at most MaxWarnings kept, the rest
	// counted in one last warning.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				l.Add(media.WarningAt("mpegts", int64(g*1000+i), "packet", media.ErrCorrupt, "lost sync"))
			}
		}()
	}
	wg.Wait()
	got := l.Warnings()
	if len(got) != media.MaxWarnings+1 || l.Len() != media.MaxWarnings {
		t.Fatalf("%d warnings (Len %d), want %d + 1", len(got), l.Len(), media.MaxWarnings)
	}
	if last := got[len(got)-1].Error(); !strings.Contains(last, fmt.Sprintf("%d more warnings", 4001-media.MaxWarnings)) {
		t.Errorf("last warning %q does not count the dropped ones", last)
	}
}

func TestWarningJSON(t *testing.T) {
	w := media.WarningAt("mp4", 30000, "moov/trak[0] sample 25", media.ErrTruncated, "cut")
	b, err := json.Marshal([]media.Warning{w})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"offset":30000,"what":"moov/trak[0] sample 25","message":"media: truncated input: cut","truncated":true}]`; string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}
