package probe

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/streamkit-go/streamkit/gop"
	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/ts"
)

// buildMP4 derives ffprobe's values for an MP4 file the way libavformat's
// mov demuxer does:
//
//   - time_base is 1/mdhd timescale;
//   - timestamps move by the edit list (empty first edit minus media_time of
//     the first real edit, mov's time_offset), start_time is the first
//     presented timestamp and never before the empty edit;
//   - duration is the smaller of the mdhd and sample-table (stts)
//     durations, capped by the whole edit list (empty edits included);
//     for tracks whose samples are all in movie fragments it is the end
//     of the last fragment counted from 0, and with a segment index that
//     reaches the end of the file, the end of the last indexed subsegment;
//   - bit_rate is payload bytes * 8 over the sample-table duration
//     (AC-3 and E-AC-3 report their header's rate, as their parser does);
//   - avg_frame_rate is sample count over that duration, r_frame_rate the
//     rate of the shortest frame duration;
//   - nb_frames is the stsz sample count (samples in moov only), omitted
//     when there are none;
//   - format duration is the mvhd duration unless the file is fragmented.
//
// It walks the sample tables (not the payloads) once, to check that every
// sample lies inside the file and to measure frame durations.
func buildMP4(ctx context.Context, res *Result, rd *mp4.Reader, size int64) error {
	tracks := rd.Tracks()
	f := &res.Format
	if rd.MajorBrand != "" {
		f.Tags = map[string]string{
			"major_brand":       rd.MajorBrand,
			"minor_version":     strconv.FormatUint(uint64(rd.MinorVersion), 10),
			"compatible_brands": strings.Join(rd.CompatibleBrands, ""),
		}
	}
	if rd.CreationTime != "" {
		if f.Tags == nil {
			f.Tags = map[string]string{}
		}
		f.Tags["creation_time"] = rd.CreationTime // mvhd
	}
	if rd.MovieDuration > 0 && rd.MovieTimescale > 0 && !rd.Fragmented() {
		f.Duration = media.Rescale(rd.MovieDuration, 1000000, int64(rd.MovieTimescale))
	}

	stats, err := walkSamples(ctx, rd, tracks, size, -1)
	if err != nil {
		return err
	}
	sidxEnd, sidxComplete := sidxEnds(rd, size)
	var firstMoofBytes map[int]int64
	if sidxComplete {
		firstMoofBytes, err = firstFragmentBytes(ctx, rd)
		if err != nil {
			return err
		}
	}
	for _, t := range tracks {
		s := newStream(t)
		st := stats[t.ID]
		if s.Language == "" {
			s.Language = "und"
		}
		shift := media.EditShift(t)
		var empty, editTotal int64
		sawReal := false
		for _, e := range t.Edits {
			d := media.Rescale(e.Duration, int64(t.Timescale), int64(t.MovieTimescale))
			editTotal += d
			if e.MediaTime == -1 {
				if !sawReal {
					empty += d
				}
				continue
			}
			sawReal = true
		}
		if t.SampleCount != 0 {
			sp := t.StartPTS + shift
			if st != nil && st.n > 0 {
				sp = st.minPTS + shift
			}
			if len(t.Edits) > 0 && sp < empty {
				sp = empty
			}
			s.StartPTS = sp
		}
		// libavformat's bit_rate and avg_frame_rate divide by the
		// sample-table duration (the stts sum, mov's duration_for_fps),
		// which can differ from mdhd.
		tableDur := t.Duration
		if st != nil && st.sumDur > 0 {
			tableDur = st.sumDur
		}
		fpsDur := tableDur
		// Stream duration, as mov computes it: the smaller of the mdhd
		// and stts durations, then no longer than the whole edit list
		// (empty edits included). 0 for an init segment, which ffprobe
		// prints as 0 too.
		dur := max(t.Duration, 0)
		if tableDur > 0 && (dur == 0 || tableDur < dur) {
			dur = tableDur
		}
		if editTotal > 0 && editTotal < dur {
			dur = editTotal
		}
		if rd.Fragmented() && st != nil && st.moovCount == 0 && st.n > 0 {
			// Samples only in movie fragments: libavformat's track end
			// is the last decode time plus its duration counted from 0
			// (the first tfdt included), for duration and bit_rate.
			end := t.StartDTS + st.sumDur
			if len(t.Edits) == 0 || end < dur {
				dur = end
			}
			tableDur = end
		}
		s.DurationTS = dur
		bytes := t.Bytes
		if end, ok := sidxEnd[t.ID]; ok && sidxComplete {
			// With a segment index that reaches the end of the file,
			// libavformat's mov demuxer takes the track end from the
			// sidx (earliest_presentation_time plus the subsegment
			// durations, counted from 0, not from start_time) and reads
			// only the first fragment at open time, so its bit_rate
			// counts that fragment's bytes over the sidx duration.
			s.DurationTS = media.Rescale(end.ticks, int64(t.Timescale), end.scale)
			tableDur = s.DurationTS
			bytes = firstMoofBytes[t.ID]
		}
		if tableDur > 0 && bytes > 0 {
			s.BitRate = media.Rescale(bytes, int64(t.Timescale)*8, tableDur)
		} else if t.SampleCount == 0 && t.Bitrate > 0 && t.Codec == media.CodecAAC {
			// No samples (an init segment): the esds avgBitrate, which
			// ffprobe reports for AAC (it ignores btrt).
			s.BitRate = t.Bitrate
		}
		if (t.Codec == media.CodecAC3 || t.Codec == media.CodecEAC3 || t.Codec == media.CodecMPEG1Video) && t.Bitrate > 0 {
			// The decoder's rate from the stream header (for MPEG-1 video
			// the sequence header's, see media.Track.SetMPEG2Video)
			// replaces the container's figure in ffprobe's output.
			s.BitRate = t.Bitrate
		}
		if (t.Codec == media.CodecMP2 || t.Codec == media.CodecMP3) && st != nil && st.n > 0 {
			// The MP4 sample entry's channel count is often just 2;
			// libavcodec's parser reads the first frame's header.
			if b, err := rd.ReadSample(&st.first, nil); err == nil {
				tt := *t
				if tt.SetMPEGAudioFrame(b) == nil {
					s.Channels, s.ChannelLayout, s.SampleFmt, s.SampleRate = tt.Channels, tt.ChannelLayout, tt.SampleFormat, tt.SampleRate
				}
			}
		}
		if t.Codec == media.CodecEAC3 && st != nil && st.n > 0 {
			// libavcodec's parser reports the rate of the first frame's
			// header, which for E-AC-3 can differ from dec3's data_rate
			// (frames of fewer than six blocks): read that one frame.
			if b, err := rd.ReadSample(&st.first, nil); err == nil {
				if f, ok := bitstream.ParseEAC3Frame(b); ok {
					s.BitRate = f.Bitrate()
				}
			}
		}
		if !rd.Fragmented() && t.SampleCount > 0 {
			s.NbFrames = t.SampleCount
		} else if st != nil && st.moovCount > 0 {
			s.NbFrames = st.moovCount
		}
		if t.Kind == media.KindVideo {
			// mov's duration_for_fps: the sample-table duration, even
			// when a segment index sets the stream duration.
			if t.SampleCount > 0 && fpsDur > 0 {
				s.AvgFrameRate = avReduce(t.SampleCount*int64(t.Timescale), fpsDur, math.MaxInt32)
			}
			if st != nil && st.minDelta > 0 {
				s.RFrameRate = avReduce(int64(t.Timescale), st.minDelta, math.MaxInt32)
			} else if t.SampleCount > 0 && fpsDur > 0 {
				s.RFrameRate = s.AvgFrameRate
			} else if !t.FrameRate.IsZero() {
				s.RFrameRate = t.FrameRate.Reduce()
			}
		}
		if st != nil && t.Codec == media.CodecH264 {
			s.HasBFrames = max(s.HasBFrames, st.delay.max)
		}
		if st == nil || st.n == 0 {
			undecoded(&s, t)
		} else if needsFieldOrder(t) {
			if b, err := rd.ReadSample(&st.first, nil); err == nil {
				s.FieldOrder = fieldOrder(t, &st.first, b)
			}
		}
		res.Streams = append(res.Streams, s)
	}
	return nil
}

