// Package bitstream holds the bitstream rules that more than one container
// package needs: splitting H.264/HEVC Annex B byte streams and reading NAL
// length prefixes, the AAC ADTS header and the SBR signalling inside raw AAC
// frames, the AC-3/E-AC-3 syncframe tables,
// and the CRC-32/MPEG-2 of PSI sections.
//
// Each rule lives here once, so that mp4, ts, gop, probe and segment
// cannot disagree about where a NAL unit ends or what an ADTS header
// holds. The package imports nothing of the module; its functions never
// panic on short or hostile input (they report "not found" / false).
package bitstream
