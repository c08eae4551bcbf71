package probe

import (
	"bufio"
	"container/heap"
	"context"
	"fmt"
	"io"
	"math"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// Packet is one entry of ffprobe's "packets" array (-show_packets): a
// sample with the timestamps, flags and side data ffprobe prints for it.
// The JSON field names, order and value types are ffprobe's (size and pos
// are strings); a value ffprobe prints as N/A is left out.
type Packet struct {
	CodecType    string           `json:"codec_type"`
	StreamIndex  int              `json:"stream_index"`
	PTS          *int64           `json:"pts,omitempty"`
	PTSTime      string           `json:"pts_time,omitempty"`
	DTS          *int64           `json:"dts,omitempty"`
	DTSTime      string           `json:"dts_time,omitempty"`
	Duration     *int64           `json:"duration,omitempty"`
	DurationTime string           `json:"duration_time,omitempty"`
	Size         string           `json:"size"`
	Pos          string           `json:"pos,omitempty"`
	Flags        string           `json:"flags"`
	SideDataList []PacketSideData `json:"side_data_list,omitempty"`
}

// PacketSideData is packet side data as ffprobe prints it: the MPEG-TS
// PES stream_id of every MPEG-TS packet, and the samples an audio decoder
// skips at the start of an MP4 track (encoder priming cut by the edit
// list).
type PacketSideData struct {
	SideDataType  string `json:"side_data_type"`
	ID            *int   `json:"id,omitempty"`
	SkipSamples   *int64 `json:"skip_samples,omitempty"`
	DiscardPad    *int64 `json:"discard_padding,omitempty"`
	SkipReason    *int   `json:"skip_reason,omitempty"`
	DiscardReason *int   `json:"discard_reason,omitempty"`
}

// PacketsFile is [Packets] for the file at path.
func PacketsFile(ctx context.Context, path string, fn func(*Packet) error, opts ...Option) error {
	f, size, opts, closeAll, err := openPath(path, opts)
	if err != nil {
		return err
	}
	defer closeAll()
	return Packets(ctx, f, size, fn, opts...)
}

// Packets calls fn for every packet of the input in the order ffprobe
// -show_packets lists them, with the same values. Unlike [Reader] it reads
// the whole input, one sample table or PES at a time (memory stays
// bounded: an MP4's packet list is built from its sample tables).
//
// For MP4 the packets are libavformat's: the edit list re-indexes them
// ([mp4.Reader.FFprobePackets]: timestamps, the D flag for samples before
// the edit), tracks are interleaved as its mov demuxer interleaves them
// (file position, unless decoding times are more than a second apart), and
// data tracks (tmcd, text), which ffprobe does not read, are left out.
// For MPEG-TS they are the reader's access units, whose timestamps are
// ffprobe's already.
func Packets(ctx context.Context, r io.ReaderAt, size int64, fn func(*Packet) error, opts ...Option) error {
	o := collect(opts)
	if size < 0 {
		return fmt.Errorf("probe: negative size %d", size)
	}
	in, total := r, size
	if o.init != nil {
		if err := checkInit(o.init, o.initSize); err != nil {
			return err
		}
		in = &concatReader{a: o.init, aSize: o.initSize, b: r}
		total = o.initSize + size
	}
	open := media.Open
	if o.strict {
		open = media.OpenStrict
	}
	d, err := open(in, total)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if m, ok := d.(*mp4.Reader); ok {
		return mp4Packets(ctx, m, fn)
	}
	return demuxPackets(ctx, d, in, total, fn)
}

// mp4Packets merges the tracks' ffprobe packet lists the way libavformat's
// mov_find_next_sample picks the next sample: the lowest file position
// among tracks whose next decoding times lie within a second of the best
// so far, else the lowest decoding time.
func mp4Packets(ctx context.Context, m *mp4.Reader, fn func(*Packet) error) error {
	tracks := m.Tracks()
	lists := make([][]mp4.FFprobePacket, len(tracks))
	for i, t := range tracks {
		if t.Kind == media.KindData || t.Timescale == 0 {
			continue
		}
		lists[i] = m.FFprobePackets(i)
	}
	next := make([]int, len(tracks))
	skipDone := make([]bool, len(tracks))
	// fragAudio: the track has samples from movie fragments. libavformat
	// then keeps composition offsets for all its samples and no duration
	// (mov_read_packet's ctts branch); see fragmentAudioDuration.
	fragAudio := make([]bool, len(tracks))
	for i, l := range lists {
		for _, p := range l {
			if p.Fragment {
				fragAudio[i] = true
				break
			}
		}
	}
	const second = 1_000_000
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		best, bestDTS, bestPos := -1, int64(0), int64(0)
		for i, l := range lists {
			if next[i] >= len(l) {
				continue
			}
			p := &l[next[i]]
			dts := media.Rescale(p.DTS, second, int64(tracks[i].Timescale))
			d := dts - bestDTS
			if best < 0 || (abs(d) <= second && p.Sample.Pos < bestPos) || (abs(d) > second && dts < bestDTS) {
				best, bestDTS, bestPos = i, dts, p.Sample.Pos
			}
		}
		if best < 0 {
			return nil
		}
		p := &lists[best][next[best]]
		next[best]++
		t := tracks[best]
		dur := int64(p.Sample.Duration)
		if t.Kind == media.KindAudio && fragAudio[best] {
			dur = fragmentAudioDuration(t, next[best] == 1)
		}
		out := newPacket(t, p.PTS, p.DTS, dur, p.Sample.Size, p.Sample.Pos, p.Sample.Sync, p.Discard)
		if t.Kind == media.KindAudio && !skipDone[best] {
			// libavformat's skip_samples: the priming the edit list cuts,
			// on the track's first packet.
			skipDone[best] = true
			// Only mov_fix_index (moov samples under an edit list) sets
			// the start padding: a track that starts in a fragment has
			// its timestamps shifted but no skip_samples.
			if p.PTS < 0 && t.SampleRate > 0 && !p.Fragment {
				skip := media.Rescale(-p.PTS, int64(t.SampleRate), int64(t.Timescale))
				zero, zeroI := int64(0), 0
				out.SideDataList = append(out.SideDataList, PacketSideData{SideDataType: "Skip Samples",
					SkipSamples: &skip, DiscardPad: &zero, SkipReason: &zeroI, DiscardReason: &zeroI})
			}
		}
		if err := fn(out); err != nil {
			return err
		}
	}
}