// needsFieldOrder reports whether a track's field order must come from
// its first frame (interlaced H.264: the SPS alone does not say; MPEG-2:
// the picture coding extension).
func needsFieldOrder(t *media.Track) bool {
	return (t.Codec == media.CodecH264 || t.Codec == media.CodecMPEG2Video) && t.FieldOrder == ""
}

// fieldOrder returns ffprobe's field_order from the first frame, as
// libavcodec's parsers derive it: for H.264 the picture timing SEI, else
// the fields' picture order counts; for MPEG-2 progressive_frame and
// top_field_first (gop reads them all).
func fieldOrder(t *media.Track, s *media.Sample, au []byte) string {
	a, err := gop.NewAnalyzer(t)
	if err != nil {
		return ""
	}
	f, err := a.Analyze(s, au)
	switch {
	case err != nil:
		return ""
	case !f.Interlaced:
		return "progressive"
	case f.TopFieldFirst:
		return "tt"
	}
	return "bb"
}

// undecoded removes from a stream without samples the fields ffprobe
// learns only by decoding a frame. libavcodec's h264 decoder parses the
// avcC at init but exports its SPS only with the first slice, so with
// nothing to decode ffprobe prints has_b_frames 0, no
// bits_per_raw_sample, and only the field order and colour the container
// gives (MP4 fiel and colr boxes). Its hevc decoder, by contrast, exports
// the first SPS of the hvcC at init (export_stream_params): has_b_frames
// (sps_max_num_reorder_pics), the colour range (limited unless the VUI
// says full) and description stay as the parameter sets give them.
func undecoded(s *Stream, t *media.Track) {
	s.FieldOrder = t.ContainerFieldOrder
	s.BitsPerRawSample = 0
	if t.Codec == media.CodecHEVC {
		return
	}
	s.HasBFrames = 0
	if t.Config.SPS != nil {
		c := t.ContainerColor
		s.ColorRange, s.ColorSpace, s.ColorTransfer, s.ColorPrimaries = c.RangeName(), c.SpaceName(), c.TransferName(), c.PrimariesName()
	}
}

