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

	"github.com/streamkit-go/streamkit/internal/chromium"
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

// Chromium returns the Chromium to run (chromium.Find: $STREAMKIT_CHROMIUM
// or one on PATH). When there is none the test is skipped, or fails when
// Required.
func Chromium(t testing.TB) string {
	t.Helper()
	p, err := chromium.Find()
	if err != nil {
		Missing(t, err.Error())
	}
	return p
}

// ChromiumArgs returns chromium.Flags followed by extra: a new slice, so
// callers may append to it.
func ChromiumArgs(extra ...string) []string {
	return append(append([]string{}, chromium.Flags...), extra...)
}
