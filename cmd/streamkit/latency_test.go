package main

import (
	"strings"
	"testing"
)

// TestLatencyCmdFlags: bad flags are one-line errors before anything
// starts (the experiment itself is latency.TestRun's).
func TestLatencyCmdFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--modes", "hls,rtsp"}, `unknown mode "rtsp"`},
		{[]string{"--ingest", "carrier-pigeon"}, "rtmp or pipe"},
		{[]string{"--duration", "0s"}, "--duration must be positive"},
		{[]string{"--player-js", "/nonexistent/dir"}, "latency:"},
	} {
		_, err := runCLI(t, append([]string{"latency"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