// sidxEnds returns, per track ID, the end of the last subsegment indexed
// by the segment index boxes (in the sidx timescale), and whether the index chain reaches
// the end of the file (libavformat's "offset == avio_size" test).
func sidxEnds(rd *mp4.Reader, size int64) (map[int]sidxTime, bool) {
	ends := map[int]sidxTime{}
	complete := false
	for _, x := range rd.SegmentIndexes() {
		if x.Timescale == 0 {
			continue
		}
		end := int64(x.EarliestPresentationTime)
		off := x.FirstOffset
		for _, r := range x.References {
			end += int64(r.Duration)
			off += int64(r.Size)
		}
		if off == size {
			complete = true
		}
		ends[int(x.ReferenceID)] = sidxTime{end, int64(x.Timescale)}
	}
	return ends, complete
}

// sidxTime is a time as ticks of a timescale.
type sidxTime struct{ ticks, scale int64 }

// firstFragmentBytes sums, per track, the payload bytes of the samples of
// the first movie fragment (what libavformat has read when it computes
// bit_rate for an indexed fragmented file).
func firstFragmentBytes(ctx context.Context, rd *mp4.Reader) (map[int]int64, error) {
	frags := rd.Fragments()
	out := map[int]int64{}
	if len(frags) == 0 {
		return out, nil
	}
	lo, hi := frags[0], int64(math.MaxInt64)
	if len(frags) > 1 {
		hi = frags[1]
	}
	for smp, err := range rd.Samples() {
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if smp.Offset > lo && smp.Offset < hi {
			out[smp.TrackID] += int64(smp.Size)
		}
		if smp.Offset > hi {
			break
		}
	}
	return out, nil
}

