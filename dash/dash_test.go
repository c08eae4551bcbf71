package dash_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/dash-mpd/mpd"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/segment"
)

var _ abr.Manifest = (*dash.Ladder)(nil)

// schema is the MPD schema, relative to this package (../shared beside
// the repository).
var schema = filepath.Join("..", "..", "shared", "conformance", "dash", "DASH-MPD.xsd")

var layouts = []struct {
	name    string
	opts    []segment.Option
	profile string
}{
	{"number", nil, mpd.PROFILE_LIVE},
	{"time", []segment.Option{segment.WithNaming(segment.ByTime)}, mpd.PROFILE_LIVE},
	{"byterange", []segment.Option{segment.WithByteRange()}, mpd.PROFILE_ONDEMAND},
	// 3 s target on 2 s GOPs: 4 s segments; the audio's are uneven, so
	// @duration cannot describe them and a SegmentTimeline with $Number$
	// is used.
	{"number-4s", []segment.Option{segment.WithTargetDuration(3 * time.Second)}, mpd.PROFILE_LIVE},
}

func packageSample(t testing.TB, opts ...segment.Option) (string, *segment.Presentation) {
	t.Helper()
	dir := t.TempDir()
	var ins []segment.Input
	for i, n := range append(sample.Videos(), sample.Audio, sample.Audio) {
		r, size, err := sample.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		d, err := mp4.NewReader(r, size)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 3:
			d.Tracks()[0].Language = "eng"
		case 4:
			d.Tracks()[0].Language = "fra"
		}
		ins = append(ins, segment.Input{Name: n, Demuxer: d})
	}
	opts = append([]segment.Option{segment.WithTargetDuration(2 * time.Second)}, opts...)
	p, err := segment.Cut(context.Background(), dir, ins, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dash.Write(dir, p); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	testtool.Path(t, name)
}

// TestMPDValidatesAgainstSchema runs xmllint with the DASH-MPD.xsd schema
// on every kind of MPD Write produces.
func TestMPDValidatesAgainstSchema(t *testing.T) {
	requireTool(t, "xmllint")
	if _, err := os.Stat(schema); err != nil {
		// The schema is data from ../shared, not a tool: a clone without
		// ../shared skips (STREAMKIT_REQUIRE_TOOLS or not); a ../shared
		// without the schema is a broken setup where tools are required.
		if _, serr := os.Stat(filepath.Join("..", "..", "shared")); serr == nil && testtool.Required() {
			t.Fatalf("schema missing from ../shared: %v", err)
		}
		t.Skipf("needs the DASH-MPD.xsd schema from ../shared/conformance/dash: %v", err)
	}
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir, _ := packageSample(t, l.opts...)
			out, err := exec.Command("xmllint", "--nonet", "--noout", "--schema", schema, filepath.Join(dir, dash.ManifestName)).CombinedOutput()
			if err != nil {
				t.Fatalf("xmllint: %v\n%s", err, out)
			}
		})
	}
}

// TestMPDDescribesSegments parses every MPD back and checks it against
// the files on disk: each template URL exists, timelines add up to the
// presentation, SegmentBase ranges hold the init and a sidx.
func TestMPDDescribesSegments(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir, p := packageSample(t, l.opts...)
			m, err := mpd.ReadFromFile(filepath.Join(dir, dash.ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			if m.GetType() != "static" || string(m.Profiles) != l.profile || m.MinBufferTime == nil || m.MediaPresentationDuration == nil {
				t.Fatalf("MPD type %s profiles %s minBufferTime %v", m.GetType(), m.Profiles, m.MinBufferTime)
			}
			if d := m.MediaPresentationDuration.Seconds(); d < p.Duration-0.001 || d > p.Duration+0.001 {
				t.Errorf("mediaPresentationDuration %v, want %v", d, p.Duration)
			}
			sets := m.Periods[0].AdaptationSets
			if len(sets) != 3 {
				t.Fatalf("%d AdaptationSets, want video + 2 audio languages", len(sets))
			}
			if sets[0].ContentType != "video" || len(sets[0].Representations) != 3 {
				t.Fatalf("first AdaptationSet: %s with %d Representations", sets[0].ContentType, len(sets[0].Representations))
			}
			if sets[1].Lang != "en" || sets[2].Lang != "fr" {
				t.Errorf("audio languages %q %q, want en fr", sets[1].Lang, sets[2].Lang)
			}
			byID := map[string]*segment.Rendition{}
			for _, r := range p.Renditions() {
				byID[r.ID] = r
			}
			for _, as := range sets {
				for _, rep := range as.Representations {
					r := byID[rep.Id]
					if r == nil {
						t.Fatalf("Representation %q not packaged", rep.Id)
					}
					checkRep(t, dir, p, r, rep)
				}
			}
		})
	}
}

