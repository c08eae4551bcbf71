package remux

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/ts"
)

// The conformance test remuxes every fixture of testdata/media into every
// output form and checks that ffprobe -show_packets lists the same packets
// as the committed reference for the input: per stream, the same count,
// key flags, sizes (where the payload form does not change) and PTS/DTS
// in seconds — exactly between MP4 forms, and with one constant offset
// across all streams when MPEG-TS is on either side (the TS writer adds
// ts.DefaultTimeOffset; the MP4 writer makes the smallest TS PTS zero).
// With ffprobe installed the output is probed live (and decoded with
// ffmpeg -v error -f null, which must print nothing); without it, our own
// readers' view of the output is compared (STREAMKIT_REQUIRE_TOOLS=1 makes
// a missing tool a failure).

const fixtures = "../testdata/media"

type packet struct {
	Type  string `json:"codec_type"`
	Index int    `json:"stream_index"`
	PTS   string `json:"pts_time"`
	DTS   string `json:"dts_time"`
	Size  string `json:"size"`
	Flags string `json:"flags"`
}

type pkt struct {
	typ      string
	pts, dts float64
	hasPTS   bool
	size     int
	key      bool
}

// streams groups packets by stream, keeping only audio and video and
// renumbering streams in index order (the writers drop data streams).
func streams(ps []packet) [][]pkt {
	byIdx := map[int][]pkt{}
	for _, p := range ps {
		if p.Type != "audio" && p.Type != "video" {
			continue
		}
		q := pkt{typ: p.Type, key: strings.HasPrefix(p.Flags, "K")}
		if v, err := strconv.ParseFloat(p.PTS, 64); err == nil {
			q.pts, q.hasPTS = v, true
		}
		if v, err := strconv.ParseFloat(p.DTS, 64); err == nil {
			q.dts = v
		} else {
			q.dts = q.pts
		}
		q.size, _ = strconv.Atoi(p.Size)
		byIdx[p.Index] = append(byIdx[p.Index], q)
	}
	keys := make([]int, 0, len(byIdx))
	for k := range byIdx {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	out := make([][]pkt, len(keys))
	for i, k := range keys {
		out[i] = byIdx[k]
	}
	return out
}

func loadRef(t *testing.T, name string) [][]pkt {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name+".packets.json"))
	if err != nil {
		t.Fatalf("reference: %v", err)
	}
	var doc struct{ Packets []packet }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("reference %s: %v", name, err)
	}
	return streams(doc.Packets)
}

// tool returns the path of an external tool, or "" (failing the test when
// STREAMKIT_REQUIRE_TOOLS=1).
func tool(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		if testtool.Required() {
			t.Fatalf("%s not installed and STREAMKIT_REQUIRE_TOOLS=1", name)
		}
		return ""
	}
	return p
}

// readerPackets is our readers' view of a file in ffprobe's terms.
func readerPackets(t *testing.T, file string) [][]pkt {
	t.Helper()
	d, closeFn := open(t, file)
	defer closeFn()
	idx := map[int]int{}
	var out [][]pkt
	shift := map[int]int64{}
	for _, tr := range d.Tracks() {
		if tr.Kind != media.KindAudio && tr.Kind != media.KindVideo {
			continue
		}
		idx[tr.ID] = len(out)
		out = append(out, nil)
		if d.Format() == "mp4" {
			shift[tr.ID] = mp4.EditShift(tr)
		}
	}
	ts := map[int]float64{}
	kind := map[int]string{}
	for _, tr := range d.Tracks() {
		ts[tr.ID] = float64(tr.Timescale)
		kind[tr.ID] = tr.Kind.String()
	}
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatalf("reading %s: %v", file, err)
		}
		i, ok := idx[s.TrackID]
		if !ok {
			continue
		}
		sc := ts[s.TrackID]
		out[i] = append(out[i], pkt{typ: kind[s.TrackID], pts: float64(s.PTS+shift[s.TrackID]) / sc, dts: float64(s.DTS+shift[s.TrackID]) / sc,
			hasPTS: true, size: int(s.Size), key: s.Sync})
	}
	return out
}

func open(t testing.TB, file string) (media.Demuxer, func()) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	d, err := media.Open(f, st.Size())
	if err != nil {
		f.Close()
		t.Fatalf("open %s: %v", file, err)
	}
	return d, func() { f.Close() }
}

// sizeRule says how a packet size must relate between input and output.
type sizeRule int

