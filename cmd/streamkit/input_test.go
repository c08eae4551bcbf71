package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// probeJSON runs `streamkit probe --json` with stdin and returns the
// document without format.filename and the bytes-read counter, which
// differ by input kind by design.
func probeJSON(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(bytes.NewReader(stdin))
	root.SetArgs(append([]string{"probe", "--json"}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("probe %v: %v\n%s", args, err, out.String())
	}
	s := out.String()
	i := strings.Index(s, `"filename": `)
	j := strings.Index(s[i:], "\n")
	s = s[:i] + s[i+j:]
	i = strings.Index(s, `"bytes_read": `)
	j = strings.Index(s[i:], "\n")
	return s[:i] + s[i+j:]
}

// TestProbeInputs probes the same fixtures from a file, from standard
// input and from a loopback HTTP server that answers Range requests, and
// a CMAF segment with --init given as a URL.
func TestProbeInputs(t *testing.T) {
	dir := "../../testdata/media"
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	for _, name := range []string{"h264_b.mp4", "ts_multi.ts", "h264_frag.mp4"} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := probeJSON(t, nil, path)
		if got := probeJSON(t, data, "-"); got != want {
			t.Errorf("%s from stdin differs:\n%s\nfile:\n%s", name, got, want)
		}
		if got := probeJSON(t, nil, srv.URL+"/"+name); got != want {
			t.Errorf("%s over HTTP differs:\n%s\nfile:\n%s", name, got, want)
		}
	}
	seg := filepath.Join(dir, "cmaf", "seg_2.m4s")
	want := probeJSON(t, nil, "--init", filepath.Join(dir, "cmaf", "init.mp4"), seg)
	if got := probeJSON(t, nil, "--init", srv.URL+"/cmaf/init.mp4", srv.URL+"/cmaf/seg_2.m4s"); got != want {
		t.Errorf("segment with init over HTTP differs:\n%s\nfile:\n%s", got, want)
	}
	if _, err := runCLI(t, "probe", srv.URL+"/missing.mp4"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing URL: %v", err)
	}
}

// TestInitOnSegmentCommands runs frames, gop and remux on a CMAF media
// segment with --init, and checks that without it they fail saying so.
func TestInitOnSegmentCommands(t *testing.T) {
	dir := "../../testdata/media/cmaf"
	init, seg := filepath.Join(dir, "init.mp4"), filepath.Join(dir, "seg_2.m4s")
	out, err := runCLI(t, "frames", "--init", init, seg)
	if err != nil || !strings.Contains(out, "25 frames") {
		t.Errorf("frames --init: %v\n%s", err, out)
	}
	out, err = runCLI(t, "gop", "--init", init, seg)
	if err != nil || !strings.Contains(out, "fixed GOP of 25 frames") {
		t.Errorf("gop --init: %v\n%s", err, out)
	}
	ts := filepath.Join(t.TempDir(), "seg.ts")
	if _, err := runCLI(t, "remux", "--init", init, seg, ts); err != nil {
		t.Errorf("remux --init: %v", err)
	} else if st, err := os.Stat(ts); err != nil || st.Size() == 0 || st.Size()%188 != 0 {
		t.Errorf("remux --init wrote %v, %v", st, err)
	}
	if _, err := runCLI(t, "remux", seg, filepath.Join(t.TempDir(), "x.ts")); err == nil || !strings.Contains(err.Error(), "--init") {
		t.Errorf("remux of a lone segment: %v", err)
	}
}
