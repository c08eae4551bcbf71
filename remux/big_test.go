package remux

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// loopDemuxer makes a long, high-bit-rate input out of a small fixture:
// it repeats the source's samples n times (timestamps continuing) and pads
// every video sample to at least pad bytes with an H.264 filler-data NAL
// unit (type 12), which decoders skip. The result is a valid stream of any
// size without storing it anywhere.
type loopDemuxer struct {
	src     media.Demuxer
	n       int
	pad     int
	tracks  []*media.Track
	samples map[int][]media.Sample // per source track, in decode order
	period  map[int]int64
	video   map[int]bool
	order   []media.Sample // source file order
	buf     []byte
}

func newLoopDemuxer(t testing.TB, file string, n, pad int) *loopDemuxer {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src, err := media.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	l := &loopDemuxer{src: src, n: n, pad: pad, samples: map[int][]media.Sample{}, period: map[int]int64{}, video: map[int]bool{}}
	for _, tr := range src.Tracks() {
		c := *tr
		c.Edits, c.SampleCount, c.Bytes, c.Duration = nil, -1, -1, 0
		l.tracks = append(l.tracks, &c)
		l.video[tr.ID] = tr.Kind == media.KindVideo
	}
	for s, err := range src.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		s.Data = nil
		l.samples[s.TrackID] = append(l.samples[s.TrackID], s)
		l.order = append(l.order, s)
	}
	for id, ss := range l.samples {
		last := ss[len(ss)-1]
		l.period[id] = last.DTS + int64(last.Duration) - ss[0].DTS
	}
	return l
}

func (l *loopDemuxer) Format() string         { return "mp4" }
func (l *loopDemuxer) Tracks() []*media.Track { return l.tracks }

func (l *loopDemuxer) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		per := map[int]int64{}
		for id, ss := range l.samples {
			per[id] = int64(len(ss))
		}
		var off int64
		for k := range l.n {
			for _, s := range l.order {
				s.DTS += int64(k) * l.period[s.TrackID]
				s.PTS += int64(k) * l.period[s.TrackID]
				s.Index += int64(k) * per[s.TrackID]
				if l.video[s.TrackID] && int(s.Size) < l.pad {
					s.Size = uint32(l.pad)
				}
				s.Offset, s.Pos = off, off
				off += int64(s.Size)
				if !yield(s, nil) {
					return
				}
			}
		}
	}
}

func (l *loopDemuxer) ReadSample(s *media.Sample, buf []byte) ([]byte, error) {
	ss := l.samples[s.TrackID]
	orig := ss[s.Index%int64(len(ss))]
	p, err := l.src.ReadSample(&orig, l.buf)
	if err != nil {
		return nil, err
	}
	l.buf = p
	buf = append(buf[:0], p...)
	if extra := int(s.Size) - len(p); extra > 0 {
		// filler NAL: 4-byte length, header 0x0C, 0xFF..., rbsp trailing 0x80
		n := extra - 4
		buf = binary.BigEndian.AppendUint32(buf, uint32(n))
		buf = append(buf, 0x0c)
		for range n - 2 {
			buf = append(buf, 0xff)
		}
		buf = append(buf, 0x80)
	}
	return buf, nil
}

// TestLoopDemuxer checks the synthetic input on a few loops: ffprobe
// (when installed) must read it without errors and count every sample.
func TestLoopDemuxer(t *testing.T) {
	l := newLoopDemuxer(t, filepath.Join(fixtures, "h264_nob.mp4"), 3, 20000)
	out := filepath.Join(t.TempDir(), "loop.mp4")
	if err := atomicFile(context.Background(), out, func(w io.Writer) error { return mp4.WriteProgressive(context.Background(), w, l) }); err != nil {
		t.Fatal(err)
	}
	got := readerPackets(t, out)
	if len(got) != 2 || len(got[0]) != 3*50 || len(got[1]) != 3*len(l.samples[2]) {
		t.Fatalf("streams %d, packets %d/%d", len(got), len(got[0]), len(got[1]))
	}
	if got[0][60].size != 20000 {
		t.Errorf("video sample size %d, want the padded 20000", got[0][60].size)
	}
	if ffmpeg := tool(t, "ffmpeg"); ffmpeg != "" {
		msg, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", out, "-f", "null", "-").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(msg)) > 0 {
			t.Errorf("ffmpeg decode: %v %s", err, msg)
		}
	}
}