// trackStats accumulates what a walk over the sample records learns.
type trackStats struct {
	n        int64
	minPTS   int64
	firstDTS int64
	lastDTS  int64
	minDelta int64         // smallest positive DTS step
	first    media.Sample  // the first sample record (payload not kept)
	sumDur   int64         // sum of sample durations
	deltas   map[int64]int // histogram of positive DTS steps (first frames)
	// moovCount counts samples stored before the first movie fragment
	// (the stsz count ffprobe prints as nb_frames).
	moovCount int64
	// PES-level (MPEG-TS): the PTS of the first sample of the last group
	// of samples sharing a Pos, and the largest such PTS.
	lastPos   int64
	maxPESPTS int64
	pesCount  int64
	// Running average bit rate of ADTS frames, as libavcodec's AAC parser
	// computes it (integer, truncating).
	aacRate  int64
	aacCount int64
	// firstAU is a copy of the first sample's payload of an interlaced
	// H.264 track read from MPEG-TS, for its field order.
	firstAU []byte
	// delay estimates an MP4 H.264 track's reorder depth from its sample
	// table, as libavformat's mov demuxer does (videoDelay).
	delay videoDelay
}

// videoDelay is libavformat's mov_estimate_video_delay: for an H.264
// track whose sample table has composition offsets, the demuxer sets
// video_delay (the has_b_frames ffprobe prints, before the decoder raises
// it to the SPS's max_num_reorder_frames) to the largest number of
// places any sample's PTS moves back when inserted, in decode order, into
// a sorted buffer of the last 17 PTS. Only samples of the moov's sample
// tables count (fragments are indexed after the estimate); a table
// without composition offsets gives 0, as PTS then follow DTS.
type videoDelay struct {
	buf   [17]int64
	start int
	n     int // samples seen (the buffer starts out as INT64_MIN)
	max   int
}

// add inserts the next sample's PTS.
func (v *videoDelay) add(pts int64) {
	if v.n == 0 {
		for i := range v.buf {
			v.buf[i] = math.MinInt64
		}
	}
	v.n++
	j := v.start
	v.start = (v.start + 1) % len(v.buf)
	v.buf[j] = pts
	swaps := 0
	for j != v.start {
		r := j - 1
		if r < 0 {
			r = len(v.buf) - 1
		}
		if v.buf[j] >= v.buf[r] {
			break
		}
		v.buf[j], v.buf[r] = v.buf[r], v.buf[j]
		swaps++
		j = r
	}
	v.max = max(v.max, swaps)
}

// gcdDelta returns the greatest common divisor of the DTS steps seen.
func (st *trackStats) gcdDelta() int64 {
	var g int64
	for d := range st.deltas {
		g = gcd(g, d)
	}
	return g
}

// modeDelta returns the most frequent DTS step (the smallest on ties).
func (st *trackStats) modeDelta() int64 {
	var best int64
	n := 0
	for d, c := range st.deltas {
		if c > n || c == n && d < best {
			best, n = d, c
		}
	}
	return best
}

// snapRate replaces r by the nearest of libavformat's standard frame
// rates (n/12 fps for n up to 720, and the NTSC 1000/1001 rates) when it
// is within 0.2 %.
func snapRate(r media.Rational) media.Rational { return stdRate(r, 0.002) }

// stdRate replaces r by the nearest standard frame rate within the
// relative error maxErr.
func stdRate(r media.Rational, maxErr float64) media.Rational {
	f := r.Float()
	if f <= 0 {
		return r
	}
	best, bestErr := r, maxErr
	try := func(c media.Rational) {
		if e := math.Abs(c.Float()-f) / f; e < bestErr {
			best, bestErr = c, e
		}
	}
	for _, n := range []int64{24000, 30000, 60000, 12000, 15000, 48000} {
		try(media.Rational{Num: n, Den: 1001})
	}
	for i := int64(1); i <= 60*12; i++ {
		try(avReduce(i, 12, math.MaxInt32))
	}
	return best
}

// walkSamples iterates over sample records. For MP4 (limit < 0) it walks
// every record, which costs the sample tables only, and checks that each
// sample lies inside the file; with limit >= 0 it stops once an audio or
// video track has been walked for limit ticks, as libavformat's
// find_stream_info does (used for MPEG-TS, whose iteration reads payloads).
func walkSamples(ctx context.Context, d media.Demuxer, tracks []*media.Track, size int64, limit int64) (map[int]*trackStats, error) {
	stats, _, err := walkSamplesAll(ctx, d, tracks, size, limit)
	return stats, err
}

