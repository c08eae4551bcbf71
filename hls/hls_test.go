package hls_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/hls-m3u8/m3u8"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/segment"
)

// The ABR simulator takes a packaged playlist through its own interface.
var _ abr.Manifest = (*hls.Ladder)(nil)

var layouts = []struct {
	name string
	opts []segment.Option
}{
	{"cmaf", nil},
	{"cmaf-byterange", []segment.Option{segment.WithByteRange()}},
	{"ts", []segment.Option{segment.WithTS()}},
	{"ts-byterange", []segment.Option{segment.WithTS(), segment.WithByteRange()}},
}

// packageSample cuts the embedded ladder with two audio languages (the
// sample's AAC track presented once as English and once as French).
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
		if i == 3 {
			d.Tracks()[0].Language = "eng"
		}
		if i == 4 {
			d.Tracks()[0].Language = "fra"
		}
		ins = append(ins, segment.Input{Name: n, Demuxer: d})
	}
	p, err := segment.Cut(context.Background(), dir, ins, append([]segment.Option{segment.WithTargetDuration(3 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hls.Write(dir, p); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

func decode(t *testing.T, path string) (m3u8.Playlist, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pl, _, err := m3u8.Decode(*bytes.NewBuffer(b), true)
	if err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return pl, string(b)
}

// expectedVersion is the lowest EXT-X-VERSION RFC 8216bis section 8
// allows for what a media playlist uses.
func expectedVersion(mp *m3u8.MediaPlaylist) uint8 {
	v := uint8(3) // floating-point EXTINF
	segs := mp.GetAllSegments()
	for _, s := range segs {
		if s.Limit > 0 {
			v = max(v, 4)
		}
	}
	if mp.Iframe {
		v = max(v, 4)
	}
	if mp.Map != nil {
		if mp.Iframe {
			v = max(v, 5)
		} else {
			v = max(v, 6)
		}
	}
	return v
}

type mediaInfo struct {
	peak, avg float64 // bits per second, from the files on disk
}

// targets and targetMax record, per presentation directory, the
// EXT-X-TARGETDURATION of the media playlists seen and their largest
// rounded EXTINF.
var targets, targetMax = map[string]uint{}, map[string]uint{}

// checkMedia checks the RFC 8216bis rules of one media playlist and
// returns its bit rates measured from the segment bytes.
func checkMedia(t *testing.T, dir, name string, iframe bool) mediaInfo {
	t.Helper()
	pl, text := decode(t, filepath.Join(dir, name))
	mp, ok := pl.(*m3u8.MediaPlaylist)
	if !ok {
		t.Fatalf("%s is not a media playlist", name)
	}
	for _, tag := range []string{"#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-ENDLIST", "#EXT-X-INDEPENDENT-SEGMENTS"} {
		if !strings.Contains(text, tag) {
			t.Errorf("%s lacks %s", name, tag)
		}
	}
	if want := expectedVersion(mp); mp.Version() != want {
		t.Errorf("%s: EXT-X-VERSION %d, want %d (the lowest for the tags used)", name, mp.Version(), want)
	}
	if mp.Iframe != iframe {
		t.Errorf("%s: I-frames-only %v, want %v", name, mp.Iframe, iframe)
	}
	segs := mp.GetAllSegments()
	if len(segs) == 0 {
		t.Fatalf("%s has no segments", name)
	}
	var maxRounded uint
	var bits, secs []float64
	for _, s := range segs {
		r := uint(math.Round(s.Duration))
		if mp.Version() < 6 {
			r = uint(math.Ceil(s.Duration))
		}
		if r > mp.TargetDuration {
			t.Errorf("%s: EXTINF %.3f above EXT-X-TARGETDURATION %d", name, s.Duration, mp.TargetDuration)
		}
		maxRounded = max(maxRounded, r)
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(s.URI)))
		if err != nil {
			t.Fatal(err)
		}
		size := int64(len(b))
		if s.Limit > 0 {
			if s.Offset+s.Limit > size {
				t.Fatalf("%s: byte range %d@%d beyond the %d-byte %s", name, s.Limit, s.Offset, size, s.URI)
			}
			size = s.Limit
			if iframe {
				checkIFrameRange(t, name, b[s.Offset:s.Offset+s.Limit])
			}
		}
		bits = append(bits, float64(size)*8)
		secs = append(secs, s.Duration)
	}
	if maxRounded != mp.TargetDuration && iframe {
		t.Errorf("%s: EXT-X-TARGETDURATION %d, want %d (largest rounded EXTINF)", name, mp.TargetDuration, maxRounded)
	}
	if !iframe {
		// One target for every media playlist of the presentation: the
		// largest rounded EXTINF of any of them.
		if prev, ok := targets[dir]; ok && prev != mp.TargetDuration {
			t.Errorf("%s: EXT-X-TARGETDURATION %d, another media playlist of the presentation has %d", name, mp.TargetDuration, prev)
		}
		targets[dir] = mp.TargetDuration
		targetMax[dir] = max(targetMax[dir], maxRounded)
	}
	if mp.Map != nil {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(mp.Map.URI)))
		if err != nil {
			t.Fatal(err)
		}
		if mp.Map.Limit > 0 {
			b = b[mp.Map.Offset : mp.Map.Offset+mp.Map.Limit]
		}
		if string(b[4:8]) != "ftyp" || boxesEnd(b) != len(b) {
			t.Errorf("%s: EXT-X-MAP is not a whole ftyp+moov", name)
		}
	}
	return mediaInfo{peak: peakRate(bits, secs, float64(mp.TargetDuration)), avg: sum(bits) / sum(secs)}
}

