package gop

import (
	"bytes"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/streamkit-go/streamkit/media"
)

// H.264 NAL unit types used here (ITU-T H.264 Table 7-1).
const (
	h264Slice = 1
	h264IDR   = 5
	h264SEI   = 6
	h264SPS   = 7
	h264PPS   = 8
)

// h264SPS keeps the SPS fields the slice header syntax depends on.
type h264SPSInfo struct {
	ok                       bool
	raw                      []byte
	log2MaxFrameNum          int
	frameMbsOnly             bool
	mbaff                    bool
	pocType                  int
	log2MaxPocLsb            int
	deltaPicOrderAlwaysZero  bool
	separateColourPlane      bool
	numReorder               int // VUI max_num_reorder_frames, -1 when absent
	picStructPresent         bool
	hrdDelays                bool // CpbDpbDelaysPresentFlag
	cpbDelayLen, dpbDelayLen int
	timeOffsetLen            int
}

// h264PPSInfo keeps the PPS fields the first slice header fields depend
// on. mediacommon has no H.264 PPS parser and mp4ff's needs the whole SPS
// map and parses far more than the four leading fields needed here, so
// the PPS is read directly.
type h264PPSInfo struct {
	ok                  bool
	spsID               int
	bottomFieldPicOrder bool
}

// h264SliceHeader holds the leading fields of an H.264 slice header
// (ITU-T H.264 7.3.3), enough to classify the picture.
type h264SliceHeader struct {
	NALType     int
	NALRefIdc   int
	FirstMB     uint32
	SliceType   uint32 // 0..9 as coded; SliceType%5: 0 P, 1 B, 2 I, 3 SP, 4 SI
	PPSID       uint32
	FrameNum    uint32
	FieldPic    bool
	BottomField bool
	IDRPicID    uint32
	POCLsb      uint32
	// DeltaPOCBottom is delta_pic_order_cnt_bottom (POC type 0) or
	// delta_pic_order_cnt[1] (type 1) of a frame picture: the bottom
	// field's POC minus the top field's.
	DeltaPOCBottom int32
	// Full is false when the parameter sets were unknown, so only
	// FirstMB, SliceType and PPSID were read.
	Full bool
}

// PictType maps the slice type to ffprobe's pict_type.
func (h *h264SliceHeader) PictType() PictType {
	switch h.SliceType % 5 {
	case 0:
		return TypeP
	case 1:
		return TypeB
	case 2:
		return TypeI
	case 3:
		return TypeSP
	}
	return TypeSI
}

type h264Parser struct {
	sps [32]h264SPSInfo
	pps [256]h264PPSInfo
	sei []byte

	// picTiming holds the payload of the access unit's picture timing SEI
	// (it can only be parsed once the slice names the active SPS).
	picTiming     []byte
	havePicTiming bool
	// prevInterlaced is libavcodec's prev_interlaced_frame (soft telecine).
	prevInterlaced bool

	// A picture that was a single field, waiting for its pair in the
	// next access unit (one field per PES in some MPEG-TS streams).
	openField   bool
	openFrameNo uint32
	openBottom  bool
}

func newH264Parser(cfg *media.CodecConfig) (*h264Parser, error) {
	p := &h264Parser{}
	for _, s := range cfg.SPS {
		if err := p.parseSPS(s); err != nil {
			return nil, fmt.Errorf("h264: SPS in the track configuration: %w", err)
		}
	}
	for _, s := range cfg.PPS {
		if err := p.parsePPS(s); err != nil {
			return nil, fmt.Errorf("h264: PPS in the track configuration: %w", err)
		}
	}
	return p, nil
}

