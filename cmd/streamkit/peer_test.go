package main

import (
	"strings"
	"testing"
)

func TestPeerCommandRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"peer", "--count", "0", "http://127.0.0.1:1/x.m3u8"}, "--count 0"},
		{[]string{"peer", "--seed", "--count", "3", "http://127.0.0.1:1/x.m3u8"}, "--seed runs one seeder"},
		{[]string{"peer", "ftp://127.0.0.1:1/x.m3u8"}, "unsupported protocol"},
		{[]string{"peer"}, "accepts 1 arg"},
		{[]string{"peer", "--local", "http://127.0.0.1:1/x.m3u8"}, "leave out the URL"},
		{[]string{"peer", "--local", "--report", "xml"}, "--report \"xml\""},
		{[]string{"peer", "--local", "--seed"}, "do not apply"},
		{[]string{"peer", "--local", "--count", "2000"}, "want 1 to 1000"},
		{[]string{"peer", "--uplink", "-3", "http://127.0.0.1:1/x.m3u8"}, "--uplink"},
	} {
		_, err := runCLI(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one with %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error of more than one line: %q", c.args, err)
		}
	}
}
