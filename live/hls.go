package live

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// HLS playlists (draft-pantos-hls-rfc8216bis): a multivariant playlist
// and one media playlist per rendition. With low latency on they are
// LL-HLS playlists, version 9: parts, a preload hint, server control with
// blocking reload and delta updates, rendition reports.

// hlsVersion is the playlist version: 9 for EXT-X-SKIP (delta updates).
const hlsVersion = 9

// find returns segment msn when it is in the window.
func (r *Rendition) find(msn int64) *Segment {
	if len(r.segs) == 0 {
		return nil
	}
	i := msn - r.segs[0].MSN
	if i < 0 || i >= int64(len(r.segs)) {
		return nil
	}
	return r.segs[i]
}

// lastComplete returns the MSN of the last complete segment, -1 if none.
func (r *Rendition) lastComplete() int64 {
	for i := len(r.segs) - 1; i >= 0; i-- {
		if r.segs[i].Complete {
			return r.segs[i].MSN
		}
	}
	return r.nextMSN - 2 // a segment in progress, none complete: its MSN - 1
}

// lastPart returns the segment and index of the last published part.
func (r *Rendition) lastPart() (int64, int, bool) {
	for i := len(r.segs) - 1; i >= 0; i-- {
		if n := len(r.segs[i].Parts); n > 0 {
			return r.segs[i].MSN, n - 1, true
		}
	}
	return 0, 0, false
}

// open returns the segment in progress, nil if none.
func (r *Rendition) open() *Segment {
	if n := len(r.segs); n > 0 && !r.segs[n-1].Complete {
		return r.segs[n-1]
	}
	return nil
}

// partTarget is the rendition's PART-TARGET in seconds.
func (r *Rendition) partTarget() float64 {
	return float64(r.partDur) / float64(r.Track.Timescale)
}

// targetDuration is EXT-X-TARGETDURATION: the segment target rounded up,
// or the longest segment so far rounded, when a source's key frames are
// further apart than the target. The spec wants it constant, but it also
// wants every EXTINF, rounded, at most TARGETDURATION; a segment cannot
// end before its next key frame, so the second rule wins (as ffmpeg's HLS
// muxer does) and EventLongSegment reports it.
func (p *Packager) targetDuration() int {
	return max(int(math.Ceil(p.cfg.segment.Seconds()-1e-9)), int(math.Round(p.maxSegSec)))
}

// Segment file names, shared by HLS, DASH and the mirror.
func initName(gen int) string  { return "init_" + strconv.Itoa(gen) + ".mp4" }
func segName(msn int64) string { return "seg_" + strconv.FormatInt(msn, 10) + ".m4s" }
func partName(msn int64, i int) string {
	return "part_" + strconv.FormatInt(msn, 10) + "_" + strconv.Itoa(i) + ".m4s"
}

// renderedPlaylist is a media playlist rendered for one publish, kept
// with what its responses need, so that the requests the publish wakes
// (up to tens of thousands of held blocking reloads) share one copy of
// the bytes and one Content-Length value and allocate nothing for them.
type renderedPlaylist struct {
	version uint64
	text    string
	body    []byte   // text as bytes, written as is by every response
	clen    []string // Content-Length header value
	cc      []string // Cache-Control of a blocking response: max-age = target duration
}

// mediaPlaylist returns r's media playlist; skip asks for a delta update.
// The caller holds p.mu. The text is rendered once per publish: the
// requests a publish wakes all share it.
func (p *Packager) mediaPlaylist(r *Rendition, skip bool) string {
	return p.playlistResponse(r, skip).text
}

// playlistResponse returns r's media playlist of the current publish,
// rendered on the first call after the publish. The caller holds p.mu;
// the result is never modified afterwards and may be used without it.
func (p *Packager) playlistResponse(r *Rendition, skip bool) *renderedPlaylist {
	i := 0
	if skip {
		i = 1
	}
	c := r.cache[i]
	if c == nil || c.version != p.version+1 {
		text := p.renderMediaPlaylist(r, skip, false)
		// A new value, not an update in place: responses of the previous
		// publish may still be writing the old one.
		c = &renderedPlaylist{
			version: p.version + 1,
			text:    text,
			body:    []byte(text),
			clen:    []string{strconv.Itoa(len(text))},
			cc:      []string{"public, max-age=" + strconv.Itoa(p.targetDuration())},
		}
		r.cache[i] = c
	}
	return c
}

