package ts_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// leadingCase is a one-stream TS whose first PES starts inside a frame:
// lead bytes of the frame before, then frames (gap bytes without a sync
// after the second one), in two PES packets.
type leadingCase struct {
	name       string
	streamType byte
	streamID   byte
	frame      []byte // one frame, header included
	ticks      int64  // its duration in 90 kHz ticks
	// want lists each sample's size and PTS offset from the first PES's
	// PTS, and the duration of the first one.
	want      [][2]int64
	firstDur  int64
	gap       bool // gapLen bytes without a sync after frame 1
	noFFprobe bool
}

const (
	leadLen = 37
	gapLen  = 10
	pts0    = 90000
)

// ac3Frame is a 128-byte AC-3 syncframe: 48 kHz, 32 kbit/s (frmsizecod
// 0), bsid 8, stereo.
func ac3Frame() []byte {
	f := make([]byte, 128)
	copy(f, []byte{0x0B, 0x77, 0, 0, 0x00, 0x40, 0x40})
	return f
}

// adtsFrame is a 100-byte ADTS frame: AAC LC, 48 kHz, stereo.
func adtsFrame() []byte {
	const n = 100
	f := make([]byte, n)
	copy(f, []byte{0xFF, 0xF1, 0x4C, 0x80 | n>>11, n >> 3 & 0xFF, n&7<<5 | 0x1F, 0xFC})
	return f
}

// eac3Frame is a 128-byte E-AC-3 independent syncframe: 48 kHz, 6
// blocks (1536 samples), stereo, bsid 16.
func eac3Frame() []byte {
	f := make([]byte, 128)
	// strmtyp 0, substreamid 0, frmsiz 63; fscod 0, numblkscod 3,
	// acmod 2, lfeon 0; bsid 16.
	copy(f, []byte{0x0B, 0x77, 0x00, 0x3F, 0x34, 0x80})
	return f
}

// mp2Frame is a 192-byte MPEG-1 Layer II frame: 64 kbit/s, 48 kHz.
func mp2Frame() []byte {
	f := make([]byte, 192)
	copy(f, []byte{0xFF, 0xFD, 0x44, 0x00})
	return f
}

func leadingCases() []leadingCase {
	// AC-3 (ff_aac_ac3_parse): the leading bytes are a packet
	// with the PES PTS and the next frame's duration; the first frame is
	// interpolated; the gap is dropped. The second PES's PTS (that of
	// frame 4 if the first PES's PTS was frame 0's) comes again.
	split := func(size, d int64) [][2]int64 {
		return [][2]int64{{leadLen, 0}, {size, d}, {size, 2 * d}, {size, 3 * d}, {size, 4 * d}, {size, 4 * d}, {size, 5 * d}}
	}
	// ADTS: the leading bytes and the gap are dropped (see leadingBytes):
	// the first frame takes the PES PTS and the timeline never goes back.
	dropped := func(size, d int64) [][2]int64 {
		return [][2]int64{{size, 0}, {size, d}, {size, 2 * d}, {size, 3 * d}, {size, 4 * d}, {size, 5 * d}}
	}
	// MPEG audio: the leading bytes and the gap go into the next frame.
	merged := func(size, d int64) [][2]int64 {
		return [][2]int64{{leadLen + size, 0}, {size, d}, {gapLen + size, 2 * d}, {size, 3 * d}, {size, 4 * d}, {size, 5 * d}}
	}
	return []leadingCase{
		// No gap for AC-3: ffmpeg appends it to the previous frame, which
		// this reader does not do yet.
		{name: "ac3", streamType: 0x81, streamID: 0xBD, frame: ac3Frame(), ticks: 2880, want: split(128, 2880), firstDur: 2880},
		// libavformat maps stream type 0x87 to E-AC-3 only under an HDMV
		// registration: nothing to compare with here.
		{name: "eac3", streamType: 0x87, streamID: 0xBD, frame: eac3Frame(), ticks: 2880, want: split(128, 2880), firstDur: 2880, noFFprobe: true},
		// ffprobe's aac decoder fails on these frames (no raw data block),
		// so it gives them no timestamps to compare with.
		{name: "adts", streamType: 0x0F, streamID: 0xC0, frame: adtsFrame(), ticks: 1920, gap: true, want: dropped(100, 1920), firstDur: 1920, noFFprobe: true},
		{name: "mp2", streamType: 0x03, streamID: 0xC0, frame: mp2Frame(), ticks: 2160, gap: true, want: merged(192, 2160), firstDur: 2160},
	}
}

