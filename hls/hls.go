// Package hls writes and reads HTTP Live Streaming playlists (RFC 8216bis) for packaged presentations.
//
// [Write] turns a [segment.Presentation] into a VOD multivariant playlist
// (master.m3u8), one media playlist per rendition and one I-frame
// playlist per video rendition, following the rules of RFC 8216bis that
// players and Apple's validator check: EXT-X-TARGETDURATION is the
// largest EXTINF of any media playlist of the presentation rounded to the
// nearest integer (one value for all of them), EXT-X-VERSION is the
// lowest that covers the tags used (6 with EXT-X-MAP, 4 with byte ranges
// alone, 3 otherwise), BANDWIDTH is the peak segment bit rate of the
// variant plus its audio group's peak, EXT-X-INDEPENDENT-SEGMENTS is
// claimed only when every segment starts with a key frame presented
// first, and CODECS lists video and audio. The playlist
// model is github.com/Eyevinn/hls-m3u8.
//
// [ReadLadder] goes the other way: it reads a packaged multivariant
// playlist and the sizes of its segments from disk, for the ABR simulator.
package hls

import (
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Eyevinn/hls-m3u8/m3u8"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/segment"
)

// Names of the files Write creates next to the segment folders.
const (
	MultivariantName = "master.m3u8"
)

// MediaPlaylistName is the file name of rendition r's media playlist.
func MediaPlaylistName(r *segment.Rendition) string { return r.ID + ".m3u8" }

// IFramePlaylistName is the file name of rendition r's I-frame playlist.
func IFramePlaylistName(r *segment.Rendition) string { return r.ID + "_iframes.m3u8" }

// Write writes every playlist of p into dir (the directory the segments
// were cut into) and returns the path of the multivariant playlist. Each
// file is written to a temporary name and renamed.
func Write(dir string, p *segment.Presentation) (string, error) {
	// One EXT-X-TARGETDURATION for every media playlist of the
	// presentation, the longest segment of any of them rounded (a player
	// switching renditions, or playing audio beside video, sees one
	// target; the audio of MPEG-TS segments, cut at frame boundaries,
	// would otherwise round up to another). I-frame playlists keep their
	// own: their entries are GOPs, not segments.
	var all []float64
	for _, r := range p.Renditions() {
		for _, s := range r.Segments {
			all = append(all, r.Seconds(s.Duration))
		}
	}
	for _, r := range p.Renditions() {
		mp, err := mediaPlaylist(r, all)
		if err != nil {
			return "", err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, MediaPlaylistName(r)), mp.Encode().Bytes()); err != nil {
			return "", err
		}
		if len(r.IFrames) > 0 {
			ip, err := IFramePlaylist(r)
			if err != nil {
				return "", err
			}
			if err := atomicfile.WriteFile(filepath.Join(dir, IFramePlaylistName(r)), ip.Encode().Bytes()); err != nil {
				return "", err
			}
		}
	}
	mv, err := Multivariant(p)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, MultivariantName)
	return out, atomicfile.WriteFile(out, mv.Encode().Bytes())
}

// TargetDuration returns EXT-X-TARGETDURATION for segments of the given
// durations (seconds) at protocol version ver: RFC 8216 (version 6 and
// later) requires every EXTINF rounded to the nearest integer to be at
// most the target; earlier versions round up. Each duration is first
// rounded as the playlist prints EXTINF (to the millisecond): 2.4996 s is
// written 2.500, which rounds to 3.
func TargetDuration(durations []float64, ver uint8) uint {
	var t uint
	for _, d := range durations {
		d = math.Round(d*1000) / 1000
		var r uint
		if ver >= 6 {
			r = uint(math.Round(d))
		} else {
			r = uint(math.Ceil(d))
		}
		t = max(t, r, 1)
	}
	return t
}

// MediaPlaylist returns the VOD media playlist of rendition r, alone: its
// EXT-X-TARGETDURATION covers its own segments ([Write] gives every
// playlist of a presentation the same one).
func MediaPlaylist(r *segment.Rendition) (*m3u8.MediaPlaylist, error) { return mediaPlaylist(r, nil) }