// boxesEnd walks top-level boxes and returns where the last one ends.
func boxesEnd(b []byte) int {
	p := 0
	for p+8 <= len(b) {
		n := int(binary.BigEndian.Uint32(b[p:]))
		if n < 8 || p+n > len(b) {
			return -1
		}
		p += n
	}
	return p
}

// checkIFrameRange checks that an I-frame byte range starts with what a
// decoder needs: a moof (CMAF) or a PAT packet (TS).
func checkIFrameRange(t *testing.T, name string, b []byte) {
	t.Helper()
	switch {
	case len(b) >= 8 && string(b[4:8]) == "moof":
	case len(b) >= 188 && b[0] == 0x47 && binary.BigEndian.Uint16(b[1:3])&0x1fff == 0 && len(b)%188 == 0:
	default:
		t.Errorf("%s: I-frame range does not start with a moof or a PAT: % x", name, b[:min(len(b), 8)])
	}
}

// peakRate is RFC 8216bis's peak segment bit rate: the largest bit rate
// of any run of consecutive segments lasting 0.5 to 1.5 target durations.
func peakRate(bits, secs []float64, target float64) float64 {
	var peak float64
	for i := range bits {
		var b, s float64
		for j := i; j < len(bits); j++ {
			b += bits[j]
			s += secs[j]
			if s > 1.5*target {
				break
			}
			if s >= 0.5*target {
				peak = max(peak, b/s)
			}
		}
	}
	return peak
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

func TestPlaylistsFollowRFC8216bis(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir, p := packageSample(t, l.opts...)
			pl, text := decode(t, filepath.Join(dir, hls.MultivariantName))
			mv, ok := pl.(*m3u8.MasterPlaylist)
			if !ok {
				t.Fatal("master.m3u8 is not a multivariant playlist")
			}
			if !strings.Contains(text, "#EXT-X-INDEPENDENT-SEGMENTS") {
				t.Error("multivariant playlist lacks EXT-X-INDEPENDENT-SEGMENTS")
			}
			if mv.Version() != 3 {
				t.Errorf("multivariant EXT-X-VERSION %d, want 3", mv.Version())
			}
			audio := map[string]mediaInfo{}
			var langs []string
			for _, alt := range mv.GetAllAlternatives() {
				if alt.Type != "AUDIO" || alt.URI == "" || alt.GroupId == "" || alt.Name == "" || !alt.Autoselect {
					t.Errorf("bad EXT-X-MEDIA %+v", alt)
				}
				if alt.Default != (len(langs) == 0) {
					t.Errorf("EXT-X-MEDIA %s: DEFAULT=%v", alt.Name, alt.Default)
				}
				langs = append(langs, alt.Language)
				audio[alt.URI] = checkMedia(t, dir, alt.URI, false)
			}
			if strings.Join(langs, ",") != "en,fr" {
				t.Errorf("audio languages %v, want en,fr", langs)
			}
			var audioPeak, audioAvg float64
			for _, a := range audio {
				audioPeak = max(audioPeak, a.peak)
				audioAvg = max(audioAvg, a.avg)
			}
			var streams, iframes int
			for _, v := range mv.Variants {
				if v.Iframe {
					iframes++
					info := checkMedia(t, dir, v.URI, true)
					if v.Codecs == "" || strings.Contains(v.Codecs, "mp4a") || v.Resolution == "" {
						t.Errorf("I-frame variant %s: CODECS %q RESOLUTION %q", v.URI, v.Codecs, v.Resolution)
					}
					if float64(v.Bandwidth) < info.peak*0.999 {
						t.Errorf("I-frame variant %s: BANDWIDTH %d below peak %.0f", v.URI, v.Bandwidth, info.peak)
					}
					continue
				}
				streams++
				info := checkMedia(t, dir, v.URI, false)
				codecs := strings.Split(v.Codecs, ",")
				if len(codecs) != 2 || !strings.HasPrefix(codecs[0], "avc1.") || codecs[1] != "mp4a.40.2" {
					t.Errorf("%s: CODECS %q, want video and audio", v.URI, v.Codecs)
				}
				if v.Audio == "" || v.Resolution == "" || v.FrameRate != 25 {
					t.Errorf("%s: AUDIO %q RESOLUTION %q FRAME-RATE %v", v.URI, v.Audio, v.Resolution, v.FrameRate)
				}
				// BANDWIDTH covers the variant's peak plus the largest
				// audio rendition's; the measurements are independent of
				// the packager's.
				if need := info.peak + audioPeak; float64(v.Bandwidth) < need*0.999 {
					t.Errorf("%s: BANDWIDTH %d below peak segment bit rate %.0f", v.URI, v.Bandwidth, need)
				}
				if want := info.avg + audioAvg; math.Abs(float64(v.AverageBandwidth)-want) > 0.01*want {
					t.Errorf("%s: AVERAGE-BANDWIDTH %d, measured %.0f", v.URI, v.AverageBandwidth, want)
				}
				if v.AverageBandwidth > v.Bandwidth {
					t.Errorf("%s: AVERAGE-BANDWIDTH above BANDWIDTH", v.URI)
				}
			}
			if streams != len(p.Video) || iframes != len(p.Video) {
				t.Errorf("%d variants and %d I-frame variants, want %d each", streams, iframes, len(p.Video))
			}
			if targets[dir] != targetMax[dir] {
				t.Errorf("EXT-X-TARGETDURATION %d, want %d (largest rounded EXTINF of the presentation)", targets[dir], targetMax[dir])
			}
		})
	}
}

