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

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// trackData is one selected track with its sample records.
type trackData struct {
	in      Input
	track   media.Track
	samples []media.Sample
	// spooled locates, in sp, the payloads of samples that the reader
	// only hands out while iterating (MPEG-TS); nil for MP4.
	spooled []spoolRef
	sp      *spool
	// dts0 and cto0 normalise timestamps: out DTS = DTS-dts0+off, out
	// CTO = CTO-cto0. cto0 is the most negative composition offset of the
	// source (0 for almost every file): the output's offsets are never
	// negative, so that libavformat (which moves the presentation of a
	// track with negative offsets later by the largest of them) and
	// ISO/IEC 14496-12 players (Chromium applies both trun version 1
	// offsets and the edit list) present the samples at the same time. The
	// composition delay of B-frames is then taken out by the edit list,
	// as CMAF allows (ISO/IEC 23000-19 §7.5.13).
	dts0, cto0 int64
	// off is where the track's first sample lies on the output timeline
	// (in its timescale): its decode start on the source's presentation
	// timeline (edit list applied) minus the earliest one G of all tracks,
	// so that audio and video keep their relative timing; 0 for a track
	// that starts before G, which placeTracks then sets to the video's
	// start (AAC priming ahead of a video without B-frames): that track's
	// lead is in its presOffset instead, and the tracks' decode timelines
	// no longer share their origin (only their presentation, through the
	// edit lists, does).
	off int64
	// presOffset is the output media time (in the track's timescale)
	// presented first: the source's time zero, or the track's earliest
	// decode time when every track starts after zero (MPEG-TS). Samples
	// before it are what the source hid with its edit list (AAC priming,
	// B-frame composition delay, the pre-roll of a cut) and stay hidden.
	// It is the edittime of the CMAF header's edit list and DASH's
	// presentationTimeOffset.
	presOffset int64
	// shift is what ffprobe adds to the raw timestamps of the track (its
	// edit list as libavformat applies it).
	shift int64
	// frames is the GOP analysis of a video track (nil when not done).
	frames []gop.Frame
}

func (td *trackData) outDTS(i int) int64 { return td.samples[i].DTS - td.dts0 + td.off }
func (td *trackData) outPTS(i int) int64 {
	return td.samples[i].PTS - td.dts0 - td.cto0 + td.off
}

// start returns where the track's first sample is decoded on the
// source's presentation timeline (ffprobe's: raw timestamps plus the edit
// shift), in ticks of its timescale.
func (td *trackData) start() int64 {
	return td.dts0 + td.shift
}

// presentationShift returns what ffprobe adds to the raw decode time of
// the track's first sample: for MP4 input the timestamps libavformat
// rebuilds from the edit list (mp4.Reader.FFprobePackets: an edit that
// starts between two frames starts at the next one, a whole-frame step
// that media.EditShift does not take), else media.EditShift.
func presentationShift(d media.Demuxer, t *media.Track) int64 {
	if r, ok := d.(*mp4.Reader); ok {
		for i, rt := range r.Tracks() {
			if rt.ID != t.ID {
				continue
			}
			if pk := r.FFprobePackets(i); len(pk) > 0 {
				return pk[0].PTS - pk[0].Sample.PTS // DTS may also move by DTSShift
			}
		}
	}
	return media.EditShift(t)
}

// trimToEdit drops the samples at the end of the track that its edit list
// does not show: when the list is empty edits and one media edit with a
// duration, samples presented at or after that edit's end are cut off by
// players and by ffprobe (an audio track a little longer than the video,
// say), so they are not packaged. Only trailing samples in decode order
// go, so no kept frame loses a reference; at least one sample stays.
func (td *trackData) trimToEdit() {
	t := &td.track
	var edit *media.Edit
	for i := range t.Edits {
		e := &t.Edits[i]
		if e.MediaTime == -1 {
			continue
		}
		if edit != nil || i != len(t.Edits)-1 {
			return // cuts or repeats: not a plain trim
		}
		edit = e
	}
	if edit == nil || edit.Duration <= 0 || t.MovieTimescale == 0 {
		return
	}
	end := edit.MediaTime + media.Rescale(edit.Duration, int64(t.Timescale), int64(t.MovieTimescale))
	n := len(td.samples)
	for n > 1 && td.samples[n-1].PTS >= end {
		n--
	}
	td.samples = td.samples[:n]
	if td.spooled != nil {
		td.spooled = td.spooled[:n]
	}
}

