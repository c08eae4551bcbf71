//go:build !cgo

package libm

import "math"

// Available reports whether the C library is linked (cgo builds).
const Available = false

// Pow is math.Pow when cgo is off (callers check Available).
func Pow(x, y float64) float64 { return math.Pow(x, y) }
