package live

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	m3u8 "github.com/Eyevinn/hls-m3u8/m3u8"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
)

func requireTool(t *testing.T, name string) {
	t.Helper()
	testtool.Path(t, name)
}

// sharedFile finds a file of ../shared beside the repository (or beside
// the worktree's parent, for git worktrees).
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	for _, up := range []string{filepath.Join("..", ".."), filepath.Join("..", "..", "..")} {
		p := filepath.Join(up, "shared", filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if testtool.Required() {
		t.Fatalf("../shared/%s missing", rel)
	}
	t.Skipf("../shared/%s missing (a clone without ../shared)", rel)
	return ""
}

// TestReadBack: every playlist the origin serves reads back with
// Eyevinn/hls-m3u8 in strict mode, with the parts, hint and server
// control we wrote.
func TestReadBack(t *testing.T) {
	o := newTestOrigin(t)
	o.to(35*time.Second + 100*time.Millisecond)
	r := o.get("master.m3u8")
	pl, typ, err := m3u8.Decode(*bytes.NewBuffer(r.body), true)
	if err != nil || typ != m3u8.MASTER {
		t.Fatalf("master: %v %v\n%s", err, typ, r.body)
	}
	master := pl.(*m3u8.MasterPlaylist)
	if len(master.Variants) != 3 {
		t.Fatalf("%d variants", len(master.Variants))
	}
	for _, v := range master.Variants {
		if v.Bandwidth == 0 || v.AverageBandwidth == 0 || v.Resolution == "" || v.FrameRate != 25 || v.Audio != "audio" || !strings.Contains(v.Codecs, "mp4a.40.2") {
			t.Errorf("variant %s: %+v", v.URI, v.VariantParams)
		}
		if len(v.Alternatives) != 1 || v.Alternatives[0].URI != "a0/media.m3u8" {
			t.Errorf("variant %s: audio group %+v", v.URI, v.Alternatives)
		}
	}
	for _, q := range []string{"", "?_HLS_skip=YES"} {
		for _, n := range []string{"v0", "v1", "v2", "a0"} {
			r := o.get(n + "/media.m3u8" + q)
			mine := parsePlaylist(t, string(r.body))
			pl, typ, err := m3u8.Decode(*bytes.NewBuffer(r.body), true)
			if err != nil || typ != m3u8.MEDIA {
				t.Fatalf("%s%s: %v\n%s", n, q, err, r.body)
			}
			mp := pl.(*m3u8.MediaPlaylist)
			if mp.SeqNo != uint64(mine.seq) || int(mp.SkippedSegments()) != mine.skipped || int(mp.Count()) != len(mine.segs) {
				t.Errorf("%s%s: hls-m3u8 reads seq %d, %d skipped, %d segments; we wrote %d, %d, %d", n, q, mp.SeqNo, mp.SkippedSegments(), mp.Count(), mine.seq, mine.skipped, len(mine.segs))
			}
			if mp.ServerControl == nil || !mp.ServerControl.CanBlockReload || mp.PartTargetDuration != mine.partTarget {
				t.Errorf("%s: server control %+v, part target %v", n, mp.ServerControl, mp.PartTargetDuration)
			}
			if mp.PreloadHints == nil || mp.PreloadHints.URI != mine.hint {
				t.Errorf("%s: preload hint %+v, want %s", n, mp.PreloadHints, mine.hint)
			}
			var parts int
			for _, s := range mine.segs {
				parts += len(s.parts)
			}
			if len(mp.PartialSegments) != parts+len(mine.trailing) {
				t.Errorf("%s: hls-m3u8 reads %d parts, we wrote %d", n, len(mp.PartialSegments), parts+len(mine.trailing))
			}
			for i, s := range mp.GetAllSegments() {
				if s.URI != mine.segs[i].uri || s.Duration != mine.segs[i].dur {
					t.Errorf("%s segment %d: %s %v, we wrote %s %v", n, i, s.URI, s.Duration, mine.segs[i].uri, mine.segs[i].dur)
				}
			}
		}
	}
}

// ffprobePackets returns the packets of a file: dts and size per line.
func ffprobePackets(t *testing.T, path string) [][2]int64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=dts,size", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var pk [][2]int64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		a, b, _ := strings.Cut(line, ",")
		d, err1 := strconv.ParseInt(a, 10, 64)
		s, err2 := strconv.ParseInt(b, 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("ffprobe line %q", line)
		}
		pk = append(pk, [2]int64{d, s})
	}
	return pk
}

