package live

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestServerTiming: parts and segments carry the ingest arrival of their
// first frame and their publication as Server-Timing (the origin's half
// of the glass-to-glass stage budget).
func TestServerTiming(t *testing.T) {
	o := newTestOrigin(t)
	o.to(1 * time.Second)
	o.to(3 * time.Second) // segment 0 complete
	re := regexp.MustCompile(`^sk-arrive;desc="(\d+)", sk-publish;desc="(\d+)"$`)
	stamps := func(path string) (time.Time, time.Time) {
		t.Helper()
		r := o.get(path)
		if r.code != 200 {
			t.Fatalf("%s: %d", path, r.code)
		}
		m := re.FindStringSubmatch(r.h.Get("Server-Timing"))
		if m == nil {
			t.Fatalf("%s: Server-Timing %q", path, r.h.Get("Server-Timing"))
		}
		a, _ := strconv.ParseInt(m[1], 10, 64)
		p, _ := strconv.ParseInt(m[2], 10, 64)
		return time.UnixMilli(a), time.UnixMilli(p)
	}
	ep, _ := o.p.Epoch()
	a, p := stamps("v0/part_0_0.m4s")
	// part 0.0 was pushed by the first to() (clock at epoch) and
	// published when the sample after it arrived, before the clock moved.
	if !a.Equal(ep) || p.Before(a) || p.After(ep.Add(time.Second)) {
		t.Errorf("part 0.0: arrived %v, published %v (epoch %v)", a, p, ep)
	}
	sa, sp := stamps("v0/seg_0.m4s")
	if !sa.Equal(a) || !sp.Equal(ep.Add(3*time.Second)) && !sp.Equal(ep.Add(time.Second)) {
		t.Errorf("segment 0: arrived %v, published %v", sa, sp)
	}
}

func TestLocate(t *testing.T) {
	o := newTestOrigin(t)
	o.to(3 * time.Second)
	r := o.p.Rendition("v0")
	ts := int64(r.Track.Timescale)
	loc, ok := o.p.Locate("v0", ts/2) // 0.5 s: segment 0, part 2 (200 ms parts)
	if !ok || loc.MSN != 0 || loc.Part != 2 || !loc.SegComplete || loc.PartPublish.IsZero() || loc.SegPublish.Before(loc.PartPublish) ||
		loc.PartDuration != ts/5 || loc.SegParts != 10 { // 2 s segments
		t.Errorf("0.5 s: %+v %v", loc, ok)
	}
	if _, ok := o.p.Locate("v0", 10*ts); ok {
		t.Error("a sample not yet pushed is located")
	}
	if _, ok := o.p.Locate("nope", 0); ok {
		t.Error("unknown rendition located")
	}
}