// walkSamplesAll is walkSamples that also reports whether the walk reached
// the end of the input (rather than stopping at the limit).
func walkSamplesAll(ctx context.Context, d media.Demuxer, tracks []*media.Track, size int64, limit int64) (map[int]*trackStats, bool, error) {
	stats := map[int]*trackStats{}
	byID := map[int]*media.Track{}
	for _, t := range tracks {
		byID[t.ID] = t
	}
	n := 0
	moovEnd := int64(math.MaxInt64)
	if m, ok := d.(*mp4.Reader); ok && len(m.Fragments()) > 0 {
		moovEnd = m.Fragments()[0]
	}
	for smp, err := range d.Samples() {
		if err != nil {
			return nil, false, err
		}
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		st := stats[smp.TrackID]
		if st == nil {
			st = &trackStats{minPTS: smp.PTS, firstDTS: smp.DTS, lastDTS: smp.DTS, lastPos: -1, maxPESPTS: math.MinInt64, first: smp}
			st.first.Data = nil
			stats[smp.TrackID] = st
			if t := byID[smp.TrackID]; t != nil && needsFieldOrder(t) && smp.Data != nil {
				st.firstAU = append([]byte(nil), smp.Data...)
			}
		}
		if limit < 0 && smp.Offset >= 0 && smp.Offset+int64(smp.Size) > size {
			return nil, false, &media.PosError{Format: d.Format(), Offset: smp.Offset,
				What: fmt.Sprintf("mdat: sample %d of track %d (%d bytes)", smp.Index, smp.TrackID, smp.Size),
				Err:  fmt.Errorf("%w: sample ends at byte %d, file has %d", media.ErrTruncated, smp.Offset+int64(smp.Size), size)}
		}
		if st.n > 0 {
			dd := smp.DTS - st.lastDTS
			if dd > 0 && (st.minDelta == 0 || dd < st.minDelta) {
				st.minDelta = dd
			}
			if dd > 0 && st.n < 512 {
				if st.deltas == nil {
					st.deltas = map[int64]int{}
				}
				st.deltas[dd]++
			}
		}
		st.n++
		st.sumDur += int64(smp.Duration)
		if smp.Offset >= 0 && smp.Offset < moovEnd {
			st.moovCount++
			if limit < 0 {
				st.delay.add(smp.PTS)
			}
		}
		st.minPTS = min(st.minPTS, smp.PTS)
		st.lastDTS = smp.DTS
		if smp.Pos != st.lastPos {
			st.lastPos = smp.Pos
			st.pesCount++
			st.maxPESPTS = max(st.maxPESPTS, smp.PTS)
		}
		t := byID[smp.TrackID]
		if t != nil && t.Codec == media.CodecAAC && t.SampleRate > 0 {
			sz := int64(smp.Size)
			if len(smp.Data) < 2 || smp.Data[0] != 0xFF || smp.Data[1]&0xF0 != 0xF0 {
				sz += 7 // libavcodec's parser counts the ADTS header
			}
			// The parser's rate is the ADTS header's (the core rate of
			// implicit HE-AAC, over 1024 samples): the track's rate over
			// its frame size is the same ratio.
			fs := int64(t.FrameSize)
			if fs <= 0 {
				fs = 1024
			}
			rate := sz * 8 * int64(t.SampleRate) / fs
			st.aacCount++
			st.aacRate += (rate - st.aacRate) / st.aacCount
		}
		if limit >= 0 {
			// find_stream_info stops as soon as one stream has been
			// analysed for limit (its frames' span), or at probesize.
			if t != nil && (t.Kind == media.KindVideo || t.Kind == media.KindAudio) &&
				smp.DTS+int64(smp.Duration)-st.firstDTS >= limit {
				return stats, false, nil
			}
			if smp.Pos > probeBytes {
				return stats, false, nil
			}
		}
	}
	return stats, true, nil
}

// MPEG-TS windows, as libavformat's: find_stream_info analyses up to
// 5 s (analyzeduration, once every stream has its parameters) or 5 MB
// (probesize), estimate_timings_from_pts reads the last 250 kB, doubling
// up to 6 times while a stream has no timestamp there.
const (
	analyzeTicks = 5 * 90000
	probeBytes   = 5000000
	tailBytes    = 250000
	tailRetries  = 6
)

