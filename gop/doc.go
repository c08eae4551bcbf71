// Package gop classifies video frames (I/P/B, IDR, key frame) from their bitstream headers and reports GOP structure, without decoding.
//
// An [Analyzer] reads the parameter sets and the first fields of each
// access unit of a [media.Track]: H.264 and HEVC slice headers and SEI
// (Annex B or length-prefixed NAL units), AV1 OBU sequence and frame
// headers, MPEG-2 and MPEG-4 Part 2 picture headers. Each access unit
// becomes a [Frame] whose Type and Key fields are what ffprobe
// -show_frames prints as pict_type and key_frame, so streamkit frames can
// be checked against ffprobe frame by frame.
//
// [ReadFrames] runs an Analyzer over every sample of a track read through
// a [media.Demuxer]; [Analyze] groups the frames into GOPs and summarises
// them (length, open/closed, B-pyramid, bytes per frame type), and
// [CheckAlignment] tells whether the random-access points of several
// renditions line up where segments would be cut.
//
// The package imports only media: the caller opens files with package mp4
// or ts (or media.Open after blank-importing them) and hands the demuxer
// in.
package gop
