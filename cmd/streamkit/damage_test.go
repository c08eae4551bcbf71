package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/mp4"
)

// TestDamagedInputCLI: a TS cut mid-packet (head -c $((188*150+77))) is
// read by probe, frames, gop and remux with one warning line each that
// names the packet and offset (and under "streamkit_warnings" in probe
// --json); --strict refuses it with that error on one line.
func TestDamagedInputCLI(t *testing.T) {
	b, err := os.ReadFile("../../testdata/media/ts_single.ts")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.ts")
	if err := os.WriteFile(cut, b[:188*150+77], 0o644); err != nil {
		t.Fatal(err)
	}
	const warning = "streamkit: warning: " // one line per warning
	const where = "packet 150 at byte 28200: media: truncated input"
	for _, args := range [][]string{
		{"probe", cut},
		{"frames", cut},
		{"gop", cut},
		{"remux", cut, filepath.Join(dir, "out.mp4")},
	} {
		out, err := runCLI(t, args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if !strings.Contains(out, warning) || !strings.Contains(out, where) {
			t.Errorf("%v: no warning naming %q in:\n%s", args, where, out)
		}
		strict := append([]string{args[0], "--strict"}, args[1:]...)
		if args[0] == "remux" {
			strict[len(strict)-1] = filepath.Join(dir, "strict.mp4")
		}
		_, err = runCLI(t, strict...)
		if err == nil || !strings.Contains(err.Error(), where) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err %v, want one line naming %q", strict, err, where)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "strict.mp4")); !os.IsNotExist(err) {
		t.Errorf("remux --strict left an output: %v", err)
	}
	out, err := runCLI(t, "probe", "--json", cut)
	if err != nil {
		t.Fatal(err)
	}
	// stdout and stderr share the buffer here: the JSON starts at "{".
	var doc struct {
		Streams  []json.RawMessage `json:"streams"`
		Warnings []struct {
			Offset    int64  `json:"offset"`
			What      string `json:"what"`
			Truncated bool   `json:"truncated"`
		} `json:"streamkit_warnings"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil {
		t.Fatalf("probe --json: %v\n%s", err, out)
	}
	if len(doc.Streams) != 2 || len(doc.Warnings) != 1 || doc.Warnings[0].Offset != 28200 || !doc.Warnings[0].Truncated || doc.Warnings[0].What != "packet 150" {
		t.Errorf("probe --json: %d streams, warnings %+v", len(doc.Streams), doc.Warnings)
	}
}

// TestStrictWithInit: --strict holds with --init too. A CMAF media
// segment cut in half, read after its init segment, gives a warning
// naming the cut fragment in probe, frames, gop and remux, and with
// --strict that fragment's positioned error on one line (and no remux
// output).
func TestStrictWithInit(t *testing.T) {
	const fx = "../../testdata/media/cmaf/"
	seg, err := os.ReadFile(fx + "seg_2.m4s")
	if err != nil {
		t.Skip(err)
	}
	ini, err := os.ReadFile(fx + "init.mp4")
	if err != nil {
		t.Skip(err)
	}
	// Cut at the start of the first sample in the second half of the
	// segment: whole samples are missing (a sample cut inside is another
	// matter for frames and gop).
	r, err := mp4.NewSegmentReader(mp4.Segment{R: bytes.NewReader(ini), Size: int64(len(ini))},
		[]mp4.Segment{{R: bytes.NewReader(seg), Size: int64(len(seg))}})
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	for s, err := range r.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		if _, local := r.Locate(s.Offset); local >= int64(len(seg)/2) {
			at = int(local)
			break
		}
	}
	if at == 0 {
		t.Fatal("no sample in the second half of seg_2.m4s")
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.m4s")
	if err := os.WriteFile(cut, seg[:at], 0o644); err != nil {
		t.Fatal(err)
	}
	const where = "media: truncated input"
	for _, args := range [][]string{
		{"probe", "--init", fx + "init.mp4", cut},
		{"frames", "--init", fx + "init.mp4", cut},
		{"gop", "--init", fx + "init.mp4", cut},
		{"remux", "--init", fx + "init.mp4", cut, filepath.Join(dir, "out.mp4")},
	} {
		out, err := runCLI(t, args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if !strings.Contains(out, "streamkit: warning: ") || !strings.Contains(out, where) {
			t.Errorf("%v: no truncation warning in:\n%s", args, out)
		}
		strict := append([]string{args[0], "--strict"}, args[1:]...)
		if args[0] == "remux" {
			strict[len(strict)-1] = filepath.Join(dir, "strict.mp4")
		}
		_, err = runCLI(t, strict...)
		if err == nil || !strings.Contains(err.Error(), where) || !strings.Contains(err.Error(), " at byte ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err %v, want one positioned line naming %q", strict, err, where)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "strict.mp4")); !os.IsNotExist(err) {
		t.Errorf("remux --strict left an output: %v", err)
	}
}
