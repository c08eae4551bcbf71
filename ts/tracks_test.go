package ts_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

type refStream struct {
	Index          int    `json:"index"`
	ID             string `json:"id"`
	CodecName      string `json:"codec_name"`
	CodecType      string `json:"codec_type"`
	CodecTagString string `json:"codec_tag_string"`
	Profile        string `json:"profile"`
	Width          int    `json:"width"`
	Height         int    `json:"height"`
	SampleRate     string `json:"sample_rate"`
	Channels       int    `json:"channels"`
	ChannelLayout  string `json:"channel_layout"`
	StartPTS       *int64 `json:"start_pts"`
	DurationTS     *int64 `json:"duration_ts"`
	RFrameRate     string `json:"r_frame_rate"`
	Level          *int   `json:"level"`
	PixFmt         string `json:"pix_fmt"`
	FieldOrder     string `json:"field_order"`
}

type refProbe struct {
	Streams  []refStream `json:"streams"`
	Programs []struct {
		ProgramNum int         `json:"program_num"`
		Streams    []refStream `json:"streams"`
	} `json:"programs"`
}

// trackDev relaxes the track comparison for documented differences.
type trackDev struct {
	extraFFprobe int             // trailing ffprobe streams we do not report (EPG)
	skipAudio    map[int]bool    // audio parameters ffprobe learns by decoding (HE-AAC SBR/PS)
	skipField    map[string]bool // fields ("duration_ts") or stream fields ("1:duration_ts") not compared
}

func compareTracks(t *testing.T, r *ts.Reader, ref refProbe, dev trackDev) {
	t.Helper()
	tracks := r.Tracks()
	want := ref.Streams[:len(ref.Streams)-dev.extraFFprobe]
	if len(tracks) != len(want) {
		t.Fatalf("%d tracks, ffprobe has %d streams", len(tracks), len(want))
	}
	prog := map[int]int{}
	for _, p := range ref.Programs {
		for _, s := range p.Streams {
			prog[s.Index] = p.ProgramNum
		}
	}
	for i, w := range want {
		tr := tracks[i]
		check := func(field string, got, want any) {
			if dev.skipField[field] || dev.skipField[fmt.Sprintf("%d:%s", i, field)] {
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("stream %d %s = %v, ffprobe %v", i, field, got, want)
			}
		}
		check("index", tr.Index, w.Index)
		check("id", fmt.Sprintf("0x%x", tr.ID), w.ID)
		name := string(tr.Codec)
		if name == "" {
			name = "unknown"
		}
		wname, wtype := w.CodecName, w.CodecType
		if wname == "" {
			wname = "unknown"
		}
		if wtype == "" {
			wtype = "unknown"
		}
		check("codec_name", name, wname)
		check("codec_type", tr.Kind.String(), wtype)
		check("codec_tag_string", tr.CodecTag, w.CodecTagString)
		if n, ok := prog[i]; ok {
			check("program", tr.Program, n)
		}
		if w.StartPTS != nil && tr.Codec != "" && w.CodecType != "data" {
			check("start_pts", tr.StartPTS, *w.StartPTS)
		}
		if w.DurationTS != nil && tr.Codec != "" && w.CodecType != "data" {
			check("duration_ts", tr.Duration, *w.DurationTS)
		}
		switch tr.Kind {
		case media.KindVideo:
			check("width", tr.Width, w.Width)
			check("height", tr.Height, w.Height)
			if tr.Codec == media.CodecH264 || tr.Codec == media.CodecHEVC {
				check("profile", tr.Profile, w.Profile)
				if w.Level != nil {
					check("level", tr.LevelIDC, *w.Level)
				}
				check("pix_fmt", tr.PixelFormat, w.PixFmt)
			}
			check("r_frame_rate", tr.FrameRate.String(), w.RFrameRate)
			if w.FieldOrder != "" && w.FieldOrder != "unknown" {
				check("interlaced", tr.Interlaced, w.FieldOrder != "progressive")
			}
		case media.KindAudio:
			if dev.skipAudio[i] {
				break
			}
			check("sample_rate", strconv.Itoa(tr.SampleRate), w.SampleRate)
			check("channels", tr.Channels, w.Channels)
			check("channel_layout", tr.ChannelLayout, w.ChannelLayout)
			if tr.Codec == media.CodecAAC {
				check("profile", tr.Profile, w.Profile)
			}
		}
		if tr.Timescale != ts.Timescale || tr.SampleCount != -1 || tr.Bytes != -1 {
			t.Errorf("stream %d: timescale %d, samples %d, bytes %d", i, tr.Timescale, tr.SampleCount, tr.Bytes)
		}
	}
}

func TestFixtureTracksAgainstFFprobeReferences(t *testing.T) {
	for _, name := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "media", name)
			b, err := os.ReadFile(path + ".ffprobe.json")
			if err != nil {
				t.Fatal(err)
			}
			var ref refProbe
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatal(err)
			}
			compareTracks(t, openFile(t, path), ref, trackDev{})
		})
	}
}

var sharedTracks = map[string]trackDev{
	// HE-AACv2: the ADTS header says LC at half the sample rate and one
	// channel; ffprobe learns SBR and PS by decoding.
	"fetched/shaka/id3-metadata.ts": {skipAudio: map[int]bool{0: true}},
	// HE-AAC v2 in LATM: the AudioSpecificConfig signals one channel, PS
	// (found by decoding) makes it stereo.
	"fetched/androidx/ts/sample_latm.ts": {skipAudio: map[int]bool{0: true}},
	// The PMT lists a video PID that carries no packet at all: ffprobe fills
	// its start and duration in from the other streams and prints its
	// placeholder r_frame_rate 90000/1; we report 0 and 0/0.
	"fetched/androidx/ts/sample_with_sdt.ts": {skipField: map[string]bool{"0:start_pts": true, "0:duration_ts": true, "0:r_frame_rate": true}},
	// Irregular video timestamps: ffprobe's frame-rate guess over all of
	// them says 60/1; ours (smallest step, snapped) 60000/1001, so the
	// duration differs by 2 ticks.
	"fetched/shaka/hls_ts_muxed_opus_h264/segment.ts": {skipField: map[string]bool{"0:duration_ts": true, "0:r_frame_rate": true}},
}

func TestSharedTracksAgainstLiveFFprobe(t *testing.T) {
	dir := sharedDir(t)
	if !ffprobeAvailable(t) {
		t.Skip("ffprobe not installed")
	}
	for _, c := range sharedTS {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			path := filepath.Join(dir, c.path)
			if _, err := os.Stat(path); err != nil {
				t.Skip("absent")
			}
			out := liveProbe(t, path)
			var ref refProbe
			if err := json.Unmarshal(out, &ref); err != nil {
				t.Fatal(err)
			}
			compareTracks(t, openFile(t, path), ref, sharedTracks[c.path])
		})
	}
}