func checkRep(t *testing.T, dir string, p *segment.Presentation, r *segment.Rendition, rep *mpd.RepresentationType) {
	t.Helper()
	if rep.Codecs != r.Track.CodecString || int64(rep.Bandwidth) != r.Bandwidth {
		t.Errorf("%s: codecs %q bandwidth %d", rep.Id, rep.Codecs, rep.Bandwidth)
	}
	if r.Track.Width > 0 && (int(rep.Width) != r.Track.Width || rep.FrameRate != "25" || rep.Sar != "1:1" || rep.MimeType != "video/mp4") {
		t.Errorf("%s: %dx%d frameRate %s sar %s mimeType %s", rep.Id, rep.Width, rep.Height, rep.FrameRate, rep.Sar, rep.MimeType)
	}
	if sb := rep.SegmentBase; sb != nil {
		file := filepath.Join(dir, string(rep.BaseURLs[0].Value))
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var a, z int
		fmt.Sscanf(sb.IndexRange, "%d-%d", &a, &z)
		if string(b[a+4:a+8]) != "sidx" || int(binary.BigEndian.Uint32(b[a:])) != z-a+1 {
			t.Errorf("%s: indexRange %s is not the sidx box", rep.Id, sb.IndexRange)
		}
		fmt.Sscanf(sb.Initialization.Range, "%d-%d", &a, &z)
		if a != 0 || string(b[4:8]) != "ftyp" || z+1 != int(r.Init.Size) {
			t.Errorf("%s: Initialization range %s", rep.Id, sb.Initialization.Range)
		}
		return
	}
	st := rep.SegmentTemplate
	if st == nil {
		t.Fatalf("%s: no SegmentTemplate", rep.Id)
	}
	if _, err := os.Stat(filepath.Join(dir, st.Initialization)); err != nil {
		t.Errorf("%s: initialization: %v", rep.Id, err)
	}
	// Enumerate the segments the way a player does.
	var names []string
	var total uint64
	ts := st.GetTimescale()
	if tl := st.SegmentTimeline; tl != nil {
		var tm uint64
		for _, s := range tl.S {
			if s.T != nil {
				if *s.T != tm && len(names) > 0 {
					t.Errorf("%s: gap in SegmentTimeline at %d", rep.Id, tm)
				}
				tm = *s.T
			}
			for range s.R + 1 {
				n := strings.ReplaceAll(st.Media, "$Time$", fmt.Sprint(tm))
				n = strings.ReplaceAll(n, "$Number$", fmt.Sprint(uint64(*ptrOr(st.StartNumber, 1))+uint64(len(names))))
				names = append(names, n)
				tm += s.D
				total += s.D
			}
		}
	} else {
		d := uint64(*st.Duration)
		n := int((uint64(p.Duration*float64(ts)) + d - 1) / d)
		for i := range n {
			names = append(names, strings.ReplaceAll(st.Media, "$Number$", fmt.Sprint(i+1)))
		}
		total = uint64(r.Segments[len(r.Segments)-1].Start + r.Segments[len(r.Segments)-1].Duration)
	}
	if len(names) != len(r.Segments) {
		t.Fatalf("%s: MPD describes %d segments, %d were written", rep.Id, len(names), len(r.Segments))
	}
	for i, n := range names {
		if n != r.Segments[i].URI {
			t.Errorf("%s: segment %d is %s in the MPD, %s on disk", rep.Id, i+1, n, r.Segments[i].URI)
		}
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Error(err)
		}
	}
	// On the edited timeline: what the edit list hides is not described.
	last := r.Segments[len(r.Segments)-1]
	want := r.Seconds(r.PresentationTime(last.Start+last.Duration) - r.PresentationTime(r.Segments[0].Start))
	if got := float64(total) / float64(ts); got < want-0.001 || got > want+0.001 {
		t.Errorf("%s: timeline lasts %v s, rendition %v s", rep.Id, got, want)
	}
}

