package live

import (
	"fmt"

	"github.com/streamkit-go/streamkit/segment"
)

// SampleInputs opens the embedded sample ladder (three H.264 renditions
// with aligned 2 s GOPs and AAC audio, 8 s) as FileSource inputs: the
// live stream `streamkit live` plays without files. segment.SampleInputs
// is the one place the ladder is opened.
func SampleInputs() ([]Input, error) {
	seg, err := segment.SampleInputs()
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	in := make([]Input, len(seg))
	for i, s := range seg {
		in[i] = Input{Name: s.Name, Demuxer: s.Demuxer}
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
