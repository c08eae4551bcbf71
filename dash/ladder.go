package dash

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/Eyevinn/dash-mpd/mpd"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/mp4"
)

// ErrNotPackaged means an MPD cannot be read as a packaged VOD ladder
// (dynamic MPD, remote URLs, no video, unsupported addressing).
var ErrNotPackaged = errors.New("dash: not a packaged VOD presentation")

const (
	maxMPD      = 64 << 20
	maxSegments = 1 << 20
)

// Ladder is a packaged DASH presentation seen by an ABR simulator: the
// video Representations' bandwidths and every segment's size: an
// abr.Ladder (so an abr.Manifest, without package abr importing this
// one) with what DASH adds.
type Ladder struct {
	// Ladder holds the mean segment duration (SegmentMs), each
	// Representation's @bandwidth in kbit/s ascending (Kbps) and
	// Sizes[i][q], the size in bits of segment i of level q, from the
	// segment files (SegmentTemplate) or the sidx (SegmentBase). Its
	// methods make this an abr.Manifest.
	abr.Ladder
	// IDs are the Representation ids of the levels.
	IDs []string
	// AudioSizes[i] is the size in bits of segment i of the first audio
	// AdaptationSet's first Representation, nil without audio. A player
	// fetches it over the same link as the video: a simulator that wants
	// the bytes a real player moves adds it to Sizes (playtest's
	// --compare-sim does).
	AudioSizes []float64
}

// ReadLadder reads a static MPD from disk and the sizes of the segments
// of its video Representations (first Period): segment files named by
// SegmentTemplate ($Number$ or $Time$, with @duration or a
// SegmentTimeline), or the sidx of a SegmentBase file.
func ReadLadder(path string) (*Ladder, error) {
	data, err := readLimited(path, maxMPD)
	if err != nil {
		return nil, err
	}
	m, err := parseMPD(data)
	if err != nil {
		return nil, fmt.Errorf("dash: %s: %w", path, err)
	}
	if m.Type != "" && m.Type != mpd.STATIC_TYPE {
		return nil, fmt.Errorf("%w: %s is a dynamic MPD", ErrNotPackaged, path)
	}
	if len(m.Periods) == 0 {
		return nil, fmt.Errorf("%w: %s has no Period", ErrNotPackaged, path)
	}
	period := m.Periods[0]
	var total float64
	for _, d := range []string{period.Duration, m.MediaPresentationDuration} {
		if d == "" {
			continue
		}
		v, err := mpd.ParseDuration(d)
		if err != nil {
			return nil, fmt.Errorf("dash: %s: duration %q: %w", path, d, err)
		}
		total = v.Seconds()
		break
	}
	base := filepath.Dir(path)
	type level struct {
		kbps  float64
		id    string
		sizes []float64
		durs  []float64
	}
	var levels []level
	for ai := range period.AdaptationSets {
		as := &period.AdaptationSets[ai]
		if !isVideo(as) {
			continue
		}
		for ri := range as.Representations {
			rep := &as.Representations[ri]
			sizes, durs, err := repSegments(base, as, rep, total)
			if err != nil {
				return nil, fmt.Errorf("%s: Representation %q: %w", path, rep.ID, err)
			}
			levels = append(levels, level{float64(rep.Bandwidth) / 1000, rep.ID, sizes, durs})
		}
		break
	}
	if len(levels) == 0 {
		return nil, fmt.Errorf("%w: %s has no video Representation", ErrNotPackaged, path)
	}
	sort.SliceStable(levels, func(i, j int) bool { return levels[i].kbps < levels[j].kbps })
	l := &Ladder{}
	n := math.MaxInt
	var secs float64
	var count int
	for q, lv := range levels {
		k := lv.kbps
		if q > 0 && k <= l.Kbps[q-1] {
			k = l.Kbps[q-1] + 0.001 // keep the ladder strictly ascending
		}
		l.Kbps = append(l.Kbps, k)
		l.IDs = append(l.IDs, lv.id)
		n = min(n, len(lv.sizes))
		for _, d := range lv.durs {
			secs += d
		}
		count += len(lv.durs)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s: a video Representation has no segments", ErrNotPackaged, path)
	}
	l.Sizes = make([][]float64, n)
	for i := range l.Sizes {
		for _, lv := range levels {
			l.Sizes[i] = append(l.Sizes[i], lv.sizes[i]*8)
		}
	}
	l.SegmentMs = secs / float64(count) * 1000
	for ai := range period.AdaptationSets {
		as := &period.AdaptationSets[ai]
		if !isAudio(as) || len(as.Representations) == 0 {
			continue
		}
		rep := &as.Representations[0]
		sizes, _, err := repSegments(base, as, rep, total)
		if err != nil {
			return nil, fmt.Errorf("%s: Representation %q: %w", path, rep.ID, err)
		}
		for i := range sizes {
			sizes[i] *= 8
		}
		l.AudioSizes = sizes
		break
	}
	return l, nil
}