// placeTracks puts every track on the output timeline: output media time
// = the source's presentation time (ffprobe's) minus the earliest decode
// start G over all tracks, so every track keeps its distance from the
// others and timestamps stay non-negative. The presentation starts at
// the source's time zero when G is before it (AAC priming and B-frame
// delay are before zero in the source), else at G; presOffset is that
// instant in each track's media time, given to the edit list and to
// DASH: ffprobe of init + segments then shows the source's timestamps
// (less G when G > 0), and what the source hid stays hidden.
//
// One exception: a track that starts before zero and before every video
// track (AAC priming ahead of a video without B-frames) does not move the
// video: G is then the video's start (or zero), and that track's extra
// lead goes into its own edit list. hls.js takes its timestamp offset
// from the video's first decode time and Chromium's MSE also applies the
// video's edit list, so a video shifted by the audio priming (decode time
// and edit of 21 ms) was placed 21 ms before zero: its first key frame
// was dropped, the rest of that GOP with it, and hls.js 1.7 never started
// ("appended without buffered range growth"). Shaka Packager leaves such
// a video at zero too.
func placeTracks(tracks []*trackData) {
	var gNum, gDen int64 // earliest start, gNum/gDen seconds
	var vNum, vDen int64 // earliest video start
	for _, td := range tracks {
		ts := int64(td.track.Timescale)
		e := td.start()
		if gDen == 0 || float64(e)/float64(ts) < float64(gNum)/float64(gDen) {
			gNum, gDen = e, ts
		}
		if td.track.Kind == media.KindVideo && (vDen == 0 || float64(e)/float64(ts) < float64(vNum)/float64(vDen)) {
			vNum, vDen = e, ts
		}
	}
	if vDen != 0 && float64(gNum)/float64(gDen) < min(float64(vNum)/float64(vDen), 0) {
		// G = max(G, min(video start, 0)).
		if vNum < 0 {
			gNum, gDen = vNum, vDen
		} else {
			gNum, gDen = 0, 1
		}
	}
	for _, td := range tracks {
		ts := int64(td.track.Timescale)
		g := media.Rescale(gNum, ts, gDen)
		td.off = max(td.start()-g, 0)
		// Presented first: output time of max(G, 0) on the source's
		// timeline, plus the offset that made composition offsets
		// non-negative, plus what the track has before G (hidden).
		td.presOffset = max(-g, 0) - td.cto0 + max(g-td.start(), 0)
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
			out = append(out, float64(td.outPTS(i)-td.presOffset)/float64(td.track.Timescale))
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
	sp := &spoolOnce{dir: dir}
	defer func() { sp.s.remove() }()
	videos, audios, err := selectTracks(ctx, inputs, sp)
	if err != nil {
		return nil, err
	}
	if sp.s != nil {
		if err := sp.s.finish(); err != nil {
			return nil, err
		}
	}
	if err := analyseFrames(ctx, videos); err != nil {
		return nil, err
	}
	if err := checkAligned(videos, cfg.target); err != nil {
		return nil, err
	}
	// Segments are cut at the first video's key frames; an audio-only
	// presentation (a podcast, a radio ladder) at its first track's frames.
	var ref *trackData
	if len(videos) > 0 {
		ref = videos[0]
	} else {
		ref = audios[0]
	}
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
		// The presentation lasts from the source's time zero to the
		// end of the longest rendition (audio priming before zero does
		// not count).
		if n := len(r.Segments); n > 0 {
			last := r.Segments[n-1]
			if d := r.Seconds(last.Start + last.Duration - r.PresentationTimeOffset); d > p.Duration {
				p.Duration = d
			}
		}
	}
	for _, r := range p.Renditions() {
		r.Bandwidth, r.AverageBandwidth = bandwidths(r)
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
func selectTracks(ctx context.Context, inputs []Input, sp *spoolOnce) (videos, audios []*trackData, err error) {
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
			if n := t.SampleCount; n > 0 {
				// A hint from the file, capped so that a hostile table
				// cannot make us allocate much before a sample is seen.
				td.samples = make([]media.Sample, 0, min(n, 1<<16))
			}
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
				sp, err := sp.get()
				if err != nil {
					return nil, nil, err
				}
				ref, err := sp.add(s.Data)
				if err != nil {
					return nil, nil, err
				}
				td.sp = sp
				td.spooled = append(td.spooled, ref)
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
			td.trimToEdit()
			td.dts0 = td.samples[0].DTS
			td.shift = presentationShift(in.Demuxer, &td.track)
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
				for _, s := range td.samples {
					td.cto0 = min(td.cto0, s.CTO())
				}
			}
		}
	}
	if len(videos) == 0 && len(audios) == 0 {
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
			// The first multiple of the target past this key frame, in
			// one step: a hostile gap between key frames (a 1e9 s sample
			// delta) must not cost one iteration per target length.
			next = (math.Floor((k+slack)/target) + 1) * target
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
		want := c*ts + float64(td.presOffset) // cuts are presentation times
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
	if td.spooled != nil {
		return td.sp.read(td.spooled[i], buf)
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
	r.SAPType = 1
	if td.track.Kind == media.KindVideo {
		for n, k := range starts {
			end := len(td.samples)
			if n+1 < len(starts) {
				end = starts[n+1]
			}
			r.SAPType = max(r.SAPType, td.sapType(k, end))
		}
	}
	r.Independent = r.SAPType == 1
	r.PresentationTimeOffset = td.presOffset
	video := td.track.Kind == media.KindVideo
	if cfg.format == TS {
		return r, writeTSRendition(dir, r, td, starts, cfg)
	}
	fr, err := mp4.NewCMAFFragmenter(&td.track, mp4.WithPresentationOffset(td.presOffset))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCodec, err)
	}
	if fr.NeedsConfiguration(td.track.ID) {
		// AC-3/E-AC-3 from MPEG-TS: the first syncframe gives dac3/dec3.
		data, err := td.readPayload(0, nil)
		if err != nil {
			return nil, fmt.Errorf("sample 0: %w", err)
		}
		if err := fr.Configure(td.track.ID, data); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCodec, err)
		}
	}
	var initBuf bytes.Buffer
	if err := fr.WriteInit(&initBuf); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCodec, err)
	}
	init := initBuf.Bytes()
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
		seg := Segment{Number: n + 1, Start: td.outPTS(first), Samples: end - first}
		if !video {
			seg.Start = td.outDTS(first)
		}
		// One fragment per GOP for video (so each key frame has its own
		// moof for I-frame playlists), one per segment for audio.
		var groups [][]mp4.FragmentSample
		var keys []int
		for i := first; i < end; i++ {
			s := td.samples[i]
			if i == first || video && s.Sync {
				groups = append(groups, nil)
				keys = append(keys, i)
			}
			off, size := len(arena), int(s.Size)
			if off+size <= cap(arena) {
				arena = arena[:off+size]
			}
			data, err := td.readPayload(i, arena[off:len(arena):len(arena)])
			if err != nil {
				return nil, fmt.Errorf("sample %d: %w", i, err)
			}
			if ls := td.track.Config.NALLengthSize; ls > 0 && (td.track.Codec == media.CodecH264 || td.track.Codec == media.CodecHEVC) {
				// The rule remux's MPEG-TS writer applies: a NAL length
				// that overruns its sample is refused, not packaged into
				// a segment a decoder will choke on.
				if err := gop.SplitNALUnits(data, ls, func([]byte, int) error { return nil }); err != nil {
					return nil, fmt.Errorf("track %d sample %d at byte %d: %w", s.TrackID, s.Index, s.Pos, err)
				}
			}
			fs := mp4.FragmentSample{Sample: s, Data: data}
			fs.DTS, fs.PTS, fs.Duration = td.outDTS(i), td.outPTS(i), td.sampleDur(i)
			if !video {
				fs.PTS = fs.DTS
			}
			groups[len(groups)-1] = append(groups[len(groups)-1], fs)
			seg.Duration += int64(fs.Duration)
		}
		var next map[int]int64
		if end < len(td.samples) {
			next = map[int]int64{td.track.ID: td.outDTS(end)}
		}
		frags, err := fr.WriteSegment(&buf, groups, next)
		if err != nil {
			return nil, err
		}
		if n+1 < len(starts) {
			// Segments tile the timeline: a segment lasts until the next
			// one starts (identical to the summed sample durations for
			// normal input).
			next := td.outPTS(starts[n+1])
			if !video {
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
				name = fmt.Sprintf("seg_%d.m4s", r.PresentationTime(seg.Start))
			}
			seg.Range = Range{URI: path.Join(id, name), Size: int64(buf.Len())}
			if err := os.WriteFile(filepath.Join(dir, seg.URI), buf.Bytes(), 0o644); err != nil {
				return nil, err
			}
		}
		if video {
			for k, f := range frags {
				r.IFrames = append(r.IFrames, IFrame{
					Range: Range{URI: seg.URI, Offset: seg.Offset + f.Offset, Size: f.FirstSampleEnd - f.Offset},
					Start: td.outPTS(keys[k]), Duration: f.Duration,
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
	return r, nil
}

// assembleSingleFile writes id/id.mp4 = init + sidx + body and shifts the
// segment and I-frame offsets accordingly.
func assembleSingleFile(dir, id string, r *Rendition, init []byte, body *os.File) error {
	sidx := &mp4.Sidx{
		ReferenceID: 1, // the CMAF track's track_ID
		Timescale:   r.Timescale,
		// On the edited timeline, as the MPD's SegmentTimeline (ffmpeg's
		// mp4 muxer writes 0 for B-frame input too, not the delay).
		EarliestPresentationTime: uint64(r.PresentationTime(r.Segments[0].Start)),
	}
	for _, s := range r.Segments {
		if s.Size >= 1<<31 || s.Duration >= 1<<32 || s.Duration < 0 {
			return fmt.Errorf("segment %d too large for a sidx reference", s.Number)
		}
		sap := uint8(r.SAPType)
		// Durations on the same timeline: the first one loses what is
		// before zero.
		d := r.PresentationTime(s.Start+s.Duration) - r.PresentationTime(s.Start)
		sidx.References = append(sidx.References, mp4.SidxRef{
			Size: uint32(s.Size), Duration: uint32(d), StartsWithSAP: true, SAPType: sap,
		})
	}
	var head bytes.Buffer
	head.Write(init)
	head.Write(mp4.AppendSidx(nil, sidx))
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

// bandwidths returns the peak and the average segment bit rate of r.
// The peak is the largest bit rate of any segment on its own. That also
// bounds RFC 8216bis's peak (§4.4.6.2: the largest rate of any contiguous
// run of segments lasting 0.5 to 1.5 target durations), since a run's rate
// is a duration-weighted average of its segments' rates and so never
// exceeds the largest of them; Apple's validator measures each segment
// alone, and players (hls.js) judge a variant by the rate of the segment
// they fetch. A short last segment counts too: BANDWIDTH must hold for
// every segment a client may fetch. The peak is never below the average.
func bandwidths(r *Rendition) (peak, avg int64) {
	var total, dur float64
	for _, s := range r.Segments {
		// Durations as the playlist writes them (EXTINF to the
		// millisecond): a player measures a 0.1001 s segment over 0.100 s.
		d := math.Round(r.Seconds(s.Duration)*1000) / 1000
		total += float64(s.Size) * 8
		dur += d
		if d > 0 {
			peak = max(peak, int64(math.Ceil(float64(s.Size)*8/d)))
		}
	}
	if dur > 0 {
		avg = int64(math.Ceil(total / dur))
	}
	return max(peak, avg), avg
}