// mediaPlaylist returns r's media playlist with a target duration that
// also covers the durations in others.
func mediaPlaylist(r *segment.Rendition, others []float64) (*m3u8.MediaPlaylist, error) {
	pl, err := m3u8.NewMediaPlaylist(0, uint(max(len(r.Segments), 1)))
	if err != nil {
		return nil, err
	}
	pl.MediaType = m3u8.VOD
	pl.SetIndependentSegments(r.Independent)
	if r.Init != nil {
		pl.SetDefaultMap(r.Init.URI, byteRangeLimit(r.Init, r.Index), 0)
	}
	var durs []float64
	for _, s := range r.Segments {
		seg := &m3u8.MediaSegment{URI: s.URI, Duration: r.Seconds(s.Duration)}
		if r.ByteRange {
			seg.Limit, seg.Offset = s.Size, s.Offset
		}
		if err := pl.AppendSegment(seg); err != nil {
			return nil, fmt.Errorf("hls: %s: %w", r.ID, err)
		}
		durs = append(durs, seg.Duration)
	}
	finish(pl, append(durs, others...))
	return pl, nil
}

// byteRangeLimit returns the EXT-X-MAP BYTERANGE length: the init segment
// alone in byte-range mode (the sidx that follows is not part of it), 0
// (no BYTERANGE) when the init is a file of its own.
func byteRangeLimit(init, index *segment.Range) int64 {
	if index == nil {
		return 0
	}
	return init.Size
}

// finish sets the version, the target duration and ENDLIST.
func finish(pl *m3u8.MediaPlaylist, durs []float64) {
	ver, _ := pl.CalcMinVersion()
	pl.SetVersion(ver)
	pl.SetTargetDuration(TargetDuration(durs, ver))
	pl.Close()
}

// IFramePlaylist returns the I-frame playlist (EXT-X-I-FRAMES-ONLY) of a
// video rendition: one entry per key frame, addressed by byte range
// inside its media segment.
func IFramePlaylist(r *segment.Rendition) (*m3u8.MediaPlaylist, error) {
	if len(r.IFrames) == 0 {
		return nil, fmt.Errorf("hls: %s has no key frames to list", r.ID)
	}
	pl, err := m3u8.NewMediaPlaylist(0, uint(len(r.IFrames)))
	if err != nil {
		return nil, err
	}
	pl.MediaType = m3u8.VOD
	pl.SetIndependentSegments(true)
	pl.SetIframeOnly()
	if r.Init != nil {
		pl.SetDefaultMap(r.Init.URI, byteRangeLimit(r.Init, r.Index), 0)
	}
	var durs []float64
	for _, f := range r.IFrames {
		seg := &m3u8.MediaSegment{URI: f.URI, Duration: r.Seconds(f.Duration), Limit: f.Size, Offset: f.Offset}
		if err := pl.AppendSegment(seg); err != nil {
			return nil, fmt.Errorf("hls: %s: %w", r.ID, err)
		}
		durs = append(durs, seg.Duration)
	}
	finish(pl, durs)
	return pl, nil
}

// iframeBandwidth is the peak and average bit rate of the I-frame
// playlist (key frame bytes over the time each is shown).
func iframeBandwidth(r *segment.Rendition) (peak, avg uint32) {
	var bits, secs float64
	for _, f := range r.IFrames {
		d := r.Seconds(f.Duration)
		if d > 0 {
			peak = max(peak, uint32(math.Ceil(float64(f.Size)*8/d)))
		}
		bits += float64(f.Size) * 8
		secs += d
	}
	if secs > 0 {
		avg = uint32(math.Ceil(bits / secs))
	}
	return peak, avg
}

// audioGroup is the set of audio renditions of one codec; HLS requires
// every rendition of a group to share the variant's CODECS.
type audioGroup struct {
	id     string
	codecs string
	rends  []*segment.Rendition
}

func audioGroups(p *segment.Presentation) []*audioGroup {
	var groups []*audioGroup
	byCodec := map[string]*audioGroup{}
	for _, a := range p.Audio {
		c := a.Track.CodecString
		g := byCodec[c]
		if g == nil {
			g = &audioGroup{id: "audio-" + strings.ReplaceAll(groupSafe(c), ".", "_"), codecs: c}
			byCodec[c] = g
			groups = append(groups, g)
		}
		g.rends = append(g.rends, a)
	}
	return groups
}

func groupSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// Multivariant returns the multivariant (master) playlist of p: one
// EXT-X-STREAM-INF per video rendition and audio group, an AUDIO group of
// EXT-X-MEDIA renditions, and an EXT-X-I-FRAME-STREAM-INF per video
// rendition.
func Multivariant(p *segment.Presentation) (*m3u8.MasterPlaylist, error) {
	if len(p.Video) == 0 && len(p.Audio) == 0 {
		return nil, fmt.Errorf("hls: presentation has no rendition")
	}
	mv := m3u8.NewMasterPlaylist()
	independent := true
	for _, r := range p.Renditions() {
		independent = independent && r.Independent
	}
	mv.SetIndependentSegments(independent)
	groups := audioGroups(p)
	var alts [][]*m3u8.Alternative
	for _, g := range groups {
		var list []*m3u8.Alternative
		names := map[string]int{}
		for i, a := range g.rends {
			lang := segment.LanguageTag(a.Track.Language)
			name := segment.LanguageName(a.Track.Language)
			if names[name]++; names[name] > 1 {
				name = fmt.Sprintf("%s %d", name, names[name])
			}
			alt := &m3u8.Alternative{
				Type: "AUDIO", GroupId: g.id, Name: name, Language: lang,
				Default: i == 0, Autoselect: true, URI: MediaPlaylistName(a),
			}
			if a.Track.Channels > 0 {
				alt.Channels = &m3u8.Channels{Amount: a.Track.Channels}
			}
			list = append(list, alt)
		}
		alts = append(alts, list)
	}
	if len(p.Video) == 0 {
		// Audio only: every audio rendition is a variant of its own.
		for _, a := range p.Audio {
			mv.Append(MediaPlaylistName(a), nil, m3u8.VariantParams{
				Bandwidth: clampU32(a.Bandwidth), AverageBandwidth: clampU32(a.AverageBandwidth),
				Codecs: a.Track.CodecString,
			})
		}
		groups = nil
	}
	for _, v := range p.Video {
		params := videoParams(v)
		if len(groups) == 0 {
			mv.Append(MediaPlaylistName(v), nil, params)
			continue
		}
		for gi, g := range groups {
			vp := params
			var peak, avg int64
			for _, a := range g.rends {
				peak = max(peak, a.Bandwidth)
				avg = max(avg, a.AverageBandwidth)
			}
			vp.Bandwidth = clampU32(v.Bandwidth + peak)
			vp.AverageBandwidth = clampU32(v.AverageBandwidth + avg)
			vp.Codecs = params.Codecs + "," + g.codecs
			vp.Audio = g.id
			vp.Alternatives = alts[gi]
			mv.Append(MediaPlaylistName(v), nil, vp)
		}
	}
	for _, v := range p.Video {
		if len(v.IFrames) == 0 {
			continue
		}
		peak, avg := iframeBandwidth(v)
		mv.Append(IFramePlaylistName(v), nil, m3u8.VariantParams{
			Iframe: true, Bandwidth: peak, AverageBandwidth: avg,
			Codecs: v.Track.CodecString, Resolution: resolution(v),
		})
	}
	ver, _ := mv.CalcMinVersion()
	mv.SetVersion(ver)
	return mv, nil
}

func videoParams(v *segment.Rendition) m3u8.VariantParams {
	vp := m3u8.VariantParams{
		Bandwidth:        clampU32(v.Bandwidth),
		AverageBandwidth: clampU32(v.AverageBandwidth),
		Codecs:           v.Track.CodecString,
		Resolution:       resolution(v),
	}
	if fr := v.Track.FrameRate; fr.Num > 0 && fr.Den > 0 {
		vp.FrameRate = math.Round(fr.Float()*1000) / 1000
	}
	return vp
}

func resolution(v *segment.Rendition) string {
	if v.Track.Width == 0 || v.Track.Height == 0 {
		return ""
	}
	return fmt.Sprintf("%dx%d", v.Track.Width, v.Track.Height)
}

func clampU32(v int64) uint32 {
	if v > math.MaxUint32 {
		return math.MaxUint32
	}
	if v < 0 {
		return 0
	}
	return uint32(v)
}

// kindOf is used by ReadLadder to ignore audio-only variants.
func kindOf(codecs string) media.Kind {
	for _, c := range strings.Split(codecs, ",") {
		c = strings.TrimSpace(c)
		for _, p := range []string{"avc", "hvc", "hev", "av01", "vp09", "dvh", "mp4v"} {
			if strings.HasPrefix(c, p) {
				return media.KindVideo
			}
		}
	}
	return media.KindAudio
}

// sortedByBandwidth returns the indices of vs ordered by BANDWIDTH.
func sortedByBandwidth(vs []*m3u8.Variant) []int {
	idx := make([]int, len(vs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return vs[idx[a]].Bandwidth < vs[idx[b]].Bandwidth })
	return idx
}
