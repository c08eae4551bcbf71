// Package testtool is how streamkit's tests find the external programs
// they compare against (ffprobe, ffmpeg, xmllint, node, chromium): a
// missing program skips the test with the reason, or fails it when
// STREAMKIT_REQUIRE_TOOLS=1 (CI sets it, so a conformance test can never
// pass by skipping there). One home for that rule, imported only by tests.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// EnvRequire names the environment variable that turns a missing tool
// from a skip into a failure.
const EnvRequire = "STREAMKIT_REQUIRE_TOOLS"

// Required reports whether missing tools fail tests instead of skipping
// them (STREAMKIT_REQUIRE_TOOLS=1).
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Path returns the path of the program name on PATH. When it is missing
// the test is skipped, or fails when Required.
func Path(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not installed")
	}
	return p
}

// Missing ends the test for a missing prerequisite described by msg: a
// failure when Required, else a skip.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1)", msg, EnvRequire)
	}
	t.Skip(msg)
}
