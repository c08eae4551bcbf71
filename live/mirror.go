package live

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"

	"github.com/streamkit-go/streamkit/integrity"
)

// ErrQuery means a malformed LL-HLS query (HTTP 400).
var ErrQuery = errors.New("live: bad query")

// mirror writes what the packager publishes to a directory, for an
// external web server (nginx, a CDN origin bucket). The layout is the
// origin's URL layout: master.m3u8, manifest.mpd and one folder per
// rendition. Every file is written to a temporary name and renamed, so a
// web server never serves half a part.
type mirror struct {
	dir string
}

type mirrorJob struct {
	name   string // slash-separated, relative to dir
	data   []byte
	remove bool
}

// mirrorJobs turns published events into file writes; the playlists are
// rendered now, under the packager lock, and written after it is released.
func (p *Packager) mirrorJobs(evs []Event) []mirrorJob {
	if p.mirror == nil || len(evs) == 0 {
		return nil
	}
	var jobs []mirrorJob
	lists := map[*Rendition]bool{}
	top := false
	for _, e := range evs {
		r := p.byName[e.Rendition]
		if r == nil {
			continue
		}
		switch e.Kind {
		case evInit:
			jobs = append(jobs, mirrorJob{name: r.Name + "/" + initName(e.Part), data: r.inits[e.Part]})
			top = true
		case EventPart:
			if s := r.find(e.MSN); s != nil && e.Part < len(s.Parts) {
				jobs = append(jobs, mirrorJob{name: r.Name + "/" + partName(e.MSN, e.Part), data: s.Parts[e.Part].Data})
			}
			lists[r] = true
		case EventSegment:
			if s := r.find(e.MSN); s != nil {
				var buf bytes.Buffer
				for _, pt := range s.Parts {
					buf.Write(pt.Data)
				}
				jobs = append(jobs, mirrorJob{name: r.Name + "/" + segName(e.MSN), data: buf.Bytes()})
			}
			lists[r] = true
			top = true
		case evEvict:
			jobs = append(jobs, mirrorJob{name: r.Name + "/" + segName(e.MSN), remove: true})
			for i := 0; i < e.Part; i++ {
				jobs = append(jobs, mirrorJob{name: r.Name + "/" + partName(e.MSN, i), remove: true})
			}
		}
	}
	for _, r := range p.rends {
		if lists[r] && r.sidecar != nil {
			// Before the playlist: a reader never sees a piece listed but
			// not signed.
			jobs = append(jobs, mirrorJob{name: integrity.SidecarName(r.Name), data: r.sidecar})
		}
	}
	for _, r := range p.rends {
		if lists[r] {
			jobs = append(jobs, mirrorJob{name: r.Name + "/media.m3u8", data: []byte(p.renderMediaPlaylist(r, false, true))})
		}
	}
	if top {
		jobs = append(jobs, mirrorJob{name: "master.m3u8", data: []byte(p.multivariant())})
		if mpd, err := p.mpd(p.cfg.clock.Now(), false); err == nil {
			jobs = append(jobs, mirrorJob{name: "manifest.mpd", data: mpd})
		}
	}
	return jobs
}

// run performs jobs in order and returns the first error.
func (m *mirror) run(jobs []mirrorJob) error {
	var first error
	for _, j := range jobs {
		path := filepath.Join(m.dir, filepath.FromSlash(j.name))
		var err error
		if j.remove {
			if err = os.Remove(path); errors.Is(err, os.ErrNotExist) {
				err = nil
			}
		} else {
			err = writeAtomic(path, j.data)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// writeAtomic writes data to a temporary file beside path and renames it.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
