package main

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	plat := runtime.GOOS + "/" + runtime.GOARCH
	for _, c := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{nil, "(devel) (" + runtime.Version() + " " + plat + ")"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/streamkit-go/streamkit", Version: "v1.2.3"}},
			"v1.2.3 (go1.26.8 " + plat + ")"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "a71758e0123456789abcdef0123456789abcdef0"},
			{Key: "vcs.time", Value: "2026-12-06T11:47:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"(devel) revision a71758e0123456789abcdef0123456789abcdef0 modified 2026-12-06T11:47:00Z (go1.26.8 " + plat + ")"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261206114700-a71758e01234"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "a71758e01234"}, {Key: "vcs.modified", Value: "false"}}},
			"v0.0.0-20261206114700-a71758e01234 revision a71758e01234 (go1.26.8 " + plat + ")"},
	} {
		if got := versionString(c.info); got != c.want {
			t.Errorf("versionString = %q, want %q", got, c.want)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	out, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "streamkit ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("streamkit version: %q, %v", out, err)
	}
	flag, err := runCLI(t, "--version")
	if err != nil || flag != out {
		t.Errorf("streamkit --version: %q, %v; want %q", flag, err, out)
	}
}

// TestVersionOfBuiltBinary checks the real thing: a binary built from
// this checkout prints the module version and revision the go command
// stamped into it (as go version -m reads them).
func TestVersionOfBuiltBinary(t *testing.T) {
	bin := buildStreamkit(t)
	m, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	stamped := map[string]string{}
	for _, line := range strings.Split(string(m), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			stamped["version"] = f[2]
		case len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs."):
			k, v, _ := strings.Cut(f[1], "=")
			stamped[k] = v
		}
	}
	t.Logf("stamped: %v", stamped)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	flag, err := exec.Command(bin, "--version").Output()
	if err != nil || string(flag) != string(out) {
		t.Errorf("--version %q (%v), version %q", flag, err, out)
	}
	got := strings.TrimSpace(string(out))
	t.Logf("streamkit version: %s", got)
	want := "streamkit " + stamped["version"]
	if stamped["version"] == "" {
		want = "streamkit (devel)"
	}
	if !strings.HasPrefix(got, want+" ") {
		t.Errorf("version %q does not start with %q", got, want)
	}
	if rev := stamped["vcs.revision"]; rev != "" {
		if !strings.Contains(got, "revision "+rev) {
			t.Errorf("version %q lacks the stamped revision %s", got, rev)
		}
		if (stamped["vcs.modified"] == "true") != strings.Contains(got, " modified ") {
			t.Errorf("version %q disagrees with vcs.modified=%s", got, stamped["vcs.modified"])
		}
	} else if st, err := os.Stat("../../.git"); err == nil && st.IsDir() {
		if _, err := exec.LookPath("git"); err == nil {
			t.Errorf("built in a git clone but no revision stamped (go build -buildvcs=auto)")
		}
	} else {
		// The go command finds a repository by a .git directory; a git
		// worktree has a .git file, and is built unstamped.
		t.Logf("no .git directory at the module root (a worktree or an export): no revision to check")
	}
}