// buildTS derives ffprobe's values for an MPEG-TS file:
//
//   - time_base 1/90000, start_time the first timestamp of the stream;
//   - duration from the end of the file: the largest PES PTS in the last
//     250 kB plus one frame (libavformat adds a single frame duration even
//     when a PES carries several audio frames), minus start_time;
//   - r_frame_rate from the shortest frame step, avg_frame_rate from the
//     frames analysed in the first 5 s;
//   - audio bit_rate as the codec parsers report it: the running average
//     of ADTS frame sizes for AAC, the header's nominal rate for AC-3,
//     E-AC-3 and MPEG audio; no bit_rate for video, no nb_frames.
func buildTS(ctx context.Context, res *Result, rd *ts.Reader, r io.ReaderAt, size int64) error {
	tracks := rd.Tracks()
	res.Format.NbPrograms = len(rd.Programs())
	res.Format.ProbeScore = 50
	head, complete, err := walkSamplesAll(ctx, rd, tracks, size, analyzeTicks)
	if err != nil {
		return err
	}
	for _, t := range tracks {
		s := newStream(t)
		s.TimeBase = media.Rational{Num: 1, Den: 90000}
		st := head[t.ID]
		if st == nil || st.n == 0 {
			undecoded(&s, t)
		} else if st.firstAU != nil {
			s.FieldOrder = fieldOrder(t, &st.first, st.firstAU)
		}
		if st != nil && st.n > 0 {
			s.StartPTS = t.StartPTS
			if t.Kind != media.KindVideo && t.Kind != media.KindAudio {
				// Data streams (ID3, KLV): the first PES timestamp.
				s.StartPTS = st.minPTS
			}
		}
		if t.Kind == media.KindVideo && st != nil {
			// libavformat's r_frame_rate for MPEG-TS: the rate of the
			// greatest common divisor of the frame steps when that is a
			// plausible frame duration (more than 1/500 s); otherwise
			// (jittery or variable timestamps) the codec's own frame
			// rate (H.264/HEVC VUI timing); failing both, the most common
			// step snapped to a standard rate.
			switch g := st.gcdDelta(); {
			case g > 90000/500:
				s.RFrameRate = avReduce(90000, g, math.MaxInt32)
			case !t.FrameRate.IsZero():
				s.RFrameRate = t.FrameRate.Reduce()
			default:
				if d := st.modeDelta(); d > 0 {
					s.RFrameRate = snapRate(avReduce(90000, d, 1001000))
				}
			}
			switch {
			case !t.FrameRate.IsZero():
				// find_stream_info sums the packet durations, which
				// libavformat's compute_frame_duration takes from the
				// codec's frame rate (VUI timing, the MPEG-2 sequence
				// header) when the parser knows one: the average is that
				// rate, rounded to a standard one within 1 %.
				s.AvgFrameRate = stdRate(avReduce(t.FrameRate.Num, t.FrameRate.Den, 60000), 0.01)
			case st.n > 1 && st.lastDTS > st.firstDTS:
				// Frames over their span, then, as find_stream_info
				// does, rounded to a standard rate within 1 %.
				s.AvgFrameRate = stdRate(avReduce((st.n-1)*90000, st.lastDTS-st.firstDTS, 60000), 0.01)
			}
			if s.RFrameRate.IsZero() && !t.FrameRate.IsZero() {
				s.RFrameRate = t.FrameRate.Reduce()
			}
		}
		switch {
		case t.Codec == media.CodecAAC && st != nil && st.aacCount > 0:
			s.BitRate = st.aacRate
		case (t.Kind == media.KindAudio || t.Codec == media.CodecMPEG1Video) && t.Bitrate > 0:
			s.BitRate = t.Bitrate
		}
		res.Streams = append(res.Streams, s)
	}
	if complete && size <= tailBytes {
		// The analysis already walked the whole file, which is all the
		// tail window would hold.
		setTSDurations(res, head)
		return nil
	}
	return tsDurations(ctx, res, rd, r, size)
}