// build returns the TS: PAT, PMT, then PES 1 (lead, frames 0-3 with the
// gap after frame 1) and PES 2 (frames 4-5, PTS of frame 4).
func (c leadingCase) build() []byte {
	pat := section(0x00, 1, []byte{0x00, 0x01, 0xE1, 0x00})
	pmt := section(0x02, 1, []byte{0xE1, 0x01, 0xF0, 0x00, c.streamType, 0xE1, 0x01, 0xF0, 0x00})
	out := append(packet(0, true, 0, pat), packet(0x100, true, 0, pmt)...)
	tail := c.frame[len(c.frame)-leadLen:]
	es1 := append([]byte(nil), tail...)
	for i := range 4 {
		es1 = append(es1, c.frame...)
		if i == 1 && c.gap {
			es1 = append(es1, make([]byte, gapLen)...)
		}
	}
	es2 := append(append([]byte(nil), c.frame...), c.frame...)
	cc := uint8(0)
	for i, es := range [][]byte{es1, es2} {
		pts := int64(pts0) + int64(i)*4*c.ticks
		pes := append(pesHeader(c.streamID, len(es)+8, pts), es...)
		for first := true; len(pes) > 0; first = false {
			n := min(len(pes), 184)
			out = append(out, packet(0x101, first, cc, pes[:n])...)
			pes = pes[n:]
			cc++
		}
	}
	return out
}

// TestLeadingPartialFrame: a PES that starts inside an audio frame (the
// first PES of a capture, or of a file cut by a tool) is read as
// libavformat reads it (see leadingBytes in audio.go), and, when ffprobe
// is installed, equals ffprobe -show_packets on the same bytes.
func TestLeadingPartialFrame(t *testing.T) {
	for _, c := range leadingCases() {
		t.Run(c.name, func(t *testing.T) {
			b := c.build()
			r, err := ts.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			var got []media.Sample
			for s, err := range r.Samples() {
				if err != nil {
					t.Fatal(err)
				}
				s.Data = nil
				got = append(got, s)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d samples, want %d: %+v", len(got), len(c.want), got)
			}
			for i, w := range c.want {
				if int64(got[i].Size) != w[0] || got[i].PTS != pts0+w[1] || got[i].DTS != got[i].PTS {
					t.Errorf("sample %d: size %d pts %d dts %d, want size %d pts %d", i, got[i].Size, got[i].PTS, got[i].DTS, w[0], pts0+w[1])
				}
			}
			if got[0].Duration != uint32(c.firstDur) {
				t.Errorf("first sample lasts %d, want %d", got[0].Duration, c.firstDur)
			}
			if _, err := exec.LookPath("ffprobe"); err != nil || c.noFFprobe {
				return
			}
			path := filepath.Join(t.TempDir(), c.name+".ts")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			ref := liveRef(t, path)
			if len(ref) != len(got) {
				t.Fatalf("%d samples, ffprobe %d packets", len(got), len(ref))
			}
			for i, p := range ref {
				size, _ := strconv.Atoi(p.Size)
				if uint32(size) != got[i].Size || p.PTS == nil || *p.PTS != got[i].PTS || p.Duration == nil || *p.Duration != int64(got[i].Duration) {
					t.Errorf("sample %d: size %d pts %d duration %d, ffprobe %s %v %v", i, got[i].Size, got[i].PTS, got[i].Duration, p.Size, deref(p.PTS), deref(p.Duration))
				}
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