func (p *h264Parser) parseSPS(nal []byte) error {
	if len(nal) < 4 {
		return fmt.Errorf("SPS of %d bytes: %w", len(nal), media.ErrTruncated)
	}
	// seq_parameter_set_id comes after profile, constraints and level.
	r := newRBSP(nal[4:])
	id := r.ue()
	if r.err != nil {
		return fmt.Errorf("SPS id: %w", r.err)
	}
	if id > 31 {
		return fmt.Errorf("SPS id %d: %w", id, media.ErrCorrupt)
	}
	if p.sps[id].ok && bytes.Equal(p.sps[id].raw, nal) {
		return nil
	}
	var s h264.SPS
	if err := s.Unmarshal(nal); err != nil {
		return fmt.Errorf("SPS: %v: %w", err, media.ErrCorrupt)
	}
	if s.Log2MaxFrameNumMinus4 > 12 || s.Log2MaxPicOrderCntLsbMinus4 > 12 || s.PicOrderCntType > 2 {
		return fmt.Errorf("SPS %d: field out of range: %w", id, media.ErrCorrupt)
	}
	reorder := -1
	if s.VUI != nil && s.VUI.BitstreamRestriction != nil {
		reorder = int(min(s.VUI.BitstreamRestriction.MaxNumReorderFrames, 16))
	}
	var picStruct, hrd bool
	var cpbLen, dpbLen, toLen int
	if v := s.VUI; v != nil {
		picStruct = v.PicStructPresentFlag
		h := v.NalHRD
		if h == nil {
			h = v.VclHRD
		}
		if h != nil {
			hrd = true
			cpbLen, dpbLen = int(h.CpbRemovalDelayLengthMinus1)+1, int(h.DpbOutputDelayLengthMinus1)+1
			toLen = min(int(h.TimeOffsetLength), 32)
		}
	}
	p.sps[id] = h264SPSInfo{
		picStructPresent:        picStruct,
		hrdDelays:               hrd,
		cpbDelayLen:             cpbLen,
		dpbDelayLen:             dpbLen,
		timeOffsetLen:           toLen,
		numReorder:              reorder,
		ok:                      true,
		raw:                     append([]byte(nil), nal...),
		log2MaxFrameNum:         int(s.Log2MaxFrameNumMinus4) + 4,
		frameMbsOnly:            s.FrameMbsOnlyFlag,
		mbaff:                   s.MbAdaptiveFrameFieldFlag,
		pocType:                 int(s.PicOrderCntType),
		log2MaxPocLsb:           int(s.Log2MaxPicOrderCntLsbMinus4) + 4,
		deltaPicOrderAlwaysZero: s.DeltaPicOrderAlwaysZeroFlag,
		separateColourPlane:     s.SeparateColourPlaneFlag,
	}
	return nil
}

func (p *h264Parser) parsePPS(nal []byte) error {
	if len(nal) < 2 {
		return fmt.Errorf("PPS of %d bytes: %w", len(nal), media.ErrTruncated)
	}
	r := newRBSP(nal[1:])
	id := r.ue()
	spsID := r.ue()
	r.flag() // entropy_coding_mode_flag
	bfpo := r.flag()
	if r.err != nil {
		return fmt.Errorf("PPS: %w", r.err)
	}
	if id > 255 || spsID > 31 {
		return fmt.Errorf("PPS %d refers to SPS %d: %w", id, spsID, media.ErrCorrupt)
	}
	p.pps[id] = h264PPSInfo{ok: true, spsID: int(spsID), bottomFieldPicOrder: bfpo}
	return nil
}

