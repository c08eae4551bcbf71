//go:build cgo

// Package libm calls the C library's pow, for tests that compare
// streamkit's arithmetic with what Sabre's Python computes.
package libm

/*
#cgo LDFLAGS: -lm
#include <math.h>
*/
import "C"

// Available reports whether the C library is linked (cgo builds).
const Available = true

// Pow is the C library's pow(x, y).
func Pow(x, y float64) float64 { return float64(C.pow(C.double(x), C.double(y))) }
