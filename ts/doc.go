// Package ts reads MPEG transport streams (ISO/IEC 13818-1) into streamkit's media model.
//
// A transport stream is a sequence of fixed-size packets. Each packet carries
// a 13-bit packet identifier (PID); PID 0 carries the program association
// table (PAT), which names the PID of each program's map table (PMT), which
// in turn lists the elementary streams of the program and the PIDs that
// carry them. Elementary streams are cut into PES packets whose headers carry
// 33-bit presentation and decoding timestamps in a 90 kHz clock:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  sync (0x47)  |E|S|T|          PID            |TSC|AFC|  CC   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| adaptation field (AFC & 2): length, flags, PCR (6 bytes) ...  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| payload (AFC & 1): PSI section or PES packet bytes ...        |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	E = transport_error_indicator, S = payload_unit_start_indicator,
//	T = transport_priority, TSC = scrambling control,
//	AFC = adaptation_field_control, CC = continuity_counter;
//	188 bytes in all (192 in M2TS/Blu-ray, with a 4-byte timecode
//	in front; 204 with 16 bytes of Reed-Solomon parity behind).
//
// [NewReader] reads the headers only: the PAT and PMTs, enough of the first
// PES packets of each stream to learn its codec parameters (in-band H.264
// and HEVC parameter sets, ADTS, AC-3 and MPEG audio frame headers), and the
// tail of the file to learn the last timestamps, so that Track.Duration and
// Track.StartPTS are known without a full scan. [Reader.Samples] then streams
// through the file with bounded memory and yields one [media.Sample] per
// access unit: PES payloads are reassembled and, as ffprobe's parsers do,
// split into video frames (at access unit delimiters or first slices) and
// audio frames (one sample per ADTS, AC-3, E-AC-3, LOAS or MPEG audio frame,
// with interpolated timestamps for the frames after the first of a PES).
// Timestamps are unwrapped from 33 bits onto a monotonic int64 timeline in
// the track's 90 kHz timescale.
//
// The package registers the "mpegts" format with [media.RegisterFormat], so
// importing it is enough for [media.Open]:
//
//	import _ "github.com/streamkit-go/streamkit/ts"
//
// Input is treated as hostile: sync loss is resynchronised, continuity
// counter errors are counted (see [Reader.Stats]) and skipped as ffprobe does,
// and anything that cannot be read returns a [*media.PosError] naming the
// packet or PES and its byte offset, wrapping [media.ErrTruncated] or
// [media.ErrCorrupt]. Length fields are never trusted for allocation: a PES is
// reassembled in a buffer capped at [MaxPESSize].
package ts