func isAudio(as *xAdaptationSet) bool {
	if as.ContentType == "audio" || strings.HasPrefix(as.MimeType, "audio/") {
		return true
	}
	for _, r := range as.Representations {
		if strings.HasPrefix(r.MimeType, "audio/") {
			return true
		}
	}
	return false
}

// The MPD is read with encoding/xml into the few elements ReadLadder
// needs rather than with dash-mpd's decoder: that decoder (a fork of
// encoding/xml) loops forever on some hostile documents (found by
// FuzzReadLadder), and ReadLadder reads files it did not write.
type xMPD struct {
	Type                      string    `xml:"type,attr"`
	MediaPresentationDuration string    `xml:"mediaPresentationDuration,attr"`
	Periods                   []xPeriod `xml:"Period"`
}

type xPeriod struct {
	Duration       string           `xml:"duration,attr"`
	AdaptationSets []xAdaptationSet `xml:"AdaptationSet"`
}

type xAdaptationSet struct {
	ContentType     string            `xml:"contentType,attr"`
	MimeType        string            `xml:"mimeType,attr"`
	SegmentTemplate *xSegmentTemplate `xml:"SegmentTemplate"`
	SegmentBase     *xSegmentBase     `xml:"SegmentBase"`
	Representations []xRepresentation `xml:"Representation"`
}

type xRepresentation struct {
	ID              string            `xml:"id,attr"`
	Bandwidth       uint64            `xml:"bandwidth,attr"`
	MimeType        string            `xml:"mimeType,attr"`
	BaseURLs        []string          `xml:"BaseURL"`
	SegmentTemplate *xSegmentTemplate `xml:"SegmentTemplate"`
	SegmentBase     *xSegmentBase     `xml:"SegmentBase"`
}

type xSegmentTemplate struct {
	Media           string     `xml:"media,attr"`
	Timescale       *uint64    `xml:"timescale,attr"`
	StartNumber     *uint64    `xml:"startNumber,attr"`
	Duration        *uint64    `xml:"duration,attr"`
	SegmentTimeline *xTimeline `xml:"SegmentTimeline"`
}

type xTimeline struct {
	S []struct {
		T *uint64 `xml:"t,attr"`
		D uint64  `xml:"d,attr"`
		R int     `xml:"r,attr"`
	} `xml:"S"`
}

type xSegmentBase struct {
	IndexRange string `xml:"indexRange,attr"`
}

func parseMPD(data []byte) (*xMPD, error) {
	var m xMPD
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

func isVideo(as *xAdaptationSet) bool {
	if as.ContentType == "video" || strings.HasPrefix(as.MimeType, "video/") {
		return true
	}
	for _, r := range as.Representations {
		if strings.HasPrefix(r.MimeType, "video/") {
			return true
		}
	}
	return false
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("dash: %s larger than %d bytes", path, limit)
	}
	return data, nil
}

// repSegments returns the sizes (bytes) and durations (seconds) of a
// Representation's media segments.
func repSegments(base string, as *xAdaptationSet, rep *xRepresentation, total float64) ([]float64, []float64, error) {
	st := rep.SegmentTemplate
	if st == nil {
		st = as.SegmentTemplate
	}
	sb := rep.SegmentBase
	if sb == nil {
		sb = as.SegmentBase
	}
	switch {
	case st != nil:
		return templateSegments(base, rep, st, total)
	case sb != nil:
		if len(rep.BaseURLs) == 0 {
			return nil, nil, fmt.Errorf("%w: SegmentBase without BaseURL", ErrNotPackaged)
		}
		p, err := localPath(base, strings.TrimSpace(rep.BaseURLs[0]))
		if err != nil {
			return nil, nil, err
		}
		return sidxSegments(p, sb.IndexRange)
	}
	return nil, nil, fmt.Errorf("%w: no SegmentTemplate or SegmentBase", ErrNotPackaged)
}

