//go:build !race

package abr

const raceEnabled = false
