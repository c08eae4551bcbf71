//go:build unix

package shape

import "syscall"

// processCPU returns the CPU time (user+system, seconds) of the whole
// process: the benchmark's server and clients share it.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(syscall.TimevalToNsec(ru.Utime)+syscall.TimevalToNsec(ru.Stime)) / 1e9
}
