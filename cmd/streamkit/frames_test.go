package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/sample"
)

const gopTestdata = "../../testdata/media"

// runGOPCLI runs `streamkit NAME args...` in-process.
func runGOPCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runCLI(t, args...)
}

// TestFramesJSONMatchesFFprobe checks `streamkit frames --json` against the
// committed ffprobe -show_frames references: every field ffprobe printed
// has the same name, JSON type and value in ours (frames matched by stream
// and pts). Exceptions: side data, which streamkit does not list, and
// pkt_size of AV1, which ffprobe 5.1's libdav1d wrapper reports as 0.
func TestFramesJSONMatchesFFprobe(t *testing.T) {
	refs, _ := filepath.Glob(filepath.Join(gopTestdata, "*.frames.json"))
	if len(refs) == 0 {
		t.Skip("no references")
	}
	for _, ref := range refs {
		path := strings.TrimSuffix(ref, ".frames.json")
		t.Run(filepath.Base(path), func(t *testing.T) {
			out, err := runGOPCLI(t, "frames", "--json", path)
			if err != nil {
				t.Fatal(err)
			}
			var ours, want struct {
				Frames []map[string]any `json:"frames"`
			}
			if err := json.Unmarshal([]byte(out), &ours); err != nil {
				t.Fatalf("our JSON: %v", err)
			}
			b, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			type key struct {
				stream, pts float64
			}
			by := map[key]map[string]any{}
			for _, f := range ours.Frames {
				by[key{f["stream_index"].(float64), f["pts"].(float64)}] = f
			}
			if len(ours.Frames) != len(want.Frames) {
				t.Errorf("%d frames, ffprobe %d", len(ours.Frames), len(want.Frames))
			}
			bad := 0
			for _, w := range want.Frames {
				o := by[key{w["stream_index"].(float64), w["pts"].(float64)}]
				if o == nil {
					t.Errorf("frame pts %v missing", w["pts"])
					continue
				}
				for k, v := range w {
					switch {
					case k == "side_data_list":
						continue
					case k == "pkt_size" && strings.HasPrefix(filepath.Base(path), "av1"):
						continue
					}
					if o[k] != v {
						if bad++; bad <= 5 {
							t.Errorf("pts %v: %s = %#v, ffprobe %#v", w["pts"], k, o[k], v)
						}
					}
				}
			}
		})
	}
}

func TestAlignCLI(t *testing.T) {
	p := func(n string) string { return filepath.Join(gopTestdata, n) }
	if _, err := os.Stat(p("ladder_misaligned.mp4")); err != nil {
		t.Skip("ladder fixtures missing")
	}
	out, err := runGOPCLI(t, "align", p("ladder_270.mp4"), p("ladder_360.mp4"))
	if err != nil || !strings.Contains(out, "aligned") {
		t.Errorf("aligned ladder: %v\n%s", err, out)
	}
	out, err = runGOPCLI(t, "align", "--segment", "2s", p("ladder_270.mp4"), p("ladder_360.mp4"), p("ladder_misaligned.mp4"))
	if err == nil {
		t.Fatalf("misaligned ladder accepted:\n%s", out)
	}
	for _, want := range []string{"MISALIGNED at 2.000 s", "odd one out: ladder_misaligned.mp4",
		"ladder_misaligned.mp4        missing keyframe", "next key frame at 3.600 s", "ladder_misaligned.mp4 is the odd one out at 2 of 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runGOPCLI(t, "align", "--json", p("ladder_270.mp4"), p("ladder_misaligned.mp4"))
	var rep struct {
		Misaligned []struct {
			Time float64  `json:"time"`
			Odd  []string `json:"odd"`
		} `json:"misaligned"`
	}
	if err == nil || json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &rep) != nil || len(rep.Misaligned) == 0 {
		t.Errorf("--json: %v\n%s", err, out)
	}
}

func TestGOPAndCompareCLI(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(gopTestdata, "h264_b.mp4")
	svg := filepath.Join(dir, "gop.svg")
	out, err := runGOPCLI(t, "gop", "--svg", svg, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Summary: 50 frames in 2 GOPs", "closed", "IDR"} {
		if !strings.Contains(out, want) {
			t.Errorf("gop output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.HasPrefix(b, []byte("<svg")) || !bytes.HasSuffix(b, []byte("</svg>\n")) {
		t.Errorf("SVG: %v", err)
	}
	out, err = runGOPCLI(t, "gop", "--json", f)
	var rep struct {
		Summary struct {
			Frames int `json:"frames"`
			GOPs   int `json:"gops"`
		} `json:"summary"`
	}
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Summary.Frames != 50 || rep.Summary.GOPs != 2 {
		t.Errorf("gop --json: %v %+v", err, rep)
	}
	csvOut, err := runGOPCLI(t, "compare", "--csv", "--svg", filepath.Join(dir, "c.svg"), f, filepath.Join(gopTestdata, "hevc_b_hvc1.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "h264_b.mp4,") || !strings.Contains(lines[2], ",hevc,") {
		t.Errorf("compare --csv:\n%s", csvOut)
	}
	if _, err := runGOPCLI(t, "frames", filepath.Join(dir, "missing.mp4")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestFramesCorruptInput: damaged access units are listed with type "?"
// and the command fails with one line naming the sample, never panics.
func TestFramesCorruptInput(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(gopTestdata, "ts_single.ts"))
	if err != nil {
		t.Skip(err)
	}
	// Set forbidden_zero_bit in the NAL header of three slices.
	hit := 0
	for i := 20000; i+3 < len(b) && hit < 3; i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 && (b[i+3]&0x1f == 1 || b[i+3]&0x1f == 5) {
			b[i+3] |= 0x80
			hit++
		}
	}
	path := filepath.Join(t.TempDir(), "corrupt.ts")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runGOPCLI(t, "frames", "--csv", path)
	if err == nil {
		t.Fatalf("corrupt input accepted:\n%s", out)
	}
	if !strings.Contains(err.Error(), "sample ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q does not name the sample in one line", err)
	}
	if !strings.Contains(out, ",?,") {
		t.Errorf("no frame of type ? in:\n%s", out)
	}
}

func TestDemoGOPSummary(t *testing.T) {
	r, size, err := sample.Open(sample.Video360)
	if err != nil {
		t.Fatal(err)
	}
	line, err := demoGOPSummary(context.Background(), r, size)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"200 frames in 4 GOPs over 8.00 s", "fixed GOP of 50 frames (2.00 s)", "all closed", "B-pyramid"} {
		if !strings.Contains(line, want) {
			t.Errorf("summary %q lacks %q", line, want)
		}
	}
}
