//go:build !unix

package p2pbench

import "time"

// cpuTime is not measured here (CPUCores reads 0).
func cpuTime() time.Duration { return 0 }
