// Package dash writes and reads MPEG-DASH media presentation descriptions (ISO/IEC 23009-1) for packaged presentations.
//
// [Write] turns a [segment.Presentation] of CMAF segments into a static
// MPD: one video AdaptationSet holding the ladder and one audio
// AdaptationSet per language, with codecs, bandwidth, width/height,
// frameRate, sar, mimeType, profiles, minBufferTime and
// mediaPresentationDuration. Segments are addressed the way they were cut:
//
//   - one file per segment named by number: SegmentTemplate with
//     $Number$ (and @duration when every segment but the last has the
//     same duration, SegmentTimeline otherwise), isoff-live profile;
//   - named by time: SegmentTemplate with $Time$ and a SegmentTimeline;
//   - one file per rendition (byte-range mode): SegmentBase with the
//     sidx's indexRange, isoff-on-demand profile.
//
// # Time zero is signalled once
//
// What the source hid before its time zero (B-frame delay, AAC priming,
// the pre-roll of a cut; segment.Rendition's PresentationTimeOffset) is
// signalled by the CMAF header's edit list alone, and the MPD describes
// the timeline that edit list makes: no presentationTimeOffset, the
// SegmentTimeline, $Time$ names and @duration counted from the edited
// time zero (segment.Rendition.PresentationTime). CMAF (ISO/IEC 23000-19)
// makes the offset edit list the one place that maps composition time to
// presentation time, and DASH over CMAF puts the MPD's times on
// that presentation timeline (the reading of DASH-IF IOP issue #168).
// It is also what players do: Chromium's MSE applies the edit list, and
// dash.js and Shaka set SourceBuffer.timestampOffset = -PTO on top of it,
// so writing both counted the pre-roll twice — the first key frame landed
// before zero, Chromium dropped the first GOP and dash.js 5.2.1 started at
// about 2 s in every calibration run (shaka-player#593 and
// videojs/http-streaming#1247 report the same double shift). With the
// offset written once dash.js starts at 0.06-0.08 s. The live packager
// makes the same choice the other way round: its CMAF has no edit list
// (the source's edits are applied to the timestamps) and its
// presentationTimeOffset only places the period. ffmpeg's dash muxer does
// what this package does (x264 with B-frames: an edit list with media_time
// 1024/12800, <S t="0">, no presentationTimeOffset), and its mp4 muxer
// writes the sidx's earliest_presentation_time on the edited timeline (0).
//
// Every MPD written validates against the DASH-MPD.xsd schema. The model
// is github.com/Eyevinn/dash-mpd. [ReadLadder] reads a packaged MPD and
// its segment sizes back for the ABR simulator.
package dash

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"math"
	"path/filepath"

	"github.com/Eyevinn/dash-mpd/mpd"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/segment"
)

// ManifestName is the file name Write gives the MPD.
const ManifestName = "manifest.mpd"

// ErrFormat means the presentation's segments cannot be described in
// DASH (MPEG-TS segments: streamkit packages DASH from CMAF only).
var ErrFormat = errors.New("dash: DASH needs CMAF segments")

// Write writes the MPD of p into dir (the directory the segments were cut
// into), through a temporary file, and returns its path.
func Write(dir string, p *segment.Presentation) (string, error) {
	m, err := MPD(p)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := m.Write(&buf, "  ", true); err != nil {
		return "", fmt.Errorf("dash: encoding MPD: %w", err)
	}
	out := filepath.Join(dir, ManifestName)
	return out, atomicfile.WriteFile(out, buf.Bytes())
}

