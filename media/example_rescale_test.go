package media_test

import (
	"fmt"

	"github.com/streamkit-go/streamkit/media"
)

// Convert timestamps between timescales the way ffprobe does: rounded to
// the nearest tick, halves away from zero, exact for large values.
func ExampleRescale() {
	// 1001 ticks of 90 kHz (one frame at 89.91 fps) in 48 kHz samples.
	fmt.Println(media.Rescale(1001, 48000, 90000))
	// Negative values round symmetrically.
	fmt.Println(media.Rescale(-3, 1, 2))
	// A 2^45-tick timestamp at 90 kHz in microseconds: a·b overflows 64 bits.
	fmt.Println(media.Rescale(1<<45, 1_000_000, 90000))
	// Output:
	// 534
	// -2
	// 390937467653689
}

// Where a track's samples are shown: raw sample time plus the edit
// list's shift, which is what ffprobe prints.
func ExampleEditShift() {
	aac := &media.Track{Timescale: 48000, MovieTimescale: 1000,
		Edits: []media.Edit{{Duration: 10000, MediaTime: 1024, RateInt: 1}}} // encoder priming
	first := media.Sample{PTS: 0}
	fmt.Println(first.PTS+media.EditShift(aac), "ticks: the priming frame is shown before zero")
	// Output:
	// -1024 ticks: the priming frame is shown before zero
}
