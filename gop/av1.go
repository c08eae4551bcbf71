package gop

import (
	"bytes"
	"fmt"

	mp4ffav1 "github.com/Eyevinn/mp4ff/av1"
	"github.com/streamkit-go/streamkit/media"
)

// AV1 OBU types (AV1 spec 6.2.2).
const (
	obuSequenceHeader = 1
	obuFrameHeader    = 3
	obuFrame          = 6
)

// AV1 frame types.
const (
	av1KeyFrame       = 0
	av1InterFrame     = 1
	av1IntraOnlyFrame = 2
	av1SwitchFrame    = 3
)

// OBU is one AV1 open bitstream unit of a temporal unit.
type OBU struct {
	Type       int
	TemporalID int
	SpatialID  int
	Payload    []byte
	Offset     int // byte offset of the OBU header in the temporal unit
}

// SplitOBUs calls fn for every OBU of an AV1 temporal unit in low-overhead
// bitstream format (the MP4 and MPEG-TS sample format). An OBU without
// obu_has_size_field extends to the end of the unit. It does not allocate.
//
//	| obu_header (1) | [extension (1)] | [obu_size leb128] | payload ... |
func SplitOBUs(tu []byte, fn func(o OBU) error) error {
	pos := 0
	for pos < len(tu) {
		start := pos
		h := tu[pos]
		if h&0x80 != 0 {
			return fmt.Errorf("av1: OBU at byte %d: forbidden bit set: %w", start, media.ErrCorrupt)
		}
		o := OBU{Type: int(h >> 3 & 15), Offset: start}
		pos++
		if h&4 != 0 {
			if pos >= len(tu) {
				return fmt.Errorf("av1: OBU at byte %d: extension header cut short: %w", start, media.ErrTruncated)
			}
			o.TemporalID = int(tu[pos] >> 5)
			o.SpatialID = int(tu[pos] >> 3 & 3)
			pos++
		}
		size := uint64(len(tu) - pos)
		if h&2 != 0 {
			var v uint64
			i := 0
			for ; ; i++ {
				if i == 8 {
					return fmt.Errorf("av1: OBU at byte %d: obu_size longer than 8 bytes: %w", start, media.ErrCorrupt)
				}
				if pos+i >= len(tu) {
					return fmt.Errorf("av1: OBU at byte %d: obu_size cut short: %w", start, media.ErrTruncated)
				}
				b := tu[pos+i]
				v |= uint64(b&0x7f) << (7 * i)
				if b&0x80 == 0 {
					break
				}
			}
			pos += i + 1
			if v > uint64(len(tu)-pos) {
				return fmt.Errorf("av1: OBU at byte %d: obu_size %d exceeds the %d bytes left: %w", start, v, len(tu)-pos, media.ErrTruncated)
			}
			size = v
		}
		o.Payload = tu[pos : pos+int(size)]
		pos += int(size)
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

type av1Parser struct {
	seq    *mp4ffav1.SequenceHeader
	seqRaw []byte
	// refType is the frame_type stored in each of the 8 reference slots,
	// needed to type a show_existing_frame.
	refType  [8]int
	refValid [8]bool
}

func newAV1Parser(cfg *media.CodecConfig) (*av1Parser, error) {
	p := &av1Parser{}
	// av1C: 4 bytes of fixed fields, then configOBUs.
	if len(cfg.Record) > 4 {
		err := SplitOBUs(cfg.Record[4:], func(o OBU) error {
			if o.Type == obuSequenceHeader {
				return p.parseSeq(o.Payload)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("av1: configOBUs of av1C: %w", err)
		}
	}
	return p, nil
}

func (p *av1Parser) parseSeq(payload []byte) error {
	if p.seq != nil && bytes.Equal(payload, p.seqRaw) {
		return nil
	}
	s, err := mp4ffav1.ParseSequenceHeader(payload)
	if err != nil {
		return fmt.Errorf("sequence header: %v: %w", err, media.ErrCorrupt)
	}
	p.seq = s
	p.seqRaw = append(p.seqRaw[:0], payload...)
	return nil
}

// av1FrameHeader holds the fields of uncompressed_header() (AV1 spec
// 5.9.2) up to refresh_frame_flags.
type av1FrameHeader struct {
	showExisting bool
	frameType    int
	showFrame    bool
	refresh      uint32
}

// frameHeader parses uncompressed_header() up to refresh_frame_flags;
// mp4ff's parser stops before it and keeps the reference slots' frame
// types private, both of which typing show_existing_frame needs.
func (p *av1Parser) frameHeader(o OBU) (av1FrameHeader, error) {
	var fh av1FrameHeader
	s := p.seq
	if s == nil {
		return fh, fmt.Errorf("frame header before any sequence header: %w", media.ErrCorrupt)
	}
	r := newRaw(o.Payload)
	idLen := 0
	if s.FrameIDNumbersPresent {
		idLen = int(s.AdditionalFrameIDLengthMinus1) + int(s.DeltaFrameIDLengthMinus2) + 3
	}
	const allFrames = 0xff
	temporalPoint := func() {
		if s.DecoderModelInfoPresent && !s.EqualPictureInterval {
			r.u(int(s.FramePresentationTimeLengthMinus1) + 1)
		}
	}
	errorResilient := false
	if s.ReducedStillPictureHeader {
		fh.frameType = av1KeyFrame
		fh.showFrame = true
	} else {
		fh.showExisting = r.flag()
		if fh.showExisting {
			idx := r.u(3)
			temporalPoint()
			if idLen > 0 {
				r.u(idLen)
			}
			if r.err != nil {
				return fh, fmt.Errorf("frame header: %w", r.err)
			}
			fh.frameType = p.refType[idx]
			fh.showFrame = true
			if !p.refValid[idx] {
				fh.frameType = av1InterFrame
			}
			if fh.frameType == av1KeyFrame {
				fh.refresh = allFrames
			}
			return fh, nil
		}
		fh.frameType = int(r.u(2))
		fh.showFrame = r.flag()
		if fh.showFrame {
			temporalPoint()
		} else {
			r.flag() // showable_frame
		}
		if fh.frameType == av1SwitchFrame || (fh.frameType == av1KeyFrame && fh.showFrame) {
			errorResilient = true
		} else {
			errorResilient = r.flag()
		}
	}
	intra := fh.frameType == av1KeyFrame || fh.frameType == av1IntraOnlyFrame
	r.flag() // disable_cdf_update
	screen := uint32(s.SeqForceScreenContentTools)
	if s.SeqForceScreenContentTools == 2 {
		screen = r.u(1)
	}
	if screen != 0 && s.SeqForceIntegerMV == 2 {
		r.u(1) // force_integer_mv
	}
	if idLen > 0 {
		r.u(idLen) // current_frame_id
	}
	if fh.frameType != av1SwitchFrame && !s.ReducedStillPictureHeader {
		r.flag() // frame_size_override_flag
	}
	r.u(int(s.OrderHintBits))
	if !intra && !errorResilient {
		r.u(3) // primary_ref_frame
	}
	if s.DecoderModelInfoPresent {
		if r.flag() { // buffer_removal_time_present_flag
			for op, idc := range s.OperatingPointIdc {
				if op >= len(s.DecoderModelPresentForOp) || !s.DecoderModelPresentForOp[op] {
					continue
				}
				inT := idc >> uint(o.TemporalID) & 1
				inS := idc >> uint(o.SpatialID+8) & 1
				if idc == 0 || (inT == 1 && inS == 1) {
					r.u(int(s.BufferRemovalTimeLengthMinus1) + 1)
				}
			}
		}
	}
	if fh.frameType == av1SwitchFrame || (fh.frameType == av1KeyFrame && fh.showFrame) {
		fh.refresh = allFrames
	} else {
		fh.refresh = r.u(8)
	}
	if r.err != nil {
		return fh, fmt.Errorf("frame header: %w", r.err)
	}
	return fh, nil
}

func (p *av1Parser) frame(tu []byte, f *Frame) error {
	var shown *av1FrameHeader
	var last av1FrameHeader
	var shownHdr av1FrameHeader
	err := SplitOBUs(tu, func(o OBU) error {
		switch o.Type {
		case obuSequenceHeader:
			if err := p.parseSeq(o.Payload); err != nil {
				return fmt.Errorf("av1: OBU at byte %d: %w", o.Offset, err)
			}
		case obuFrameHeader, obuFrame:
			fh, err := p.frameHeader(o)
			if err != nil {
				return fmt.Errorf("av1: OBU at byte %d: %w", o.Offset, err)
			}
			f.Slices++
			if fh.frameType == av1KeyFrame && fh.showFrame && !fh.showExisting {
				p.refValid = [8]bool{}
			}
			for i := 0; i < 8; i++ {
				if fh.refresh>>i&1 == 1 {
					p.refType[i] = fh.frameType
					p.refValid[i] = true
				}
			}
			if fh.refresh != 0 && !fh.showExisting {
				f.Reference = true
			}
			last = fh
			if fh.showFrame && shown == nil {
				shownHdr = fh
				shown = &shownHdr
				f.TemporalID = o.TemporalID
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if f.Slices == 0 {
		f.Type = TypeUnknown
		f.NALType = -1
		return nil
	}
	if shown == nil {
		f.Hidden = true
		shown = &last
	}
	f.NALType = shown.frameType
	// libdav1d (ffprobe's AV1 decoder): KEY and INTRA_ONLY are I, INTER is
	// P, SWITCH is SP ("p"); key_frame is set for KEY frames.
	switch shown.frameType {
	case av1KeyFrame, av1IntraOnlyFrame:
		f.Type = TypeI
	case av1InterFrame:
		f.Type = TypeP
	default:
		f.Type = TypeSP
	}
	f.Key = shown.frameType == av1KeyFrame && !f.Hidden
	if f.Key && !shown.showExisting {
		f.RAP = RAPIDR
	}
	return nil
}