// MPD returns the static MPD describing p.
func MPD(p *segment.Presentation) (*mpd.MPD, error) {
	if p.Format != segment.CMAF {
		return nil, ErrFormat
	}
	if len(p.Video) == 0 && len(p.Audio) == 0 {
		return nil, fmt.Errorf("dash: presentation has no rendition")
	}
	m := mpd.NewMPD(mpd.STATIC_TYPE)
	if p.ByteRange {
		m.Profiles = mpd.PROFILE_ONDEMAND
	} else {
		m.Profiles = mpd.PROFILE_LIVE
	}
	var maxSeg float64
	for _, r := range p.Renditions() {
		for _, s := range r.Segments {
			maxSeg = max(maxSeg, r.Seconds(s.Duration))
		}
	}
	m.MediaPresentationDuration = seconds(p.Duration)
	// A player that buffers one (longest) segment before starting can
	// then play at @bandwidth without stalling: @bandwidth is the peak
	// segment bit rate.
	m.MinBufferTime = seconds(math.Ceil(maxSeg*10) / 10)
	m.MaxSegmentDuration = seconds(maxSeg)
	period := mpd.NewPeriod()
	period.Id = "0"
	period.Start = seconds(0)
	m.AppendPeriod(period)

	id := uint32(1)
	vas := mpd.NewAdaptationSet()
	vas.Id = mpd.Ptr(id)
	vas.ContentType = "video"
	vas.MimeType = mpd.MIME_TYPE_VIDEO_MP4
	// The SAP type every segment starts with at worst: 1 when a key
	// frame is presented first, 2 when a closed GOP shows leading
	// pictures before it, 3 for open GOPs (leading pictures not
	// decodable).
	sap := uint32(1)
	for _, v := range p.Video {
		sap = max(sap, uint32(max(v.SAPType, 1)))
	}
	vas.SegmentAlignment = true
	vas.StartWithSAP = sap
	if p.ByteRange {
		vas.SubsegmentAlignment = true
		vas.SubsegmentStartsWithSAP = sap
		vas.SegmentAlignment = false
		vas.StartWithSAP = 0
	}
	var maxW, maxH uint32
	var maxFR media.Rational
	for _, v := range p.Video {
		rep, err := representation(p, v)
		if err != nil {
			return nil, err
		}
		vas.AppendRepresentation(rep)
		maxW = max(maxW, uint32(v.Track.Width))
		maxH = max(maxH, uint32(v.Track.Height))
		if v.Track.FrameRate.Float() > maxFR.Float() {
			maxFR = v.Track.FrameRate.Reduce()
		}
	}
	vas.MaxWidth, vas.MaxHeight = maxW, maxH
	if maxFR.Num > 0 {
		vas.MaxFrameRate = string(frameRate(maxFR))
	}
	if len(p.Video) > 0 {
		period.AppendAdaptationSet(vas)
	}

	// One AdaptationSet per language (and codec): renditions in a set
	// must be switchable.
	type key struct{ lang, codec string }
	sets := map[key]*mpd.AdaptationSetType{}
	for i, a := range p.Audio {
		k := key{a.Track.Language, a.Track.CodecString}
		as := sets[k]
		if as == nil {
			id++
			as = mpd.NewAdaptationSet()
			as.Id = mpd.Ptr(id)
			as.ContentType = "audio"
			as.MimeType = mpd.MIME_TYPE_AUDIO_MP4
			if l := segment.LanguageTag(a.Track.Language); l != "" {
				as.Lang = l
			}
			as.SegmentAlignment = !p.ByteRange
			as.SubsegmentAlignment = p.ByteRange
			if p.ByteRange {
				as.SubsegmentStartsWithSAP = 1
			} else {
				as.StartWithSAP = 1
			}
			if i == 0 {
				as.Roles = append(as.Roles, &mpd.DescriptorType{SchemeIdUri: "urn:mpeg:dash:role:2011", Value: "main"})
			}
			sets[k] = as
			period.AppendAdaptationSet(as)
		}
		rep, err := representation(p, a)
		if err != nil {
			return nil, err
		}
		as.AppendRepresentation(rep)
	}
	return m, nil
}

func seconds(s float64) *mpd.Duration { return mpd.Seconds2DurPtrFloat64(s) }

func frameRate(r media.Rational) mpd.FrameRateType {
	r = r.Reduce()
	if r.Den == 1 {
		return mpd.FrameRateType(fmt.Sprint(r.Num))
	}
	return mpd.FrameRateType(fmt.Sprintf("%d/%d", r.Num, r.Den))
}

