package segment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
)

// trackData is one selected track with its sample records.
type trackData struct {
	in      Input
	track   media.Track
	samples []media.Sample
	// payload holds copies of the payloads of samples that the reader
	// only hands out while iterating (MPEG-TS); nil for MP4.
	payload [][]byte
	// dts0 and cto0 normalise timestamps: out DTS = DTS-dts0+off, out
	// CTO = CTO-cto0, so that the track's first frame is presented at off
	// and composition offsets may be negative (trun version 1), as CMAF
	// recommends instead of an edit list.
	dts0, cto0 int64
	// off is where the track starts on the presentation's timeline (in
	// its timescale): its edit-list start relative to the earliest track,
	// so that audio and video keep their relative timing.
	off int64
	// frames is the GOP analysis of a video track (nil when not done).
	frames []gop.Frame
}

func (td *trackData) outDTS(i int) int64 { return td.samples[i].DTS - td.dts0 + td.off }
func (td *trackData) outPTS(i int) int64 {
	return td.samples[i].PTS - td.dts0 - td.cto0 + td.off
}

// startSeconds is where the track's first presented frame sits on the
// source's presentation timeline (edit list applied), in seconds.
func (td *trackData) startSeconds() float64 {
	minPTS := td.samples[0].PTS
	for _, s := range td.samples {
		minPTS = min(minPTS, s.PTS)
	}
	return float64(minPTS+media.EditShift(&td.track)) / float64(td.track.Timescale)
}

// placeTracks sets every track's offset from the earliest start. Starts
// before 0 (audio encoder priming hidden by an edit list) count as 0:
// the primed samples are kept and played, as players do with CMAF.
func placeTracks(tracks []*trackData) {
	origin := math.Inf(1)
	for _, td := range tracks {
		origin = math.Min(origin, math.Max(td.startSeconds(), 0))
	}
	for _, td := range tracks {
		if d := math.Max(td.startSeconds(), 0) - origin; d > 0 {
			td.off = int64(math.Round(d * float64(td.track.Timescale)))
		}
	}
}

// sampleDur returns the duration of sample i, falling back to the DTS
// difference and, for the last sample, to the previous duration.
func (td *trackData) sampleDur(i int) uint32 {
	s := td.samples[i]
	if i+1 < len(td.samples) {
		if d := td.samples[i+1].DTS - s.DTS; d > 0 && d < math.MaxUint32 {
			return uint32(d)
		}
	}
	if s.Duration > 0 {
		return s.Duration
	}
	// The last sample (or one with a repeated DTS): the nearest earlier
	// positive duration, looked up iteratively (hostile input may repeat
	// timestamps for millions of samples).
	for j := i - 1; j >= 0 && j >= i-64; j-- {
		if d := td.samples[j+1].DTS - td.samples[j].DTS; d > 0 && d < math.MaxUint32 {
			return uint32(d)
		}
		if td.samples[j].Duration > 0 {
			return td.samples[j].Duration
		}
	}
	if td.track.Kind == media.KindAudio && td.track.FrameSize > 0 {
		return uint32(td.track.FrameSize)
	}
	if fr := td.track.FrameRate; fr.Num > 0 {
		return uint32(int64(td.track.Timescale) * fr.Den / fr.Num)
	}
	return 1
}

// keyTimes returns the presentation times of the sync samples in seconds.
func (td *trackData) keyTimes() []float64 {
	var out []float64
	for i, s := range td.samples {
		if s.Sync {
			out = append(out, float64(td.outPTS(i))/float64(td.track.Timescale))
		}
	}
	return out
}

