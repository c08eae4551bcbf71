package live

import "time"

// Location is where a sample of a rendition was packaged: its segment and
// part, and when they were published.
type Location struct {
	MSN          int64
	Part         int
	PartArrived  time.Time // ingest arrival of the part's first sample
	PartPublish  time.Time // the part became available (LL-HLS part, LL-DASH chunk)
	SegPublish   time.Time // the segment was completed (zero while in progress)
	SegComplete  bool
	PartStartDTS int64
	PartDuration int64 // ticks
	SegParts     int   // parts of the segment so far (all of them once complete)
}

// Locate returns where the sample with decode time dts (live timeline,
// track timescale) of the named rendition sits, if it is still in the
// window and published. The latency experiment (package latency) joins
// it with capture, fetch and display times: the packaging wait of a frame
// is its part's (or, for plain HLS, its segment's) publication minus its
// ingest arrival.
func (p *Packager) Locate(rendition string, dts int64) (Location, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byName[rendition]
	if r == nil {
		return Location{}, false
	}
	for i := len(r.segs) - 1; i >= 0; i-- {
		s := r.segs[i]
		if s.StartDTS > dts {
			continue
		}
		for j := len(s.Parts) - 1; j >= 0; j-- {
			pt := s.Parts[j]
			if pt.StartDTS <= dts {
				if dts >= pt.StartDTS+pt.Duration {
					return Location{}, false // after the last part: not yet published
				}
				return Location{MSN: s.MSN, Part: pt.Index, PartArrived: pt.Arrived, PartPublish: pt.Published,
					SegPublish: s.Published, SegComplete: s.Complete, PartStartDTS: pt.StartDTS,
					PartDuration: pt.Duration, SegParts: len(s.Parts)}, true
			}
		}
		return Location{}, false
	}
	return Location{}, false
}
