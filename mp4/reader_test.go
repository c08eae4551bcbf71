package mp4

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/internal/testtool"
	"github.com/streamkit-go/streamkit/media"
)

const fixtures = "../testdata/media"

// ffPacket is one entry of ffprobe -show_packets -of json.
type ffPacket struct {
	CodecType   string `json:"codec_type"`
	StreamIndex int    `json:"stream_index"`
	PTS         *int64 `json:"pts"`
	DTS         *int64 `json:"dts"`
	Duration    int64  `json:"duration"`
	PTSTime     string `json:"pts_time"`
	Size        string `json:"size"`
	Flags       string `json:"flags"`
}

func loadPackets(t *testing.T, path string) []ffPacket {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parsePackets(t, b)
}

func parsePackets(t *testing.T, b []byte) []ffPacket {
	t.Helper()
	var v struct {
		Packets []ffPacket `json:"packets"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Packets
}

func openFile(t testing.TB, path string, opts ...Option) *Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(f, st.Size(), opts...)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", path, err)
	}
	return r
}

// comparePackets checks our samples against ffprobe's packets for every
// track: Samples() must agree with the track totals and FFprobePackets
// with ffprobe's count, sizes, key and discard flags, pts and dts.
//
// In live mode (real files, a live ffprobe) durations are checked against
// ffprobe's DTS differences rather than its duration field, which
// libavformat takes from codec parsers for some codecs (E-AC-3 reports
// 256-sample blocks, AAC 1024 for a trimmed last frame), and the file
// order is not checked (ffmpeg prefers the lower DTS when interleaving is
// off by more than a second).
func comparePackets(t *testing.T, r *Reader, pk []ffPacket, live bool) {
	t.Helper()
	got := map[int][]media.Sample{}
	var order []int
	for s, err := range r.Samples() {
		if err != nil {
			t.Fatalf("Samples: %v", err)
		}
		idx := r.byID[s.TrackID]
		got[idx] = append(got[idx], s)
		order = append(order, idx)
	}
	want := map[int][]ffPacket{}
	for _, p := range pk {
		want[p.StreamIndex] = append(want[p.StreamIndex], p)
	}
	for i, tr := range r.Tracks() {
		var bytes int64
		for _, s := range got[i] {
			bytes += int64(s.Size)
		}
		if int64(len(got[i])) != tr.SampleCount || bytes != tr.Bytes {
			t.Errorf("track %d: SampleCount %d Bytes %d, iterated %d samples, %d bytes", i, tr.SampleCount, tr.Bytes, len(got[i]), bytes)
		}
		g, w := r.FFprobePackets(i), want[i]
		if live && len(w) == 0 && tr.Kind == media.KindData {
			continue // ffprobe does not read data tracks (tmcd, text)
		}
		if len(g) != len(w) {
			t.Errorf("track %d (%s): %d packets, ffprobe %d", i, tr.Codec, len(g), len(w))
			continue
		}
		bad := 0
		for j := range g {
			s, p := g[j], w[j]
			size, _ := strconv.Atoi(p.Size)
			var msg []string
			// ffmpeg expands CEA-608 cdat pairs into 3-byte triplets.
			if int(s.Sample.Size) != size && tr.Codec != "eia_608" {
				msg = append(msg, fmt.Sprintf("size %d want %d", s.Sample.Size, size))
			}
			if s.Sample.Sync != strings.HasPrefix(p.Flags, "K") {
				msg = append(msg, fmt.Sprintf("sync %v want flags %q", s.Sample.Sync, p.Flags))
			}
			if s.Discard != strings.Contains(p.Flags, "D") {
				msg = append(msg, fmt.Sprintf("discard %v want flags %q", s.Discard, p.Flags))
			}
			if p.PTS != nil && s.PTS != *p.PTS {
				msg = append(msg, fmt.Sprintf("pts %d (raw %d) want %d", s.PTS, s.Sample.PTS, *p.PTS))
			}
			if p.PTSTime != "" && p.PTSTime != "N/A" && fmt.Sprintf("%.6f", tr.Seconds(s.PTS)) != p.PTSTime {
				msg = append(msg, fmt.Sprintf("pts_time %.6f want %s", tr.Seconds(s.PTS), p.PTSTime))
			}
			if p.DTS != nil && s.DTS != *p.DTS {
				msg = append(msg, fmt.Sprintf("dts %d (raw %d) want %d", s.DTS, s.Sample.DTS, *p.DTS))
			}
			if live && j+1 < len(w) && p.DTS != nil && w[j+1].DTS != nil && int64(s.Sample.Duration) != *w[j+1].DTS-*p.DTS && !s.Discard {
				msg = append(msg, fmt.Sprintf("duration %d want dts step %d", s.Sample.Duration, *w[j+1].DTS-*p.DTS))
			}
			// ffprobe derives the last packet's duration of a fragmented
			// track from the codec (1024 for AAC), not from trun.
			lastFrag := j == len(g)-1 && r.Fragmented()
			if !live && p.Duration != 0 && int64(s.Sample.Duration) != p.Duration && !lastFrag {
				msg = append(msg, fmt.Sprintf("duration %d want %d", s.Sample.Duration, p.Duration))
			}
			if msg != nil {
				if bad < 5 {
					t.Errorf("track %d packet %d: %s", i, j, strings.Join(msg, ", "))
				}
				bad++
			}
		}
		if bad > 5 {
			t.Errorf("track %d: %d packets differ", i, bad)
		}
	}
	// ffprobe's packet order is the file order we promise.
	if !live && len(order) == len(pk) {
		for j := range order {
			if order[j] != pk[j].StreamIndex {
				t.Errorf("packet %d: track %d, ffprobe stream %d", j, order[j], pk[j].StreamIndex)
				break
			}
		}
	}
}

func mp4Fixtures(t *testing.T) []string {
	var files []string
	for _, pat := range []string{"*.mp4", "*.m4a", "cmaf/*.mp4"} {
		m, _ := filepath.Glob(filepath.Join(fixtures, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no fixtures under " + fixtures)
	}
	return files
}

func TestFixturePackets(t *testing.T) {
	for _, f := range mp4Fixtures(t) {
		t.Run(strings.TrimPrefix(f, fixtures+"/"), func(t *testing.T) {
			r := openFile(t, f)
			comparePackets(t, r, loadPackets(t, f+".packets.json"), false)
		})
	}
}

// ffStream is the part of ffprobe -show_streams we check tracks against.
type ffStream struct {
	Index        int    `json:"index"`
	CodecName    string `json:"codec_name"`
	CodecType    string `json:"codec_type"`
	CodecTag     string `json:"codec_tag_string"`
	Profile      string `json:"profile"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Level        *int   `json:"level"`
	SampleRate   string `json:"sample_rate"`
	Channels     int    `json:"channels"`
	TimeBase     string `json:"time_base"`
	DurationTS   *int64 `json:"duration_ts"`
	NbFrames     string `json:"nb_frames"`
	BitRate      string `json:"bit_rate"`
	SideDataList []struct {
		Rotation *int `json:"rotation"`
	} `json:"side_data_list"`
	Tags map[string]string `json:"tags"`
}

func loadStreams(t *testing.T, b []byte) []ffStream {
	t.Helper()
	var v struct {
		Streams []ffStream `json:"streams"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Streams
}

func compareStreams(t *testing.T, r *Reader, streams []ffStream) {
	t.Helper()
	tracks := r.Tracks()
	if len(tracks) != len(streams) {
		t.Fatalf("%d tracks, ffprobe %d streams", len(tracks), len(streams))
	}
	for i, s := range streams {
		tr := tracks[i]
		if s.CodecType != tr.Kind.String() {
			t.Errorf("track %d: kind %s, ffprobe %s", i, tr.Kind, s.CodecType)
		}
		if s.CodecName != string(tr.Codec) {
			t.Errorf("track %d: codec %q, ffprobe %q", i, tr.Codec, s.CodecName)
		}
		if s.CodecTag != tr.CodecTag && !strings.HasPrefix(s.CodecTag, "[") {
			t.Errorf("track %d: tag %q, ffprobe %q", i, tr.CodecTag, s.CodecTag)
		}
		if s.TimeBase != fmt.Sprintf("1/%d", tr.Timescale) {
			t.Errorf("track %d: timescale %d, ffprobe time_base %s", i, tr.Timescale, s.TimeBase)
		}
		// ffprobe's nb_frames counts the samples described in moov only.
		if s.NbFrames != "" && s.NbFrames != strconv.FormatInt(tr.SampleCount, 10) &&
			!(r.Fragmented() && s.NbFrames == strconv.FormatInt(int64(r.tk[i].st.count), 10)) {
			t.Errorf("track %d: SampleCount %d, ffprobe nb_frames %s", i, tr.SampleCount, s.NbFrames)
		}
		if s.CodecType == "video" && (s.Width != tr.Width || s.Height != tr.Height) {
			t.Errorf("track %d: %dx%d, ffprobe %dx%d", i, tr.Width, tr.Height, s.Width, s.Height)
		}
		if s.CodecType == "audio" {
			if sr, _ := strconv.Atoi(s.SampleRate); sr != tr.SampleRate || s.Channels != tr.Channels {
				t.Errorf("track %d: %d Hz %d ch, ffprobe %s Hz %d ch", i, tr.SampleRate, tr.Channels, s.SampleRate, s.Channels)
			}
		}
		if s.Profile != "" && s.Profile != tr.Profile {
			t.Errorf("track %d: profile %q, ffprobe %q", i, tr.Profile, s.Profile)
		}
		rot := 0
		for _, sd := range s.SideDataList {
			if sd.Rotation != nil {
				rot = *sd.Rotation
			}
		}
		if rot != tr.Rotation {
			t.Errorf("track %d: rotation %d, ffprobe %d", i, tr.Rotation, rot)
		}
		if lang := s.Tags["language"]; lang != "" && lang != tr.Language {
			t.Errorf("track %d: language %q, ffprobe %q", i, tr.Language, lang)
		}
	}
}

func TestFixtureStreams(t *testing.T) {
	for _, f := range mp4Fixtures(t) {
		t.Run(strings.TrimPrefix(f, fixtures+"/"), func(t *testing.T) {
			b, err := os.ReadFile(f + ".ffprobe.json")
			if err != nil {
				t.Skip(err)
			}
			compareStreams(t, openFile(t, f), loadStreams(t, b))
		})
	}
}

// shared lists the real-world files under ../shared/media (from the repo
// root) that NewReader must open.
func sharedMP4(t *testing.T) []string {
	root := "../../shared/media/fetched"
	if _, err := os.Stat(root); err != nil {
		t.Skip("../shared/media absent")
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			switch filepath.Ext(p) {
			case ".mp4", ".m4a", ".mov", ".m4s":
				files = append(files, p)
			}
		}
		return nil
	})
	return files
}

func needTool(t *testing.T, name string) string {
	return testtool.Path(t, name)
}

// TestSharedLiveFFprobe compares every real file that has a moov against
// a live ffprobe run.
func TestSharedLiveFFprobe(t *testing.T) {
	files := sharedMP4(t)
	ffprobe := needTool(t, "ffprobe")
	if testing.Short() {
		files = files[:min(len(files), 8)]
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, "../../shared/media/fetched/")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			st, _ := fh.Stat()
			r, err := NewReader(fh, st.Size())
			if errors.Is(err, ErrNoMoov) {
				t.Skip("media segment without init")
			}
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			// One ffprobe run for both sections (the ":stream" keeps every
			// stream entry).
			out, err := exec.Command(ffprobe, "-v", "error", "-show_packets", "-show_streams", "-show_entries",
				"packet=codec_type,stream_index,pts,dts,duration,size,flags:stream", "-of", "json", f).Output()
			if err != nil {
				t.Skipf("ffprobe fails on this file: %v", err)
			}
			comparePackets(t, r, parsePackets(t, out), true)
			compareStreams(t, r, loadStreams(t, out))
		})
	}
}
