package live

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	m3u8 "github.com/Eyevinn/hls-m3u8/m3u8"
)

// FuzzParseBlockRequest: any query string parses or is refused with
// ErrQuery, never panics, and what parses obeys the spec's constraints.
func FuzzParseBlockRequest(f *testing.F) {
	for _, s := range []string{
		"", "_HLS_msn=5", "_HLS_msn=5&_HLS_part=2", "_HLS_msn=5&_HLS_part=2&_HLS_skip=YES", "_HLS_skip=v2",
		"_HLS_part=1", "_HLS_msn=-1", "_HLS_msn=99999999999999999999", "_HLS_msn=1&_HLS_msn=1", "a=b&_HLS_msn=0",
		"_HLS_msn", "&&&", "_HLS_msn=%31", "_HLS_msn=9007199254740992",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		br, err := ParseBlockRequest(q)
		if err != nil {
			return
		}
		if br.Part >= 0 && br.MSN < 0 {
			t.Fatalf("%q: part without msn accepted", q)
		}
		if br.MSN > maxQueryNumber || br.Part > maxQueryNumber || br.MSN < -1 || br.Part < -1 {
			t.Fatalf("%q: out of range %+v", q, br)
		}
		// The msn is the value of the one _HLS_msn parameter
		// (decimal-integer allows leading zeros: 0001 is 1).
		want := int64(-1)
		for _, kv := range strings.Split(q, "&") {
			if v, ok := strings.CutPrefix(kv, "_HLS_msn="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("%q: accepted msn %q", q, v)
				}
				want = n
			}
		}
		if br.MSN != want {
			t.Fatalf("%q: msn %d, query says %d", q, br.MSN, want)
		}
	})
}

// FuzzPlaylistReadBack: for any segment and part target, window, time and
// request, the media playlists the packager writes read back with
// Eyevinn/hls-m3u8 (strict) with the segments and parts we wrote.
func FuzzPlaylistReadBack(f *testing.F) {
	f.Add(uint16(2000), uint16(200), uint8(30), uint16(9100), false, true)
	f.Add(uint16(1000), uint16(333), uint8(6), uint16(17000), true, true)
	f.Add(uint16(4000), uint16(1000), uint8(60), uint16(30000), true, false)
	f.Fuzz(func(t *testing.T, segMS, partMS uint16, windowS uint8, atMS uint16, skip, ll bool) {
		seg := time.Duration(max(segMS%6000, 500)) * time.Millisecond
		part := time.Duration(max(partMS%1000, 50)) * time.Millisecond
		window := time.Duration(max(windowS%90, 1)) * time.Second
		at := time.Duration(max(atMS%40000, 100)) * time.Millisecond
		s := newTestStream(t, WithSegmentDuration(seg), WithPartDuration(part), WithWindow(window), WithLowLatency(ll))
		s.to(at)
		for _, r := range s.p.Renditions() {
			s.p.mu.Lock()
			text := s.p.mediaPlaylist(r, skip)
			s.p.mu.Unlock()
			mine := parsePlaylist(t, text)
			if len(mine.segs) == 0 || len(mine.segs[0].parts) > 0 {
				// hls-m3u8 v0.6.1 cannot read parts before the first
				// EXTINF (AppendPartialSegment wants a full segment
				// first), though the draft allows them: at the start of a
				// stream or with a window of one segment.
				return
			}
			pl, typ, err := m3u8.Decode(*bytes.NewBufferString(text), true)
			if err != nil || typ != m3u8.MEDIA {
				t.Fatalf("%s: %v\n%s", r.Name, err, text)
			}
			mp := pl.(*m3u8.MediaPlaylist)
			if int(mp.Count()) != len(mine.segs) || mp.SeqNo != uint64(mine.seq) || int(mp.SkippedSegments()) != mine.skipped {
				t.Fatalf("%s: read %d segments seq %d skip %d, wrote %d seq %d skip %d\n%s", r.Name, mp.Count(), mp.SeqNo, mp.SkippedSegments(), len(mine.segs), mine.seq, mine.skipped, text)
			}
			for _, sg := range mine.segs {
				if math.Round(sg.dur) > float64(mine.target) {
					t.Fatalf("%s: segment %d of %.3fs over TARGETDURATION %d (no key frame: the 2 s GOPs)", r.Name, sg.msn, sg.dur, mine.target)
				}
				for i, p := range sg.parts {
					if p.dur > mine.partTarget+1e-9 || (i < len(sg.parts)-1 && p.dur < 0.85*mine.partTarget) {
						t.Fatalf("%s: part %d.%d of %.5fs for PART-TARGET %.5f", r.Name, sg.msn, i, p.dur, mine.partTarget)
					}
				}
			}
		}
	})
}