func ptrOr(p *uint32, v uint32) *uint32 {
	if p == nil {
		return &v
	}
	return p
}

func TestTSRefused(t *testing.T) {
	dir := t.TempDir()
	var ins []segment.Input
	r, size, _ := sample.Open(sample.Video240)
	d, _ := mp4.NewReader(r, size)
	ins = append(ins, segment.Input{Name: "v", Demuxer: d})
	p, err := segment.Cut(context.Background(), dir, ins, segment.WithTS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dash.Write(dir, p); !errors.Is(err, dash.ErrFormat) {
		t.Errorf("err = %v, want ErrFormat", err)
	}
}

func TestReadLadder(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir, p := packageSample(t, l.opts...)
			lad, err := dash.ReadLadder(filepath.Join(dir, dash.ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			if len(lad.Bitrates()) != 3 || lad.NumSegments() != len(p.Video[0].Segments) {
				t.Fatalf("%d levels x %d segments", len(lad.Bitrates()), lad.NumSegments())
			}
			for q, v := range p.Video {
				if lad.Bitrates()[q] != float64(v.Bandwidth)/1000 {
					t.Errorf("level %d: %v kbit/s, want %v", q, lad.Bitrates()[q], float64(v.Bandwidth)/1000)
				}
				for i, s := range v.Segments {
					if got := lad.SegmentSize(i, q); got != float64(s.Size*8) {
						t.Errorf("segment %d level %d: %v bits, want %d", i, q, got, s.Size*8)
					}
				}
			}
			if d := lad.SegmentDuration(); d < 1900 || d > 4100 {
				t.Errorf("segment duration %v ms", d)
			}
			// the audio a player fetches beside the video: the first
			// audio rendition's segments
			if len(p.Audio) == 0 || len(lad.AudioSizes) != len(p.Audio[0].Segments) {
				t.Fatalf("%d audio segment sizes, want those of %d audio renditions' first", len(lad.AudioSizes), len(p.Audio))
			}
			for i, s := range p.Audio[0].Segments {
				if got := lad.AudioSizes[i]; got != float64(s.Size*8) {
					t.Errorf("audio segment %d: %v bits, want %d", i, got, s.Size*8)
				}
			}
		})
	}
}

