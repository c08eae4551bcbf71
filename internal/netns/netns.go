// Package netns runs a test inside a network namespace of its own, with
// only the loopback interface up, so that what the test sends (WebRTC
// candidates, STUN checks, a browser's background traffic) cannot leave
// the machine whatever the code under test does.
//
// Enter re-executes the test binary for the one test under
// `unshare --net --map-root-user` (a user namespace makes this work
// without root where the kernel allows it) after `ip link set lo up`.
package netns

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/testtool"
)

// EnvInside is set in the environment of the re-executed test.
const EnvInside = "STREAMKIT_IN_NETNS"

// Inside reports whether this process runs in the namespace Enter made.
func Inside() bool { return os.Getenv(EnvInside) == "1" }

// Enter returns true when the caller already runs inside the namespace
// and should go on with the test. Otherwise it runs the test t (a
// top-level test) again inside a new namespace, reports the result as t's
// and returns false: the caller returns at once. It skips t when
// unshare or ip is missing or namespaces are not allowed, unless
// STREAMKIT_REQUIRE_TOOLS=1, which makes that a failure.
func Enter(t *testing.T) bool {
	t.Helper()
	if Inside() {
		return true
	}
	skip := func(format string, a ...any) {
		t.Helper()
		if testtool.Required() {
			t.Fatalf(format, a...)
		}
		t.Skipf(format, a...)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		skip("netns: unshare not found (util-linux): %v", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skip("netns: ip not found (iproute2): %v", err)
	}
	// A probe tells "namespaces not allowed here" from a failing test.
	probe := exec.Command(unshare, "--net", "--map-root-user", "--", "ip", "link", "set", "lo", "up")
	if out, err := probe.CombinedOutput(); err != nil {
		skip("netns: cannot create a network namespace (%v): %s", err, strings.TrimSpace(string(out)))
	}
	args := []string{"--net", "--map-root-user", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh",
		os.Args[0], "-test.run=^" + regexp.QuoteMeta(t.Name()) + "$", "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	timeout := 5 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = time.Until(d) - 5*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(os.Environ(), EnvInside+"=1")
	out, err := cmd.CombinedOutput()
	text := string(out)
	switch {
	case err != nil:
		t.Fatalf("netns: %s inside a network namespace: %v\n%s", t.Name(), err, text)
	case strings.Contains(text, "--- SKIP: "+t.Name()):
		t.Skipf("netns: skipped inside the namespace:\n%s", text)
	case !strings.Contains(text, "--- PASS: "+t.Name()):
		t.Fatalf("netns: %s did not run inside the namespace:\n%s", t.Name(), text)
	}
	t.Logf("ran inside a network namespace with only loopback up:\n%s", text)
	return false
}