const (
	sizeEqual     sizeRule = iota
	sizeAny                // video through Annex B: start codes, AUD, parameter sets change it
	sizePlusADTS           // raw AAC into TS: +7 bytes of ADTS header
	sizeMinusADTS          // ADTS AAC out of TS
)

// compare checks out against in; tsSide says whether MPEG-TS is on either
// side (timestamps then differ by one constant, sizes by the rules).
func compare(t *testing.T, in, out [][]pkt, inTS, outTS bool) {
	t.Helper()
	compareOffset(t, in, out, inTS, outTS, inTS || outTS)
}

// compareOffset is compare with the constant time offset (and 90 kHz
// tolerance) allowed or not.
func compareOffset(t *testing.T, in, out [][]pkt, inTS, outTS, tsSide bool) {
	t.Helper()
	if len(in) != len(out) {
		t.Fatalf("%d audio/video streams, want %d", len(out), len(in))
	}
	var off float64
	offSet := false
	for si := range in {
		a, b := in[si], out[si]
		if len(a) != len(b) {
			t.Errorf("stream %d: %d packets, want %d", si, len(b), len(a))
			continue
		}
		rule := sizeEqual
		if tsSide && inTS != outTS {
			switch {
			case a[0].typ == "video":
				rule = sizeAny
			case outTS && isRawAAC(a):
				rule = sizePlusADTS
			case inTS && isRawAAC(b):
				rule = sizeMinusADTS
			}
		}
		if tsSide && !offSet {
			off = b[0].dts - a[0].dts
			offSet = true
		}
		bad := 0
		for i := range a {
			p, q := a[i], b[i]
			var msg []string
			if p.key != q.key {
				msg = append(msg, fmt.Sprintf("key %v want %v", q.key, p.key))
			}
			switch rule {
			case sizeEqual:
				if p.size != q.size {
					msg = append(msg, fmt.Sprintf("size %d want %d", q.size, p.size))
				}
			case sizePlusADTS:
				if q.size != p.size+7 {
					msg = append(msg, fmt.Sprintf("size %d want %d+7", q.size, p.size))
				}
			case sizeMinusADTS:
				if q.size != p.size-7 {
					msg = append(msg, fmt.Sprintf("size %d want %d-7", q.size, p.size))
				}
			}
			tol := 1e-9
			if tsSide {
				// ffprobe prints 6 decimals and a 90 kHz tick is 11.1 µs.
				tol = 1.2e-5
			}
			if math.Abs(q.dts-(p.dts+off)) > tol {
				msg = append(msg, fmt.Sprintf("dts %.6f want %.6f", q.dts, p.dts+off))
			}
			if p.hasPTS && math.Abs(q.pts-(p.pts+off)) > tol {
				msg = append(msg, fmt.Sprintf("pts %.6f want %.6f", q.pts, p.pts+off))
			}
			if len(msg) > 0 {
				if bad++; bad <= 3 {
					t.Errorf("stream %d packet %d: %s", si, i, strings.Join(msg, ", "))
				}
			}
		}
		if bad > 3 {
			t.Errorf("stream %d: %d packets differ in all", si, bad)
		}
	}
	if outTS && !inTS && math.Abs(off-float64(ts.DefaultTimeOffset)/ts.Timescale) > 1.2e-5 {
		t.Errorf("MP4 -> TS offset %.6f s, want the documented %.6f s", off, float64(ts.DefaultTimeOffset)/ts.Timescale)
	}
}

// isRawAAC guesses from a stream whether it is AAC (audio packets of
// varying size; AC-3 frames have constant size at constant bit rate).
func isRawAAC(ps []pkt) bool {
	if len(ps) == 0 || ps[0].typ != "audio" {
		return false
	}
	for _, p := range ps[1:] {
		if p.size != ps[0].size {
			return true
		}
	}
	return false
}

type fixture struct {
	name string
	ts   bool
	av1  bool // or opus: no MPEG-TS mapping
}

func listFixtures(t *testing.T) []fixture {
	t.Helper()
	var fs []fixture
	names, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	names = append(names, filepath.Join(fixtures, "cmaf/init_and_segs.mp4"))
	for _, n := range names {
		ext := filepath.Ext(n)
		if ext != ".mp4" && ext != ".m4a" && ext != ".ts" {
			continue
		}
		rel, _ := filepath.Rel(fixtures, n)
		f := fixture{name: rel, ts: ext == ".ts"}
		f.av1 = strings.HasPrefix(rel, "av1") || strings.HasPrefix(rel, "opus")
		fs = append(fs, f)
	}
	if len(fs) < 20 {
		t.Fatalf("only %d fixtures in %s", len(fs), fixtures)
	}
	return fs
}

