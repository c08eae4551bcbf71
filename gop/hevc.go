package gop

import (
	"bytes"
	"fmt"
	"math/bits"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/streamkit-go/streamkit/media"
)

// HEVC NAL unit types (ITU-T H.265 Table 7-1).
const (
	hevcRADLN     = 6
	hevcRADLR     = 7
	hevcRASLN     = 8
	hevcRASLR     = 9
	hevcBLAWLP    = 16
	hevcBLANLP    = 18
	hevcIDRWRADL  = 19
	hevcIDRNLP    = 20
	hevcCRA       = 21
	hevcIRAPMax   = 23
	hevcVPS       = 32
	hevcSPS       = 33
	hevcPPS       = 34
	hevcPrefixSEI = 39
)

type hevcSPSInfo struct {
	ok            bool
	raw           []byte
	addrBits      int // bits of slice_segment_address
	log2MaxPocLsb int
	separatePlane bool
	numReorder    int // sps_max_num_reorder_pics of the highest sub-layer
}

type hevcPPSInfo struct {
	ok              bool
	spsID           int
	dependentSlices bool
	outputFlag      bool
	extraBits       int
}

// hevcSliceHeader holds the leading fields of an HEVC slice segment
// header (ITU-T H.265 7.3.6.1).
type hevcSliceHeader struct {
	NALType           int
	TemporalID        int
	FirstInPic        bool
	NoOutputOfPrior   bool
	PPSID             uint32
	Dependent         bool
	SegmentAddress    uint32
	SliceType         uint32 // 0 B, 1 P, 2 I
	POCLsb            uint32
	HaveType, HavePOC bool
}

func (h *hevcSliceHeader) pictType() PictType {
	switch h.SliceType {
	case 0:
		return TypeB
	case 1:
		return TypeP
	}
	return TypeI
}

type hevcParser struct {
	sps [16]hevcSPSInfo
	pps [64]hevcPPSInfo
	sei []byte
}

func newHEVCParser(cfg *media.CodecConfig) (*hevcParser, error) {
	p := &hevcParser{}
	for _, s := range cfg.SPS {
		if err := p.parseSPS(s); err != nil {
			return nil, fmt.Errorf("hevc: SPS in the track configuration: %w", err)
		}
	}
	for _, s := range cfg.PPS {
		if err := p.parsePPS(s); err != nil {
			return nil, fmt.Errorf("hevc: PPS in the track configuration: %w", err)
		}
	}
	return p, nil
}

func (p *hevcParser) parseSPS(nal []byte) error {
	var s h265.SPS
	for i := range p.sps {
		if p.sps[i].ok && bytes.Equal(p.sps[i].raw, nal) {
			return nil
		}
	}
	if err := s.Unmarshal(nal); err != nil {
		return fmt.Errorf("SPS: %v: %w", err, media.ErrCorrupt)
	}
	if s.ID > 15 || s.Log2MaxPicOrderCntLsbMinus4 > 12 || s.Log2MinLumaCodingBlockSizeMinus3 > 3 || s.Log2DiffMaxMinLumaCodingBlockSize > 3 {
		return fmt.Errorf("SPS %d: field out of range: %w", s.ID, media.ErrCorrupt)
	}
	ctbLog2 := s.Log2MinLumaCodingBlockSizeMinus3 + 3 + s.Log2DiffMaxMinLumaCodingBlockSize
	ctb := uint64(1) << ctbLog2
	w := (uint64(s.PicWidthInLumaSamples) + ctb - 1) / ctb
	h := (uint64(s.PicHeightInLumaSamples) + ctb - 1) / ctb
	n := w * h
	addr := 0
	if n > 1 {
		addr = bits.Len64(n - 1) // Ceil(Log2(PicSizeInCtbsY))
	}
	if addr > 32 {
		return fmt.Errorf("SPS %d: picture of %dx%d CTBs: %w", s.ID, w, h, media.ErrCorrupt)
	}
	reorder := -1
	if n := len(s.MaxNumReorderPics); n > 0 {
		reorder = int(min(s.MaxNumReorderPics[n-1], 16))
	}
	p.sps[s.ID] = hevcSPSInfo{
		numReorder:    reorder,
		ok:            true,
		raw:           append([]byte(nil), nal...),
		addrBits:      addr,
		log2MaxPocLsb: int(s.Log2MaxPicOrderCntLsbMinus4) + 4,
		separatePlane: s.SeparateColourPlaneFlag,
	}
	return nil
}

func (p *hevcParser) parsePPS(nal []byte) error {
	var s h265.PPS
	if err := s.Unmarshal(nal); err != nil {
		return fmt.Errorf("PPS: %v: %w", err, media.ErrCorrupt)
	}
	if s.ID > 63 || s.SPSID > 15 {
		return fmt.Errorf("PPS %d refers to SPS %d: %w", s.ID, s.SPSID, media.ErrCorrupt)
	}
	p.pps[s.ID] = hevcPPSInfo{ok: true, spsID: int(s.SPSID), dependentSlices: s.DependentSliceSegmentsEnabledFlag,
		outputFlag: s.OutputFlagPresentFlag, extraBits: int(s.NumExtraSliceHeaderBits)}
	return nil
}

