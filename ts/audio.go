package ts

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/ac3"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/eac3"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// audioFrame describes one frame found at the start of a buffer.
type audioFrame struct {
	size    int // bytes, 0 when the header is invalid
	samples int // PCM samples per channel
	rate    int // sample rate
}

// frameAudio cuts ADTS, LOAS, AC-3/E-AC-3 and MPEG audio into frames.
// Bytes that do not start a valid frame header are skipped one at a time
// until one does, as libavcodec's parsers do; the bytes before a
// stream's first frame, and for MPEG audio any skipped bytes, become
// packets as in libavcodec (see leadingBytes).
func (s *esStream) frameAudio(eof bool) {
	hdrLen := 7
	switch s.info.framer {
	case framerLATM:
		hdrLen = 3
	case framerAC3:
		hdrLen = 8
	case framerMPEGAudio:
		hdrLen = 4
	}
	p := s.consumed
	// lead is where the bytes before the stream's first frame start while
	// that frame is looked for (-1 once found): see leadingBytes.
	lead := -1
	if !s.synced {
		lead = p
	}
	// gap is where the bytes without a sync before p start (-1 none):
	// libavcodec's MPEG audio parser (mpegaudio_parser.c) ends a packet
	// only at the end of a frame whose header it found, so bytes it
	// skips go into the next frame's packet; the other parsers' skipped
	// bytes are dropped here.
	gap := -1
	for !s.d.stop {
		if len(s.es)-p < hdrLen {
			break
		}
		f := s.parseAudioHeader(s.es[p:])
		if f.size == 0 {
			if gap < 0 {
				gap = p
			}
			p++
			if lead < 0 && s.info.framer != framerMPEGAudio {
				s.d.stats.FrameErrors++
			}
			continue
		}
		start := p // where the first emitted frame starts
		if gap >= 0 && lead < 0 && s.info.framer == framerMPEGAudio {
			start = gap
		}
		// Other parsers' skipped bytes are dropped (and counted above):
		// corrupt data in the middle is skipped to the next sync. For
		// ADTS, libavcodec's aac_sync would end a packet of its own there
		// (ff_aac_ac3_parse looks for each header from the end of the
		// last frame), but that packet takes a frame of interpolated
		// time: the frames after it in the PES would then pass the next
		// PES's PTS and the timeline would go back, which no writer
		// accepts (ffmpeg -c copy rewrites such DTS with a warning).
		gap = -1
		if lead >= 0 {
			// An E-AC-3 dependent substream does not start an access
			// unit: ac3_sync (libavcodec/ac3_parser.c) clears
			// new_frame_start for it and ff_aac_ac3_parse scans on
			// past it, so it belongs to the leading bytes.
			if s.info.framer == framerAC3 && isEAC3(s.es[p:]) && s.es[p+2]>>6 == 1 {
				if p+f.size > len(s.es) {
					break
				}
				p += f.size
				continue
			}
			if p == lead || s.info.framer != framerMPEGAudio {
				s.synced = true
				if p > lead {
					start = s.leadingBytes(lead, p, f)
				}
				lead = -1
			} else {
				start = lead // synced once this frame is emitted
			}
		}
		end := p + f.size
		if end > len(s.es) {
			if eof {
				s.d.stats.FrameErrors += int64(len(s.es) - p)
				s.d.damageAs(media.ErrTruncated, s.pesPos, s.what, "last frame cut: %d of %d bytes", len(s.es)-p, f.size)
				if s.d.mode == modeProbe && !s.conf {
					s.cutFrameConfig(s.es[p:], f)
				}
				// libavcodec's audio parsers hand over what is left at the
				// end of the input as one last packet; so do we.
				if s.d.mode == modeSamples && !s.d.stop {
					if f.rate > 0 {
						s.sampleRate = f.rate
					}
					s.consumed = len(s.es)
					s.emitFrame(start, len(s.es), true, f.samples)
				}
				p, lead = len(s.es), -1
			} else if lead < 0 {
				s.consumed = start // from the bytes merged into it
				return
			}
			break
		}
		// E-AC-3: dependent substreams that follow an independent one
		// belong to the same access unit.
		if s.info.framer == framerAC3 && isEAC3(s.es[p:]) {
			for {
				if len(s.es)-end < hdrLen {
					if !eof {
						s.consumed = p
						return
					}
					break
				}
				if !isEAC3(s.es[end:]) || s.es[end+2]>>6 != 1 {
					break
				}
				g := s.parseAudioHeader(s.es[end:])
				if g.size == 0 || end+g.size > len(s.es) {
					if !eof && g.size != 0 {
						s.consumed = p
						return
					}
					break
				}
				end += g.size
			}
		}
		if s.d.mode == modeProbe && !s.conf {
			s.audioConfig(s.es[p:end], f)
		}
		if s.d.mode == modeProbe && s.info.framer == framerADTS && len(s.aacFrames) < maxSBRFrames {
			if h, ok := bitstream.ParseADTS(s.es[p:end]); ok && h.HeaderLen < end-p {
				s.aacFrames = append(s.aacFrames, append([]byte(nil), s.es[p+h.HeaderLen:end]...))
			}
		}
		if f.rate > 0 {
			s.sampleRate = f.rate
		}
		s.consumed = end
		s.emitFrame(start, end, true, f.samples)
		p = end
		if lead >= 0 {
			s.synced, lead = true, -1
		}
	}
	switch {
	case gap >= 0 && lead < 0 && s.info.framer == framerMPEGAudio && !eof && p-gap <= maxLeadingBytes:
		s.consumed = gap // kept for the next frame's packet
		return
	case gap >= 0 && lead < 0 && s.info.framer == framerMPEGAudio:
		s.d.stats.FrameErrors += int64(p - gap)
	case lead >= 0 && !eof && p-lead <= maxLeadingBytes:
		s.consumed = lead // keep the leading bytes until a frame is found
		return
	case lead >= 0:
		// No frame in the first maxLeadingBytes (or none at all): drop
		// them as any other bytes without a sync; the stream counts as
		// synced so that what follows is not held back.
		s.d.stats.FrameErrors += int64(p - lead)
		s.synced = !eof
	}
	if p > s.consumed {
		s.consumed = p
	}
	if eof {
		s.consumed = len(s.es)
	}
}

