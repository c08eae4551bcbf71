package live

// Every call of the live packager into package mp4 is in this file, so
// that the project's one CMAF writer (mp4.Fragmenter) can change shape in
// one place. Live and VOD segments come from the same writer and are
// byte-compatible: a live segment is exactly what mp4.NewCMAFFragmenter
// writes for the same samples, split into CMAF chunks.
//
// Calls used: mp4.NewCMAFFragmenter(track), (*Fragmenter).SetStart
// (trackID, 0, 0), (*Fragmenter).WriteInit, (*Fragmenter).WriteFragment
// (w, []mp4.FragmentSample, nextDTS) for a segment's first chunk,
// (*Fragmenter).WriteChunk (same arguments, no styp) for the others, and
// the type mp4.FragmentSample.

import (
	"bytes"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// cmafWriter writes the CMAF header and chunks of one live track.
type cmafWriter struct {
	f   *mp4.Fragmenter
	id  int
	buf bytes.Buffer
	smp []mp4.FragmentSample
}

// newCMAFWriter returns the writer of t. The live timeline starts at 0
// (sources map their timestamps so that DTS ≥ 0 and the tracks share
// one origin), so the track start is set to 0: tfdt is the live DTS and
// the header carries no edit list (the source's, if any, is already
// applied by the mapping), which hls.js and dash.js would otherwise have
// to apply.
func newCMAFWriter(t *media.Track) (*cmafWriter, error) {
	lt := *t
	lt.Edits, lt.MovieTimescale = nil, 0 // the source's edit list is already applied
	t = &lt
	f, err := mp4.NewCMAFFragmenter(t)
	if err != nil {
		return nil, err
	}
	f.SetStart(t.ID, 0, 0)
	return &cmafWriter{f: f, id: t.ID}, nil
}

// init returns the CMAF header (ftyp+moov).
func (w *cmafWriter) init() ([]byte, error) {
	w.buf.Reset()
	if err := w.f.WriteInit(&w.buf); err != nil {
		return nil, err
	}
	return bytes.Clone(w.buf.Bytes()), nil
}

// chunk returns one CMAF chunk (moof+mdat) holding samples; nextDTS is
// the DTS of the sample that follows (the last sample's duration). With
// first set the chunk starts its segment and begins with the styp box
// (WriteFragment in CMAF mode); later chunks are written without it
// (WriteChunk), so that the segment (the chunks concatenated) has one
// styp, at its start, and equals what mp4.Fragmenter.WriteSegment writes.
func (w *cmafWriter) chunk(samples []pendingSample, nextDTS int64, first bool) ([]byte, error) {
	w.smp = w.smp[:0]
	for _, s := range samples {
		ms := s.Sample
		ms.TrackID = w.id
		w.smp = append(w.smp, mp4.FragmentSample{Sample: ms, Data: s.data})
	}
	w.buf.Reset()
	next := map[int]int64{w.id: nextDTS}
	var err error
	if first {
		err = w.f.WriteFragment(&w.buf, w.smp, next)
	} else {
		_, err = w.f.WriteChunk(&w.buf, w.smp, next)
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(w.buf.Bytes()), nil
}
