package live

import (
	"fmt"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/sample"
)

// SampleInputs opens the embedded sample ladder (three H.264 renditions
// with aligned 2 s GOPs and AAC audio, 8 s) as FileSource inputs: the
// live stream `streamkit live` plays without files.
func SampleInputs() ([]Input, error) {
	var in []Input
	for _, name := range append(sample.Videos(), sample.Audio) {
		r, size, err := sample.Open(name)
		if err != nil {
			return nil, err
		}
		d, err := media.Open(r, size)
		if err != nil {
			return nil, fmt.Errorf("live: sample %s: %w", name, err)
		}
		in = append(in, Input{Name: "sample:" + name, Demuxer: d})
	}
	return in, nil
}

// NewSampleSource is NewFileSource over SampleInputs: the embedded ladder
// as a live source (renditions v0, v1, v2 and a0).
func NewSampleSource(p *Packager, opts ...SourceOption) (*FileSource, error) {
	in, err := SampleInputs()
	if err != nil {
		return nil, err
	}
	return NewFileSource(p, in, opts...)
}
