package mp4_test

import (
	"fmt"
	"log"
	"os"

	"github.com/streamkit-go/streamkit/mp4"
)

// The raw timestamps of a file with B-frames and an edit list, and the ones
// ffprobe shows: the edit list (an empty edit of 0.5 s, then the media from
// media_time 1024, the B-frame delay) presents the first frame at 0.5 s
// (6400 in the 12800 Hz timescale), so ffprobe adds 6400 − 1024 = 5376.
func ExampleReader_FFprobeTimestamps() {
	f, err := os.Open("../testdata/media/h264_editlist.mp4")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	r, err := mp4.NewReader(f, st.Size())
	if err != nil {
		log.Fatal(err)
	}
	shown := r.FFprobeTimestamps(0)
	n := 0
	for s, err := range r.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		if s.TrackID != r.Tracks()[0].ID {
			continue
		}
		pts, dts, ok := shown(&s)
		fmt.Printf("sample %d: raw pts %5d dts %5d -> ffprobe pts %5d dts %5d shown %v\n", s.Index, s.PTS, s.DTS, pts, dts, ok)
		if n++; n == 4 {
			break
		}
	}
	// Output:
	// sample 0: raw pts  1024 dts     0 -> ffprobe pts  6400 dts  5376 shown true
	// sample 1: raw pts  3072 dts   512 -> ffprobe pts  8448 dts  5888 shown true
	// sample 2: raw pts  2048 dts  1024 -> ffprobe pts  7424 dts  6400 shown true
	// sample 3: raw pts  1536 dts  1536 -> ffprobe pts  6912 dts  6912 shown true
}