// maxLeadingBytes bounds the bytes kept before a stream's first frame
// while it is looked for: a PID of garbage must not grow the buffer.
const maxLeadingBytes = 64 << 10

// leadingBytes handles the bytes es[lead:p] that come before the first
// frame of the stream (a PES that starts inside a frame: the first PES of
// a capture or of a cut file), whose header f starts at p, as libavcodec's
// parsers do; it returns where the first frame's packet starts.
//
//   - AAC (ADTS), AC-3 and E-AC-3 share ff_aac_ac3_parse
//     (libavcodec/aac_ac3_parser.c): it scans for the first header from
//     the start of its input and, when that header is not at offset 0
//     (pc->index+i > 0 with new_frame_start), ends a "frame" there
//     through ff_combine_frame (parser.c), so the leading bytes become a
//     packet of their own. ff_fetch_timestamp gives it the PES's PTS and
//     pos and the parser's duration is that of the header just found;
//     the first real frame then has no timestamp of its own and
//     compute_pkt_fields (libavformat/demux.c) interpolates it: PES PTS
//     plus that duration, the same PTS as the next PES's frame when the
//     PES PTS belonged to the first real frame (sample_ac3.ts: 0, 2880,
//     2880). So here: the leading bytes are emitted as a sample with the
//     duration of f, and the first frame follows unstamped.
//     This reader does so for AC-3 and E-AC-3 only. For ADTS the leading
//     bytes are dropped (counted as frame errors): libavcodec makes the
//     same packet of them, but it is no AAC access unit, and the MP4,
//     fMP4 and TS writers would carry it as one (ffmpeg's aac_adtstoasc
//     refuses it; its MPEG-TS muxer passes it on), so a TS capture that
//     starts inside an ADTS frame reads as one that starts at its first
//     frame, stamped with the PES's PTS.
//   - MPEG audio's parser (libavcodec/mpegaudio_parser.c) cuts a packet
//     only at the end of a frame whose header it found: the bytes before
//     the first header go into the first frame's packet.
//
// LATM and Opus are cut by their own framers and keep skipping.
func (s *esStream) leadingBytes(lead, p int, f audioFrame) int {
	switch s.info.framer {
	case framerAC3:
		if f.rate > 0 {
			s.sampleRate = f.rate
		}
		s.consumed = p
		s.emitFrame(lead, p, true, f.samples)
	default:
		s.d.stats.FrameErrors += int64(p - lead)
	}
	return p
}