// renderMediaPlaylist renders r's media playlist. static renders it for
// a web server that cannot hold requests (the mirror): no
// CAN-BLOCK-RELOAD, no CAN-SKIP-UNTIL, so that players neither block nor
// ask for delta updates there. The caller holds p.mu.
func (p *Packager) renderMediaPlaylist(r *Rendition, skip, static bool) string {
	var b strings.Builder
	ts := float64(r.Track.Timescale)
	td := p.targetDuration()
	ll := p.cfg.ll
	b.WriteString("#EXTM3U\n")
	if ll {
		fmt.Fprintf(&b, "#EXT-X-VERSION:%d\n", hlsVersion)
	} else {
		b.WriteString("#EXT-X-VERSION:7\n")
	}
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", td)
	skipUntil := 6 * float64(td)
	if ll {
		pt := r.partTarget()
		if static {
			fmt.Fprintf(&b, "#EXT-X-SERVER-CONTROL:PART-HOLD-BACK=%s,HOLD-BACK=%s\n", dec(3*pt), dec(3*float64(td)))
		} else {
			fmt.Fprintf(&b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=%s,PART-HOLD-BACK=%s,HOLD-BACK=%s\n",
				dec(skipUntil), dec(3*pt), dec(3*float64(td)))
		}
		fmt.Fprintf(&b, "#EXT-X-PART-INF:PART-TARGET=%s\n", dec(pt))
	}
	first := int64(0)
	if len(r.segs) > 0 {
		first = r.segs[0].MSN
	}
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", first)
	if r.discSeq > 0 {
		fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", r.discSeq)
	}
	// Delta update: skip the leading segments that start more than
	// CAN-SKIP-UNTIL before the end of the playlist.
	skipped := 0
	if skip && ll {
		var end float64
		for _, s := range r.segs {
			if s.Complete {
				end = float64(s.StartDTS+s.Duration) / ts
			}
		}
		for _, s := range r.segs {
			if !s.Complete || end-float64(s.StartDTS)/ts <= skipUntil || s.Disc {
				break
			}
			skipped++
		}
		if skipped > 0 {
			fmt.Fprintf(&b, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%d\n", skipped)
		}
	}
	// Parts are listed for the segments that end within three target
	// durations of the end of the playlist, and for the one in progress.
	partsFrom := int64(math.MaxInt64)
	if ll {
		var after float64 // media after the segment looked at
		for i := len(r.segs) - 1; i >= 0 && after < 3*float64(td); i-- {
			s := r.segs[i]
			partsFrom = s.MSN
			if s.Complete {
				after += float64(s.Duration) / ts
			} else {
				for _, pt := range s.Parts {
					after += float64(pt.Duration) / ts
				}
			}
		}
	}
	gen := -1
	for i, s := range r.segs {
		if i < skipped {
			gen = s.Gen
			continue
		}
		if s.Disc && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if s.Gen != gen || i == skipped {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", initName(s.Gen))
			gen = s.Gen
		}
		if !s.Complete && (!ll || len(s.Parts) == 0) {
			break
		}
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", p.wall(s.StartPTS, r.Track.Timescale).UTC().Format("2006-01-02T15:04:05.000Z"))
		if s.MSN >= partsFrom {
			for _, pt := range s.Parts {
				fmt.Fprintf(&b, "#EXT-X-PART:DURATION=%s,URI=%q", dec(float64(pt.Duration)/ts), partName(s.MSN, pt.Index))
				if pt.Independent {
					b.WriteString(",INDEPENDENT=YES")
				}
				b.WriteByte('\n')
			}
		}
		if s.Complete {
			fmt.Fprintf(&b, "#EXTINF:%s,\n%s\n", dec(float64(s.Duration)/ts), segName(s.MSN))
		}
	}
	if p.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
		return b.String()
	}
	if ll {
		if o := r.open(); o != nil {
			fmt.Fprintf(&b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=%q\n", partName(o.MSN, len(o.Parts)))
		}
		for _, o := range p.rends {
			if o == r {
				continue
			}
			if msn, part, ok := o.lastPart(); ok {
				fmt.Fprintf(&b, "#EXT-X-RENDITION-REPORT:URI=\"../%s/media.m3u8\",LAST-MSN=%d,LAST-PART=%d\n", o.Name, msn, part)
			}
		}
	}
	return b.String()
}

// dec formats seconds with millisecond precision (at most 5 decimals
// when needed: 30000/1001 timing).
func dec(v float64) string {
	s := strconv.FormatFloat(v, 'f', 5, 64)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "000"
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 < 3 {
		s += strings.Repeat("0", 3-(len(s)-i-1))
	}
	return s
}

// bandwidth returns the peak and average bit rate of r over the window
// (bits per second); before a segment is complete, the track's declared
// bit rate.
func (r *Rendition) bandwidth() (peak, avg int64) {
	var bytes, ticks int64
	for _, s := range r.segs {
		if !s.Complete || s.Duration <= 0 {
			continue
		}
		sec := float64(s.Duration) / float64(r.Track.Timescale)
		peak = max(peak, int64(math.Ceil(float64(s.Size*8)/sec)))
		bytes += s.Size
		ticks += s.Duration
	}
	if ticks > 0 {
		avg = int64(math.Ceil(float64(bytes*8) / (float64(ticks) / float64(r.Track.Timescale))))
		return peak, avg
	}
	b := r.Track.Bitrate
	if b <= 0 && r.Track.Bytes > 0 && r.Track.Duration > 0 {
		b = int64(float64(r.Track.Bytes*8) / r.Track.Seconds(r.Track.Duration))
	}
	return b, b
}

// multivariant renders the multivariant playlist. The caller holds p.mu.
func (p *Packager) multivariant() string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n")
	fmt.Fprintf(&b, "#EXT-X-VERSION:%d\n", map[bool]int{true: hlsVersion, false: 7}[p.cfg.ll])
	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	var videos, audios []*Rendition
	for _, r := range p.rends {
		if r.Track.Kind == media.KindVideo {
			videos = append(videos, r)
		} else {
			audios = append(audios, r)
		}
	}
	var audioPeak, audioAvg int64
	audioCodec := ""
	for i, a := range audios {
		lang := a.Track.Language
		if lang == "" {
			lang = "und"
		}
		def := "NO"
		if i == 0 {
			def = "YES"
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=%q,LANGUAGE=%q,DEFAULT=%s,AUTOSELECT=YES", a.Name, lang, def)
		if a.Track.Channels > 0 {
			fmt.Fprintf(&b, ",CHANNELS=\"%d\"", a.Track.Channels)
		}
		fmt.Fprintf(&b, ",URI=%q\n", a.Name+"/media.m3u8")
		pk, av := a.bandwidth()
		audioPeak, audioAvg = max(audioPeak, pk), max(audioAvg, av)
		if audioCodec == "" {
			audioCodec = a.Track.CodecString
		}
	}
	if len(videos) == 0 {
		for _, a := range audios {
			pk, av := a.bandwidth()
			fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=%q\n%s/media.m3u8\n", max(pk, 1), max(av, 1), a.Track.CodecString, a.Name)
		}
		return b.String()
	}
	for _, v := range videos {
		pk, av := v.bandwidth()
		codecs := v.Track.CodecString
		if audioCodec != "" {
			codecs += "," + audioCodec
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=%q", max(pk+audioPeak, 1), max(av+audioAvg, 1), codecs)
		if v.Track.Width > 0 && v.Track.Height > 0 {
			fmt.Fprintf(&b, ",RESOLUTION=%dx%d", v.Track.Width, v.Track.Height)
		}
		if fr := v.Track.FrameRate.Float(); fr > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", fr)
		}
		if len(audios) > 0 {
			b.WriteString(",AUDIO=\"audio\"")
		}
		fmt.Fprintf(&b, "\n%s/media.m3u8\n", v.Name)
	}
	return b.String()
}

// BlockRequest is a parsed LL-HLS playlist request: the _HLS_msn,
// _HLS_part and _HLS_skip query parameters.
type BlockRequest struct {
	MSN, Part int64 // -1 when absent
	Skip      bool
}

// maxQueryNumber bounds _HLS_msn and _HLS_part: a media sequence number
// fits in a uint64 by the spec, but anything past 2^53 is no stream that
// exists, and keeping it small keeps msn+1 from overflowing.
const maxQueryNumber = 1 << 53

// ParseBlockRequest parses the LL-HLS query parameters of a playlist
// request. Malformed values, _HLS_part without _HLS_msn and repeated
// parameters are errors (HTTP 400).
func ParseBlockRequest(query string) (BlockRequest, error) {
	br := BlockRequest{MSN: -1, Part: -1}
	var seen [3]bool // _HLS_msn, _HLS_part, _HLS_skip
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "_HLS_") {
			continue // other parameters (cache busters, tokens) are not ours
		}
		i := slices.Index([]string{"_HLS_msn", "_HLS_part", "_HLS_skip"}, k)
		if i < 0 {
			return br, fmt.Errorf("%w: unknown parameter %.20q", ErrQuery, k)
		}
		if seen[i] {
			return br, fmt.Errorf("%w: %s repeated", ErrQuery, k)
		}
		seen[i] = true
		switch k {
		case "_HLS_msn", "_HLS_part":
			n, err := parseQueryNumber(v)
			if err != nil {
				return br, fmt.Errorf("%w: %s=%.20q: %v", ErrQuery, k, v, err)
			}
			if k == "_HLS_msn" {
				br.MSN = n
			} else {
				br.Part = n
			}
		case "_HLS_skip":
			switch v {
			case "YES", "v2":
				br.Skip = true
			default:
				return br, fmt.Errorf("%w: _HLS_skip=%.20q: want YES or v2", ErrQuery, v)
			}
		}
	}
	if br.Part >= 0 && br.MSN < 0 {
		return br, fmt.Errorf("%w: _HLS_part without _HLS_msn", ErrQuery)
	}
	return br, nil
}