// sliceHeader parses the leading fields of the slice header in
// nal (an H.264 NAL unit of type 1 or 5, header byte included). Without
// parameter sets (sps, pps nil) only first_mb_in_slice, slice_type and
// pic_parameter_set_id are read.
func (p *h264Parser) sliceHeader(nal []byte) (h264SliceHeader, error) {
	var h h264SliceHeader
	if len(nal) < 2 {
		return h, fmt.Errorf("slice of %d bytes: %w", len(nal), media.ErrTruncated)
	}
	h.NALType = int(nal[0] & 0x1f)
	h.NALRefIdc = int(nal[0] >> 5 & 3)
	r := newRBSP(nal[1:])
	h.FirstMB = r.ue()
	h.SliceType = r.ue()
	h.PPSID = r.ue()
	if r.err != nil {
		return h, fmt.Errorf("slice header: %w", r.err)
	}
	if h.SliceType > 9 {
		return h, fmt.Errorf("slice_type %d: %w", h.SliceType, media.ErrCorrupt)
	}
	if h.PPSID > 255 {
		return h, fmt.Errorf("slice pic_parameter_set_id %d: %w", h.PPSID, media.ErrCorrupt)
	}
	if h.NALType == h264IDR && h.SliceType%5 != 2 && h.SliceType%5 != 4 {
		return h, fmt.Errorf("IDR slice of type %d: %w", h.SliceType, media.ErrCorrupt)
	}
	pps := &p.pps[h.PPSID]
	if !pps.ok || !p.sps[pps.spsID].ok {
		return h, nil
	}
	sps := &p.sps[pps.spsID]
	if sps.separateColourPlane {
		r.u(2)
	}
	h.FrameNum = r.u(sps.log2MaxFrameNum)
	if !sps.frameMbsOnly {
		h.FieldPic = r.flag()
		if h.FieldPic {
			h.BottomField = r.flag()
		}
	}
	if h.NALType == h264IDR {
		h.IDRPicID = r.ue()
	}
	if sps.pocType == 0 {
		h.POCLsb = r.u(sps.log2MaxPocLsb)
		if pps.bottomFieldPicOrder && !h.FieldPic {
			h.DeltaPOCBottom = r.se()
		}
	}
	if sps.pocType == 1 && !sps.deltaPicOrderAlwaysZero {
		r.se() // delta_pic_order_cnt[0]
		if pps.bottomFieldPicOrder && !h.FieldPic {
			r.se() // delta_pic_order_cnt[1]; the field POCs also need offset_for_top_to_bottom_field: not tracked
		}
	}
	if r.err != nil {
		return h, fmt.Errorf("slice header: %w", r.err)
	}
	h.Full = true
	return h, nil
}

// RecoveryPoint is an H.264/HEVC recovery point SEI message.
type RecoveryPoint struct {
	FrameCnt   int // recovery_frame_cnt (HEVC: recovery_poc_cnt)
	ExactMatch bool
	BrokenLink bool
}

// ParseSEI walks the SEI messages of an H.264 (hevc false) or HEVC SEI
// NAL unit (header included) and calls fn with each payload type and
// payload (emulation prevention removed). scratch is reused to hold the
// unescaped unit and returned for reuse.
func ParseSEI(nal []byte, hevc bool, scratch []byte, fn func(payloadType int, payload []byte) error) ([]byte, error) {
	hdr := 1
	if hevc {
		hdr = 2
	}
	if len(nal) < hdr {
		return scratch, fmt.Errorf("SEI of %d bytes: %w", len(nal), media.ErrTruncated)
	}
	b := unescape(scratch[:0], nal[hdr:])
	pos := 0
	for pos < len(b) {
		// rbsp_trailing_bits: a lone 0x80 (possibly followed by zeros).
		if b[pos] == 0x80 && len(bytes.Trim(b[pos+1:], "\x00")) == 0 {
			return b, nil
		}
		typ, size := 0, 0
		for {
			if pos >= len(b) {
				return b, fmt.Errorf("SEI payload type at byte %d: %w", pos, media.ErrTruncated)
			}
			v := int(b[pos])
			pos++
			typ += v
			if v != 0xff {
				break
			}
			if typ > 1<<16 {
				return b, fmt.Errorf("SEI payload type: %w", media.ErrCorrupt)
			}
		}
		for {
			if pos >= len(b) {
				return b, fmt.Errorf("SEI payload size at byte %d: %w", pos, media.ErrTruncated)
			}
			v := int(b[pos])
			pos++
			size += v
			if v != 0xff {
				break
			}
			if size > len(b) {
				break
			}
		}
		if size > len(b)-pos {
			return b, fmt.Errorf("SEI payload type %d of %d bytes with %d left: %w", typ, size, len(b)-pos, media.ErrTruncated)
		}
		if err := fn(typ, b[pos:pos+size]); err != nil {
			return b, err
		}
		pos += size
	}
	return b, nil
}