func TestConformance(t *testing.T) {
	ffprobe, ffmpeg := tool(t, "ffprobe"), tool(t, "ffmpeg")
	type job struct {
		fx   fixture
		to   Format
		dir  string
		out  string
		err  error
		done chan struct{}
		// external tools' results, per output file
		probed  [][]pkt
		toolErr []string
	}
	var jobs []*job
	for _, fx := range listFixtures(t) {
		for _, to := range []Format{MP4, FMP4, CMAF, TS} {
			j := &job{fx: fx, to: to, dir: t.TempDir(), done: make(chan struct{})}
			j.out = filepath.Join(j.dir, "out."+map[Format]string{MP4: "mp4", FMP4: "m4s", TS: "ts", CMAF: "cmaf"}[to])
			jobs = append(jobs, j)
		}
	}
	// The work is mostly waiting for ffprobe and ffmpeg processes: run it
	// on a pool wider than GOMAXPROCS, then check each case in a subtest.
	queue := make(chan *job)
	for range 8 {
		go func() {
			for j := range queue {
				j.err = Remux(context.Background(), filepath.Join(fixtures, j.fx.name), j.out, To(j.to), WithFragmentDuration(1e9))
				if j.err == nil && ffprobe != "" {
					files, err := cmafOrFile(j.to, j.out, j.dir)
					if err != nil {
						j.toolErr = append(j.toolErr, err.Error())
					}
					for _, f := range files {
						ps, err := ffprobePacketsErr(ffprobe, f)
						if err != nil {
							j.toolErr = append(j.toolErr, err.Error())
						}
						j.probed = append(j.probed, ps...)
						if ffmpeg != "" && !testing.Short() {
							msg, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", f, "-f", "null", "-").CombinedOutput()
							if err != nil || len(bytes.TrimSpace(msg)) > 0 {
								j.toolErr = append(j.toolErr, fmt.Sprintf("ffmpeg -v error -i %s -f null -: %v\n%s", filepath.Base(f), err, msg))
							}
						}
					}
				}
				close(j.done)
			}
		}()
	}
	go func() {
		for _, j := range jobs {
			queue <- j
		}
		close(queue)
	}()
	for _, j := range jobs {
		t.Run(j.fx.name+"->"+string(j.to), func(t *testing.T) {
			<-j.done
			if j.fx.av1 && j.to == TS {
				if !errors.Is(j.err, ts.ErrWrite) {
					t.Fatalf("err = %v, want ts.ErrWrite", j.err)
				}
				assertOnly(t, j.dir, nil)
				return
			}
			if j.err != nil {
				t.Fatal(j.err)
			}
			for _, e := range j.toolErr {
				t.Error(e)
			}
			got := j.probed
			if ffprobe == "" {
				files, err := cmafOrFile(j.to, j.out, j.dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					got = append(got, readerPackets(t, f)...)
				}
			}
			compare(t, loadRef(t, j.fx.name), got, j.fx.ts, j.to == TS)
		})
	}
}

func cmafOrFile(to Format, out, dir string) ([]string, error) {
	if to != CMAF {
		return []string{out}, nil
	}
	return cmafTrackFilesErr(out, dir)
}

func ffprobePacketsErr(ffprobe, file string) ([][]pkt, error) {
	out, err := exec.Command(ffprobe, "-v", "error", "-show_packets", "-show_entries",
		"packet=codec_type,stream_index,pts_time,dts_time,size,flags", "-of", "json", file).Output()
	if err != nil {
		return nil, fmt.Errorf("ffprobe %s: %v", file, err)
	}
	var doc struct{ Packets []packet }
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("ffprobe %s: %v", file, err)
	}
	return streams(doc.Packets), nil
}