func parseQueryNumber(v string) (int64, error) {
	if v == "" || len(v) > 16 {
		return 0, fmt.Errorf("want a decimal number below 2^53")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("want a decimal number below 2^53")
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > maxQueryNumber {
		return 0, fmt.Errorf("want a decimal number below 2^53")
	}
	return n, nil
}

// ready reports whether r's playlist satisfies a blocking request for
// part (msn, part); part -1 waits for the whole segment. A part index
// past the end of a complete segment means part 0 of the next one.
func (r *Rendition) ready(msn, part int64) bool {
	if len(r.segs) > 0 && msn < r.segs[0].MSN {
		return true
	}
	s := r.find(msn)
	if s == nil {
		return false
	}
	if part < 0 {
		return s.Complete
	}
	if s.Complete {
		if part < int64(len(s.Parts)) {
			return true
		}
		return r.ready(msn+1, 0)
	}
	return part < int64(len(s.Parts))
}

// holdTimeout is how long a blocking request waits before 503: three
// target durations, the spec's limit. The caller holds p.mu.
func (p *Packager) holdTimeout() time.Duration {
	return 3 * time.Duration(p.targetDuration()) * time.Second
}

// MediaPlaylist returns the media playlist of the named rendition as the
// origin serves it now (a delta update with skip).
func (p *Packager) MediaPlaylist(name string, skip bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byName[name]
	if r == nil {
		return "", fmt.Errorf("%w: no rendition %q", ErrRendition, name)
	}
	return p.mediaPlaylist(r, skip), nil
}

// Multivariant returns the multivariant playlist.
func (p *Packager) Multivariant() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.multivariant()
}