// ParseRecoveryPoint parses a recovery point SEI payload (payload type 6).
func ParseRecoveryPoint(payload []byte, hevc bool) (RecoveryPoint, error) {
	r := newRaw(payload)
	var rp RecoveryPoint
	if hevc {
		rp.FrameCnt = int(r.se())
	} else {
		rp.FrameCnt = int(r.ue())
	}
	rp.ExactMatch = r.flag()
	rp.BrokenLink = r.flag()
	if r.err != nil {
		return rp, fmt.Errorf("recovery point SEI: %w", r.err)
	}
	return rp, nil
}

const (
	seiPicTiming     = 1
	seiRecoveryPoint = 6
)

// interlacing sets Interlaced and TopFieldFirst as libavcodec's
// h264_export_frame_props does: picture timing SEI pic_struct (and
// ct_type) first, else the coding (field or MBAFF picture); the field
// order from the two fields' POCs, else pic_struct, else top first for
// interlaced frames.
func (p *h264Parser) interlacing(f *Frame, pic, second *h264SliceHeader, paired bool, sps *h264SPSInfo) {
	fieldOrMBAFF := pic.FieldPic || sps.mbaff
	picStruct, ctType, havePS := -1, 0, false
	if sps.picStructPresent && p.havePicTiming {
		r := newRaw(p.picTiming)
		if sps.hrdDelays {
			r.u(sps.cpbDelayLen)
			r.u(sps.dpbDelayLen)
		}
		ps := int(r.u(4))
		if r.err == nil && ps <= 8 {
			picStruct, havePS = ps, true
			for i := 0; i < [9]int{1, 1, 1, 2, 2, 3, 3, 2, 3}[ps]; i++ {
				if !r.flag() { // clock_timestamp_flag
					continue
				}
				ctType |= 1 << r.u(2)
				r.u(1 + 5) // nuit_field_based_flag, counting_type
				full := r.flag()
				r.u(1 + 1 + 8) // discontinuity_flag, cnt_dropped_flag, n_frames
				switch {
				case full:
					r.u(6 + 6 + 5)
				case r.flag(): // seconds_flag
					r.u(6)
					if r.flag() { // minutes_flag
						r.u(6)
						if r.flag() { // hours_flag
							r.u(5)
						}
					}
				}
				r.u(sps.timeOffsetLen)
			}
			if r.err != nil {
				ctType = 0
			}
		}
	}
	interlaced := fieldOrMBAFF
	if havePS {
		switch picStruct {
		case 0:
			interlaced = false
		case 1, 2:
			interlaced = true
		case 3, 4:
			if !fieldOrMBAFF {
				interlaced = p.prevInterlaced
			}
		default:
			interlaced = false
		}
		if ctType&3 != 0 && picStruct <= 4 {
			interlaced = ctType&2 != 0
		}
	}
	p.prevInterlaced = interlaced
	f.Interlaced = interlaced
	// Field POCs: top and bottom field order counts (POC lsb suffices to
	// compare two fields of one frame).
	top, bottom, known := int64(pic.POCLsb), int64(pic.POCLsb)+int64(pic.DeltaPOCBottom), true
	switch {
	case pic.FieldPic && paired:
		top, bottom = int64(pic.POCLsb), int64(second.POCLsb)
		if pic.BottomField {
			top, bottom = bottom, top
		}
	case pic.FieldPic:
		known = false
	}
	switch {
	case known && top != bottom:
		f.TopFieldFirst = top < bottom
	case havePS:
		f.TopFieldFirst = picStruct == 3 || picStruct == 5
	default:
		f.TopFieldFirst = interlaced
	}
}

