//go:build !unix

package shape

func processCPU() float64 { return 0 }
