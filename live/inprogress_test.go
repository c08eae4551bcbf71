package live

import (
	"strconv"
	"strings"
)

// segmentInProgress reports whether uri (PREFIX/NAME/seg_N.m4s or
// t_T.m4s) names a segment that has started and is not complete yet: a
// request the origin answers chunk by chunk. The browser tests count
// them to tell that an LL-DASH player fetches the live edge early, as
// availabilityTimeOffset allows, rather than complete segments only.
func segmentInProgress(p *Packager, uri string) bool {
	path, _, _ := strings.Cut(uri, "?")
	i := strings.LastIndexByte(path, '/')
	j := strings.LastIndexByte(path[:max(i, 0)], '/')
	if i < 0 || j < 0 {
		return false
	}
	r := p.Rendition(path[j+1 : i])
	file := path[i+1:]
	if r == nil || !strings.HasSuffix(file, ".m4s") {
		return false
	}
	file = strings.TrimSuffix(file, ".m4s")
	p.mu.Lock()
	defer p.mu.Unlock()
	var s *Segment
	if n, ok := strings.CutPrefix(file, "seg_"); ok {
		msn, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return false
		}
		s = r.find(msn)
	} else if n, ok := strings.CutPrefix(file, "t_"); ok {
		t, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return false
		}
		for _, c := range r.segs {
			if c.StartPTS == t {
				s = c
			}
		}
	}
	return s != nil && !s.Complete
}
