// Package mp4 reads MP4, QuickTime and fragmented MP4/CMAF files into streamkit's media model.
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
// Input is treated as hostile: entry counts are checked against box
// sizes before use, moov/moof sizes against the file and WithMaxBoxSize,
// and every failure is a *media.PosError naming the box path and byte
// offset.
//
// Importing the package registers the "mp4" format with media.Open.
package mp4
