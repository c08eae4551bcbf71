package segment

import (
	"fmt"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/sample"
)

// SampleInputs opens the embedded sample ladder (package sample: three
// H.264 renditions with 2 s closed GOPs at the same instants, and one AAC
// track, 8 s each) as Cut inputs named "sample:NAME". It is the one place
// the demo, the live sample source and the tutorials open that ladder.
func SampleInputs() ([]Input, error) {
	var in []Input
	for _, name := range append(sample.Videos(), sample.Audio) {
		r, size, err := sample.Open(name)
		if err != nil {
			return nil, err
		}
		d, err := media.Open(r, size)
		if err != nil {
			return nil, fmt.Errorf("segment: sample %s: %w", name, err)
		}
		in = append(in, Input{Name: "sample:" + name, Demuxer: d})
	}
	return in, nil
}