// FuzzReadLadder feeds hostile MPDs (and a hostile sidx) to ReadLadder.
func FuzzReadLadder(f *testing.F) {
	f.Add(`<MPD type="static" mediaPresentationDuration="PT8S"><Period><AdaptationSet contentType="video"><Representation id="a" bandwidth="1000"><SegmentTemplate media="s$Number%03d$" duration="2" timescale="1"/></Representation></AdaptationSet></Period></MPD>`, []byte{})
	f.Add(`<MPD type="static"><Period><AdaptationSet mimeType="video/mp4"><Representation id="a" bandwidth="1"><BaseURL>f</BaseURL><SegmentBase indexRange="0-43"/></Representation></AdaptationSet></Period></MPD>`,
		[]byte("\x00\x00\x00\x2csidx\x01\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add(`<MPD type="static"><Period><AdaptationSet contentType="video"><Representation id="a" bandwidth="1"><SegmentTemplate media="s$Time$"><SegmentTimeline><S t="0" d="1" r="3"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet></Period></MPD>`, []byte{})
	f.Fuzz(func(t *testing.T, doc string, file []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "f"), file, 0o644)
		for _, n := range []string{"s001", "s002", "s0", "s1"} {
			os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
		}
		p := filepath.Join(dir, "m.mpd")
		os.WriteFile(p, []byte(doc), 0o644)
		lad, err := dash.ReadLadder(p)
		if err != nil {
			return
		}
		for i := 0; i < lad.NumSegments(); i++ {
			for q := range lad.Bitrates() {
				_ = lad.SegmentSize(i, q)
			}
		}
	})
}

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var inputs []segment.Input
	for _, name := range append(sample.Videos(), sample.Audio) {
		r, size, _ := sample.Open(name)
		d, _ := mp4.NewReader(r, size)
		inputs = append(inputs, segment.Input{Name: name, Demuxer: d})
	}
	p, err := segment.Cut(context.Background(), dir, inputs)
	if err != nil {
		panic(err)
	}
	path, err := dash.Write(dir, p)
	if err != nil {
		panic(err)
	}
	m, _ := mpd.ReadFromFile(path)
	for _, as := range m.Periods[0].AdaptationSets {
		for _, r := range as.Representations {
			fmt.Println(as.ContentType, r.Id, r.Codecs, r.Bandwidth, r.SegmentTemplate.Media)
		}
	}
	// Output:
	// video video_240p avc1.640015 102738 video_240p/seg_$Number$.m4s
	// video video_360p avc1.64001E 179268 video_360p/seg_$Number$.m4s
	// video video_480p avc1.64001E 312528 video_480p/seg_$Number$.m4s
	// audio audio_und mp4a.40.2 69237 audio_und/seg_$Number$.m4s
}

func ExampleReadLadder() {
	// Package the sample as one file per rendition (SegmentBase + sidx),
	// then read the MPD back as the ABR simulator sees it: segment sizes
	// come from the sidx.
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var inputs []segment.Input
	for _, name := range sample.Videos() {
		r, size, _ := sample.Open(name)
		d, _ := mp4.NewReader(r, size)
		inputs = append(inputs, segment.Input{Name: name, Demuxer: d})
	}
	p, _ := segment.Cut(context.Background(), dir, inputs, segment.WithTargetDuration(2*time.Second), segment.WithByteRange())
	path, _ := dash.Write(dir, p)
	lad, err := dash.ReadLadder(path)
	if err != nil {
		panic(err)
	}
	var m abr.Manifest = lad
	fmt.Println(lad.IDs, m.NumSegments(), "segments of", m.SegmentDuration(), "ms")
	fmt.Println("segment 0 at the lowest level:", m.SegmentSize(0, 0), "bits")
	// Output:
	// [video_240p video_360p video_480p] 4 segments of 2000 ms
	// segment 0 at the lowest level: 225576 bits
}

