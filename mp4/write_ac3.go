package mp4

import (
	"errors"
	"fmt"
	"strings"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// ErrNoSamples is returned (wrapped) by WriteProgressive when the input
// has samples but none that makes an MP4 sample: E-AC-3 frames of fewer
// than six audio blocks that do not fill one six-block sample, or AC-3
// payloads without a syncframe. Remux turns it into its "nothing to
// write" refusal for damaged input.
var ErrNoSamples = errors.New("mp4: no sample to write")

// errNoSyncFrame marks an AC-3/E-AC-3 payload that does not start with a
// syncframe header.
var errNoSyncFrame = fmt.Errorf("%w: AC-3 frame without syncword", media.ErrCorrupt)

// eac3Grouper shapes an AC-3 or E-AC-3 track's samples as ffmpeg's MP4 muxer
// does (libavformat/movenc.c, handle_eac3), following ETSI TS 102 366
// annex F, where an ISO BMFF E-AC-3 sample holds six audio blocks (1536
// samples):
//
//   - payloads that are not a syncframe are dropped until the first
//     sample has been written ("Dropping invalid packet from start of
//     the stream"; a PES that starts inside a frame gives one), and are
//     an error after it;
//   - syncframes of fewer than six blocks are concatenated until six are
//     there, the sample taking the first frame's timestamps and the sum
//     of the durations; a group that would pass six blocks is an error;
//   - an incomplete group at the end is not written (movenc writes the
//     merged packet only when it has six blocks and does not flush it):
//     an input of five one-block frames gives an MP4 without a sample.
//
// Both passes of WriteProgressive run their own grouper over the same
// samples and so take the same decisions.
type eac3Grouper struct {
	started bool // a sample has been given out
	blocks  int  // blocks in buf
	buf     []byte
	first   media.Sample
	dur     uint64
	dropped int   // leading payloads dropped
	dropPTS int64 // the smallest PTS among them
	pending int   // frames in buf
}

// heldFrames is the number of frames in the incomplete group.
func (g *eac3Grouper) heldFrames() int {
	if g.blocks == 0 {
		return 0
	}
	return g.pending
}

// add takes one input sample and its payload; it returns the sample to
// write, whose Data holds the payload (valid until the next call), and
// false while the frame is held or dropped.
func (g *eac3Grouper) add(s *media.Sample, payload []byte) (media.Sample, bool, error) {
	n := bitstream.AC3Blocks(payload)
	if n == 0 {
		if !g.started {
			if g.dropped == 0 || s.PTS < g.dropPTS {
				g.dropPTS = s.PTS
			}
			g.dropped++
			return media.Sample{}, false, nil
		}
		return media.Sample{}, false, fmt.Errorf("track %d sample %d at byte %d: %w", s.TrackID, s.Index, s.Pos, errNoSyncFrame)
	}
	if g.blocks == 0 && n == 6 {
		g.started = true
		out := *s
		out.Data = payload
		out.Size = uint32(len(payload))
		return out, true, nil
	}
	if g.blocks+n > 6 {
		return media.Sample{}, false, fmt.Errorf("%w: track %d sample %d at byte %d: E-AC-3 syncframe of %d blocks after %d: a sample holds 6",
			media.ErrCorrupt, s.TrackID, s.Index, s.Pos, n, g.blocks)
	}
	if g.blocks == 0 {
		g.first = *s
		g.buf = g.buf[:0]
		g.dur = 0
		g.pending = 0
	}
	g.buf = append(g.buf, payload...)
	g.blocks += n
	g.dur += uint64(s.Duration)
	g.pending++
	if g.blocks < 6 {
		return media.Sample{}, false, nil
	}
	g.blocks = 0
	g.started = true
	out := g.first
	out.Data = g.buf
	out.Size = uint32(len(g.buf))
	out.Duration = uint32(min(g.dur, 1<<32-1))
	out.Sync = true
	out.Offset = -1
	return out, true, nil
}

// noSamplesError explains an output without a sample: ErrNoSamples when
// AC-3/E-AC-3 grouping held or dropped every frame, ErrWrite alone
// otherwise.
func noSamplesError(tracks []*outTrack, groups map[int]*eac3Grouper) error {
	var detail []string
	for _, ot := range tracks {
		g := groups[ot.t.ID]
		if g == nil {
			continue
		}
		if g.blocks > 0 {
			detail = append(detail, fmt.Sprintf("track %d (%s): %d frames (%d audio blocks) do not fill a 6-block sample", ot.t.ID, ot.t.Codec, g.heldFrames(), g.blocks))
		}
		if g.dropped > 0 {
			detail = append(detail, fmt.Sprintf("track %d (%s): %d payloads without a syncframe at the start dropped", ot.t.ID, ot.t.Codec, g.dropped))
		}
	}
	if len(detail) > 0 {
		return fmt.Errorf("%w: %w: %s", ErrWrite, ErrNoSamples, strings.Join(detail, "; "))
	}
	return fmt.Errorf("%w: no samples (an init segment without media?)", ErrWrite)
}

// droppedOrigin returns the time origin (oNum/oDen seconds, for
// planTimeline) that counts the PTS of leading payloads a grouper
// dropped: ffmpeg -c copy takes its start time from every packet the
// demuxer gave, the dropped ones included (libavformat's start_time), so
// the first written AC-3 frame of sample_ac3.ts stays at 0.032 s, after
// the 73 bytes stamped 0. It returns oDen 0 when nothing was dropped
// before the earliest written sample.
func droppedOrigin(tracks []*outTrack, groups map[int]*eac3Grouper) (oNum, oDen int64) {
	oNum, oDen = earliestPTS(tracks)
	found := false
	for _, ot := range tracks {
		ts := int64(ot.t.Timescale)
		if g := groups[ot.t.ID]; g != nil && g.dropped > 0 && ts != 0 && (oDen == 0 || g.dropPTS*oDen < oNum*ts) {
			oNum, oDen, found = g.dropPTS, ts, true
		}
	}
	if !found {
		return 0, 0
	}
	return oNum, oDen
}
