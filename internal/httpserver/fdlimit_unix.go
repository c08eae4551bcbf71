//go:build unix

package httpserver

import "syscall"

// openFileLimit returns the process's soft limit on open files (Go raises
// it to the hard limit at start-up on Linux and macOS), 0 when unknown.
func openFileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<30 {
		return 0
	}
	return int(l.Cur)
}