// templateID is compiled on first use, not in every command's start-up.
var templateID = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\$(RepresentationID|Number|Time|Bandwidth)(%0[0-9]+d)?\$`)
})

// expand substitutes a SegmentTemplate identifier (ISO/IEC 23009-1
// 5.3.9.4.4), including the %0Nd width format.
func expand(tmpl string, rep *xRepresentation, number, t uint64) string {
	re := templateID()
	s := re.ReplaceAllStringFunc(tmpl, func(m string) string {
		sub := re.FindStringSubmatch(m)
		var v string
		switch sub[1] {
		case "RepresentationID":
			return rep.ID
		case "Number":
			v = strconv.FormatUint(number, 10)
		case "Time":
			v = strconv.FormatUint(t, 10)
		case "Bandwidth":
			v = strconv.FormatUint(uint64(rep.Bandwidth), 10)
		}
		if f := sub[2]; f != "" {
			w, _ := strconv.Atoi(f[2 : len(f)-1])
			for len(v) < min(w, 32) {
				v = "0" + v
			}
		}
		return v
	})
	return strings.ReplaceAll(s, "$$", "$")
}

func templateSegments(base string, rep *xRepresentation, st *xSegmentTemplate, total float64) ([]float64, []float64, error) {
	ts := float64(1)
	if st.Timescale != nil {
		if *st.Timescale == 0 {
			return nil, nil, fmt.Errorf("%w: timescale 0", ErrNotPackaged)
		}
		ts = float64(*st.Timescale)
	}
	number := uint64(1)
	if st.StartNumber != nil {
		number = *st.StartNumber
	}
	type seg struct{ t, d uint64 }
	var segs []seg
	switch {
	case st.SegmentTimeline != nil:
		var t uint64
		for _, s := range st.SegmentTimeline.S {
			if s.T != nil {
				t = *s.T
			}
			if s.R < 0 || s.D == 0 || s.R >= maxSegments {
				return nil, nil, fmt.Errorf("%w: open-ended or zero-length S element", ErrNotPackaged)
			}
			for k := 0; k <= s.R; k++ {
				if len(segs) >= maxSegments {
					return nil, nil, fmt.Errorf("%w: more than %d segments", ErrNotPackaged, maxSegments)
				}
				segs = append(segs, seg{t, s.D})
				t += s.D
			}
		}
	case st.Duration != nil && *st.Duration > 0 && *st.Duration < 1<<40:
		d := float64(*st.Duration)
		n := int(math.Ceil(total*ts/d - 1e-9))
		if n <= 0 || n > maxSegments {
			return nil, nil, fmt.Errorf("%w: %d segments from @duration", ErrNotPackaged, n)
		}
		for i := range n {
			segs = append(segs, seg{uint64(i) * uint64(d), uint64(d)})
		}
	default:
		return nil, nil, fmt.Errorf("%w: SegmentTemplate without @duration or SegmentTimeline", ErrNotPackaged)
	}
	sizes := make([]float64, len(segs))
	durs := make([]float64, len(segs))
	for i, s := range segs {
		p, err := localPath(base, expand(st.Media, rep, number+uint64(i), s.t))
		if err != nil {
			return nil, nil, err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, err
		}
		sizes[i] = float64(fi.Size())
		durs[i] = float64(s.d) / ts
	}
	return sizes, durs, nil
}

// sidxSegments reads the sidx at indexRange ("first-last") of file p.
func sidxSegments(p, indexRange string) ([]float64, []float64, error) {
	a, b, ok := strings.Cut(indexRange, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first || last-first > maxMPD {
		return nil, nil, fmt.Errorf("%w: indexRange %q", ErrNotPackaged, indexRange)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	buf := make([]byte, last-first+1)
	if _, err := f.ReadAt(buf, first); err != nil {
		return nil, nil, fmt.Errorf("%s: reading indexRange %s: %w", p, indexRange, err)
	}
	sidx, err := mp4.ParseSidx(buf, first)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: indexRange %s: %w", ErrNotPackaged, p, indexRange, err)
	}
	if sidx.Timescale == 0 {
		return nil, nil, fmt.Errorf("%w: %s: sidx timescale 0", ErrNotPackaged, p)
	}
	var sizes, durs []float64
	for _, r := range sidx.References {
		if r.ReferenceType != 0 {
			return nil, nil, fmt.Errorf("%w: %s: hierarchical sidx", ErrNotPackaged, p)
		}
		sizes = append(sizes, float64(r.Size))
		durs = append(durs, float64(r.Duration)/float64(sidx.Timescale))
	}
	return sizes, durs, nil
}

// localPath resolves a relative URL against base, refusing absolute URLs
// and paths that leave the presentation.
func localPath(base, uri string) (string, error) {
	if strings.Contains(uri, "://") || strings.HasPrefix(uri, "/") {
		return "", fmt.Errorf("%w: URL %q is not a relative path", ErrNotPackaged, uri)
	}
	p := filepath.Join(base, filepath.FromSlash(uri))
	if rel, err := filepath.Rel(base, p); err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%w: URL %q leaves the presentation directory", ErrNotPackaged, uri)
	}
	return p, nil
}