func isEAC3(b []byte) bool { return len(b) >= 6 && b[0] == 0x0B && b[1] == 0x77 && b[5]>>3 > 10 }

func (s *esStream) parseAudioHeader(b []byte) audioFrame {
	switch s.info.framer {
	case framerADTS:
		h, ok := bitstream.ParseADTS(b)
		if !ok {
			return audioFrame{}
		}
		return audioFrame{size: h.FrameLen, samples: 1024 * h.Blocks, rate: h.SampleRate()}
	case framerLATM:
		// syncword 0x2B7 (11) audioMuxLengthBytes (13)
		if b[0] != 0x56 || b[1]&0xE0 != 0xE0 {
			return audioFrame{}
		}
		n := 3 + (int(b[1]&0x1f)<<8 | int(b[2]))
		samples := s.info.track.FrameSize
		if samples <= 0 {
			samples = 1024
		}
		return audioFrame{size: n, samples: samples, rate: s.info.track.SampleRate}
	case framerAC3:
		if b[0] != 0x0B || b[1] != 0x77 {
			return audioFrame{}
		}
		if b[5]>>3 > 10 {
			var si eac3.SyncInfo
			if si.Unmarshal(b) != nil {
				return audioFrame{}
			}
			blocks := [4]int{1, 2, 3, 6}[si.Numblkscod&3]
			return audioFrame{size: si.FrameSize(), samples: 256 * blocks, rate: si.SampleRate()}
		}
		var si ac3.SyncInfo
		if si.Unmarshal(b) != nil {
			return audioFrame{}
		}
		return audioFrame{size: si.FrameSize(), samples: 1536, rate: si.SampleRate()}
	case framerMPEGAudio:
		return parseMPEGAudio(b)
	}
	return audioFrame{}
}

// maxSBRFrames is how many first ADTS frames the probe keeps to find
// implicit SBR (media.Track.SetAACFrames).
const maxSBRFrames = 8

// audioConfig fills the track from the first frame while probing.
func (s *esStream) audioConfig(b []byte, f audioFrame) {
	t := s.info.track
	switch s.info.framer {
	case framerADTS:
		h, ok := bitstream.ParseADTS(b)
		if !ok {
			return
		}
		tag := t.CodecTag
		if t.SetAAC(h.AudioSpecificConfig()) == nil {
			s.conf = true
		}
		t.CodecTag = tag
	case framerLATM:
		ame, ok := parseAudioMuxElement(b[3:])
		if ok && ame.StreamMuxConfig != nil &&
			len(ame.StreamMuxConfig.Programs) > 0 && len(ame.StreamMuxConfig.Programs[0].Layers) > 0 {
			if asc := ame.StreamMuxConfig.Programs[0].Layers[0].AudioSpecificConfig; asc != nil {
				if raw, err := asc.Marshal(); err == nil {
					tag := t.CodecTag
					if t.SetAAC(raw) == nil {
						s.conf = true
						s.sampleRate = t.SampleRate
					}
					t.Codec = "aac_latm"
					t.CodecTag = tag
				}
			}
		}
		if !s.conf {
			s.conf = true // identified; parameters unknown
		}
	case framerAC3:
		if isEAC3(b) {
			var si eac3.SyncInfo
			if si.Unmarshal(b) == nil {
				bitrate := int64(0)
				if f.samples > 0 {
					bitrate = int64(f.size) * 8 * int64(si.SampleRate()) / int64(f.samples)
				}
				t.SetAC3Info(media.CodecEAC3, si.SampleRate(), si.Acmod, si.Lfeon, bitrate)
				t.FrameSize = f.samples
				s.conf = true
			}
			return
		}
		var si ac3.SyncInfo
		var bsi ac3.BSI
		if si.Unmarshal(b) == nil && bsi.Unmarshal(b[5:]) == nil {
			t.SetAC3Info(media.CodecAC3, si.SampleRate(), bsi.Acmod, bsi.LfeOn, int64(bitstream.AC3Bitrate(int(si.Frmsizecod>>1)))*1000)
			s.conf = true
		}
	case framerMPEGAudio:
		if t.SetMPEGAudioFrame(b) != nil {
			return
		}
		t.FrameSize = f.samples
		s.conf = true
	}
}

