//go:build race

package abr

const raceEnabled = true