// Cut reads the inputs, cuts their tracks and writes the segments
// below dir (which must exist; write into a temporary directory and
// rename it when Cut returns, as the CLI does). It takes every video
// track of every input, and the audio of the audio-only inputs (or, when
// there are none, of the first input that has audio).
func Cut(ctx context.Context, dir string, inputs []Input, opts ...Option) (*Presentation, error) {
	cfg := config{target: DefaultTargetDuration}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	videos, audios, err := selectTracks(ctx, inputs)
	if err != nil {
		return nil, err
	}
	if err := analyseFrames(ctx, videos); err != nil {
		return nil, err
	}
	if err := checkAligned(videos, cfg.target); err != nil {
		return nil, err
	}
	ref := videos[0]
	cuts := cutTimes(ref, cfg.target.Seconds())

	p := &Presentation{Format: cfg.format, ByteRange: cfg.byteRange, Naming: cfg.naming, TargetDuration: cfg.target}
	ids := map[string]int{}
	for _, td := range append(append([]*trackData{}, videos...), audios...) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := writeRendition(dir, uniqueID(ids, renditionID(&td.track)), td, cuts, &cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", td.in.Name, err)
		}
		if td.track.Kind == media.KindVideo {
			p.Video = append(p.Video, r)
		} else {
			p.Audio = append(p.Audio, r)
		}
		if d := r.Duration(); d > p.Duration {
			p.Duration = d
		}
	}
	sort.SliceStable(p.Video, func(i, j int) bool { return p.Video[i].AverageBandwidth < p.Video[j].AverageBandwidth })
	return p, nil
}

func renditionID(t *media.Track) string {
	if t.Kind == media.KindVideo {
		return fmt.Sprintf("video_%dp", t.Height)
	}
	lang := t.Language
	if lang == "" {
		lang = "und"
	}
	return "audio_" + sanitize(lang)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func uniqueID(seen map[string]int, id string) string {
	seen[id]++
	if n := seen[id]; n > 1 {
		return fmt.Sprintf("%s_%d", id, n)
	}
	return id
}

// selectTracks reads the sample tables of the tracks to package.
func selectTracks(ctx context.Context, inputs []Input) (videos, audios []*trackData, err error) {
	audioOnly := false
	for _, in := range inputs {
		if hasKind(in.Demuxer, media.KindAudio) && !hasKind(in.Demuxer, media.KindVideo) {
			audioOnly = true
		}
	}
	tookAudio := false
	for _, in := range inputs {
		want := map[int]*trackData{}
		isAudioOnly := !hasKind(in.Demuxer, media.KindVideo)
		for _, t := range in.Demuxer.Tracks() {
			switch {
			case t.Kind == media.KindVideo:
			case t.Kind == media.KindAudio && (isAudioOnly || !audioOnly && !tookAudio):
			default:
				continue
			}
			td := &trackData{in: in, track: *t}
			want[t.ID] = td
			if t.Kind == media.KindVideo {
				videos = append(videos, td)
			} else {
				audios = append(audios, td)
			}
		}
		for _, td := range want {
			if td.track.Kind == media.KindAudio && !isAudioOnly {
				tookAudio = true
			}
		}
		if len(want) == 0 {
			continue
		}
		n := 0
		for s, err := range in.Demuxer.Samples() {
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", in.Name, err)
			}
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, nil, err
				}
			}
			td := want[s.TrackID]
			if td == nil {
				continue
			}
			if s.Offset < 0 {
				if td.payload == nil {
					td.payload = [][]byte{}
				}
				td.payload = append(td.payload, bytes.Clone(s.Data))
			}
			if n := len(td.samples); n > 0 && s.DTS < td.samples[n-1].DTS {
				return nil, nil, fmt.Errorf("%s: track %d sample %d (byte %d): DTS %d goes back from %d", in.Name, s.TrackID, n, s.Pos, s.DTS, td.samples[n-1].DTS)
			}
			s.Data = nil
			td.samples = append(td.samples, s)
		}
		for id, td := range want {
			if len(td.samples) == 0 {
				return nil, nil, fmt.Errorf("%s: track %d has no samples", in.Name, id)
			}
			if td.track.Timescale == 0 {
				return nil, nil, fmt.Errorf("%s: track %d has no timescale", in.Name, id)
			}
			td.dts0 = td.samples[0].DTS
			if td.track.Kind == media.KindVideo {
				first := -1
				for i, s := range td.samples {
					if s.Sync {
						first = i
						break
					}
				}
				if first < 0 {
					return nil, nil, fmt.Errorf("%s: video track %d has no random-access point", in.Name, id)
				}
				if first != 0 {
					return nil, nil, fmt.Errorf("%s: video track %d does not start with a random-access point (first at sample %d)", in.Name, id, first)
				}
				td.cto0 = td.samples[0].CTO()
				// Earlier-presented frames (open GOP leading pictures)
				// must not go below 0.
				for i := range td.samples {
					if pts := td.outPTS(i); pts < 0 {
						td.cto0 += pts
					}
				}
			}
		}
	}
	if len(videos) == 0 {
		return nil, nil, ErrNoVideo
	}
	placeTracks(append(append([]*trackData{}, videos...), audios...))
	return videos, audios, nil
}

