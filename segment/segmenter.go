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
	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// trackData is one selected track with its sample records.
type trackData struct {
	in Input
	// input is the index of in among Cut's inputs.
	input   int
	track   media.Track
	samples []media.Sample
	// spooled locates, in sp, the payloads of samples that the reader
	// only hands out while iterating (MPEG-TS); nil for MP4.
	spooled []spoolRef
	// lead: leading AC-3/E-AC-3 bytes without a syncframe were left
	// out; leadDTS is their (the PES's) time, see unshiftLead.
	lead    bool
	leadDTS int64
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
	// tail holds the samples trimToEdit dropped (and tailSpool their
	// payloads' places): not packaged, but analysed with the others.
	tail      []media.Sample
	tailSpool []spoolRef
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
	td.tail = td.samples[n:]
	td.samples = td.samples[:n:n]
	if td.spooled != nil {
		td.tailSpool = td.spooled[n:]
		td.spooled = td.spooled[:n:n]
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
	// Segments are cut at the first video's key frames; an audio-only
	// presentation (a podcast, a radio ladder) at its first track's frames.
	var ref *trackData
	if len(videos) > 0 {
		ref = videos[0]
	} else {
		ref = audios[0]
	}
	cuts := cutTimes(ref, cfg.target.Seconds())

	all := append(append([]*trackData{}, videos...), audios...)
	ws, err := writeInputs(ctx, dir, all, cuts, &cfg)
	if err != nil {
		if len(videos) > 1 && ctx.Err() == nil {
			// Renditions that cannot be cut at the same instants are
			// reported as the alignment check reports them, as when it
			// ran before writing: on this error path only, the frames
			// are analysed on their own.
			if err := analyseFrames(ctx, videos); err != nil {
				return nil, err
			}
			if err := checkAligned(videos, cfg.target); err != nil {
				return nil, err
			}
		}
		return nil, err
	}
	if len(videos) > 1 {
		for _, w := range ws {
			if w.video && w.colErr != nil {
				return nil, fmt.Errorf("%s: analysing frames for the alignment check: %w", w.td.in.Name, w.colErr)
			}
		}
	}
	if err := checkAligned(videos, cfg.target); err != nil {
		return nil, err
	}
	p := &Presentation{Format: cfg.format, ByteRange: cfg.byteRange, Naming: cfg.naming, TargetDuration: cfg.target}
	for _, w := range ws {
		r := w.r
		if w.video {
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
	for k, in := range inputs {
		want := map[int]*trackData{}
		isAudioOnly := !hasKind(in.Demuxer, media.KindVideo)
		for _, t := range in.Demuxer.Tracks() {
			switch {
			case t.Kind == media.KindVideo:
			case t.Kind == media.KindAudio && (isAudioOnly || !audioOnly && !tookAudio):
			default:
				continue
			}
			td := &trackData{in: in, input: k, track: *t}
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
			if len(td.samples) == 0 && s.Offset < 0 && (td.track.Codec == media.CodecAC3 || td.track.Codec == media.CodecEAC3) && bitstream.AC3Blocks(s.Data) == 0 {
				// A PES that starts inside a frame gives a first sample of
				// the bytes before the first syncframe (ts: leading
				// bytes); libavformat's movenc, behind ffmpeg's HLS and
				// DASH fMP4 muxers, drops it ("Dropping invalid packet
				// from start of the stream"), and so do the MP4 writers
				// (mp4: eac3Grouper). A decoder would only choke on it.
				// Its timestamps are the PES's, which ISO/IEC 13818-1
				// gives the first frame that starts in that PES: the
				// frame that follows, when it shares the PES (the reader
				// then stamps it by interpolation, as libavformat does,
				// duplicating the next frame's time; fixed below).
				if !td.lead {
					td.lead, td.leadDTS = true, s.DTS
				}
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
			if td.lead {
				td.unshiftLead()
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

// unshiftLead gives the first PES's frames back the time the reader's
// interpolation moved them by, after leading AC-3/E-AC-3 bytes were
// dropped (selectTracks). The reader stamps the dropped bytes with the
// PES PTS and each frame of that PES one frame later than ISO/IEC
// 13818-1 puts it (the PES PTS is the first syncframe's), as libavformat
// does; the last of them then has the time of the next PES's first
// frame. Found by that repeated time within the first samples, the
// shift is taken back from the frames before it; with no repeat (one
// frame per PES and no overlap) nothing is moved.
func (td *trackData) unshiftLead() {
	s := td.samples
	shift := s[0].DTS - td.leadDTS
	if shift <= 0 {
		return
	}
	for k := 0; k+1 < min(len(s), 64); k++ {
		if s[k+1].DTS == s[k].DTS {
			for i := range k + 1 {
				s[i].DTS -= shift
				s[i].PTS -= shift
			}
			return
		}
	}
}
