package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/internal/testtool"
)

// packetFixtures lists the fixtures with a committed -show_packets
// reference (testdata/gen.sh writes NAME.show_packets.json).
func packetFixtures(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"*.mp4", "*.m4a", "*.ts", "cmaf/*.mp4"} {
		m, _ := filepath.Glob(filepath.Join("../testdata/media", pat))
		out = append(out, m...)
	}
	if len(out) < 25 {
		t.Fatalf("found %d fixtures; run testdata/gen.sh", len(out))
	}
	return out
}

// showFFprobe returns ffprobe's path, or "" (failing with
// STREAMKIT_REQUIRE_TOOLS=1).
func showFFprobe(t *testing.T) string {
	p, err := exec.LookPath("ffprobe")
	if err != nil {
		if testtool.Required() {
			t.Fatal("ffprobe not installed and STREAMKIT_REQUIRE_TOOLS=1")
		}
		return ""
	}
	return p
}

// TestShowPacketsJSON: `probe --show-packets --json` equals ffprobe
// -show_packets -of json on every fixture, byte for byte (same order,
// fields, value types and indentation), against the committed reference
// and, when ffprobe is installed, a live run.
func TestShowPacketsJSON(t *testing.T) {
	ffprobe := showFFprobe(t)
	for _, f := range packetFixtures(t) {
		name := strings.TrimPrefix(filepath.ToSlash(f), "../testdata/media/")
		t.Run(name, func(t *testing.T) {
			t.Parallel() // mostly waiting for ffprobe
			var got bytes.Buffer
			if err := WriteSelected(context.Background(), &got, f, Selection{Packets: true, JSON: true}); err != nil {
				t.Fatal(err)
			}
			ref, err := os.ReadFile(f + ".show_packets.json")
			if err != nil {
				t.Fatal(err)
			}
			checkPackets(t, "reference", got.Bytes(), ref)
			if ffprobe != "" && !testing.Short() {
				live, err := exec.Command(ffprobe, "-v", "error", "-show_packets", "-of", "json", f).Output()
				if err != nil {
					t.Fatal(err)
				}
				checkPackets(t, "live ffprobe", got.Bytes(), live)
			}
		})
	}
}

func checkPackets(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("differs from %s:\n%s", what, firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return "line " + itoa(i+1) + ": got " + x + "\n          want " + y
		}
	}
	return "(equal lines)"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestShowEntriesAndSelect compares -show_entries and -select_streams
