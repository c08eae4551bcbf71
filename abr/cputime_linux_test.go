package abr

import "syscall"

// threadCPU returns the CPU time (user+system, seconds) of the calling OS
// thread; benchmarks lock their goroutine to one thread and report work per
// CPU second, which a shared, overloaded machine distorts far less than wall
// time.
func threadCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return float64(syscall.TimevalToNsec(ru.Utime)+syscall.TimevalToNsec(ru.Stime)) / 1e9
}
