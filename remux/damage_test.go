package remux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/probe"
)

// TestDamagedConformance is issue 20's acceptance test for damaged input:
// every fixture and every file of ../shared/media is cut at 10 offsets
// (size·k/11, k = 1…10), and on each cut file probe, the frame analysis
// and Remux must do what ffprobe and ffmpeg -c copy do on the same file:
//
//   - where ffprobe refuses the file (an MP4 cut before its moov, inside
//     a moov box libavformat cannot finish, or inside a moof's trun)
//     probe fails too; otherwise it succeeds, reports the damage as a warning
//     and gives the same streams (codec_type, codec_name, width, height,
//     sample_rate, channels);
//   - our reader's audio/video packets equal ffprobe -show_packets's up to
//     the cut: per stream at most one packet more or fewer (the one the
//     cut falls in), and every packet before the last common one equal in
//     PTS, DTS, size and key flag; the last common one in PTS and DTS;
//   - the frame analysis reads every video packet without failing;
//   - Remux to MP4 succeeds where ffmpeg -c copy does, and ffprobe lists
//     the same packets in its output as in ffmpeg's (count per stream
//     within one; key flags, and sizes for MP4 input, equal before the
//     last one).
//
// Runtime: a cut file costs one ffprobe run, four when it is also
// remuxed: the fixtures are remuxed at 3 of their 10 cuts, each shared
// file at one (rotating over the offsets). -short runs the fixtures at 3
// offsets only.
func TestDamagedConformance(t *testing.T) {
	ffprobe, ffmpeg := tool(t, "ffprobe"), tool(t, "ffmpeg")
	if ffprobe == "" || ffmpeg == "" {
		t.Skip("ffprobe and ffmpeg not installed (set STREAMKIT_REQUIRE_TOOLS=1 to fail instead)")
	}
	type input struct {
		path   string
		shared bool
		n      int // position in the full list: picks the remuxed cut
	}
	var inputs []input
	for _, fx := range listFixtures(t) {
		inputs = append(inputs, input{path: filepath.Join(fixtures, fx.name)})
	}
	shared := "../../shared/media"
	if s := os.Getenv("STREAMKIT_SHARED_MEDIA"); s != "" {
		shared = s // a worktree whose ../shared is elsewhere
	}
	if _, err := os.Stat(shared); err != nil {
		t.Logf("../shared/media not found: only the fixtures are cut (%v)", err)
	} else if !testing.Short() {
		err := filepath.WalkDir(shared, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".mp4", ".m4a", ".m4v", ".mov", ".ts", ".m2ts", ".mts", ".cmfv", ".cmfa":
				inputs = append(inputs, input{path: p, shared: true})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// STREAMKIT_DAMAGE_ONLY=sub[,sub…] keeps the inputs whose path
	// contains one of them (while working on a few files; the full run is
	// the acceptance).
	if only := os.Getenv("STREAMKIT_DAMAGE_ONLY"); only != "" {
		var keep []input
		for i, in := range inputs {
			in.n = i
			for _, sub := range strings.Split(only, ",") {
				if sub != "" && strings.Contains(in.path, sub) {
					keep = append(keep, in)
					break
				}
			}
		}
		inputs = keep
	} else {
		for i := range inputs {
			inputs[i].n = i
		}
	}
	ks := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if testing.Short() {
		ks = []int{2, 5, 8}
	}
	type job struct {
		in    input
		k     int
		name  string
		file  string
		dir   string
		res   []string // failures
		remux bool
	}
	var jobs []*job
	tmp := t.TempDir()
	for i, in := range inputs {
		st, err := os.Stat(in.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range ks {
			cut := st.Size() * int64(k) / 11
			// Remux costs three tool runs more: fixtures are remuxed at
			// three of their cuts, shared files at one, rotating over the
			// offsets from file to file.
			remux := (!in.shared && k%3 == 2) || (in.shared && k == in.n%10+1)
			j := &job{in: in, k: k, remux: remux, name: fmt.Sprintf("%s@%d", filepath.Base(in.path), cut)}
			j.dir = filepath.Join(tmp, fmt.Sprint(i, "_", k))
			j.file = filepath.Join(j.dir, "cut"+filepath.Ext(in.path))
			jobs = append(jobs, j)
		}
	}
	var wg sync.WaitGroup
	queue := make(chan *job)
	for range max(2, runtime.GOMAXPROCS(0)*2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				j.res = damagedCase(ffprobe, ffmpeg, j.in.path, j.dir, j.file, j.k, !j.remux)
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	// Every difference fails: the last known ones (a PES starting inside
	// an AC-3 frame, E-AC-3 frames too few for one MP4 sample) are read
	// and written as libavformat does now.
	failed := 0
	for _, j := range jobs {
		if len(j.res) == 0 {
			continue
		}
		failed++
		if failed <= 40 {
			t.Errorf("%s (k=%d):\n\t%s", j.name, j.k, strings.Join(j.res, "\n\t"))
		}
	}
	if failed > 40 {
		t.Errorf("%d of %d cut files differ in all", failed, len(jobs))
	}
	t.Logf("%d inputs, %d cut files", len(inputs), len(jobs))
}

// damagedCase cuts src to size·k/11 into file and checks it; it returns
// what differs from ffprobe/ffmpeg.
func damagedCase(ffprobe, ffmpeg, src, dir, file string, k int, skipRemux bool) (fails []string) {
	fail := func(f string, a ...any) { fails = append(fails, fmt.Sprintf(f, a...)) }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return []string{err.Error()}
	}
	defer os.RemoveAll(dir)
	b, err := os.ReadFile(src)
	if err != nil {
		return []string{err.Error()}
	}
	b = b[:int64(len(b))*int64(k)/11]
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return []string{err.Error()}
	}

	// ffprobe: streams and packets in one run.
	ref, ferr := ffprobeDamaged(ffprobe, file)
	res, perr := probe.File(context.Background(), file)
	if ferr != nil {
		if perr == nil {
			fail("ffprobe refuses the file (%v) but probe reads it", ferr)
		}
		return fails
	}
	if perr != nil {
		fail("probe: %v (ffprobe reads it)", perr)
		return fails
	}
	// A TS cut on a packet boundary can be a valid shorter stream (a
	// capture that stopped there): it needs no warning.
	boundary := res.Format.Container == "mpegts" && len(b)%188 == 0
	if len(res.Warnings) == 0 && !boundary {
		fail("probe reports no warning for the cut")
	}
	// Streams: every stream ffprobe lists, by index.
	ours := map[int]probe.Stream{}
	for _, s := range res.Streams {
		ours[s.Index] = s
	}
	for _, s := range ref.Streams {
		o, ok := ours[s.Index]
		if !ok {
			fail("stream %d (%s %s) missing", s.Index, s.CodecType, s.CodecName)
			continue
		}
		if (s.CodecType != "" && o.CodecType != s.CodecType) || (s.CodecName != "" && o.CodecName != s.CodecName) {
			fail("stream %d: %s %s, ffprobe %s %s", s.Index, o.CodecType, o.CodecName, s.CodecType, s.CodecName)
		}
		if s.Width > 0 && (o.Width != s.Width || o.Height != s.Height) {
			fail("stream %d: %dx%d, ffprobe %dx%d", s.Index, o.Width, o.Height, s.Width, s.Height)
		}
		if s.SampleRate != "" && s.SampleRate != "0" && fmt.Sprint(o.SampleRate) != s.SampleRate {
			fail("stream %d: sample_rate %d, ffprobe %s", s.Index, o.SampleRate, s.SampleRate)
		}
		if s.Channels > 0 && o.Channels != s.Channels {
			fail("stream %d: channels %d, ffprobe %d", s.Index, o.Channels, s.Channels)
		}
	}

	// Packets up to the cut.
	got, gotIdx, frames, rerr := damagedReaderPackets(file)
	if rerr != nil {
		fail("reading samples: %v", rerr)
		return fails
	}
	// A stream ffprobe lists without a codec_type is one libavformat has
	// not identified (ffmpeg 5.1 on sample_latm.ts cut inside its first
	// LATM frame: PMT type 0x11, but "unknown" until its parser has
	// a complete frame); its packets carry no codec_type and are not in
	// ffprobe's list. We keep the PMT's aac_latm and what the
	// StreamMuxConfig says, so that stream's packets have nothing to be
	// compared with.
	unidentified := map[int]bool{}
	for _, s := range ref.Streams {
		if s.CodecType == "" || s.CodecType == "unknown" {
			unidentified[s.Index] = true
		}
	}
	for i := len(got) - 1; i >= 0; i-- {
		if unidentified[gotIdx[i]] {
			got = append(got[:i], got[i+1:]...)
		}
	}
	for _, m := range comparePrefix(streams(ref.Packets), got, true, true) {
		fail("packets: %s", m)
	}
	if frames >= 0 {
		var nv int
		for _, s := range got {
			if len(s) > 0 && s[0].typ == "video" {
				nv = len(s)
				break
			}
		}
		if frames != nv {
			fail("frames: %d frames, %d video packets", frames, nv)
		}
	}
	if skipRemux {
		return fails
	}

	// Remux against ffmpeg -c copy, both to MP4.
	ffOut := filepath.Join(dir, "ffmpeg.mp4")
	ffErr := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", file, "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-y", ffOut).Run()
	ourOut := filepath.Join(dir, "ours.mp4")
	var warned []media.Warning
	ourErr := Remux(context.Background(), file, ourOut, To(MP4), WithWarnings(func(ws []media.Warning) { warned = ws }))
	if ffErr != nil {
		// ffmpeg gives up too (a cut H.264 sample fails its Annex B
		// filter): nothing to compare, but no panic and a clean result.
		if ourErr == nil {
			if _, err := os.Stat(ourOut); err != nil {
				fail("remux succeeded but wrote nothing: %v", err)
			}
		}
		return fails
	}
	if errors.Is(ourErr, ErrNothingToWrite) {
		// Refused where ffmpeg -c copy writes an MP4 without a packet
		// (nothingToWrite): one line, and ffmpeg's output must be empty.
		if strings.Contains(ourErr.Error(), "\n") {
			fail("refusal is not one line: %q", ourErr)
		}
		want, err := ffprobePacketsErr(ffprobe, ffOut)
		if err != nil {
			fail("%v", err)
			return fails
		}
		for _, s := range want {
			if len(s) > 0 {
				fail("remux refuses (%v) but ffmpeg -c copy writes %d packets", ourErr, len(s))
				break
			}
		}
		return fails
	}
	if ourErr != nil {
		// A codec the MP4 writer has no sample entry for (MPEG-2 and
		// MPEG-4 Part 2 video) fails on the whole file too: not damage.
		whole := filepath.Join(dir, "whole.mp4")
		if err := Remux(context.Background(), src, whole, To(MP4)); err != nil {
			return fails
		}
		fail("remux: %v (ffmpeg -c copy succeeds)", ourErr)
		return fails
	}
	if len(warned) == 0 && !boundary {
		fail("remux reports no warning for the cut")
	}
	want, err := ffprobePacketsErr(ffprobe, ffOut)
	if err != nil {
		fail("%v", err)
		return fails
	}
	have, err := ffprobePacketsErr(ffprobe, ourOut)
	if err != nil {
		fail("%v", err)
		return fails
	}
	// ffmpeg's -map 0:v? -map 0:a? puts every video stream first.
	byKind := func(ss [][]pkt) {
		sort.SliceStable(ss, func(i, j int) bool { return len(ss[i]) > 0 && len(ss[j]) > 0 && ss[i][0].typ > ss[j][0].typ })
	}
	byKind(want)
	byKind(have)
	// Annex B to length-prefixed video: the writers differ in the AUDs
	// and parameter sets they keep, so video sizes are compared for MP4
	// input only.
	videoSizes := !strings.HasSuffix(strings.ToLower(src), ".ts")
	// Both MP4 writers keep AC-3/E-AC-3 as movenc.c does (mp4's
	// eac3Grouper: six-block samples, no incomplete last group, payloads
	// without a syncframe dropped at the start), so the lists compare
	// as they are.
	for _, m := range comparePrefix(want, have, false, videoSizes) {
		fail("remux packets: %s", m)
	}
	return fails
}

type damagedDoc struct {
	Streams []struct {
		Index      int    `json:"index"`
		CodecType  string `json:"codec_type"`
		CodecName  string `json:"codec_name"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
	} `json:"streams"`
	Packets []packet `json:"packets"`
}

func ffprobeDamaged(ffprobe, file string) (*damagedDoc, error) {
	cmd := exec.Command(ffprobe, "-v", "error", "-show_streams", "-show_packets", "-show_entries",
		"stream=index,codec_type,codec_name,width,height,sample_rate,channels:packet=codec_type,stream_index,pts_time,dts_time,size,flags",
		"-of", "json", file)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ffprobe: %w", err)
	}
	var doc damagedDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// damagedReaderPackets is readerPackets for a damaged file: errors are
// returned, not fatal; frames is the number of frames the frame analysis
// gives for the first video track (-1 without one); index holds the
// stream index of each list in out.
func damagedReaderPackets(file string) (out [][]pkt, index []int, frames int, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, -1, err
	}
	defer f.Close()
	st, _ := f.Stat()
	d, err := media.Open(f, st.Size())
	if err != nil {
		return nil, nil, -1, err
	}
	idx := map[int]int{}
	shift := map[int]int64{}
	ffts := map[int]func(*media.Sample) (int64, int64, bool){}
	scale := map[int]float64{}
	kind := map[int]string{}
	frames = -1
	for pos, tr := range d.Tracks() {
		if tr.Kind != media.KindAudio && tr.Kind != media.KindVideo {
			continue
		}
		idx[tr.ID] = len(out)
		out = append(out, nil)
		index = append(index, tr.Index)
		scale[tr.ID] = float64(tr.Timescale)
		kind[tr.ID] = tr.Kind.String()
		if d.Format() == "mp4" {
			shift[tr.ID] = mp4.EditShift(tr)
			// The timestamps probe --show-packets gives: libavformat's
			// edit-list re-indexing, which a plain EditShift misses when
			// the cut leaves fewer samples than the B-frame delay spans.
			if r, ok := d.(*mp4.Reader); ok {
				ffts[tr.ID] = r.FFprobeTimestamps(pos)
			}
		}
		// A video stream libavformat keeps from a trak the cut falls in
		// before its stsd has no codec and no samples: nothing to
		// analyse.
		if tr.Kind == media.KindVideo && frames < 0 && tr.Codec != media.CodecUnknown {
			var opts []gop.Option
			opts = append(opts, gop.WithKeepErrors())
			if r, ok := d.(*mp4.Reader); ok {
				opts = append(opts, gop.WithTimestamps(r.FFprobeTimestamps(pos)))
			}
			fr, err := gop.ReadFrames(context.Background(), d, tr, opts...)
			var fe *gop.FrameError
			if err != nil && !errors.As(err, &fe) {
				return nil, nil, -1, fmt.Errorf("frames: %w", err)
			}
			frames = len(fr)
		}
	}
	for s, err := range d.Samples() {
		if err != nil {
			return nil, nil, -1, err
		}
		i, ok := idx[s.TrackID]
		if !ok {
			continue
		}
		sc := scale[s.TrackID]
		pts, dts := s.PTS+shift[s.TrackID], s.DTS+shift[s.TrackID]
		if f := ffts[s.TrackID]; f != nil {
			// Packets marked for discard are listed too (flag D).
			pts, dts, _ = f(&s)
		}
		out[i] = append(out[i], pkt{typ: kind[s.TrackID], pts: float64(pts) / sc,
			dts: float64(dts) / sc, hasPTS: true, size: int(s.Size), key: s.Sync})
	}
	return out, index, frames, nil
}

// comparePrefix compares two packet lists of a cut file stream by stream:
// counts within one, packets before the last common one equal (PTS and
// DTS only when times is set, video sizes only when videoSizes is), the
// last common one in PTS and DTS.
func comparePrefix(want, got [][]pkt, times, videoSizes bool) []string {
	var msgs []string
	if len(want) != len(got) {
		// A stream ffprobe lists without packets is not in want.
		nonEmpty := 0
		for _, s := range got {
			if len(s) > 0 {
				nonEmpty++
			}
		}
		if nonEmpty != len(want) {
			return []string{fmt.Sprintf("%d audio/video streams with packets, want %d", nonEmpty, len(want))}
		}
		var g [][]pkt
		for _, s := range got {
			if len(s) > 0 {
				g = append(g, s)
			}
		}
		got = g
	}
	for si := range want {
		a, b := want[si], got[si]
		if d := len(b) - len(a); d > 1 || d < -1 {
			msgs = append(msgs, fmt.Sprintf("stream %d: %d packets, want %d", si, len(b), len(a)))
			continue
		}
		n := min(len(a), len(b))
		bad := 0
		for i := 0; i < n; i++ {
			p, q := a[i], b[i]
			var m []string
			last := i == n-1
			if times {
				// ffprobe prints 6 decimals.
				if math.Abs(p.dts-q.dts) > 1.2e-5 {
					m = append(m, fmt.Sprintf("dts %.6f want %.6f", q.dts, p.dts))
				}
				if p.hasPTS && math.Abs(p.pts-q.pts) > 1.2e-5 {
					m = append(m, fmt.Sprintf("pts %.6f want %.6f", q.pts, p.pts))
				}
			}
			if !last {
				if p.size != q.size && (videoSizes || p.typ != "video") {
					m = append(m, fmt.Sprintf("size %d want %d", q.size, p.size))
				}
				if p.key != q.key {
					m = append(m, fmt.Sprintf("key %v want %v", q.key, p.key))
				}
			}
			if len(m) > 0 {
				if bad++; bad <= 2 {
					msgs = append(msgs, fmt.Sprintf("stream %d packet %d/%d: %s", si, i, n, strings.Join(m, ", ")))
				}
			}
		}
		if bad > 2 {
			msgs = append(msgs, fmt.Sprintf("stream %d: %d packets differ", si, bad))
		}
	}
	sort.Strings(msgs)
	return msgs
}