// TestBigRemux remuxes a multi-gigabyte input (4.3 GiB by default,
// STREAMKIT_BIG_GB to change) with the streamkit binary and checks that
// peak RSS stays within 64 MiB for faststart, MP4 -> TS, MP4 -> fMP4 and
// MP4 -> MP4. With ffmpeg installed it runs "ffmpeg -c copy" on the same
// files in the same run and logs throughput and ratios (the figures in
// BENCHMARKS.md). It needs STREAMKIT_BIG=1 (it writes about 25 GB and takes
// minutes); STREAMKIT_BIG_DIR picks the scratch directory.
func TestBigRemux(t *testing.T) {
	if os.Getenv("STREAMKIT_BIG") != "1" {
		t.Skip("set STREAMKIT_BIG=1 to remux a multi-GB file (minutes, ~25 GB of scratch)")
	}
	dir := os.Getenv("STREAMKIT_BIG_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else {
		var err error
		if dir, err = os.MkdirTemp(dir, "streamkit-big-"); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	gb := 4.3
	if v, err := strconv.ParseFloat(os.Getenv("STREAMKIT_BIG_GB"), 64); err == nil && v > 0 {
		gb = v
	}
	// h264_nob.mp4: 2 s of 320x180 H.264 + AAC; video padded to 250 kB
	// per frame (50 Mb/s at 25 fps): 2 s is about 12.5 MB.
	const pad = 250000
	loops := int(gb * (1 << 30) / (50*pad + 48000))
	l := newLoopDemuxer(t, filepath.Join(fixtures, "h264_nob.mp4"), loops, pad)
	late := filepath.Join(dir, "big_moovend.mp4")
	t0 := time.Now()
	if err := atomicFile(context.Background(), late, func(w io.Writer) error {
		return mp4.WriteProgressive(context.Background(), w, l, mp4.WithMoovAtEnd())
	}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(late)
	t.Logf("input: %s, %.2f GiB (%d loops of h264_nob.mp4, video padded to %d B/frame), made in %v", late, float64(st.Size())/(1<<30), loops, pad, time.Since(t0).Round(time.Second))

	// "streamkit remux" is remux.Remux behind flag parsing: the test runs
	// it in a child process (this test binary, TestRemuxHelper) so that
	// the child's peak RSS is the remux alone.
	bin := os.Args[0]
	ffmpeg := tool(t, "ffmpeg")
	fast := filepath.Join(dir, "big.mp4")
	type op struct {
		name     string
		ours     []string
		peer     []string
		out, chk string
	}
	ops := []op{
		{"faststart", []string{"--faststart", late, fast}, []string{"-i", late, "-map", "0", "-c", "copy", "-movflags", "+faststart", "-y", filepath.Join(dir, "peer_fast.mp4")}, fast, ""},
		{"MP4->TS", []string{fast, filepath.Join(dir, "out.ts")}, []string{"-i", fast, "-map", "0", "-c", "copy", "-f", "mpegts", "-y", filepath.Join(dir, "peer.ts")}, filepath.Join(dir, "out.ts"), "peer.ts"},
		{"MP4->fMP4", []string{"--to=fmp4", fast, filepath.Join(dir, "out_frag.mp4")}, []string{"-i", fast, "-map", "0", "-c", "copy", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-y", filepath.Join(dir, "peer_frag.mp4")}, filepath.Join(dir, "out_frag.mp4"), "peer_frag.mp4"},
		{"MP4->MP4", []string{fast, filepath.Join(dir, "out.mp4")}, []string{"-i", fast, "-map", "0", "-c", "copy", "-movflags", "+faststart", "-y", filepath.Join(dir, "peer.mp4")}, filepath.Join(dir, "out.mp4"), "peer.mp4"},
	}
	runs := 3
	if v, err := strconv.Atoi(os.Getenv("STREAMKIT_BIG_RUNS")); err == nil && v > 0 {
		runs = v
	}
	report := []string{fmt.Sprintf("input %.2f GiB, median of %d runs each", float64(st.Size())/(1<<30), runs),
		"| task | streamkit | peak RSS | ffmpeg -c copy | peak RSS | ratio | cp of the input | streamkit / cp |", "|---|---|---|---|---|---|---|---|"}
	cpBin, _ := exec.LookPath("cp")
	for _, o := range ops {
		in := fast
		if o.name == "faststart" {
			in = late
		}
		ist, _ := os.Stat(in)
		mb := float64(ist.Size()) / 1e6
		var ours, peers, cps []time.Duration
		var rss, prss int64
		for k := range runs {
			// Alternate who goes first, and start each run with no dirty
			// pages from the previous one being written back.
			for _, peerFirst := range []bool{k%2 == 1, k%2 == 0} {
				syscall.Sync()
				if !peerFirst {
					el, r := run(t, bin, append([]string{"-test.run=^TestRemuxHelper$", "--"}, o.ours...)...)
					ours, rss = append(ours, el), max(rss, r)
				} else if ffmpeg != "" {
					pel, pr := run(t, ffmpeg, append([]string{"-v", "error", "-nostdin"}, o.peer...)...)
					peers, prss = append(peers, pel), max(prss, pr)
				}
			}
			if cpBin != "" {
				// cp of the same bytes: the floor for moving them.
				syscall.Sync()
				cel, _ := run(t, cpBin, in, filepath.Join(dir, "cp.bin"))
				cps = append(cps, cel)
				os.Remove(filepath.Join(dir, "cp.bin"))
			}
		}
		if rss > 64<<20 {
			t.Errorf("%s: peak RSS %.1f MiB, over the 64 MiB budget", o.name, float64(rss)/(1<<20))
		}
		el := median(ours)
		line := fmt.Sprintf("| %s | %.0f MB/s (%.1f s) | %.1f MiB |", o.name, mb/el.Seconds(), el.Seconds(), float64(rss)/(1<<20))
		if ffmpeg != "" {
			pel := median(peers)
			line += fmt.Sprintf(" %.0f MB/s (%.1f s) | %.1f MiB | %.2fx |", mb/pel.Seconds(), pel.Seconds(), float64(prss)/(1<<20), pel.Seconds()/el.Seconds())
		} else {
			line += " | | |"
		}
		if len(cps) > 0 {
			c := median(cps)
			line += fmt.Sprintf(" %.1f s | %.2f |", c.Seconds(), el.Seconds()/c.Seconds())
		}
		if o.chk != "" {
			os.Remove(filepath.Join(dir, o.chk))
		}
		report = append(report, line)
		if o.out != fast {
			checkCount(t, in, o.out)
			os.Remove(o.out)
		}
	}
	os.Remove(filepath.Join(dir, "peer_fast.mp4"))
	t.Logf("%s, %d CPUs, %s\n%s", runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), cpuModel(), strings.Join(report, "\n"))
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestRemuxHelper is the child process of TestBigRemux: with
// STREAMKIT_REMUX_HELPER=1 it runs Remux on the arguments after "--"
// ([--faststart] [--to=F] IN OUT), like "streamkit remux".
func TestRemuxHelper(t *testing.T) {
	if os.Getenv("STREAMKIT_REMUX_HELPER") != "1" {
		t.Skip("child process of TestBigRemux")
	}
	var args []string
	for i, a := range os.Args {
		if a == "--" {
			args = os.Args[i+1:]
		}
	}
	var opts []Option
	var files []string
	for _, a := range args {
		switch {
		case a == "--faststart":
			opts = append(opts, WithFaststart(), To(MP4))
		case strings.HasPrefix(a, "--to="):
			f, err := ParseFormat(strings.TrimPrefix(a, "--to="))
			if err != nil {
				t.Fatal(err)
			}
			opts = append(opts, To(f))
		default:
			files = append(files, a)
		}
	}
	if len(files) != 2 {
		t.Fatalf("want IN OUT, got %q", args)
	}
	debug.SetMemoryLimit(40 << 20) // as streamkit remux does
	if err := Remux(context.Background(), files[0], files[1], opts...); err != nil {
		t.Fatal(err)
	}
}

// run runs a command and returns its wall time and peak RSS (bytes).
func run(t *testing.T, name string, args ...string) (time.Duration, int64) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "STREAMKIT_REMUX_HELPER=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
	}
	el := time.Since(t0)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return el, rss
}

// checkCount compares packet counts per stream of two files with ffprobe
// (when installed), else with our readers.
func checkCount(t *testing.T, a, b string) {
	t.Helper()
	count := func(f string) string {
		if p := tool(t, "ffprobe"); p != "" {
			out, err := exec.Command(p, "-v", "error", "-count_packets", "-show_entries", "stream=codec_type,nb_read_packets", "-of", "csv=p=0", f).Output()
			if err != nil {
				t.Fatalf("ffprobe %s: %v", f, err)
			}
			// MPEG-TS lists the streams twice (under the program and
			// on their own): keep the last block.
			blocks := strings.Split(strings.TrimSpace(string(out)), "\n\n")
			return strings.TrimSpace(blocks[len(blocks)-1])
		}
		var s []string
		for _, ps := range readerPackets(t, f) {
			s = append(s, fmt.Sprintf("%s,%d", ps[0].typ, len(ps)))
		}
		return strings.Join(s, "\n")
	}
	if ca, cb := count(a), count(b); ca != cb {
		t.Errorf("%s: packets %q, input %q", filepath.Base(b), cb, ca)
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.Index(l, ":"); i >= 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return "unknown CPU"
}
