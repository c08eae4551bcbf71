// Package chromium finds the Chromium that streamkit drives headless
// (playtest, the latency experiment) and holds the flags the browser
// tests start it with: one home for both, used by playtest and, through
// internal/testtool, by the browser tests of serve, live, ingest and
// p2pplayer.
package chromium

import (
	"errors"
	"os"
	"os/exec"
)

// Env names the environment variable that points at a Chromium binary.
const Env = "STREAMKIT_CHROMIUM"

// ErrNotFound means no Chromium binary was found.
var ErrNotFound = errors.New("chromium: not found (apt-get install chromium, or set " + Env + ")")

// Find returns the Chromium to run: $STREAMKIT_CHROMIUM, else the first
// of chromium, chromium-browser, google-chrome on PATH.
func Find() (string, error) {
	for _, c := range []string{os.Getenv(Env), "chromium", "chromium-browser", "google-chrome"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Flags are the flags the browser tests start Chromium with (Debian's
// chromium package, headless, as root in a container):
//
//	--headless            new headless mode, no display needed
//	--no-sandbox          the setuid sandbox does not work as root in containers
//	--disable-gpu         no GPU here
//	--disable-quic --no-first-run --disable-background-networking
//	--disable-component-update --disable-sync
//	                      no network traffic besides the test server
//	--autoplay-policy=no-user-gesture-required --mute-audio
//	                      let the page start playback by itself
//	--remote-debugging-port=0
//	                      keeps the browser running until the test kills it
//
// A test adds --user-data-dir=DIR (a new empty profile per run) and sets
// TMPDIR to a new short directory: Chromium's singleton socket path there
// must fit in 108 bytes, and a killed Chromium leaves files in it. Copy
// the slice before appending to it.
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--autoplay-policy=no-user-gesture-required", "--mute-audio", "--remote-debugging-port=0",
}
