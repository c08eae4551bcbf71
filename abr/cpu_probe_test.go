package abr

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestCPUProbe (manual, STREAMKIT_CPU_PROBE=1) reports user CPU time per
// session, which is steadier than wall time on a shared machine.
func TestCPUProbe(t *testing.T) {
	if os.Getenv("STREAMKIT_CPU_PROBE") == "" {
		t.Skip("manual")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	traces, m := sabre4G(t)
	for _, name := range []string{"throughput", "bola", "bolae", "dynamic", "dynamicdash"} {
		for _, noa := range []bool{false, true} {
			alg, _ := New(name, Config{})
			opt := Options{NoAbandon: noa}
			s, _ := NewSession(m, traces[0], alg, opt)
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_THREAD, &ru0)
			segs := 0
			for i := 0; i < 2000; i++ {
				s.ResetTrace(traces[i%len(traces)], opt)
				for !s.done {
					s.Step()
					segs++
				}
			}
			syscall.Getrusage(syscall.RUSAGE_THREAD, &ru1)
			u := time.Duration(syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime))
			t.Logf("%-12s noa=%-5v %8.0f segments/s (user CPU)", name, noa, float64(segs)/u.Seconds())
		}
	}
}