// fragmentAudioDuration is the duration ffprobe prints for a packet of
// an audio track with samples from movie fragments: mov gives none
// (trun's durations are only used for timestamps), so libavformat's
// compute_pkt_fields fills in the codec's frame duration where it knows
// one. MPEG audio, AC-3 and E-AC-3 go through a parser that gives every
// frame's duration; the AAC decoder learns its frame size while
// avformat_find_stream_info decodes the first packet, so the track's first
// packet has none and the others the frame size; Opus and other codecs
// have none. Checked with ffprobe 5.1 on h264_frag.mp4 and on fragmented
// AAC, Opus, MP3, AC-3 and E-AC-3 files written by ffmpeg (-movflags
// frag_keyframe+empty_moov).
func fragmentAudioDuration(t *media.Track, first bool) int64 {
	if t.FrameSize <= 0 || t.SampleRate <= 0 {
		return 0
	}
	frame := media.Rescale(int64(t.FrameSize), int64(t.Timescale), int64(t.SampleRate))
	switch t.Codec {
	case media.CodecMP2, media.CodecMP3, media.CodecAC3, media.CodecEAC3:
		return frame
	case media.CodecAAC:
		if first {
			return 0
		}
		return frame
	}
	return 0
}

// demuxPackets lists the samples of any other reader (MPEG-TS) in the
// order ffprobe lists them, with what libavformat's parsers leave of
// their positions and side data.
//
// libavformat hands a PES to the parser when it is complete: at its last
// TS packet when PES_packet_length is set (audio), at the next PES start
// on its PID when it is 0 (video); tsCompletion finds these offsets. So an
// audio PES that starts after a video PES often comes out before it.
// Parsers that need to see the next frame start before they give a frame
// out (video, AC-3, E-AC-3) hold the last frame of a PES until the next
// PES is parsed; the last one comes out at the very end. Only the frame
// that starts a PES has a position, and the PES's side data (the MPEG-TS
// stream_id) goes to the first packet given out while that PES is parsed,
// which for these parsers is the frame held from the PES before.
func demuxPackets(ctx context.Context, d media.Demuxer, r io.ReaderAt, size int64, fn func(*Packet) error) error {
	byID := map[int]*media.Track{}
	for _, t := range d.Tracks() {
		byID[t.ID] = t
	}
	if d.Format() != "mpegts" {
		n := 0
		for s, err := range d.Samples() {
			if err != nil {
				return err
			}
			if n++; n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if t := byID[s.TrackID]; t != nil && t.Timescale != 0 {
				if err := fn(newPacket(t, s.PTS, s.DTS, int64(s.Duration), s.Size, s.Pos, s.Sync, false)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	done, err := tsCompletion(ctx, r, size)
	if err != nil {
		return err
	}
	holds := func(t *media.Track) bool {
		return t.Kind == media.KindVideo || t.Codec == media.CodecAC3 || t.Codec == media.CodecEAC3
	}
	type trackState struct {
		streamID int
		lastPos  int64
		started  bool
		side     []PacketSideData // the current PES's, until given out
		held     *heldPacket
	}
	states := map[int]*trackState{}
	var q packetQueue
	var maxPos int64
	// The reader gives samples out a little after their PES completes;
	// a packet is released once the reader is this far past where
	// libavformat would give it out.
	const lag = 4 << 20
	release := func(upTo int64) error {
		for q.Len() > 0 && q[0].at <= upTo {
			h := heap.Pop(&q).(heldPacket)
			if err := fn(h.p); err != nil {
				return err
			}
		}
		return nil
	}
	n := 0
	for s, err := range d.Samples() {
		if err != nil {
			return err
		}
		if n++; n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t := byID[s.TrackID]
		if t == nil || t.Timescale == 0 {
			continue
		}
		st := states[t.ID]
		if st == nil {
			st = &trackState{streamID: pesStreamID(r, s.Pos)}
			states[t.ID] = st
		}
		p := newPacket(t, s.PTS, s.DTS, int64(s.Duration), s.Size, s.Pos, s.Sync, false)
		newPES := !st.started || st.lastPos != s.Pos
		st.started, st.lastPos = true, s.Pos
		if newPES {
			st.side = nil
			if st.streamID >= 0 {
				st.side = []PacketSideData{{SideDataType: "MPEGTS Stream ID", ID: ptr(st.streamID)}}
			}
		} else {
			p.Pos = ""
		}
		at, ok := done[s.Pos]
		if !ok {
			at = s.Pos
		}
		give := func(h heldPacket) {
			if st.side != nil {
				h.p.SideDataList, st.side = st.side, nil
			}
			heap.Push(&q, h)
		}
		if holds(t) {
			if h := st.held; h != nil {
				if newPES {
					h.at = at // given out when this PES is parsed
				}
				give(*h)
			}
			st.held = &heldPacket{p: p, at: at, seq: n}
		} else {
			give(heldPacket{p: p, at: at, seq: n})
		}
		maxPos = max(maxPos, s.Pos)
		if err := release(maxPos - lag); err != nil {
			return err
		}
	}
	// The held frames come out last, flushed from the parsers in stream
	// order.
	for i, t := range d.Tracks() {
		if st := states[t.ID]; st != nil && st.held != nil {
			st.held.at, st.held.seq = math.MaxInt64, n+1+i
			heap.Push(&q, *st.held)
		}
	}
	return release(math.MaxInt64)
}

// heldPacket is a packet waiting for its place in ffprobe's order.
type heldPacket struct {
	p   *Packet
	at  int64 // offset at which libavformat gives it out
	seq int
}

// packetQueue is a min-heap of packets by (at, seq).
type packetQueue []heldPacket

func (q packetQueue) Len() int { return len(q) }
func (q packetQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q packetQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *packetQueue) Push(x any)   { *q = append(*q, x.(heldPacket)) }
func (q *packetQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// tsCompletion scans the TS packets of r and returns, for every PES start
// offset, the offset of the TS packet that completes it (see
// demuxPackets), or size for PES still open at the end.
func tsCompletion(ctx context.Context, r io.ReaderAt, size int64) (map[int64]int64, error) {
	stride, first := int64(0), int64(-1)
	var probe [3 * 204]byte
	n, _ := r.ReadAt(probe[:], 0)
	for off := 0; off < 204 && first < 0; off++ {
		for _, st := range []int{188, 192, 204} {
			if off+2*st < n && probe[off] == 0x47 && probe[off+st] == 0x47 && probe[off+2*st] == 0x47 {
				stride, first = int64(st), int64(off)
				break
			}
		}
	}
	done := map[int64]int64{}
	if stride == 0 {
		return done, nil
	}
	// A 192-byte M2TS packet starts with its 4-byte timecode: packets
	// are known by that offset (the samples' Pos, ffprobe's pos), not by
	// their sync byte's.
	lead := int64(0)
	if stride == 192 && first >= 4 {
		lead = 4
	}
	type pes struct {
		start, need, got int64
		open             bool
	}
	state := map[uint16]*pes{}
	br := bufio.NewReaderSize(io.NewSectionReader(r, first, size-first), 1<<16)
	buf := make([]byte, stride)
	for pos := first; ; pos += stride {
		if (pos-first)/stride&8191 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if _, err := io.ReadFull(br, buf); err != nil {
			break
		}
		p := buf[:188]
		if p[0] != 0x47 {
			continue
		}
		pos := pos - lead
		pid := uint16(p[1]&0x1f)<<8 | uint16(p[2])
		afc := p[3] >> 4 & 3
		if afc&1 == 0 {
			continue
		}
		i := 4
		if afc&2 != 0 {
			i += 1 + int(p[4])
		}
		if i > 188 {
			continue
		}
		payload := p[i:]
		st := state[pid]
		if p[1]&0x40 != 0 {
			if st != nil && st.open {
				done[st.start] = pos
			}
			if len(payload) < 6 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1 {
				delete(state, pid) // a PSI section or junk
				continue
			}
			if st == nil {
				st = &pes{}
				state[pid] = st
			}
			st.start, st.got, st.open = pos, int64(len(payload)), true
			st.need = -1
			if l := int64(payload[4])<<8 | int64(payload[5]); l > 0 {
				st.need = 6 + l
			}
		} else if st != nil && st.open {
			st.got += int64(len(payload))
		}
		if st != nil && st.open && st.need > 0 && st.got >= st.need {
			done[st.start] = pos
			st.open = false
		}
	}
	for _, st := range state {
		if st.open {
			done[st.start] = size
		}
	}
	return done, nil
}

// pesStreamID reads the stream_id of the PES that starts in the TS packet
// at pos (188-byte packets, or 192-byte M2TS ones whose 4-byte prefix pos
// may include); -1 when it cannot be found.
func pesStreamID(r io.ReaderAt, pos int64) int {
	var b [192]byte
	n, _ := r.ReadAt(b[:], pos)
	p := b[:n]
	if len(p) >= 5 && p[0] != 0x47 && p[4] == 0x47 {
		p = p[4:]
	}
	if len(p) < 188 || p[0] != 0x47 || p[1]&0x40 == 0 {
		return -1
	}
	i := 4
	if p[3]&0x20 != 0 {
		i += 1 + int(p[4])
	}
	if i+4 > 188 || p[i] != 0 || p[i+1] != 0 || p[i+2] != 1 {
		return -1
	}
	return int(p[i+3])
}

// newPacket fills a Packet as ffprobe prints it: times with six
// decimals, a zero duration as N/A (left out), flags K (key) and D
// (discard) or _.
func newPacket(t *media.Track, pts, dts, dur int64, size uint32, pos int64, key, discard bool) *Packet {
	// ffprobe multiplies by av_q2d(time_base), 1/den as a double: the
	// same rounding at the sixth decimal needs the same arithmetic.
	tb := 1 / float64(t.Timescale)
	sec := func(v int64) string { return fmt.Sprintf("%.6f", float64(v)*tb) }
	p := &Packet{
		CodecType:   t.Kind.String(),
		StreamIndex: t.Index,
		PTS:         ptr(pts),
		PTSTime:     sec(pts),
		DTS:         ptr(dts),
		DTSTime:     sec(dts),
		Size:        fmt.Sprint(size),
		Flags:       "__",
	}
	if dur != 0 {
		p.Duration, p.DurationTime = ptr(dur), sec(dur)
	}
	if pos >= 0 {
		p.Pos = fmt.Sprint(pos)
	}
	f := []byte("__")
	if key {
		f[0] = 'K'
	}
	if discard {
		f[1] = 'D'
	}
	p.Flags = string(f)
	return p
}