// cutFrameConfig fills a track that has no complete frame from the
// header of the frame the input cuts, as ffprobe does: libavcodec's
// parser hands the rest of the input over as a last packet and the
// decoder fails on it ("incomplete frame"), but what the header says is
// kept. For MPEG audio the decoder that read it is the one the stream
// type named (mp3 for types 0x03/0x04: libavformat refines the codec to
// mp2 only after complete frames), so only the rate and channels are
// taken; an AC-3 header gives the parser's rate and channels.
func (s *esStream) cutFrameConfig(b []byte, f audioFrame) {
	t := s.info.track
	switch s.info.framer {
	case framerMPEGAudio:
		m := bitstream.ParseMPEGAudio(b)
		if m.Layer == 0 {
			return
		}
		t.SampleRate = m.Rate
		t.Channels, t.ChannelLayout = 2, "stereo"
		if m.Mono {
			t.Channels, t.ChannelLayout = 1, "mono"
		}
		s.conf = true
	case framerAC3:
		if len(b) >= 16 {
			s.audioConfig(b, f)
		}
	}
}

func parseMPEGAudio(b []byte) audioFrame {
	h := bitstream.ParseMPEGAudio(b)
	if h.Layer == 0 || h.Size < 4 {
		return audioFrame{}
	}
	return audioFrame{size: h.Size, samples: h.Samples, rate: h.Rate}
}

// frameOpus cuts Opus access units as carried in MPEG-TS (the draft ETSI
// specification published by the Opus project, registration "Opus"):
//
//	opus_control_header: 0x3FF(11) start_trim_flag(1) end_trim_flag(1)
//	control_extension_flag(1) reserved(2)
//	au_size: 0xFF bytes ... last byte (sum)
//	[start_trim(16)] [end_trim(16)] [control_extension_length(8) ...]
//	Opus packet (au_size bytes)
//
// The sample holds the Opus packet only, as ffprobe's packets do.
func (s *esStream) frameOpus(eof bool) {
	p := s.consumed
	for !s.d.stop {
		b := s.es[p:]
		if len(b) < 3 {
			break
		}
		if b[0] != 0x7F || b[1]&0xE0 != 0xE0 {
			p++
			s.d.stats.FrameErrors++
			continue
		}
		i := 2
		size := 0
		for i < len(b) && b[i] == 0xFF {
			size += 255
			i++
		}
		if i >= len(b) {
			break
		}
		size += int(b[i])
		i++
		if b[1]&0x10 != 0 {
			i += 2
		}
		if b[1]&0x08 != 0 {
			i += 2
		}
		if b[1]&0x04 != 0 {
			if i >= len(b) {
				break
			}
			i += 1 + int(b[i])
		}
		if i+size > len(b) {
			if eof {
				s.d.stats.FrameErrors += int64(len(b))
				s.d.damageAs(media.ErrTruncated, s.pesPos, s.what, "last Opus access unit cut: %d of %d bytes", len(b)-i, size)
				p = len(s.es)
			}
			break
		}
		start, end := p+i, p+i+size
		s.consumed = end
		s.sampleRate = 48000
		s.emitFrame(start, end, true, opusSamples(s.es[start:end]))
		p = end
	}
	if p > s.consumed {
		s.consumed = p
	}
	if eof {
		s.consumed = len(s.es)
	}
}

// opusSamples returns the duration of an Opus packet in 48 kHz samples
// from its TOC byte (RFC 6716 3.1); 0 for an empty packet.
func opusSamples(pkt []byte) int {
	if len(pkt) == 0 {
		return 0
	}
	toc := pkt[0]
	cfg := int(toc >> 3)
	var fs int
	switch {
	case cfg < 12:
		fs = [4]int{480, 960, 1920, 2880}[cfg&3]
	case cfg < 16:
		fs = [2]int{480, 960}[cfg&1]
	default:
		fs = [4]int{120, 240, 480, 960}[cfg&3]
	}
	n := 1
	switch toc & 3 {
	case 1, 2:
		n = 2
	case 3:
		if len(pkt) < 2 {
			return 0
		}
		n = int(pkt[1] & 0x3f)
	}
	return fs * n
}

// parseAudioMuxElement wraps mediacommon's LATM parser, which reads bits
// without bounds checks in places: a panic on hostile input is a parse
// failure here, not a crash.
func parseAudioMuxElement(b []byte) (ame mpeg4audio.AudioMuxElement, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	ame.MuxConfigPresent = true
	return ame, ame.Unmarshal(b) == nil
}
