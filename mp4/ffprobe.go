package mp4

import (
	"sort"

	"github.com/streamkit-go/streamkit/media"
)

// FFprobePacket is a sample as ffprobe -show_packets lists it: the
// sample, and the timestamps libavformat gives it after applying the
// edit list.
type FFprobePacket struct {
	Sample   media.Sample
	PTS, DTS int64
	// Discard is ffprobe's "D" flag: the sample lies before the edit and
	// is only needed to decode what follows (or to prime an audio decoder).
	Discard bool
	// Fragment is set for a sample from a movie fragment (trun): libavformat
	// keeps no duration for these (its fragment index has composition
	// offsets for every sample), so a packet's duration comes from the
	// codec, as the caller of FFprobePackets decides.
	Fragment bool
}

// FFprobePackets reproduces, for track i, the packet list that ffprobe
// (libavformat's mov demuxer, FFmpeg 5/6) prints: which samples it
// returns and with which timestamps. It reads the sample tables only.
//
// Without an edit list ffprobe shows every sample with pts = Sample.PTS
// and dts = Sample.DTS - DTSShift(i). With one, libavformat rebuilds the
// track's index (mov_fix_index) per edit:
//
//  1. Durations are rescaled from the movie timescale, rounding to
//     nearest. Leading empty edits (media_time -1) start the timeline at
//     their summed duration, minus DTSShift.
//  2. For each edit at media_time M lasting D, reading starts at the last
//     sync sample with pts <= M (for audio: the last sample with dts <=
//     M - 1 s, decoder pre-roll).
//  3. Samples whose pts is outside [M, M+D) are flagged Discard (an audio
//     sample straddling M is kept and the skipped part shifts the clock
//     back instead); the others get consecutive dts from the running
//     edit clock, advancing by each sample's duration. Discarded samples
//     before the first kept one are back-dated by their durations.
//  4. Reading of the edit stops at the first sync sample (any audio
//     sample) reaching M+D; for video with composition offsets at the
//     second one, so trailing B-frames are kept. Later samples are not
//     returned at all.
//  5. For video, if the smallest resulting pts is later than the end of
//     the leading empty edits, every timestamp moves back by the
//     difference, so that presentation starts right after the empty edits.
//
// pts is then dts + DTSShift + the sample's composition offset. Samples
// from movie fragments are not re-indexed: their timestamps move by
// EditShift only. The result is checked against ffprobe on the test
// fixtures and on real files in tests.
func (m *Reader) FFprobePackets(i int) []FFprobePacket {
	if i < 0 || i >= len(m.tracks) {
		return nil
	}
	t, ti := m.tracks[i], m.tk[i]
	old := make([]media.Sample, 0, min(ti.st.count, 1<<20))
	var c tableCursor
	for c.reset(&ti.st, i, t.ID); !c.done; c.advance() {
		old = append(old, c.cur)
	}
	shift := ti.dtsShift
	var out []FFprobePacket
	if len(t.Edits) == 0 || m.MovieTimescale == 0 || len(old) == 0 {
		for _, s := range old {
			out = append(out, FFprobePacket{Sample: s, PTS: s.PTS, DTS: s.DTS - shift})
		}
	} else {
		out = m.fixIndex(t, old, shift)
	}
	return m.appendFragmentPackets(i, out)
}

