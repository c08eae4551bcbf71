package gop

import (
	"fmt"
)

// PictType is a frame's picture type as ffprobe prints pict_type: "I",
// "P", "B", "S" (AV1 switch / MPEG-4 sprite), "i" (H.264 SI), "p" (H.264
// SP), "b" (BI) or "?" when unknown.
type PictType byte

// Picture types.
const (
	TypeUnknown PictType = '?'
	TypeI       PictType = 'I'
	TypeP       PictType = 'P'
	TypeB       PictType = 'B'
	TypeS       PictType = 'S'
	TypeSI      PictType = 'i'
	TypeSP      PictType = 'p'
	TypeBI      PictType = 'b'
)

func (t PictType) String() string {
	if t == 0 {
		return "?"
	}
	return string(rune(t))
}

// RAP is the kind of random-access point a frame is.
type RAP uint8

// Random-access point kinds.
const (
	// RAPNone: decoding cannot start here.
	RAPNone RAP = iota
	// RAPIDR: H.264/HEVC IDR picture or AV1 key frame: a closed-GOP start.
	RAPIDR
	// RAPCRA: HEVC clean random access picture: an open-GOP start (its RASL
	// pictures reference the previous GOP).
	RAPCRA
	// RAPBLA: HEVC broken link access picture.
	RAPBLA
	// RAPRecovery: H.264 I picture carrying a recovery point SEI with
	// recovery_frame_cnt 0 (an open-GOP start, as x264 --open-gop writes).
	RAPRecovery
	// RAPIntra: an intra picture that is a sequence start by itself
	// (MPEG-2/MPEG-4 Part 2 I picture).
	RAPIntra
)

func (r RAP) String() string {
	switch r {
	case RAPIDR:
		return "IDR"
	case RAPCRA:
		return "CRA"
	case RAPBLA:
		return "BLA"
	case RAPRecovery:
		return "recovery point"
	case RAPIntra:
		return "intra"
	}
	return "none"
}

// Leading says whether a picture precedes its random-access point in
// presentation order while following it in decode order.
type Leading uint8

// Leading picture kinds.
const (
	NotLeading Leading = iota
	// LeadingDecodable (HEVC RADL, or H.264 B frames after an IDR that
	// reference only it) can be decoded when starting at the RAP.
	LeadingDecodable
	// LeadingSkipped (HEVC RASL, H.264 open-GOP B frames) reference the
	// previous GOP and are dropped when decoding starts at the RAP.
	LeadingSkipped
)

func (l Leading) String() string {
	switch l {
	case LeadingDecodable:
		return "RADL"
	case LeadingSkipped:
		return "RASL"
	}
	return ""
}

// Structure is how a frame is coded with respect to interlacing.
type Structure uint8

// Picture structures.
const (
	// Progressive: a frame picture without field macroblocks (which may
	// still carry interlaced content: see Frame.Interlaced).
	Progressive Structure = iota
	// MBAFF: an H.264 frame picture with macroblock-adaptive frame/field coding.
	MBAFF
	// FieldPair: two coded fields (PAFF), reported as one frame as ffprobe does.
	FieldPair
	// SingleField: an unpaired field.
	SingleField
)

func (s Structure) String() string {
	switch s {
	case MBAFF:
		return "mbaff"
	case FieldPair:
		return "field pair"
	case SingleField:
		return "field"
	}
	return "frame"
}

// Frame is one analysed access unit (video frame or field pair).
//
// Timestamps are in the track's timescale, on the presentation timeline
// ffprobe reports: for MP4 the edit list's shift is applied (see
// [ReadFrames]).
type Frame struct {
	// Index is the zero-based decode-order position (the sample index).
	Index int64
	// Display is the zero-based presentation-order position, set by
	// [ReadFrames] and [SetDisplayOrder].
	Display int
	// PTS and DTS in the track's timescale, on the presentation timeline:
	// media.Sample's raw timestamps shifted by the MP4 edit list
	// ([PresentationShift], or what [WithTimestamps] gives), i.e. what
	// ffprobe -show_frames prints; raw with [WithRawTimestamps].
	PTS, DTS int64
	// Duration in the track's timescale (0 when unknown).
	Duration int64
	// Size of the access unit in bytes (ffprobe pkt_size).
	Size int
	// Pos is the byte position of the sample in the input (ffprobe pkt_pos).
	Pos int64

	// Type is ffprobe's pict_type; Key is ffprobe's key_frame.
	Type PictType
	Key  bool
	// RAP is the kind of random-access point this frame is.
	RAP RAP
	// Sync is the container's sync-sample flag (stss, TS random access).
	Sync bool
	// Reference reports whether other frames may predict from this one
	// (H.264 nal_ref_idc != 0; HEVC not a sub-layer non-reference picture;
	// AV1 refresh_frame_flags != 0; MPEG-2 I and P).
	Reference bool
	// Leading marks pictures that precede their RAP in presentation order.
	Leading Leading
	// TemporalID is the HEVC/AV1 temporal sub-layer (0 for H.264).
	TemporalID int
	// NALType is the NAL unit type of the first slice (H.264/HEVC), the
	// AV1 frame_type, or the MPEG-2/4 picture coding type.
	NALType int
	// Structure tells progressive, MBAFF and field-coded frames apart.
	Structure Structure
	// Interlaced and TopFieldFirst are ffprobe's interlaced_frame and
	// top_field_first (H.264: from the picture timing SEI when present,
	// else from the coding; MPEG-2: progressive_frame, top_field_first).
	Interlaced, TopFieldFirst bool
	// FrameNum is the H.264 frame_num (0 for other codecs).
	FrameNum int
	// POCLsb is the H.264/HEVC slice_pic_order_cnt_lsb (0 for IDR).
	POCLsb int
	// RecoveryFrameCnt is recovery_frame_cnt of a recovery point SEI in the
	// access unit, -1 when there is none.
	RecoveryFrameCnt int
	// Slices is the number of slices (or AV1 frame headers) in the unit.
	Slices int
	// Hidden is set for AV1 temporal units that show no frame.
	Hidden bool
	// SecondField is set by [Analyzer.Analyze] for an access unit that
	// holds only the second field of the previous unit's frame (one field
	// per PES); [ReadFrames] folds such units into the previous frame.
	SecondField bool
	// ReorderFrames is the number of reorder frames the active sequence
	// parameter set declares (H.264 VUI max_num_reorder_frames, HEVC
	// sps_max_num_reorder_pics), -1 when it declares none.
	ReorderFrames int
	// Discarded marks frames that are decoded but not shown because an
	// edit list cuts them (see [WithTimestamps]); ffprobe does not
	// print them.
	Discarded bool
}

// IsIntra reports whether the frame is an intra picture (I or SI).
func (f *Frame) IsIntra() bool { return f.Type == TypeI || f.Type == TypeSI }

func (f Frame) String() string {
	k := ""
	if f.Key {
		k = " key"
	}
	return fmt.Sprintf("#%d %s%s pts=%d dts=%d size=%d", f.Index, f.Type, k, f.PTS, f.DTS, f.Size)
}

// FrameError is an error in the access unit of one sample.
type FrameError struct {
	// Index is the sample's decode-order index, Pos its byte position in
	// the input.
	Index int64
	Pos   int64
	Err   error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("gop: sample %d (byte %d): %v", e.Index, e.Pos, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }

// MarshalText encodes t as ffprobe's pict_type letter.
func (t PictType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// MarshalText encodes r by name.
func (r RAP) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
