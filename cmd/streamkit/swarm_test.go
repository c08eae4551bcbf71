package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSwarmRun(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "swarm", "run", "--config", "../../testdata/swarm/tampering-2pct.json", "--peers", "150",
		"--set", "stream.duration_s=240", "--set", "audience.session_s=600", "--out", filepath.Join(dir, "r.json"), "--svg", filepath.Join(dir, "r.svg"))
	if err != nil {
		t.Fatal(err, out)
	}
	for _, want := range []string{"offload", "CDN egress peak", "tampered segments", "0 accepted (integrity signed)", "class mobile-4g"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "r.svg")); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("svg: %v", err)
	}
	if _, err := runCLI(t, "swarm", "run", "--config", "../../testdata/swarm/tampering-2pct.json", "--set", "audience.nobody=1"); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := runCLI(t, "swarm", "run"); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Errorf("missing --config: %v", err)
	}
}

func TestSwarmSweepShardsMerge(t *testing.T) {
	dir := t.TempDir()
	args := []string{"swarm", "sweep", "--config", "../../testdata/swarm/mobile-heavy.json", "--set", "audience.peers=60",
		"--set", "stream.duration_s=120", "--set", "audience.arrive_s=60", "--grid", "tracker.neighbours=5,15", "--grid", "scheduler.preset=p2pml,cdn-only"}
	whole := filepath.Join(dir, "all.csv")
	if out, err := runCLI(t, append(args, "--workers", "2", "--out", whole)...); err != nil {
		t.Fatal(err, out)
	}
	var parts []string
	for i := 0; i < 3; i++ {
		p := filepath.Join(dir, "part"+string(rune('0'+i))+".csv")
		if out, err := runCLI(t, append(args, "--shard", string(rune('0'+i))+"/3", "--out", p)...); err != nil {
			t.Fatal(err, out)
		}
		parts = append(parts, p)
	}
	merged := filepath.Join(dir, "merged.csv")
	if out, err := runCLI(t, append([]string{"swarm", "merge", "--out", merged}, parts...)...); err != nil {
		t.Fatal(err, out)
	}
	a, _ := os.ReadFile(whole)
	b, _ := os.ReadFile(merged)
	if string(a) != string(b) || strings.Count(string(a), "\n") != 5 {
		t.Errorf("merged shards differ from the whole sweep:\n%s\n%s", a, b)
	}
}