// frame analyses one H.264 access unit.
func (p *h264Parser) frame(au []byte, lengthSize int, f *Frame) error {
	f.RecoveryFrameCnt = -1
	p.havePicTiming = false
	var pic, cur, secondPic h264SliceHeader
	pics := 0
	second := false // a second field of the same frame in this unit
	seenSlice := false
	err := SplitNALUnits(au, lengthSize, func(nal []byte, off int) error {
		if nal[0]&0x80 != 0 {
			return &NALError{Offset: off, Err: fmt.Errorf("h264: forbidden_zero_bit set: %w", media.ErrCorrupt)}
		}
		var err error
		switch nal[0] & 0x1f {
		case h264SPS:
			err = p.parseSPS(nal)
		case h264PPS:
			err = p.parsePPS(nal)
		case h264SEI:
			if seenSlice {
				return nil
			}
			p.sei, err = ParseSEI(nal, false, p.sei, func(typ int, payload []byte) error {
				if typ == seiPicTiming {
					p.picTiming = append(p.picTiming[:0], payload...)
					p.havePicTiming = true
					return nil
				}
				if typ != seiRecoveryPoint {
					return nil
				}
				rp, err := ParseRecoveryPoint(payload, false)
				if err != nil {
					return err
				}
				f.RecoveryFrameCnt = rp.FrameCnt
				return nil
			})
		case h264Slice, h264IDR:
			cur, err = p.sliceHeader(nal)
			if err != nil {
				break
			}
			seenSlice = true
			f.Slices++
			switch {
			case pics == 0:
				pic = cur
				pics = 1
			case cur.FirstMB == 0 && cur.Full && pic.Full && pic.FieldPic && cur.FieldPic &&
				cur.BottomField != pic.BottomField && cur.FrameNum == pic.FrameNum && !second:
				second = true
				secondPic = cur
			case cur.FirstMB == 0 && (cur.FieldPic || !pic.FieldPic):
				pics++
			}
			if cur.NALType == h264IDR {
				f.Key = true
			}
			if cur.NALRefIdc != 0 {
				f.Reference = true
			}
		}
		if err != nil {
			return &NALError{Offset: off, Err: fmt.Errorf("h264: %w", err)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if pics == 0 {
		f.Type = TypeUnknown
		f.NALType = -1
		return nil
	}
	f.NALType = pic.NALType
	f.FrameNum = int(pic.FrameNum)
	f.POCLsb = int(pic.POCLsb)
	// libavcodec's h264 decoder sets pict_type from the first slice of the
	// frame (first field), key_frame for IDR slices and for pictures whose
	// access unit carried a recovery point SEI with recovery_frame_cnt 0.
	f.Type = pic.PictType()
	if f.RecoveryFrameCnt == 0 {
		f.Key = true
	}
	switch {
	case pic.NALType == h264IDR:
		f.RAP = RAPIDR
	case f.RecoveryFrameCnt == 0 && f.IsIntra():
		f.RAP = RAPRecovery
	}
	pps := &p.pps[pic.PPSID]
	mbaff := pps.ok && p.sps[pps.spsID].mbaff
	if pps.ok && p.sps[pps.spsID].ok && pic.Full {
		p.interlacing(f, &pic, &secondPic, second, &p.sps[pps.spsID])
	}
	f.ReorderFrames = -1
	if pps.ok && p.sps[pps.spsID].ok {
		f.ReorderFrames = p.sps[pps.spsID].numReorder
	}
	switch {
	case pic.FieldPic && second:
		f.Structure = FieldPair
		p.openField = false
	case pic.FieldPic:
		// One field in this unit: either the first of a pair whose second
		// field comes in the next unit, or the second of such a pair.
		if p.openField && pic.FrameNum == p.openFrameNo && pic.BottomField != p.openBottom && pic.NALType != h264IDR {
			f.SecondField = true
			f.Structure = FieldPair
			p.openField = false
		} else {
			f.Structure = SingleField
			p.openField = true
			p.openFrameNo = pic.FrameNum
			p.openBottom = pic.BottomField
		}
	case mbaff:
		f.Structure = MBAFF
		p.openField = false
	default:
		p.openField = false
	}
	return nil
}