// TestFFprobeSegments: ffprobe reads every segment with its init
// segment, and its packets are the source's samples (sizes) at the live
// timestamps, including across the loop seam.
func TestFFprobeSegments(t *testing.T) {
	requireTool(t, "ffprobe")
	o := newTestOrigin(t)
	o.to(11 * time.Second) // segments 0-4: the loop seam is at 8 s
	in, err := SampleInputs()
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]media.Demuxer{"v0": in[0].Demuxer, "v1": in[1].Demuxer, "v2": in[2].Demuxer, "a0": in[3].Demuxer}
	dir := t.TempDir()
	for name, d := range src {
		r := o.p.Rendition(name)
		tr := d.Tracks()[0]
		// Source sample sizes by content time (ticks from the start of
		// presentation), for comparison with what ffprobe reads.
		sizes := map[int64]int64{}
		zero := contentZero(tr)
		for smp, err := range media.TrackSamples(d, tr.ID) {
			if err != nil {
				t.Fatal(err)
			}
			sizes[smp.DTS] = int64(smp.Size)
		}
		c := int64(1024) * int64(tr.Timescale) / 12800 // the ladder's 80 ms B-frame delay, on every track
		loop := int64(8 * tr.Timescale)
		first := tr.StartDTS // the first sample a loop plays: audio skips its priming
		if tr.Kind == media.KindAudio {
			first = zero
		}
		// srcDTS maps a live DTS back to the source: live = src - zero + c + k·loop.
		srcDTS := func(live int64) int64 {
			v := live - c + zero - first
			k := v / loop
			return v - k*loop + first
		}
		init := o.get(name + "/init_0.mp4").body
		pl := o.playlist(t, name+"/media.m3u8")
		for _, s := range pl.segs {
			seg := o.get(name + "/" + s.uri).body
			path := filepath.Join(dir, name+"_"+s.uri+".mp4")
			if err := os.WriteFile(path, append(append([]byte(nil), init...), seg...), 0o644); err != nil {
				t.Fatal(err)
			}
			pk := ffprobePackets(t, path)
			o.p.mu.Lock()
			sg := r.find(s.msn)
			startDTS, dur := sg.StartDTS, sg.Duration
			o.p.mu.Unlock()
			var want int
			for _, p := range pk {
				if p[0] < startDTS || p[0] >= startDTS+dur {
					t.Errorf("%s %s: packet dts %d outside [%d, %d)", name, s.uri, p[0], startDTS, startDTS+dur)
				}
				if sz, ok := sizes[srcDTS(p[0])]; !ok || sz != p[1] {
					t.Errorf("%s %s: packet dts %d (source dts %d) size %d, source %d (%v)", name, s.uri, p[0], srcDTS(p[0]), p[1], sz, ok)
				}
				want++
			}
			if tr.Kind == media.KindVideo && want != 50 {
				t.Errorf("%s %s: ffprobe read %d packets, want 50 (2 s at 25 fps)", name, s.uri, want)
			}
			if want == 0 {
				t.Errorf("%s %s: ffprobe read no packets", name, s.uri)
			}
		}
	}
}