// cmafTrackFilesErr concatenates each CMAF track's init and segments into
// one file (what a player appends to a SourceBuffer) and returns them in
// track order.
func cmafTrackFilesErr(dir, tmp string) ([]string, error) {
	tracks, err := filepath.Glob(filepath.Join(dir, "track*"))
	if err != nil || len(tracks) == 0 {
		return nil, fmt.Errorf("no CMAF tracks in %s", dir)
	}
	sort.Slice(tracks, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(tracks[i]), "track"))
		b, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(tracks[j]), "track"))
		return a < b
	})
	var files []string
	for _, tr := range tracks {
		var buf bytes.Buffer
		b, err := os.ReadFile(filepath.Join(tr, "init.mp4"))
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		for k := 1; ; k++ {
			b, err := os.ReadFile(filepath.Join(tr, fmt.Sprintf("seg_%d.m4s", k)))
			if err != nil {
				break
			}
			buf.Write(b)
		}
		f := filepath.Join(tmp, filepath.Base(tr)+".mp4")
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// assertOnly fails when dir holds files other than want (temporary files
// left behind by a failed write).
func assertOnly(t *testing.T, dir string, want []string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var have []string
	for _, e := range ents {
		have = append(have, e.Name())
	}
	if fmt.Sprint(have) != fmt.Sprint(want) {
		t.Errorf("directory holds %v, want %v", have, want)
	}
}

// TestRoundTripPayloads remuxes MP4 -> TS -> MP4 and MP4 -> fMP4 -> MP4
// and checks that every sample's payload hashes equal to the input's.
// For hev1 input, whose samples repeat the parameter sets in band, the
// MP4 writer drops parameter sets identical to the sample entry's when
// it converts from Annex B, so those NAL units are left out of both
// hashes there.
func TestRoundTripPayloads(t *testing.T) {
	for _, fx := range listFixtures(t) {
		if fx.ts {
			continue
		}
		for _, via := range []Format{TS, FMP4} {
			if via == TS && fx.av1 {
				continue
			}
			t.Run(fx.name+"-via-"+string(via), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				mid := filepath.Join(dir, "mid."+map[Format]string{TS: "ts", FMP4: "m4s"}[via])
				out := filepath.Join(dir, "out.mp4")
				src := filepath.Join(fixtures, fx.name)
				if err := Remux(context.Background(), src, mid, To(via)); err != nil {
					t.Fatal(err)
				}
				if err := Remux(context.Background(), mid, out, To(MP4)); err != nil {
					t.Fatal(err)
				}
				stripPS := via == TS && strings.Contains(fx.name, "hev1")
				a, b := payloadHashes(t, src, stripPS), payloadHashes(t, out, stripPS)
				if len(a) != len(b) {
					t.Fatalf("%d tracks, want %d", len(b), len(a))
				}
				for i := range a {
					if len(a[i]) != len(b[i]) {
						t.Errorf("track %d: %d samples, want %d", i, len(b[i]), len(a[i]))
						continue
					}
					for j := range a[i] {
						if a[i][j] != b[i][j] {
							t.Errorf("track %d sample %d: payload differs", i, j)
							break
						}
					}
				}
			})
		}
	}
}

func payloadHashes(t *testing.T, file string, stripPS bool) [][][32]byte {
	t.Helper()
	d, closeFn := open(t, file)
	defer closeFn()
	idx := map[int]int{}
	nls := map[int]int{}
	hevc := map[int]bool{}
	var out [][][32]byte
	for _, tr := range d.Tracks() {
		if tr.Kind != media.KindAudio && tr.Kind != media.KindVideo {
			continue
		}
		idx[tr.ID] = len(out)
		nls[tr.ID] = tr.Config.NALLengthSize
		hevc[tr.ID] = tr.Codec == media.CodecHEVC
		out = append(out, nil)
	}
	var buf []byte
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		i, ok := idx[s.TrackID]
		if !ok {
			continue
		}
		buf, err = d.ReadSample(&s, buf)
		if err != nil {
			t.Fatal(err)
		}
		p := buf
		if stripPS && hevc[s.TrackID] {
			p = dropHEVCParamSets(p, nls[s.TrackID])
		}
		out[i] = append(out[i], sha256.Sum256(p))
	}
	return out
}

func dropHEVCParamSets(p []byte, ls int) []byte {
	if ls != 4 {
		return p
	}
	var out []byte
	for i := 0; i+4 <= len(p); {
		n := int(p[i])<<24 | int(p[i+1])<<16 | int(p[i+2])<<8 | int(p[i+3])
		if n > len(p)-i-4 {
			return p
		}
		nal := p[i+4 : i+4+n]
		if n > 0 {
			if typ := nal[0] >> 1 & 0x3f; typ < 32 || typ > 34 {
				out = append(out, p[i:i+4+n]...)
			}
		}
		i += 4 + n
	}
	return out
}