func hasKind(d media.Demuxer, k media.Kind) bool {
	for _, t := range d.Tracks() {
		if t.Kind == k {
			return true
		}
	}
	return false
}

// cutTimes chooses the segment boundaries (seconds, excluding 0) on the
// reference video track: for every multiple of the target duration, the
// first key frame at or after it (as Shaka Packager cuts, and as
// gop.CheckAlignment checks). A key frame serves one boundary only, so
// with 2 s GOPs and a 3 s target segments last 4, 2, 4, 2... s.
func cutTimes(ref *trackData, target float64) []float64 {
	keys := ref.keyTimes()
	// Half a frame of slack, so that a key frame at 3.99999 s counts as 4 s.
	slack := 0.0
	if fr := ref.track.FrameRate.Float(); fr > 0 {
		slack = 0.5 / fr
	}
	var cuts []float64
	next := target
	for _, k := range keys {
		if k <= slack {
			continue
		}
		if k+slack >= next {
			cuts = append(cuts, k)
			for next <= k+slack {
				next += target
			}
		}
	}
	return cuts
}

// splitAt returns the index of the first sample of every segment of td:
// for video the sync sample presented at each cut (within half a frame),
// for audio the sample whose start is nearest to the cut.
func splitAt(td *trackData, cuts []float64) ([]int, error) {
	ts := float64(td.track.Timescale)
	starts := []int{0}
	i := 0
	for _, c := range cuts {
		want := c * ts
		if td.track.Kind == media.KindVideo {
			tol := 0.5 * float64(td.sampleDur(0))
			found := -1
			for j := i + 1; j < len(td.samples); j++ {
				if !td.samples[j].Sync {
					continue
				}
				d := float64(td.outPTS(j)) - want
				if math.Abs(d) <= tol {
					found = j
					break
				}
				if d > tol {
					break
				}
			}
			if found < 0 {
				if float64(td.outPTS(len(td.samples)-1)) < want {
					break // this rendition ends before the cut
				}
				return nil, fmt.Errorf("%w: no key frame at %.3f s in video track %d", ErrMisaligned, c, td.track.ID)
			}
			i = found
		} else {
			j := i
			for j < len(td.samples) && float64(td.outDTS(j)+int64(td.sampleDur(j)))-want <= want-float64(td.outDTS(j)) {
				j++
			}
			if j >= len(td.samples) {
				break
			}
			if j == i {
				continue
			}
			i = j
		}
		starts = append(starts, i)
	}
	return starts, nil
}

// maxArena bounds the buffer preallocated for one segment's payloads.
const maxArena = 256 << 20