func TestTargetDurationRounding(t *testing.T) {
	for _, c := range []struct {
		durs []float64
		ver  uint8
		want uint
	}{
		{[]float64{4, 4, 2.1}, 6, 4},
		{[]float64{4.4, 3.9}, 6, 4},
		{[]float64{4.5}, 6, 5},
		{[]float64{2.4996}, 6, 3}, // printed as EXTINF:2.500
		{[]float64{4.4, 3.9}, 3, 5},
		{[]float64{0.2}, 6, 1},
		{nil, 6, 1},
	} {
		if got := hls.TargetDuration(c.durs, c.ver); got != c.want && !(c.durs == nil && got == 0) {
			t.Errorf("TargetDuration(%v, v%d) = %d, want %d", c.durs, c.ver, got, c.want)
		}
	}
}

func TestReadLadder(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			dir, p := packageSample(t, l.opts...)
			lad, err := hls.ReadLadder(filepath.Join(dir, hls.MultivariantName))
			if err != nil {
				t.Fatal(err)
			}
			if len(lad.Bitrates()) != len(p.Video) || lad.NumSegments() != len(p.Video[0].Segments) {
				t.Fatalf("%d levels x %d segments, want %d x %d", len(lad.Bitrates()), lad.NumSegments(), len(p.Video), len(p.Video[0].Segments))
			}
			for q, v := range p.Video {
				for i, s := range v.Segments {
					if got := lad.SegmentSize(i, q); got != float64(s.Size*8) {
						t.Errorf("segment %d level %d: %v bits, want %d", i, q, got, s.Size*8)
					}
				}
				if q > 0 && lad.Bitrates()[q] <= lad.Bitrates()[q-1] {
					t.Errorf("bitrates not ascending: %v", lad.Bitrates())
				}
			}
			if d := lad.SegmentDuration(); d < 2000 || d > 4000 {
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
			// The simulator accepts it.
			m := abr.Manifest(lad)
			if m.NumSegments() == 0 {
				t.Fatal("no segments")
			}
		})
	}
}

func TestReadLadderErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		"media.m3u8":   "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
		"remote.m3u8":  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f\"\nhttp://example.com/v.m3u8\n",
		"escape.m3u8":  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f\"\n../../etc/v.m3u8\n",
		"missing.m3u8": "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f\"\nnope.m3u8\n",
		"garbage.m3u8": "not a playlist",
	}
	for name, body := range cases {
		if _, err := hls.ReadLadder(write(name, body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzReadLadder feeds hostile multivariant and media playlists to
// ReadLadder: errors are fine, panics are not.
func FuzzReadLadder(f *testing.F) {
	f.Add("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.64001f,mp4a.40.2\"\nv.m3u8\n",
		"#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"seg\",BYTERANGE=\"10@0\"\n#EXT-X-BYTERANGE:100@10\n#EXTINF:4.0,\nseg\n#EXT-X-ENDLIST\n")
	f.Add("#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI=\"v.m3u8\"\n", "#EXTM3U\n#EXTINF:-1,\nseg\n")
	f.Fuzz(func(t *testing.T, master, media string) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "seg"), make([]byte, 200), 0o644)
		os.WriteFile(filepath.Join(dir, "v.m3u8"), []byte(media), 0o644)
		p := filepath.Join(dir, "master.m3u8")
		os.WriteFile(p, []byte(master), 0o644)
		lad, err := hls.ReadLadder(p)
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
	master, err := hls.Write(dir, p)
	if err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(master)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#EXT-X-STREAM-INF") || strings.HasPrefix(line, "#EXT-X-MEDIA") {
			fmt.Println(line)
		}
	}
	// Output:
	// #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-mp4a_40_2",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_und.m3u8"
	// #EXT-X-STREAM-INF:BANDWIDTH=171975,AVERAGE-BANDWIDTH=167008,CODECS="avc1.640015,mp4a.40.2",RESOLUTION=426x240,FRAME-RATE=25.000,AUDIO="audio-mp4a_40_2"
	// #EXT-X-STREAM-INF:BANDWIDTH=248505,AVERAGE-BANDWIDTH=239661,CODECS="avc1.64001E,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio-mp4a_40_2"
	// #EXT-X-STREAM-INF:BANDWIDTH=381765,AVERAGE-BANDWIDTH=366202,CODECS="avc1.64001E,mp4a.40.2",RESOLUTION=854x480,FRAME-RATE=25.000,AUDIO="audio-mp4a_40_2"
}

// TestAudioGroupsPerCodec: renditions of one AUDIO group must share the
// variant's CODECS, so AAC and AC-3 audio get a group each and every
// video rendition is listed once per group.
func TestAudioGroupsPerCodec(t *testing.T) {
	dir := t.TempDir()
	var ins []segment.Input
	open := func(name string, b []byte) {
		d, err := mp4.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, segment.Input{Name: name, Demuxer: d})
	}
	for _, n := range []string{sample.Video240, sample.Video360, sample.Audio} {
		b, _ := sample.Bytes(n)
		open(n, b)
	}
	ac3, err := os.ReadFile(filepath.Join("..", "testdata", "media", "ac3.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	open("ac3.mp4", ac3)
	p, err := segment.Cut(context.Background(), dir, ins)
	if err != nil {
		t.Fatal(err)
	}
	mv, err := hls.Multivariant(p)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]string{}
	for _, alt := range mv.GetAllAlternatives() {
		groups[alt.GroupId] = alt.URI
	}
	if len(groups) != 2 {
		t.Fatalf("%d audio groups, want 2 (AAC, AC-3): %v", len(groups), groups)
	}
	seen := map[string]int{}
	for _, v := range mv.Variants {
		if v.Iframe {
			continue
		}
		seen[v.URI]++
		codecs := strings.Split(v.Codecs, ",")
		if len(codecs) != 2 {
			t.Errorf("%s: CODECS %q", v.URI, v.Codecs)
			continue
		}
		uri := groups[v.Audio]
		if (codecs[1] == "ac-3") != strings.Contains(uri, "_2") {
			t.Errorf("%s in group %s (%s) lists %s", v.URI, v.Audio, uri, codecs[1])
		}
	}
	for uri, n := range seen {
		if n != 2 {
			t.Errorf("%s listed %d times, want once per audio group", uri, n)
		}
	}
}

func ExampleReadLadder() {
	// Package the sample, then read the multivariant playlist back as the
	// ABR simulator sees it (segment sizes from the files on disk).
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var inputs []segment.Input
	for _, name := range sample.Videos() {
		r, size, _ := sample.Open(name)
		d, _ := mp4.NewReader(r, size)
		inputs = append(inputs, segment.Input{Name: name, Demuxer: d})
	}
	p, _ := segment.Cut(context.Background(), dir, inputs, segment.WithTargetDuration(2*time.Second))
	master, _ := hls.Write(dir, p)
	lad, err := hls.ReadLadder(master)
	if err != nil {
		panic(err)
	}
	var m abr.Manifest = lad // what abr.NewSession takes
	fmt.Println(m.NumSegments(), "segments of", m.SegmentDuration(), "ms at", m.Bitrates(), "kbit/s")
	fmt.Println("segment 0 at the lowest level:", m.SegmentSize(0, 0), "bits")
	// Output:
	// 4 segments of 2000 ms at [112.788 196.68 322.06] kbit/s
	// segment 0 at the lowest level: 225576 bits
}
