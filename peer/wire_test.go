package peer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/streamkit-go/streamkit/internal/testtool"
)

// p2pJS finds the npm install of p2p-media-loader-core 2.3.1:
// $STREAMKIT_P2P_JS (as .ci/run sets it) or ~/.cache/streamkit/p2pjs.
func p2pJS(t testing.TB) string {
	dir := os.Getenv("STREAMKIT_P2P_JS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "streamkit", "p2pjs")
	}
	mods := filepath.Join(dir, "node_modules")
	_, err := os.Stat(filepath.Join(mods, "p2p-media-loader-core", "lib", "p2p", "commands", "index.js"))
	_, nerr := exec.LookPath("node")
	if err != nil || nerr != nil {
		msg := "node and p2p-media-loader-core@2.3.1 are needed: npm install --prefix ~/.cache/streamkit/p2pjs --ignore-scripts p2p-media-loader-core@2.3.1 p2p-media-loader-hlsjs@2.3.1"
		if testtool.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return mods
}

// jsCommand is a command as p2p-media-loader's objects spell it.
type jsCommand struct {
	C int     `json:"c"`
	I *int64  `json:"i,omitempty"`
	R *int64  `json:"r,omitempty"`
	S *int64  `json:"s,omitempty"`
	B *int64  `json:"b,omitempty"`
	L []int64 `json:"l,omitempty"`
	P []int64 `json:"p,omitempty"`
}

func (m *Message) js() jsCommand {
	p := func(v int64) *int64 { return &v }
	j := jsCommand{C: int(m.Cmd)}
	switch m.Cmd {
	case CmdAnnouncement:
		j.L, j.P = m.Loaded, m.Loading
	case CmdRequest:
		j.I, j.R = p(m.Segment), p(m.Request)
		if m.From != 0 {
			j.B = p(m.From)
		}
	case CmdData:
		j.I, j.R, j.S = p(m.Segment), p(m.Request), p(m.Size)
	default:
		j.I, j.R = p(m.Segment), p(m.Request)
	}
	return j
}

func seq(from, n int64) []int64 {
	var s []int64
	for i := int64(0); i < n; i++ {
		s = append(s, from+i)
	}
	return s
}

var wireCases = []struct {
	m   Message
	max int
}{
	{Message{Cmd: CmdAnnouncement, Loaded: []int64{0, 1, 2, 300, 301, 70000, 1 << 40}, Loading: []int64{5}}, MaxMessageSize},
	{Message{Cmd: CmdAnnouncement}, MaxMessageSize},
	{Message{Cmd: CmdAnnouncement, Loaded: seq(1_700_000_000, 200)}, MaxMessageSize},
	{Message{Cmd: CmdAnnouncement, Loaded: seq(0, 250), Loading: seq(250, 3)}, 64}, // split into chunks
	{Message{Cmd: CmdRequest, Segment: 12, Request: 999}, MaxMessageSize},
	{Message{Cmd: CmdRequest, Segment: 4_000_000_000, Request: 0, From: 65535}, MaxMessageSize},
	{Message{Cmd: CmdData, Segment: 7, Request: 128, Size: 1_234_567}, MaxMessageSize},
	{Message{Cmd: CmdCompleted, Segment: 7, Request: 127}, MaxMessageSize},
	{Message{Cmd: CmdAbsent, Segment: -1, Request: -255}, MaxMessageSize},
	{Message{Cmd: CmdCancel, Segment: 1 << 52, Request: 1}, MaxMessageSize},
}

// The wire format and the swarm ids match p2p-media-loader-core 2.3.1's
// own code, run by node, in both directions.
func TestWireMatchesReference(t *testing.T) {
	mods := p2pJS(t)
	type enc struct {
		Command jsCommand `json:"command"`
		Max     int       `json:"max"`
	}
	type idCase struct {
		Swarm string         `json:"swarm"`
		Attrs map[string]any `json:"attrs"`
	}
	var in struct {
		Encode []enc      `json:"encode"`
		Decode [][]string `json:"decode"`
		IDs    []idCase   `json:"ids"`
	}
	for _, c := range wireCases {
		in.Encode = append(in.Encode, enc{c.m.js(), c.max})
		var h []string
		for _, b := range c.m.Encode(c.max) {
			h = append(h, hex.EncodeToString(b))
		}
		in.Decode = append(in.Decode, h)
	}
	idCases := []StreamAttrs{
		{},
		{Bandwidth: 2_500_000, Codecs: "avc1.64001f,mp4a.40.2", Width: 1280, Height: 720, FrameRate: "30.000"},
		{Bandwidth: 800_000, Codecs: "avc1.66.30", Width: 640, Height: 360, VideoRange: "sdr"},
		{Secondary: true, Codecs: "mp4a.40.2", Language: "English", Channels: "2/JOC", Name: " Main "},
	}
	for _, a := range idCases {
		typ := "main"
		if a.Secondary {
			typ = "secondary"
		}
		attrs := map[string]any{"type": typ, "bitrate": a.Bandwidth, "codecs": a.Codecs, "width": a.Width, "height": a.Height,
			"frameRate": a.FrameRate, "videoRange": a.VideoRange, "language": a.Language, "channels": a.Channels, "name": a.Name}
		for k, v := range attrs { // hls.js leaves out what the playlist does not say
			if v == 0 || v == int64(0) || v == "" {
				delete(attrs, k)
			}
		}
		attrs["bitrate"] = a.Bandwidth
		in.IDs = append(in.IDs, idCase{"http://127.0.0.1:8080/v/video.m3u8", attrs})
	}
	b, _ := json.Marshal(in)
	cmd := exec.Command("node", filepath.Join("testdata", "reference.mjs"), mods)
	cmd.Stdin = bytes.NewReader(b)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var out struct {
		Encoded [][]string          `json:"encoded"`
		Decoded []jsCommand         `json:"decoded"`
		IDs     []map[string]string `json:"ids"`
	}
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("%v: %s", err, outb)
	}
	for i, c := range wireCases {
		if !reflect.DeepEqual(in.Decode[i], out.Encoded[i]) {
			t.Errorf("%v: we send %v\nreference sends %v", c.m.Cmd, in.Decode[i], out.Encoded[i])
		}
		if got, want := out.Decoded[i], c.m.js(); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: reference reads ours as %+v, want %+v", c.m.Cmd, got, want)
		}
		// And we read the reference's bytes back.
		var j Joiner
		var body []byte
		for _, h := range out.Encoded[i] {
			raw, _ := hex.DecodeString(h)
			if !IsCommand(raw) {
				t.Fatalf("%v: reference chunk not a command: %s", c.m.Cmd, h)
			}
			if body, err = j.Add(raw); err != nil {
				t.Fatal(err)
			}
		}
		m, err := Decode(body)
		if err != nil {
			t.Fatalf("%v: %v", c.m.Cmd, err)
		}
		if !reflect.DeepEqual(m.js(), c.m.js()) {
			t.Errorf("we read the reference's %v as %+v", c.m.Cmd, m.js())
		}
	}
	for i, a := range idCases {
		ssid := StreamSwarmID("http://127.0.0.1:8080/v/video.m3u8", a)
		if want := out.IDs[i]; StreamShortID(a) != want["short"] || ssid != want["ssid"] || InfoHash(ssid) != want["hash"] {
			t.Errorf("%+v: short id %s, swarm %s, info hash %s; reference %v", a, StreamShortID(a), ssid, InfoHash(ssid), want)
		}
	}
}