// fixIndex is step 1-5 of FFprobePackets for samples from moov.
func (m *Reader) fixIndex(t *media.Track, old []media.Sample, dtsShift int64) []FFprobePacket {
	out := make([]FFprobePacket, 0, len(old))
	audio, video := t.Kind == media.KindAudio, t.Kind == media.KindVideo
	hasCTTS := false
	for _, s := range old {
		if s.PTS != s.DTS {
			hasCTTS = true
			break
		}
	}
	entryEnd := -dtsShift
	var emptySum int64 // leading empty edits
	foundNonEmpty := false
	firstAudioEdit := -1
	minPTS, haveMin := int64(0), false
	// Edit lists may repeat media (ffmpeg plays each edit in turn), but a
	// hostile elst with thousands of edits over thousands of samples
	// must not cost their product: past this many steps the packets
	// computed so far are returned.
	budget := 64*len(old) + 1<<16
	for _, e := range t.Edits {
		mt := e.MediaTime
		dur := media.Rescale(e.Duration, int64(t.Timescale), int64(m.MovieTimescale))
		counter := entryEnd
		entryEnd += dur
		if mt == -1 {
			if !foundNonEmpty {
				emptySum += dur
			}
			continue // empty edits only advance the clock
		}
		foundNonEmpty = true
		if audio {
			if firstAudioEdit < 0 {
				firstAudioEdit = 1
			} else {
				firstAudioEdit = 0
			}
		}
		search := mt
		if audio {
			search = max(search-int64(t.Timescale), old[0].DTS)
		}
		idx := prevClosest(old, search, true, &budget)
		if idx < 0 {
			idx = prevClosest(old, search, false, &budget)
		}
		if idx < 0 {
			idx = 0
		}
		started := false
		var pending []int // discarded samples before the edit start
		foundKeyAfter := false
		for j := idx; j < len(old) && budget > 0; j++ {
			budget--
			s := old[j]
			fd := dur
			if j+1 < len(old) {
				fd = old[j+1].DTS - s.DTS
			}
			cts := s.PTS
			ctts := s.PTS - s.DTS
			p := FFprobePacket{Sample: s}
			if cts < mt || cts >= mt+dur {
				if audio && cts < mt && cts+fd > mt && firstAudioEdit > 0 {
					counter -= mt - cts
					if !started {
						started = true
						backdate(out, pending, counter)
						pending = nil
					}
				} else {
					p.Discard = true
					if !started {
						pending = append(pending, len(out))
					}
				}
			} else {
				pts := counter + ctts + dtsShift
				if !haveMin || pts < minPTS {
					minPTS, haveMin = pts, true
				}
				if !started {
					started = true
					backdate(out, pending, counter)
					pending = nil
				}
			}
			p.DTS = counter
			out = append(out, p)
			if started {
				counter += fd
			}
			if cts+fd >= mt+dur && (s.Sync || audio) {
				if hasCTTS && video && !foundKeyAfter {
					foundKeyAfter = true
					continue
				}
				break
			}
		}
	}
	if corr := minPTS - emptySum; video && haveMin && corr > 0 {
		for k := range out {
			out[k].DTS -= corr
		}
	}
	for k := range out {
		out[k].PTS = out[k].DTS + dtsShift + (out[k].Sample.PTS - out[k].Sample.DTS)
	}
	return out
}

// backdate gives the discarded samples at out[pending...] timestamps
// ending at end, each earlier by the duration of the sample after it.
func backdate(out []FFprobePacket, pending []int, end int64) {
	ts := end
	for k := len(pending) - 1; k >= 0; k-- {
		p := &out[pending[k]]
		next := p.Sample.DTS + int64(p.Sample.Duration)
		if pending[k]+1 < len(out) {
			next = out[pending[k]+1].Sample.DTS
		}
		ts -= next - p.Sample.DTS
		p.DTS = ts
	}
}

// prevClosest finds where libavformat starts reading an edit at media
// time ts: the last sample with dts <= ts, then back to one that has
// pts <= ts and (when key) is a sync sample.
//
// DTS never decreases in decode order, so the first step is a binary
// search; the walk back is charged to budget.
func prevClosest(s []media.Sample, ts int64, key bool, budget *int) int {
	i := sort.Search(len(s), func(j int) bool { return s[j].DTS > ts }) - 1
	for ; i >= 0 && *budget > 0; i-- {
		*budget--
		if s[i].PTS <= ts && (!key || s[i].Sync) {
			return i
		}
	}
	return -1
}

// appendFragmentPackets adds the fragment samples of track i. Their
// decode timestamps move by EditShift (or continue the re-indexed moov
// timeline); libavformat does not shift them for negative composition
// offsets but raises its dts_shift as each moof is parsed, and adds it
// to every pts: pts = dts + dts_shift + offset, with dts_shift the
// largest negated negative offset seen up to and including the
// sample's moof.
func (m *Reader) appendFragmentPackets(i int, out []FFprobePacket) []FFprobePacket {
	if len(m.moofs) == 0 {
		return out
	}
	t, ti := m.tracks[i], m.tk[i]
	shift := EditShift(t)
	if ti.st.count > 0 {
		shift = 0 // continues the re-indexed moov timeline
		if n := len(out); n > 0 {
			last := out[n-1]
			shift = last.DTS - last.Sample.DTS
		}
	}
	type fs struct {
		s media.Sample
		k int
	}
	var frag []fs
	minCTO := map[int]int64{}
	m.fragmentSamplesK(func(s media.Sample, k int, err error) bool {
		if err != nil || s.TrackID != t.ID {
			return err == nil
		}
		frag = append(frag, fs{s, k})
		minCTO[k] = min(minCTO[k], s.PTS-s.DTS)
		return true
	})
	dtsShift, lastK := ti.dtsShift, -1
	for _, f := range frag {
		if f.k != lastK {
			dtsShift, lastK = max(dtsShift, -minCTO[f.k]), f.k
		}
		dts := f.s.DTS + shift
		out = append(out, FFprobePacket{Sample: f.s, DTS: dts, PTS: dts + dtsShift + (f.s.PTS - f.s.DTS), Fragment: true})
	}
	return out
}