// readPayload returns the MP4-form payload of sample i.
// buf, when its capacity suffices, receives the payload.
func (td *trackData) readPayload(i int, buf []byte) ([]byte, error) {
	if td.payload != nil {
		return td.payload[i], nil
	}
	s := td.samples[i]
	data, err := td.in.Demuxer.ReadSample(&s, buf)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// writeRendition writes the segments of one track.
func writeRendition(dir, id string, td *trackData, cuts []float64, cfg *config) (*Rendition, error) {
	starts, err := splitAt(td, cuts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
		return nil, err
	}
	r := &Rendition{ID: id, Source: td.in.Name, Track: td.track, Timescale: td.track.Timescale, ByteRange: cfg.byteRange}
	r.Independent = true
	if td.track.Kind == media.KindVideo {
		for _, k := range starts {
			r.Independent = r.Independent && td.closedStart(k)
		}
	}
	if cfg.format == TS {
		return r, writeTSRendition(dir, r, td, starts, cfg)
	}
	init, err := buildInit(&td.track)
	if err != nil {
		return nil, err
	}
	// In byte-range mode the segments go to a body file first: the sidx
	// in front of them needs their sizes.
	var body *os.File
	var bodyOff int64
	if cfg.byteRange {
		body, err = os.CreateTemp(filepath.Join(dir, id), ".body-*")
		if err != nil {
			return nil, err
		}
		defer func() {
			body.Close()
			os.Remove(body.Name())
		}()
	} else {
		r.Init = &Range{URI: path.Join(id, "init.mp4"), Size: int64(len(init))}
		if err := os.WriteFile(filepath.Join(dir, r.Init.URI), init, 0o644); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	var seq uint32
	var arena []byte // the payloads of one segment, reused
	for n, first := range starts {
		end := len(td.samples)
		if n+1 < len(starts) {
			end = starts[n+1]
		}
		// Sizes come from the input: only trust them for the arena up to
		// a bound; beyond it each read is checked by the reader first.
		need := int64(0)
		for i := first; i < end; i++ {
			need += int64(td.samples[i].Size)
		}
		if need <= maxArena && int64(cap(arena)) < need {
			arena = make([]byte, 0, need)
		}
		arena = arena[:0]
		buf.Reset()
		if !cfg.byteRange {
			if err := mp4ff.CreateStyp().Encode(&buf); err != nil {
				return nil, err
			}
		}
		seg := Segment{Number: n + 1, Start: td.outPTS(first), Samples: end - first}
		if td.track.Kind == media.KindAudio {
			seg.Start = td.outDTS(first)
		}
		// One fragment per GOP for video (so each key frame has its own
		// moof for I-frame playlists), one per segment for audio.
		var frags []fragmentInfo
		var batch []fragSample
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			seq++
			fi, err := writeFragment(&buf, seq, batch)
			if err != nil {
				return err
			}
			frags = append(frags, fi)
			batch = batch[:0]
			return nil
		}
		for i := first; i < end; i++ {
			s := td.samples[i]
			if td.track.Kind == media.KindVideo && s.Sync && i > first {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			off, size := len(arena), int(s.Size)
			if off+size <= cap(arena) {
				arena = arena[:off+size]
			}
			data, err := td.readPayload(i, arena[off:len(arena):len(arena)])
			if err != nil {
				return nil, fmt.Errorf("sample %d: %w", i, err)
			}
			data, err = toLengthPrefixed(td.track.Codec, td.track.Config.NALLengthSize, data)
			if err != nil {
				return nil, fmt.Errorf("sample %d: %w", i, err)
			}
			data = stripADTS(td.track.Codec, data)
			cto := s.CTO() - td.cto0
			if td.track.Kind != media.KindVideo {
				cto = 0
			}
			if cto > math.MaxInt32 || cto < math.MinInt32 {
				return nil, fmt.Errorf("sample %d: composition offset %d out of range", i, cto)
			}
			batch = append(batch, fragSample{dts: td.outDTS(i), cto: int32(cto), dur: td.sampleDur(i), sync: s.Sync, data: data})
			seg.Duration += int64(td.sampleDur(i))
		}
		if err := flush(); err != nil {
			return nil, err
		}
		if n+1 < len(starts) {
			// Segments tile the timeline: a segment lasts until the next
			// one starts (identical to the summed sample durations for
			// normal input).
			next := td.outPTS(starts[n+1])
			if td.track.Kind == media.KindAudio {
				next = td.outDTS(starts[n+1])
			}
			seg.Duration = next - seg.Start
		}
		if cfg.byteRange {
			seg.Range = Range{URI: path.Join(id, id+".mp4"), Offset: bodyOff, Size: int64(buf.Len())}
			if _, err := body.Write(buf.Bytes()); err != nil {
				return nil, err
			}
		} else {
			name := fmt.Sprintf("seg_%d.m4s", seg.Number)
			if cfg.naming == ByTime {
				name = fmt.Sprintf("seg_%d.m4s", seg.Start)
			}
			seg.Range = Range{URI: path.Join(id, name), Size: int64(buf.Len())}
			if err := os.WriteFile(filepath.Join(dir, seg.URI), buf.Bytes(), 0o644); err != nil {
				return nil, err
			}
		}
		if td.track.Kind == media.KindVideo {
			for _, f := range frags {
				r.IFrames = append(r.IFrames, IFrame{
					Range: Range{URI: seg.URI, Offset: seg.Offset + f.offset, Size: f.firstEnd - f.offset},
					Start: f.start, Duration: f.dur,
				})
			}
		}
		bodyOff += int64(buf.Len())
		r.Segments = append(r.Segments, seg)
		r.Samples += int64(end - first)
	}
	if cfg.byteRange {
		if err := assembleSingleFile(dir, id, r, init, body); err != nil {
			return nil, err
		}
	}
	r.Bandwidth, r.AverageBandwidth = bandwidths(r, cfg.target.Seconds())
	return r, nil
}

// assembleSingleFile writes id/id.mp4 = init + sidx + body and shifts the
// segment and I-frame offsets accordingly.
func assembleSingleFile(dir, id string, r *Rendition, init []byte, body *os.File) error {
	sidx := &mp4ff.SidxBox{
		ReferenceID:              cmafTrackID,
		Timescale:                r.Timescale,
		EarliestPresentationTime: uint64(max(r.Segments[0].Start, 0)),
	}
	for _, s := range r.Segments {
		if s.Size >= 1<<31 || s.Duration >= 1<<32 || s.Duration < 0 {
			return fmt.Errorf("segment %d too large for a sidx reference", s.Number)
		}
		sap := uint8(1)
		if !r.Independent {
			sap = 3 // open GOP: leading pictures not decodable
		}
		sidx.SidxRefs = append(sidx.SidxRefs, mp4ff.SidxRef{
			ReferencedSize: uint32(s.Size), SubSegmentDuration: uint32(s.Duration),
			StartsWithSAP: 1, SAPType: sap,
		})
	}
	var head bytes.Buffer
	head.Write(init)
	if err := sidx.Encode(&head); err != nil {
		return err
	}
	shift := int64(head.Len())
	uri := path.Join(id, id+".mp4")
	r.Init = &Range{URI: uri, Offset: 0, Size: int64(len(init))}
	r.Index = &Range{URI: uri, Offset: int64(len(init)), Size: shift - int64(len(init))}
	for i := range r.Segments {
		r.Segments[i].Offset += shift
	}
	for i := range r.IFrames {
		r.IFrames[i].Offset += shift
	}
	out, err := os.Create(filepath.Join(dir, uri))
	if err != nil {
		return err
	}
	if _, err := out.Write(head.Bytes()); err != nil {
		out.Close()
		return err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(out, body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// bandwidths returns the peak segment bit rate as RFC 8216bis defines it
// (the largest bit rate of any contiguous run of segments lasting between
// 0.5 and 1.5 times the target duration) and the average bit rate.
func bandwidths(r *Rendition, target float64) (peak, avg int64) {
	var total, dur float64
	single := 0.0
	for i, s := range r.Segments {
		total += float64(s.Size) * 8
		d := r.Seconds(s.Duration)
		dur += d
		if d > 0 {
			single = max(single, float64(s.Size)*8/d)
		}
		var bits, secs float64
		for j := i; j < len(r.Segments); j++ {
			bits += float64(r.Segments[j].Size) * 8
			secs += r.Seconds(r.Segments[j].Duration)
			if secs > 1.5*target {
				break
			}
			if secs >= 0.5*target && secs > 0 {
				peak = max(peak, int64(math.Ceil(bits/secs)))
			}
		}
	}
	if peak == 0 {
		peak = int64(math.Ceil(single))
	}
	if dur > 0 {
		avg = int64(math.Ceil(total / dur))
	}
	return peak, avg
}