// tsDurations reads the tail of the file as libavformat's
// estimate_timings_from_pts does and sets each stream's duration.
func tsDurations(ctx context.Context, res *Result, rd *ts.Reader, r io.ReaderAt, size int64) error {
	stride := int64(rd.PacketSize())
	if stride <= 0 {
		stride = 188
	}
	window := int64(tailBytes)
	for retry := 0; ; retry++ {
		from := max(size-window, 0)
		from -= from % stride
		sub := io.NewSectionReader(r, from, size-from)
		// The tail starts mid-stream: PAT and PMT repeat, timestamps
		// are absolute. A damaged tail is not fatal: durations then
		// stay unknown, as with ffprobe.
		tr, err := ts.NewReader(sub, size-from, ts.WithTailSize(0))
		missing := false
		if err == nil {
			stats, werr := walkSamples(ctx, tr, tr.Tracks(), size-from, -2)
			if werr != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			missing = setTSDurations(res, stats)
		} else {
			missing = true
		}
		if !missing || from == 0 || retry >= tailRetries {
			return nil
		}
		window <<= 1
	}
}

// setTSDurations sets each stream's duration from the PES timestamps in
// stats and reports whether an audio or video stream had none.
func setTSDurations(res *Result, stats map[int]*trackStats) (missing bool) {
	for i := range res.Streams {
		s := &res.Streams[i]
		t := res.Tracks[i]
		st := stats[t.ID]
		if st == nil || st.pesCount == 0 || s.StartPTS == Unknown {
			if t.Kind == media.KindVideo || t.Kind == media.KindAudio {
				missing = true
			}
			continue
		}
		end := st.maxPESPTS
		for end < s.StartPTS-(1<<32) {
			end += 1 << 33 // the tail wrapped after the head
		}
		end += frameTicks(s, t)
		if dur := end - s.StartPTS; dur > 0 && (s.DurationTS == Unknown || dur > s.DurationTS) {
			s.DurationTS = dur
		}
	}
	return missing
}

// frameTicks is one frame's duration in 90 kHz ticks as libavformat's
// compute_frame_duration gives it without a parser: 1/r_frame_rate for
// video, frame_size/sample_rate for audio, rounded down.
func frameTicks(s *Stream, t *media.Track) int64 {
	switch t.Kind {
	case media.KindVideo:
		if s.RFrameRate.Num > 0 {
			return 90000 * s.RFrameRate.Den / s.RFrameRate.Num
		}
	case media.KindAudio:
		fs := t.FrameSize
		if fs == 0 {
			switch t.Codec {
			case media.CodecAAC:
				fs = 1024
			case media.CodecAC3, media.CodecEAC3:
				fs = 1536
			case media.CodecMP2, media.CodecMP3:
				fs = 1152
			}
		}
		if fs > 0 && t.SampleRate > 0 {
			return int64(fs) * 90000 / int64(t.SampleRate)
		}
	}
	return 0
}

// buildGeneric handles a format registered by another package: it trusts
// the track fields and walks the sample records once.
func buildGeneric(ctx context.Context, res *Result, d media.Demuxer) error {
	stats, err := walkSamples(ctx, d, d.Tracks(), math.MaxInt64, -1)
	if err != nil {
		return err
	}
	res.Format.NbPrograms = len(sortedPrograms(d.Tracks()))
	for _, t := range d.Tracks() {
		s := newStream(t)
		st := stats[t.ID]
		if st != nil && st.n > 0 {
			s.StartPTS = st.minPTS
		}
		if t.Duration > 0 {
			s.DurationTS = t.Duration
			if t.Bytes > 0 {
				s.BitRate = media.Rescale(t.Bytes, int64(t.Timescale)*8, t.Duration)
			}
			if t.Kind == media.KindVideo && t.SampleCount > 0 {
				s.AvgFrameRate = avReduce(t.SampleCount*int64(t.Timescale), t.Duration, math.MaxInt32)
			}
		}
		if t.Kind == media.KindVideo && st != nil && st.minDelta > 0 {
			s.RFrameRate = avReduce(int64(t.Timescale), st.minDelta, math.MaxInt32)
		}
		if t.SampleCount > 0 {
			s.NbFrames = t.SampleCount
		}
		res.Streams = append(res.Streams, s)
	}
	return nil
}
