// Package gop classifies video frames (I/P/B, IDR, key frame) from their bitstream headers and reports GOP structure, without decoding.
//
// An [Analyzer] reads the parameter sets and the first fields of each
// access unit of a [media.Track]: H.264 and HEVC slice headers and SEI
// (Annex B or length-prefixed NAL units, per Track.Config.NALLengthSize),
// AV1 OBU sequence and frame headers, MPEG-2 and MPEG-4 Part 2 picture
// headers. Each access unit becomes a [Frame] whose Type and Key are what
// ffprobe -show_frames prints as pict_type and key_frame, following
// libavcodec (FFmpeg 5.1):
//
//   - H.264: pict_type is the slice_type of the first slice of the frame
//     (first field); key_frame is set for IDR pictures and for pictures
//     whose access unit carries a recovery point SEI with
//     recovery_frame_cnt 0 (x264's open-GOP I frames) — not for other
//     I frames nor for intra-refresh recovery points.
//   - HEVC: pict_type from the first slice's slice_type; key_frame for
//     IRAP pictures (IDR, CRA, BLA).
//   - AV1 (libdav1d): KEY_FRAME and INTRA_ONLY are I, INTER is P, SWITCH
//     is "p"; key_frame for key frames, including a key frame shown again
//     by show_existing_frame. One temporal unit is one frame.
//   - MPEG-2 / MPEG-4 Part 2: picture_coding_type / vop_coding_type of the
//     first picture; key_frame for I pictures.
//
// Field-coded H.264 (PAFF) frames are reported once per field pair, as
// ffprobe does, whether both fields share an access unit or come in two
// (one field per PES); MBAFF frames are marked in Frame.Structure.
// Frame.Interlaced and Frame.TopFieldFirst are ffprobe's interlaced_frame
// and top_field_first: for H.264 from the picture timing SEI's pic_struct
// and ct_type when present, else from the coding, with the field order
// from the fields' picture order counts; for MPEG-2 from
// progressive_sequence, progressive_frame and top_field_first.
//
// [ReadFrames] runs an Analyzer over every sample of a track read through
// a [media.Demuxer] and puts the timestamps on ffprobe's presentation
// timeline. [Analyze] groups the frames into GOPs at every key frame and
// reports start, length, closed or open and why, pattern, B-frame runs,
// B-pyramid, reorder depth and bytes per frame type; [Summary.String] is
// the one-line version. [WriteSVG] draws frame sizes over time.
// [CheckAlignment] tells whether the random-access points of several
// renditions line up where segments would be cut, and why not.
//
// Corrupt input never panics: a bad access unit gives a *[FrameError]
// naming the sample index and byte position, wrapping media.ErrTruncated
// or media.ErrCorrupt. Classifying a frame does not allocate.
//
// The package imports only media: the caller opens files with package mp4
// or ts (or media.Open after blank-importing them) and hands the demuxer
// in. mp4.Reader's FFprobeTimestamps can be passed to
// [WithTimestamps] to reproduce ffprobe's edit-list handling exactly.
package gop
