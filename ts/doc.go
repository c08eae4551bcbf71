// Package ts reads and writes MPEG transport streams (ISO/IEC 13818-1) for streamkit's media model.
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
// [NewReader] reads the headers only: the PAT and PMTs (parsed with
// go-astits), enough of the first PES packets of each stream to learn its
// codec parameters (in-band H.264 and HEVC parameter sets, ADTS, LATM,
// AC-3/E-AC-3 and MPEG audio frame headers, MPEG-2 sequence headers) and
// start timestamps, and the tail of the file for the last timestamps, so
// that Track.StartPTS and Track.Duration are known without a full scan.
// As in ffprobe, a track's duration runs from its first PTS to the largest
// PES PTS at the end plus one frame. SampleCount and Bytes are -1.
//
// [Reader.Samples] then streams through the file with bounded memory and
// yields one [media.Sample] per access unit, as ffprobe -show_packets
// lists them: PES payloads are reassembled and cut into video access
// units where libavcodec's parsers cut them (an access unit delimiter,
// parameter set or SEI after a picture, or a slice that starts a new
// picture or field: H.264 7.4.1.2.3, H.265 7.4.2.4.4; the two fields of a
// field-coded frame are two samples) and audio frames (ADTS, LOAS/LATM,
// AC-3, E-AC-3 with its dependent substreams, MPEG audio, Opus), each frame
// after the first of a PES getting an interpolated timestamp. Timed ID3
// PES packets and SCTE-35 or DVB EIT sections are data samples. The
// tests compare every sample (size, key flag, PTS, DTS, duration, file
// position) with ffprobe on the fixtures and on real files from other
// projects. Sample.Data holds the access unit until the iteration
// advances; Sample.Offset is -1; Sample.Pos is the offset of the first TS
// packet of the PES the access unit starts in.
//
// Timestamps are unwrapped from 33 bits onto a monotonic int64 timeline per
// program in the track's 90 kHz timescale; as in libavformat, a stream
// whose first timestamp lies less than 60 s before the wrap starts just
// below zero. [Reader.Programs] gives the program numbers, PMT and PCR
// PIDs and the first and last PCR.
//
// 188-byte packets, 192-byte M2TS packets and 204-byte packets are
// detected from the sync byte pattern, up to 64 KiB into the file. The
// tracks are those of the first PAT and PMTs (and an "epg" data track when
// DVB EIT sections are present, as ffprobe reports); PMT versions that
// change later in the file are not followed.
//
// [Stream] is the streaming mode for live sources (SRT, MPEG-TS over UDP):
// the same demultiplexer fed packet by packet from Write, in any chunking,
// with the first packets buffered until the PAT, PMTs and codec
// parameters are known. A live stream loses packets: lost datagrams are
// continuity-counter errors, lost sync is found again, and a PES that
// would end a file read resets that stream's reassembly; all are counted
// ([Stream.Stats]) and none is fatal.
//
// Writing is the other way round: [NewWriter] and [Mux] turn tracks and
// samples into packets.
//
// The package registers the "mpegts" format with [media.RegisterFormat], so
// importing it is enough for [media.Open]:
//
//	import _ "github.com/streamkit-go/streamkit/ts"
//
// Input is treated as hostile and read as ffmpeg reads it: lost sync is
// found again on the next packet grid (a 0x47 with more one and two
// packets further: source.resync, the one resync of the package),
// malformed PES headers and frames are skipped, and each is a
// [media.Warning] naming the packet or PES and its byte offset
// ([Reader.Warnings]; counts in [Reader.Stats]). A file that ends inside a
// packet or a PES yields every sample, the partial payload of the cut PES
// and a partial last audio frame included (as ffmpeg emits them), with a
// warning wrapping [media.ErrTruncated]; the cut packet itself is dropped,
// as libavformat drops a short read. Continuity errors are counted, not
// warned. Audio bytes before a stream's first frame (a capture or cut
// file whose first PES starts inside a frame) are kept as libavcodec's
// parsers keep them: for AC-3 and E-AC-3 a sample of their own, stamped
// with the PES PTS and lasting one frame, the first frame then
// interpolated (the MP4 writers and the packager drop it, as ffmpeg's
// movenc does); for MPEG audio part of the first frame's sample. ADTS
// bytes before the first frame or between frames are dropped and counted
// as frame errors: as a packet they would take a frame of time and reach
// the output as a garbage AAC access unit.
// [WithStrict] makes every such damage a [*media.PosError]. Length
// fields are never trusted for allocation: a PES or access unit is
// reassembled in a buffer capped at [MaxPESSize], and a panic in
// third-party parsing becomes an ErrCorrupt.
//
// # Writing
//
// [Mux] writes the audio and video tracks of any [media.Demuxer] as one
// MPEG-TS program; [Writer] is the sample-at-a-time form for packagers.
// Length-prefixed H.264/HEVC becomes Annex B with an access unit delimiter
// and the parameter sets before every key frame, AAC gets ADTS headers,
// AC-3 and E-AC-3 pass through. The layout is ffmpeg's mpegts muxer's, so
// the output is the size of "ffmpeg -c copy -f mpegts" output (equal on
// every fixture; a test checks within 2 %): audio frames are packed into
// PES packets of up to 2930 bytes or 350 ms ([WithPESPayloadSize]), a PCR
// rides on the PCR stream's PES starts every multiple of its frame
// duration up to 100 ms and on key frames ([WithPCRInterval]), PAT and
// PMT repeat every 100 ms and before a key frame that follows a non-key
// frame, an SDT every 500 ms
// ([WithPSIInterval], [WithSDTInterval]; HLS segments carry them once, at
// their start, as ffmpeg's HLS muxer does), and timestamps move by
// [DefaultTimeOffset] (1.4 s) for non-TS input. Unlike ffmpeg, an audio
// frame after a timestamp gap starts a new PES, so the gap survives.
package ts