// TestMPDSchema: every MPD the origin serves during 60 s of stream (both
// addressing modes, a restart with its second Period, the ended stream)
// is valid against DASH-MPD.xsd.
func TestMPDSchema(t *testing.T) {
	requireTool(t, "xmllint")
	schema := sharedFile(t, "conformance/dash/DASH-MPD.xsd")
	o := newTestOrigin(t)
	dir := t.TempDir()
	var files []string
	save := func(tag string) {
		for _, m := range []string{"manifest.mpd", "manifest-timeline.mpd"} {
			r := o.get(m)
			if r.code != 200 {
				t.Fatalf("%s at %s: %d %s", m, tag, r.code, r.body)
			}
			if err := xml.Unmarshal(r.body, new(struct{})); err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			p := filepath.Join(dir, tag+"_"+m)
			os.WriteFile(p, r.body, 0o644)
			files = append(files, p)
		}
	}
	for sec := 1; sec <= 60; sec += 3 {
		o.to(time.Duration(sec)*time.Second + 100*time.Millisecond)
		save(fmt.Sprintf("t%02d", sec))
	}
	if err := o.p.Discontinuity(nil); err != nil {
		t.Fatal(err)
	}
	src, err := NewSampleSource(o.p, WithStartAt(o.p.NextTime()))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	src.PushUntil(o.p.NextTime() + 5*time.Second)
	save("restart")
	if !bytes.Contains(o.get("manifest.mpd").body, []byte(`<Period id="p1"`)) {
		t.Error("no second Period after the restart")
	}
	o.p.End()
	save("ended")
	args := append([]string{"--nonet", "--noout", "--schema", schema}, files...)
	out, err := exec.Command("xmllint", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
	mpd := o.get("manifest.mpd").body
	_ = mpd
}

// TestMPDLowLatency: the LL-DASH elements and attributes.
func TestMPDLowLatency(t *testing.T) {
	o := newTestOrigin(t)
	o.to(9 * time.Second)
	r := o.get("manifest.mpd")
	s := string(r.body)
	for _, want := range []string{
		`type="dynamic"`, `availabilityStartTime="2026-01-02T03:04:05.000Z"`, `publishTime="2026-01-02T03:04:14.000Z"`,
		`minimumUpdatePeriod="PT2S"`, `timeShiftBufferDepth="PT30S"`, `suggestedPresentationDelay="PT1S"`,
		`availabilityTimeOffset="1.8" availabilityTimeComplete="false"`, `<Latency referenceId="0" target="1000" min="750" max="1500"/>`,
		`<PlaybackRate min="0.96" max="1.1"/>`,
		`<ProducerReferenceTime id="0" type="encoder" wallClockTime="2026-01-02T03:04:05.080Z" presentationTime="1024">`,
		`<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="` + o.srv.URL + `/live/time"/>`,
		`media="$RepresentationID$/seg_$Number$.m4s" startNumber="0" duration="25600"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("MPD lacks %s\n%s", want, s)
		}
	}
	tl := string(o.get("manifest-timeline.mpd").body)
	if !strings.Contains(tl, `<S t="1024" d="25600"/>`) || !strings.Contains(tl, `t_$Time$.m4s`) {
		t.Errorf("timeline MPD:\n%s", tl)
	}
	// $Time$ and $Number$ name the same bytes.
	if a, b := o.get("v0/t_26624.m4s"), o.get("v0/seg_1.m4s"); a.code != 200 || !bytes.Equal(a.body, b.body) {
		t.Errorf("t_26624 (%d, %d bytes) != seg_1 (%d bytes)", a.code, len(a.body), len(b.body))
	}
	// The UTCTiming source answers with the origin's clock.
	if tm := o.get("time"); string(tm.body) != "2026-01-02T03:04:14.000Z" {
		t.Errorf("time: %s", tm.body)
	}
	// The producer reference time agrees with the PDT of the same media:
	// segment n starts at presentationTime + n·duration.
	pl := o.playlist(t, "v0/media.m3u8")
	if want := time.Date(2026, 1, 2, 3, 4, 5+2*int(pl.segs[1].msn), 80e6, time.UTC); !pl.segs[1].pdt.Equal(want) {
		t.Errorf("PDT %v, PRFT-derived %v", pl.segs[1].pdt, want)
	}
}

// goroutinesSettle waits (bounded) for the goroutine count to fall back
// to at most base.
func goroutinesSettle(t *testing.T, base int) {
	t.Helper()
	n := runtime.NumGoroutine()
	for i := 0; i < 200 && n > base; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > base {
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines left, started with %d\n%s", n, base, buf)
	}
}

// TestHoldLeak: clients that disconnect while held leave nothing
// running: no handler goroutine, no fake-clock timer.
func TestHoldLeak(t *testing.T) {
	o := newTestOrigin(t)
	o.to(5 * time.Second)
	http.DefaultClient.CloseIdleConnections()
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	const n = 50
	var chs []<-chan response
	for i := 0; i < n; i++ {
		q := []string{"v0/media.m3u8?_HLS_msn=3", "a0/media.m3u8?_HLS_msn=2&_HLS_part=7", "v1/seg_3.m4s", "v2/part_2_4.m4s"}[i%4]
		chs = append(chs, o.async(ctx, q))
	}
	o.parked(t, n)
	cancel()
	for _, ch := range chs {
		<-ch
	}
	http.DefaultClient.CloseIdleConnections()
	goroutinesSettle(t, base)
	for i := 0; i < 200 && o.clock.Timers() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if k := o.clock.Timers(); k != 0 {
		t.Errorf("%d hold timers left", k)
	}
}

// TestServe: the server speaks HTTP/1.1 and h2c on one port, and a
// graceful shutdown releases held requests and returns.
func TestServe(t *testing.T) {
	s := newTestStream(t)
	s.to(5 * time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, NewOrigin(s.p), s.p, WithMaxConns(8)) }()
	url := "http://" + ln.Addr().String() + "/live/v0/media.m3u8"
	h1 := &http.Client{Transport: &http.Transport{}}
	resp, err := h1.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/1.1" || resp.StatusCode != 200 {
		t.Errorf("HTTP/1.1: %s %d", resp.Proto, resp.StatusCode)
	}
	protos := new(http.Protocols)
	protos.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{Protocols: protos}}
	resp, err = h2.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
		t.Errorf("h2c: %s %d", resp.Proto, resp.StatusCode)
	}
	// A held request, then shutdown: the request is released (503) and
	// Serve returns nil.
	held := make(chan int, 1)
	go func() {
		resp, err := h2.Get(url + "?_HLS_msn=3")
		if err != nil {
			held <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	stop := make(chan struct{})
	timer := time.AfterFunc(20*time.Second, func() { close(stop) })
	defer timer.Stop()
	if !s.clock.WaitTimers(1, stop) {
		t.Fatal("request never held")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if code := <-held; code != http.StatusServiceUnavailable {
		t.Errorf("held request at shutdown: %d, want 503", code)
	}
	h1.CloseIdleConnections()
	h2.CloseIdleConnections()
	goroutinesSettle(t, base)
	_ = tls.VersionTLS13
}
