//go:build !linux

package abr

func threadCPU() float64 { return 0 }
