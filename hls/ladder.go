package hls

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/Eyevinn/hls-m3u8/m3u8"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/media"
)

// ErrNotPackaged means a playlist cannot be read as a packaged VOD
// ladder (live playlist, remote URIs, no video variants).
var ErrNotPackaged = errors.New("hls: not a packaged VOD presentation")

// maxPlaylist bounds the size of a playlist ReadLadder loads.
const maxPlaylist = 64 << 20

// Ladder is a packaged HLS presentation seen by an ABR simulator: the
// video variants' bit rates and the size of every segment: an
// abr.Ladder (so an abr.Manifest, without package abr importing this
// one) with what HLS adds.
type Ladder struct {
	// Ladder holds the mean segment duration (SegmentMs), each level's
	// BANDWIDTH in kbit/s ascending (Kbps) and Sizes[i][q], the size in
	// bits of segment i at level q, read from EXT-X-BYTERANGE or from the
	// segment file's size. Its methods make this an abr.Manifest.
	abr.Ladder
	// Playlists are the media playlists of the levels (paths on disk).
	Playlists []string
	// AudioSizes[i] is the size in bits of segment i of the default audio
	// rendition (the first EXT-X-MEDIA TYPE=AUDIO with a URI), nil when
	// the audio is muxed or absent. A player fetches it over the same
	// link as the video: a simulator that wants the bytes a real player
	// moves adds it to Sizes (playtest's --compare-sim does).
	AudioSizes []float64
}

// ReadLadder reads a multivariant playlist from disk, then each video
// variant's media playlist and the sizes of its segments (byte ranges, or
// the files' sizes). Variants that share a media playlist (one per audio
// group) count once. Audio is not included: the sizes are the video
// segments'.
func ReadLadder(path string) (*Ladder, error) {
	mv, err := readPlaylist(path)
	if err != nil {
		return nil, err
	}
	master, ok := mv.(*m3u8.MasterPlaylist)
	if !ok {
		return nil, fmt.Errorf("%w: %s is a media playlist, want a multivariant playlist", ErrNotPackaged, path)
	}
	base := filepath.Dir(path)
	l := &Ladder{}
	seen := map[string]bool{}
	var totalDur float64
	var totalSegs int
	for _, i := range sortedByBandwidth(master.Variants) {
		v := master.Variants[i]
		if v.Iframe || seen[v.URI] || v.Codecs != "" && kindOf(v.Codecs) != media.KindVideo {
			continue
		}
		seen[v.URI] = true
		p, mp, err := readMediaPlaylist(base, v.URI)
		if err != nil {
			return nil, err
		}
		if !mp.Closed && mp.MediaType != m3u8.VOD {
			return nil, fmt.Errorf("%w: %s has no EXT-X-ENDLIST", ErrNotPackaged, p)
		}
		sizes, dur, err := segmentSizes(filepath.Dir(p), mp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		q := len(l.Kbps)
		kbps := float64(v.Bandwidth) / 1000
		if q > 0 && kbps <= l.Kbps[q-1] {
			kbps = l.Kbps[q-1] + 0.001 // keep the ladder strictly ascending
		}
		l.Kbps = append(l.Kbps, kbps)
		l.Playlists = append(l.Playlists, p)
		if q == 0 {
			l.Sizes = make([][]float64, len(sizes))
		}
		if len(sizes) < len(l.Sizes) {
			l.Sizes = l.Sizes[:len(sizes)]
		}
		for s := range l.Sizes {
			l.Sizes[s] = append(l.Sizes[s], sizes[s]*8)
		}
		totalDur += dur
		totalSegs += len(sizes)
	}
	if len(l.Kbps) == 0 || len(l.Sizes) == 0 {
		return nil, fmt.Errorf("%w: %s lists no video variant with segments", ErrNotPackaged, path)
	}
	l.SegmentMs = totalDur / float64(totalSegs) * 1000
	if l.AudioSizes, err = audioSizes(base, master); err != nil {
		return nil, err
	}
	return l, nil
}

// audioSizes reads the segment sizes (bits) of the first audio
// rendition with a URI, preferring DEFAULT=YES.
func audioSizes(base string, master *m3u8.MasterPlaylist) ([]float64, error) {
	var pick *m3u8.Alternative
	for _, a := range master.GetAllAlternatives() {
		if a == nil || !strings.EqualFold(a.Type, "AUDIO") || a.URI == "" {
			continue
		}
		if pick == nil || a.Default && !pick.Default {
			pick = a
		}
	}
	if pick == nil {
		return nil, nil
	}
	p, mp, err := readMediaPlaylist(base, pick.URI)
	if err != nil {
		return nil, err
	}
	sizes, _, err := segmentSizes(filepath.Dir(p), mp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	for i := range sizes {
		sizes[i] *= 8
	}
	return sizes, nil
}

func readPlaylist(path string) (m3u8.Playlist, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPlaylist+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPlaylist {
		return nil, fmt.Errorf("hls: %s: playlist larger than %d bytes", path, maxPlaylist)
	}
	return decodePlaylist(path, data)
}

// decodePlaylist parses with hls-m3u8, turning a panic of the third-party
// parser on hostile input into an error.
func decodePlaylist(path string, data []byte) (pl m3u8.Playlist, err error) {
	defer func() {
		if r := recover(); r != nil {
			pl, err = nil, fmt.Errorf("hls: %s: malformed playlist (%v)", path, r)
		}
	}()
	pl, _, err = m3u8.Decode(*bytes.NewBuffer(data), true)
	if err != nil {
		return nil, fmt.Errorf("hls: %s: %w", path, err)
	}
	return pl, nil
}

// localPath resolves a playlist URI against base, refusing URLs and paths
// that climb out of the presentation.
func localPath(base, uri string) (string, error) {
	if strings.Contains(uri, "://") || strings.HasPrefix(uri, "/") {
		return "", fmt.Errorf("%w: URI %q is not a relative path", ErrNotPackaged, uri)
	}
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	p := filepath.Join(base, filepath.FromSlash(uri))
	if rel, err := filepath.Rel(base, p); err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%w: URI %q leaves the presentation directory", ErrNotPackaged, uri)
	}
	return p, nil
}

// segmentSizes returns each segment's size in bytes and the playlist's
// total duration in seconds.
func segmentSizes(base string, pl *m3u8.MediaPlaylist) ([]float64, float64, error) {
	var sizes []float64
	var dur float64
	stat := map[string]int64{}
	for _, s := range pl.GetAllSegments() {
		dur += s.Duration
		if s.Limit > 0 {
			sizes = append(sizes, float64(s.Limit))
			continue
		}
		p, err := localPath(base, s.URI)
		if err != nil {
			return nil, 0, err
		}
		n, ok := stat[p]
		if !ok {
			fi, err := os.Stat(p)
			if err != nil {
				return nil, 0, err
			}
			n = fi.Size()
			stat[p] = n
		}
		sizes = append(sizes, float64(n))
	}
	return sizes, dur, nil
}

// readMediaPlaylist reads the media playlist uri names relative to the
// directory base, returning its local path too.
func readMediaPlaylist(base, uri string) (string, *m3u8.MediaPlaylist, error) {
	p, err := localPath(base, uri)
	if err != nil {
		return "", nil, err
	}
	pl, err := readPlaylist(p)
	if err != nil {
		return "", nil, err
	}
	mp, ok := pl.(*m3u8.MediaPlaylist)
	if !ok {
		return "", nil, fmt.Errorf("%w: %s is not a media playlist", ErrNotPackaged, p)
	}
	return p, mp, nil
}