func TestDecodeRefusesHostileInput(t *testing.T) {
	for name, body := range map[string][]byte{
		"empty":         {},
		"unknown type":  {9},
		"int too long":  {1, 'i', 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		"truncated int": {1, 'i', 0x02, 1},
		"bad item":      {1, 'i', 0x30},
		"array count":   {0, 'l', 0x10, 1, 0x01, 0x05},
		"no value":      {1, 'i'},
	} {
		if _, err := Decode(body); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	var j Joiner
	if _, err := j.Add([]byte("dstrxdend")); err == nil {
		t.Error("a middle chunk without a first one was accepted")
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range wireCases {
		for _, b := range c.m.Encode(c.max) {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !IsCommand(b) {
			return
		}
		var j Joiner
		body, err := j.Add(b)
		if err != nil || body == nil {
			return
		}
		m, err := Decode(body)
		if err != nil {
			return
		}
		// What we decode we encode to something that decodes the same.
		var j2 Joiner
		var body2 []byte
		for _, c := range m.Encode(MaxMessageSize) {
			body2, _ = j2.Add(c)
		}
		m2, err := Decode(body2)
		if err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", m, err)
		}
		if m.Cmd != CmdAnnouncement && !reflect.DeepEqual(m.js(), m2.js()) {
			t.Fatalf("%+v became %+v", m.js(), m2.js())
		}
	})
}

func BenchmarkEncodeAnnouncement(b *testing.B) {
	m := &Message{Cmd: CmdAnnouncement, Loaded: seq(1_700_000_000, 60), Loading: seq(1_700_000_060, 2)}
	b.ReportAllocs()
	for b.Loop() {
		m.Encode(MaxMessageSize)
	}
}

func BenchmarkDecodeAnnouncement(b *testing.B) {
	body := (&Message{Cmd: CmdAnnouncement, Loaded: seq(1_700_000_000, 60)}).Encode(MaxMessageSize)[0]
	body = body[frameLen : len(body)-frameLen]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