// TestTimeZeroSignalledOnce models a browser player over every layout:
// Chromium's MSE applies the init segment's edit list (presentation time =
// composition time - media_time) and dash.js and Shaka set
// SourceBuffer.timestampOffset = -presentationTimeOffset on top of it, so a
// sample lands at (composition - media_time - PTO) / timescale. The MPD
// says segment k ends at (S@t + S@d - PTO) / timescale (the sidx's
// earliest_presentation_time and durations for SegmentBase). The two must
// agree: an MPD that repeats the edit list's media_time as
// presentationTimeOffset puts the media a pre-roll before where the MPD
// says it is (the first key frame lands before zero and Chromium drops the
// first GOP; dash.js 5.2.1 started at ~2 s, issue 16).
func TestTimeZeroSignalledOnce(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir, p := packageSample(t, l.opts...)
			m, err := mpd.ReadFromFile(filepath.Join(dir, dash.ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]*segment.Rendition{}
			for _, r := range p.Renditions() {
				byID[r.ID] = r
			}
			hidden := 0 // renditions whose edit list hides a pre-roll
			for _, as := range m.Periods[0].AdaptationSets {
				for _, rep := range as.Representations {
					r := byID[rep.Id]
					elst := initMediaTime(t, dir, r)
					if elst > 0 {
						hidden++
					}
					pto, ends := mpdEnds(t, dir, rep, r, p.Duration)
					if len(ends) != len(r.Segments) {
						t.Fatalf("%s: MPD describes %d segments, %d written", rep.Id, len(ends), len(r.Segments))
					}
					for i, s := range r.Segments {
						media := s.Start + s.Duration - elst - pto // where the browser puts the segment's end
						// Within a millisecond (the MPD's duration is
						// rounded to it); the pre-rolls are 21 to 80 ms.
						if want := ends[i] - pto; abs(media-want) > int64(r.Timescale/1000) {
							t.Errorf("%s segment %d: the browser plays its end at %.4f s, the MPD says %.4f s (edit list media_time %d, presentationTimeOffset %d)",
								rep.Id, i+1, r.Seconds(media), r.Seconds(want), elst, pto)
							break
						}
					}
				}
			}
			if hidden == 0 {
				t.Fatal("no rendition has an edit list with a media_time: the sample no longer tests the pre-roll")
			}
		})
	}
}

// initMediaTime returns the media_time of the edit list in r's CMAF header.
func initMediaTime(t *testing.T, dir string, r *segment.Rendition) int64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, r.Init.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := mp4.NewReader(io.NewSectionReader(f, r.Init.Offset, r.Init.Size), r.Init.Size)
	if err != nil {
		t.Fatalf("%s init (%d bytes of %d): %v", r.ID, r.Init.Size, fi.Size(), err)
	}
	tr := rd.Tracks()
	if len(tr) != 1 {
		t.Fatalf("%s init: %d tracks", r.ID, len(tr))
	}
	for _, e := range tr[0].Edits {
		if e.MediaTime >= 0 {
			return e.MediaTime
		}
	}
	return 0
}

// mpdEnds returns the presentationTimeOffset and the end of every segment
// the MPD describes for rep, in its timescale, before the offset is
// subtracted.
func mpdEnds(t *testing.T, dir string, rep *mpd.RepresentationType, r *segment.Rendition, total float64) (int64, []int64) {
	t.Helper()
	var ends []int64
	if sb := rep.SegmentBase; sb != nil {
		pto := int64(0)
		if sb.PresentationTimeOffset != nil {
			pto = int64(*sb.PresentationTimeOffset)
		}
		f, err := os.Open(filepath.Join(dir, string(rep.BaseURLs[0].Value)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		rd, err := mp4.NewReader(f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		x := rd.SegmentIndexes()
		if len(x) != 1 || x[0].Timescale != r.Timescale {
			t.Fatalf("%s: %d sidx boxes", rep.Id, len(x))
		}
		end := int64(x[0].EarliestPresentationTime)
		for _, ref := range x[0].References {
			end += int64(ref.Duration)
			ends = append(ends, end)
		}
		return pto, ends
	}
	st := rep.SegmentTemplate
	pto := int64(0)
	if st.PresentationTimeOffset != nil {
		pto = int64(*st.PresentationTimeOffset)
	}
	if tl := st.SegmentTimeline; tl != nil {
		var tm int64
		for _, s := range tl.S {
			if s.T != nil {
				tm = int64(*s.T)
			}
			for range s.R + 1 {
				tm += int64(s.D)
				ends = append(ends, tm)
			}
		}
		return pto, ends
	}
	// @duration: segment k spans [(k-1)d, kd) after the offset, the last
	// cut at the presentation's end.
	d := int64(*st.Duration)
	for i := range r.Segments {
		ends = append(ends, pto+int64(i+1)*d)
	}
	ends[len(ends)-1] = min(ends[len(ends)-1], pto+int64(math.Round(total*float64(r.Timescale))))
	return pto, ends
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