// with a live ffprobe: the same sections, keys in the same order and the
// same values, after dropping what ffprobe prints for sections nobody
// asked for (empty side data objects) and its "programs" section, which
// repeats the selected streams per MPEG-TS program and which we do not
// print.
func TestShowEntriesAndSelect(t *testing.T) {
	ffprobe := showFFprobe(t)
	if ffprobe == "" {
		t.Skip("ffprobe not installed")
	}
	cases := []struct {
		file, entries, sel string
	}{
		{"h264_rotate90.mp4", "stream=codec_name,width:format=duration", ""},
		{"h264_b.mp4", "packet=pts,flags", "a"},
		{"h264_b.mp4", "stream=index,codec_type:stream_tags=language", "v:0"},
		{"ts_multi.ts", "stream=index,codec_name,id", "p:2"},
		{"ts_multi.ts", "packet=stream_index,pts,size,pos", "a:1"},
		{"ts_ac3.ts", "stream=index,sample_rate,channels", "2"},
		{"ts_single.ts", "format=format_name,nb_streams:stream=codec_name", "#0x101"},
		{"eac3_51.mp4", "packet=dts,duration:packet_side_data=skip_samples", ""},
	}
	for _, c := range cases {
		t.Run(c.file+" "+c.entries+" "+c.sel, func(t *testing.T) {
			f := filepath.Join("../testdata/media", c.file)
			e, err := ParseEntries(c.entries)
			if err != nil {
				t.Fatal(err)
			}
			sel := Selection{Entries: e, JSON: true}
			args := []string{"-v", "error", "-show_entries", c.entries, "-of", "json"}
			if c.sel != "" {
				if sel.Select, err = ParseStreamSpecifier(c.sel); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-select_streams", c.sel)
			}
			var got bytes.Buffer
			if err := WriteSelected(context.Background(), &got, f, sel); err != nil {
				t.Fatal(err)
			}
			want, err := exec.Command(ffprobe, append(args, f)...).Output()
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(want, &doc); err != nil {
				t.Fatal(err)
			}
			if _, ok := doc["programs"]; ok {
				var drop bytes.Buffer
				dec := eachKey(want, func(k string, v json.RawMessage) error {
					if k != "programs" {
						kb, _ := json.Marshal(k)
						if drop.Len() > 0 {
							drop.WriteByte(',')
						}
						drop.Write(kb)
						drop.WriteByte(':')
						drop.Write(v)
					}
					return nil
				})
				if dec != nil {
					t.Fatal(dec)
				}
				want = []byte("{" + drop.String() + "}")
			}
			g, w := ordered(t, got.Bytes()), ordered(t, want)
			if g != w {
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

// ordered re-encodes a JSON document with its key order, leaving out
// empty arrays and empty objects.
func ordered(t *testing.T, b []byte) string {
	t.Helper()
	var out strings.Builder
	var walk func(v json.RawMessage) bool
	walk = func(v json.RawMessage) bool {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '{':
			var parts []string
			err := eachKey(v, func(k string, val json.RawMessage) error {
				var sub strings.Builder
				saved := out
				out = sub
				ok := walk(val)
				s := out.String()
				out = saved
				if ok {
					parts = append(parts, k+":"+s)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) == 0 {
				return false
			}
			out.WriteString("{" + strings.Join(parts, ",") + "}")
		case len(v) > 0 && v[0] == '[':
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, it := range items {
				saved := out
				out = strings.Builder{}
				if walk(it) {
					parts = append(parts, out.String())
				}
				out = saved
			}
			if len(parts) == 0 {
				return false
			}
			out.WriteString("[" + strings.Join(parts, ",") + "]")
		default:
			out.Write(v)
		}
		return true
	}
	if !walk(b) {
		return "{}"
	}
	return out.String()
}

func TestParseEntries(t *testing.T) {
	e, err := ParseEntries("stream=codec_name, width:format:stream_tags=language")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.filter("stream", []byte(`{"index":0,"codec_name":"h264","width":320,"tags":{"language":"eng","handler_name":"x"},"disposition":{"default":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"codec_name":"h264","width":320,"tags":{"language":"eng"}}`; string(got) != want {
		t.Errorf("stream: %s, want %s", got, want)
	}
	in := `{"filename":"a.mp4","duration":"2.000000"}`
	if got, _ := e.filter("format", []byte(in)); string(got) != in {
		t.Errorf("format without fields: %s, want everything", got)
	}
	if !e.Has("format") || !e.Has("stream") || e.Has("packet") {
		t.Error("Has")
	}
	for _, bad := range []string{"", "frames=pts", "stream_bogus=x", ":"} {
		if _, err := ParseEntries(bad); !errors.Is(err, ErrSelect) {
			t.Errorf("%q: err = %v, want ErrSelect", bad, err)
		}
	}
}

func TestStreamSpecifier(t *testing.T) {
	streams := []Stream{
		{Index: 0, ID: 0x100, Program: 1, CodecType: "video"},
		{Index: 1, ID: 0x101, Program: 1, CodecType: "audio"},
		{Index: 2, ID: 0x200, Program: 2, CodecType: "video"},
		{Index: 3, ID: 0x201, Program: 2, CodecType: "audio"},
	}
	for _, c := range []struct {
		spec string
		want []int
	}{
		{"v", []int{0, 2}}, {"a", []int{1, 3}}, {"v:1", []int{2}}, {"a:0", []int{1}},
		{"1", []int{1}}, {"p:2", []int{2, 3}}, {"p:2:a", []int{3}}, {"p:1:1", []int{1}},
		{"#0x201", []int{3}}, {"i:256", []int{0}}, {"s", nil},
	} {
		s, err := ParseStreamSpecifier(c.spec)
		if err != nil {
			t.Fatalf("%q: %v", c.spec, err)
		}
		var got []int
		for i := range streams {
			if s.Match(streams, i) {
				got = append(got, i)
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %v, want %v", c.spec, got, c.want)
		}
	}
	for _, bad := range []string{"", "x", "v:x", "p:", "#zz", "-1"} {
		if _, err := ParseStreamSpecifier(bad); !errors.Is(err, ErrSelect) {
			t.Errorf("%q: err = %v, want ErrSelect", bad, err)
		}
	}
}

// TestShowDefaultFormat: without JSON the sections print as ffprobe's
// default writer prints them.
func TestShowDefaultFormat(t *testing.T) {
	e, err := ParseEntries("packet=stream_index,pts,flags:packet_side_data_list")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ParseStreamSpecifier("v")
	var got bytes.Buffer
	if err := WriteSelected(context.Background(), &got, "../testdata/media/ts_single.ts", Selection{Entries: e, Select: s}); err != nil {
		t.Fatal(err)
	}
	want := "[PACKET]\nstream_index=0\npts=133200\nflags=K_\n[SIDE_DATA]\nside_data_type=MPEGTS Stream ID\nid=224\n[/SIDE_DATA]\n[/PACKET]\n"
	if !strings.HasPrefix(got.String(), want) {
		t.Errorf("got\n%.300s\nwant prefix\n%s", got.String(), want)
	}
	if n := strings.Count(got.String(), "[PACKET]"); n != 50 {
		t.Errorf("%d video packets, want 50", n)
	}
}

// TestShowPacketsFragmentedAudio: in a fragmented MP4 libavformat prints
// no trun durations for audio but the codec's frame duration (none for
// AAC's first packet and for Opus): fragmented files written by a live
// ffmpeg for each codec, compared with a live ffprobe.
func TestShowPacketsFragmentedAudio(t *testing.T) {
	ffmpeg, ffprobe := testtool.Path(t, "ffmpeg"), testtool.Path(t, "ffprobe")
	dir := t.TempDir()
	for _, c := range []string{"aac", "libopus", "mp3", "ac3"} {
		t.Run(c, func(t *testing.T) {
			f := filepath.Join(dir, c+".mp4")
			out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.5:sample_rate=48000",
				"-c:a", c, "-movflags", "frag_keyframe+empty_moov+default_base_moof+delay_moov", "-frag_duration", "200000", f).CombinedOutput()
			if err != nil {
				t.Skipf("ffmpeg cannot write %s: %v %s", c, err, out)
			}
			var got bytes.Buffer
			if err := WriteSelected(context.Background(), &got, f, Selection{Packets: true, JSON: true}); err != nil {
				t.Fatal(err)
			}
			want, err := exec.Command(ffprobe, "-v", "error", "-show_packets", "-of", "json", f).Output()
			if err != nil {
				t.Fatal(err)
			}
			checkPackets(t, "live ffprobe", got.Bytes(), want)
		})
	}
}

// TestShowPacketsM2TS: with 192-byte M2TS packets (a 4-byte timecode
// before each TS packet) packets come out in ffprobe's order and with
// its positions: an M2TS copy of ts_ac3.ts written by a live ffmpeg
// (-mpegts_m2ts_mode 1), compared with a live ffprobe.
func TestShowPacketsM2TS(t *testing.T) {
	ffmpeg, ffprobe := testtool.Path(t, "ffmpeg"), testtool.Path(t, "ffprobe")
	f := filepath.Join(t.TempDir(), "ac3.m2ts")
	out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", "../testdata/media/ts_ac3.ts", "-map", "0", "-c", "copy",
		"-mpegts_m2ts_mode", "1", "-f", "mpegts", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	var got bytes.Buffer
	if err := WriteSelected(context.Background(), &got, f, Selection{Packets: true, JSON: true}); err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command(ffprobe, "-v", "error", "-show_packets", "-of", "json", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	checkPackets(t, "live ffprobe", got.Bytes(), want)
}