func (p *hevcParser) sliceHeader(nal []byte) (hevcSliceHeader, error) {
	var h hevcSliceHeader
	if len(nal) < 3 {
		return h, fmt.Errorf("slice segment of %d bytes: %w", len(nal), media.ErrTruncated)
	}
	h.NALType = int(nal[0] >> 1 & 0x3f)
	h.TemporalID = int(nal[1]&7) - 1
	r := newRBSP(nal[2:])
	h.FirstInPic = r.flag()
	if h.NALType >= hevcBLAWLP && h.NALType <= hevcIRAPMax {
		h.NoOutputOfPrior = r.flag()
	}
	h.PPSID = r.ue()
	if r.err != nil {
		return h, fmt.Errorf("slice segment header: %w", r.err)
	}
	if h.PPSID > 63 {
		return h, fmt.Errorf("slice_pic_parameter_set_id %d: %w", h.PPSID, media.ErrCorrupt)
	}
	pps := &p.pps[h.PPSID]
	if !pps.ok {
		return h, nil
	}
	sps := &p.sps[pps.spsID]
	if !h.FirstInPic {
		if pps.dependentSlices {
			h.Dependent = r.flag()
		}
		if !sps.ok {
			return h, nil
		}
		h.SegmentAddress = r.u(sps.addrBits)
	}
	if h.Dependent {
		return h, r.err
	}
	for i := 0; i < pps.extraBits; i++ {
		r.flag()
	}
	h.SliceType = r.ue()
	if r.err != nil {
		return h, fmt.Errorf("slice segment header: %w", r.err)
	}
	if h.SliceType > 2 {
		return h, fmt.Errorf("slice_type %d: %w", h.SliceType, media.ErrCorrupt)
	}
	h.HaveType = true
	if !sps.ok {
		return h, nil
	}
	if pps.outputFlag {
		r.flag()
	}
	if sps.separatePlane {
		r.u(2)
	}
	if h.NALType != hevcIDRWRADL && h.NALType != hevcIDRNLP {
		h.POCLsb = r.u(sps.log2MaxPocLsb)
	}
	if r.err != nil {
		return h, fmt.Errorf("slice segment header: %w", r.err)
	}
	h.HavePOC = true
	return h, nil
}

// frame analyses one HEVC access unit.
func (p *hevcParser) frame(au []byte, lengthSize int, f *Frame) error {
	f.RecoveryFrameCnt = -1
	var pic hevcSliceHeader
	have := false
	err := SplitNALUnits(au, lengthSize, func(nal []byte, off int) error {
		if len(nal) < 2 {
			return &NALError{Offset: off, Err: fmt.Errorf("hevc: NAL unit of %d byte: %w", len(nal), media.ErrTruncated)}
		}
		if nal[0]&0x80 != 0 {
			return &NALError{Offset: off, Err: fmt.Errorf("hevc: forbidden_zero_bit set: %w", media.ErrCorrupt)}
		}
		if nal[1]&7 == 0 {
			return &NALError{Offset: off, Err: fmt.Errorf("hevc: nuh_temporal_id_plus1 is 0: %w", media.ErrCorrupt)}
		}
		if nal[0]&1 != 0 || nal[1]>>3 != 0 {
			// nuh_layer_id > 0: a layer (SHVC/MV-HEVC) the base decoder skips.
			return nil
		}
		t := int(nal[0] >> 1 & 0x3f)
		var err error
		switch {
		case t == hevcSPS:
			err = p.parseSPS(nal)
		case t == hevcPPS:
			err = p.parsePPS(nal)
		case t == hevcPrefixSEI && !have:
			p.sei, err = ParseSEI(nal, true, p.sei, func(typ int, payload []byte) error {
				if typ != seiRecoveryPoint {
					return nil
				}
				rp, err := ParseRecoveryPoint(payload, true)
				if err != nil {
					return err
				}
				f.RecoveryFrameCnt = rp.FrameCnt
				return nil
			})
		case t < hevcVPS && (t <= 9 || (t >= hevcBLAWLP && t <= hevcIRAPMax)):
			var h hevcSliceHeader
			h, err = p.sliceHeader(nal)
			if err != nil {
				break
			}
			f.Slices++
			if !have && (h.FirstInPic || h.HaveType) {
				pic = h
				have = true
			}
		}
		if err != nil {
			return &NALError{Offset: off, Err: fmt.Errorf("hevc: %w", err)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !have {
		f.Type = TypeUnknown
		f.NALType = -1
		return nil
	}
	f.NALType = pic.NALType
	f.TemporalID = pic.TemporalID
	f.ReorderFrames = -1
	if pps := &p.pps[pic.PPSID]; pps.ok && p.sps[pps.spsID].ok {
		f.ReorderFrames = p.sps[pps.spsID].numReorder
	}
	f.POCLsb = int(pic.POCLsb)
	// libavcodec's hevc decoder: key_frame = IRAP, pict_type from the
	// first slice's slice_type.
	if pic.HaveType {
		f.Type = pic.pictType()
	} else {
		f.Type = TypeUnknown
	}
	irap := pic.NALType >= hevcBLAWLP && pic.NALType <= hevcIRAPMax
	f.Key = irap
	switch {
	case pic.NALType == hevcIDRWRADL || pic.NALType == hevcIDRNLP:
		f.RAP = RAPIDR
	case pic.NALType == hevcCRA:
		f.RAP = RAPCRA
	case pic.NALType >= hevcBLAWLP && pic.NALType <= hevcBLANLP:
		f.RAP = RAPBLA
	case irap:
		f.RAP = RAPIDR
	}
	switch pic.NALType {
	case hevcRADLN, hevcRADLR:
		f.Leading = LeadingDecodable
	case hevcRASLN, hevcRASLR:
		f.Leading = LeadingSkipped
	}
	// Sub-layer non-reference pictures have even NAL types below 16.
	f.Reference = pic.NALType >= 16 || pic.NALType%2 == 1
	return nil
}
