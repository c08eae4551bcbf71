package main

import (
	"strings"
	"testing"
)

// TestPlaytestErrors: bad arguments are one-line errors before any
// browser starts.
func TestPlaytestErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"playtest", dir, "--player", "vlc"}, `--player must be hlsjs or dashjs, got "vlc"`},
		{[]string{"playtest", dir + "/missing"}, "no such file"},
		{[]string{"playtest", dir, "--compare-sim"}, "--compare-sim needs --shape"},
		{[]string{"playtest", dir, "--calibrate", dir, "--shape", "x.json"}, "leave out --shape and --src"},
	} {
		_, err := runCLI(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
