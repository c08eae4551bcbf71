// Package mp4 reads and writes MP4, QuickTime and fragmented MP4/CMAF files for streamkit's media model.
//
// [NewReader] walks the top-level boxes of a file with ReadAt, seeking over
// mdat without reading it, decodes moov (and each moof), and returns a
// [Reader] that implements media.Demuxer:
//
//	ftyp                      brands
//	moov                      the movie: one trak per track
//	├── mvhd                  movie timescale
//	├── trak
//	│   ├── tkhd              track_ID, display matrix (rotation)
//	│   ├── edts/elst         edit list -> Track.Edits, see EditShift
//	│   └── mdia
//	│       ├── mdhd          timescale, duration, language
//	│       ├── hdlr          vide / soun / ...
//	│       └── minf/stbl     sample tables: stsd (codec), stts, ctts,
//	│                         stsc, stsz/stz2, stco/co64, stss
//	└── mvex/trex             fragment defaults
//	moof                      a fragment: traf/tfhd, tfdt, trun
//	mdat                      sample payloads (never read by NewReader)
//
// Samples iterates over every sample in file order by computing offsets,
// sizes and timestamps from the tables in place (no per-sample slice),
// and parses fragments lazily as iteration reaches them. ReadSample
// fetches one payload with one ReadAt.
//
// Timestamps are the stored ones: DTS from stts (or tfdt and trun in
// fragments), PTS = DTS + the ctts/trun composition offset, which may be
// negative. ffprobe shows edited timestamps instead; [EditShift],
// [Reader.DTSShift] and [Reader.FFprobePackets] document and reproduce
// exactly what libavformat does with edit lists, so a consumer can print
// ffprobe's numbers from the Edits a Track carries.
//
// CMAF, DASH and HLS media segments are read with the init segment that
// describes them by [NewSegmentReader]; an init segment followed by its
// segments in one file is an ordinary fragmented file for NewReader.
// [ReadBoxes] returns the box tree with offsets, sizes and key fields
// (what `streamkit boxes` prints).
//
// Input is treated as hostile: entry counts are checked against box
// sizes before use, moov/moof sizes against the file and WithMaxBoxSize,
// and every failure is a *media.PosError naming the box path and byte
// offset. A file cut short is read as ffmpeg reads it: a last mdat, moof
// or free box that claims more than the file holds is kept, the sample
// the end of the file cuts is yielded shortened, and the read stops at the
// first sample past the end, each a media.Warning (Reader.Warnings);
// WithStrict makes them errors. A moov the end of the file cuts keeps the
// tracks whose trak box is whole; a file cut before its moov has no movie
// and fails with ErrNoMoov, as ffprobe fails on it.
//
// The writers (WriteProgressive, WriteFragmented, WriteCMAF, Faststart)
// take any media.Demuxer, this package's Reader included.
//
// Importing the package registers the "mp4" format with media.Open.
//
// # Writing
//
// [WriteProgressive] writes any [media.Demuxer] (MP4, fragmented MP4,
// MPEG-TS) as a progressive file with moov first, in two passes over the
// samples so that payloads are never held in memory; [WriteFragmented]
// writes one fragmented file cut at key frames; [WriteCMAF] writes CMAF
// tracks (init segment plus styp/moof/mdat segments) through a
// [CMAFSink]; [Fragmenter] is the building block for packagers.
// [Faststart] moves the moov of an existing file in front of its media
// data without rebuilding anything else. Annex B video and ADTS audio from
// MPEG-TS are converted on the way, and edit lists keep the timestamps
// ffprobe shows.
package mp4