func representation(p *segment.Presentation, r *segment.Rendition) (*mpd.RepresentationType, error) {
	rep := mpd.NewRepresentation()
	rep.Id = r.ID
	rep.Bandwidth = uint32(min(r.Bandwidth, math.MaxUint32))
	rep.Codecs = r.Track.CodecString
	if r.Init == nil {
		return nil, fmt.Errorf("dash: %s has no init segment", r.ID)
	}
	switch r.Track.Kind {
	case media.KindVideo:
		rep.MimeType = mpd.MIME_TYPE_VIDEO_MP4
		rep.Width, rep.Height = uint32(r.Track.Width), uint32(r.Track.Height)
		if fr := r.Track.FrameRate; fr.Num > 0 && fr.Den > 0 {
			rep.FrameRate = frameRate(fr)
		}
		sar := r.Track.SampleAspect.Reduce()
		if sar.Num <= 0 || sar.Den <= 0 {
			sar = media.Rational{Num: 1, Den: 1}
		}
		rep.Sar = mpd.RatioType(fmt.Sprintf("%d:%d", sar.Num, sar.Den))
	case media.KindAudio:
		rep.MimeType = mpd.MIME_TYPE_AUDIO_MP4
		if r.Track.SampleRate > 0 {
			rep.AudioSamplingRate = mpd.Ptr(mpd.UIntVectorType(fmt.Sprint(r.Track.SampleRate)))
		}
		if r.Track.Channels > 0 {
			rep.AudioChannelConfigurations = append(rep.AudioChannelConfigurations, &mpd.DescriptorType{
				SchemeIdUri: mpd.AUDIO_CHANNEL_CONFIGURATION_MPEG_DASH, Value: fmt.Sprint(r.Track.Channels),
			})
		}
	}
	if p.ByteRange {
		if r.Index == nil {
			return nil, fmt.Errorf("dash: %s has no segment index", r.ID)
		}
		rep.BaseURLs = append(rep.BaseURLs, mpd.NewBaseURL(r.Init.URI))
		sb := &mpd.SegmentBaseType{
			Timescale:  mpd.Ptr(r.Timescale),
			IndexRange: fmt.Sprintf("%d-%d", r.Index.Offset, r.Index.Offset+r.Index.Size-1),
			Initialization: &mpd.URLType{
				Range: fmt.Sprintf("%d-%d", r.Init.Offset, r.Init.Offset+r.Init.Size-1),
			},
		}
		sb.IndexRangeExact = true
		// No presentationTimeOffset: the sidx is on the edited
		// timeline (see "Time zero is signalled once").
		rep.SegmentBase = sb
		return rep, nil
	}
	st := mpd.NewSegmentTemplate()
	st.Timescale = mpd.Ptr(r.Timescale)
	st.Initialization = r.Init.URI
	st.StartNumber = mpd.Ptr(uint32(1))
	// No presentationTimeOffset: the init's edit list already hides what
	// lies before the source's time zero, and players apply both (see
	// "Time zero is signalled once").
	dir := r.ID + "/"
	if p.Naming == segment.ByTime {
		st.Media = dir + "seg_$Time$.m4s"
		st.SegmentTimeline = timeline(r)
		st.StartNumber = nil
	} else {
		st.Media = dir + "seg_$Number$.m4s"
		if d, ok := uniform(r, p.Duration); ok {
			st.Duration = mpd.Ptr(uint32(d))
		} else {
			st.SegmentTimeline = timeline(r)
		}
	}
	rep.SegmentTemplate = st
	return rep, nil
}

// uniform reports whether every segment but the last lasts the same, the
// last no longer, and the presentation duration divided by that duration
// gives the number of segments (players derive the count from it): then
// @duration describes the segments exactly.
func uniform(r *segment.Rendition, total float64) (int64, bool) {
	// @duration places segment k at (k-1)*d from time zero: the first
	// must start exactly at the edited time zero, with nothing hidden
	// before it.
	if len(r.Segments) == 0 || r.Segments[0].Start != r.PresentationTimeOffset {
		return 0, false
	}
	d := r.Segments[0].Duration
	if d <= 0 || d > math.MaxUint32 {
		return 0, false
	}
	for i, s := range r.Segments {
		if i < len(r.Segments)-1 && s.Duration != d || s.Duration > d {
			return 0, false
		}
	}
	// The MPD carries the duration to the millisecond: the count must
	// not depend on that rounding.
	for _, t := range []float64{total - 0.0015, total + 0.0015} {
		if n := int(math.Ceil(t*float64(r.Timescale)/float64(d) - 1e-9)); n != len(r.Segments) {
			return 0, false
		}
	}
	return d, true
}

// timeline returns the SegmentTimeline of r on the edited timeline (the
// first segment starts at zero, losing what its edit list hides) with
// runs of equal durations folded into @r.
func timeline(r *segment.Rendition) *mpd.SegmentTimelineType {
	tl := &mpd.SegmentTimelineType{}
	var next int64 = -1
	for _, s := range r.Segments {
		start, end := r.PresentationTime(s.Start), r.PresentationTime(s.Start+s.Duration)
		d := end - start
		if n := len(tl.S); n > 0 && int64(tl.S[n-1].D) == d && start == next {
			tl.S[n-1].R++
		} else {
			e := &mpd.S{D: uint64(d)}
			if start != next {
				e.T = mpd.Ptr(uint64(start))
			}
			tl.S = append(tl.S, e)
		}
		next = end
	}
	return tl
}
