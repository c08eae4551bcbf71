package gop

import (
	"fmt"

	"github.com/streamkit-go/streamkit/internal/bitstream"
	"github.com/streamkit-go/streamkit/media"
)

// mpeg2State carries progressive_sequence from the sequence extension to
// the pictures that follow it.
type mpeg2State struct {
	progressiveSeq bool
	mpeg2          bool // a sequence extension was seen (MPEG-2, not MPEG-1)
}

// frame reads the picture_coding_type of the first picture header (start
// code 00 00 01 00, ISO/IEC 13818-2 6.2.3) of an MPEG-1/2 access unit and
// its picture coding extension. libavcodec types the frame from its first
// field and sets key_frame for I pictures; interlaced_frame is
// !progressive_frame && !progressive_sequence and top_field_first the
// extension's flag (for field pictures: whether the top field comes first).
func (m *mpeg2State) frame(au []byte, f *Frame) error {
	f.NALType = -1
	pictExt := false
	for i := 0; ; {
		j := bitstream.NextStartCode(au, i)
		if j < 0 {
			break
		}
		i = j + 3
		if i >= len(au) {
			break
		}
		switch {
		case au[i] == 0xb3:
			// Sequence header: libavcodec delays output by one frame
			// (has_b_frames 1) unless the sequence extension sets low_delay.
			f.ReorderFrames = 1
			continue
		case au[i] == 0xb5 && i+6 < len(au) && au[i+1]>>4 == 1:
			// sequence_extension: progressive_sequence is bit 3 of its
			// second byte, low_delay bit 7 of its sixth.
			m.mpeg2 = true
			m.progressiveSeq = au[i+2]&0x08 != 0
			if au[i+6]&0x80 != 0 {
				f.ReorderFrames = 0
			}
			continue
		case au[i] == 0xb5 && i+5 < len(au) && au[i+1]>>4 == 8 && f.Slices == 1 && !pictExt:
			// picture_coding_extension of the first picture.
			pictExt = true
			structure := au[i+3] & 3
			progressiveFrame := au[i+5]&0x80 != 0
			f.Interlaced = !progressiveFrame && !m.progressiveSeq
			if structure == 3 {
				f.TopFieldFirst = au[i+4]&0x80 != 0
			} else {
				f.TopFieldFirst = structure == 1
				f.Structure = FieldPair
			}
			continue
		case au[i] != 0x00:
			continue
		}
		if len(au)-i < 3 {
			return fmt.Errorf("mpeg2video: picture header at byte %d cut short: %w", i-3, media.ErrTruncated)
		}
		f.Slices++
		if f.Slices > 1 {
			continue
		}
		t := int(au[i+2] >> 3 & 7)
		f.NALType = t
		switch t {
		case 1:
			f.Type = TypeI
		case 2:
			f.Type = TypeP
		case 3:
			f.Type = TypeB
		case 4:
			f.Type = TypeI // D picture (MPEG-1), intra only
		default:
			return fmt.Errorf("mpeg2video: picture_coding_type %d at byte %d: %w", t, i-3, media.ErrCorrupt)
		}
	}
	if f.Slices == 0 {
		f.Type = TypeUnknown
		return nil
	}
	f.Key = f.Type == TypeI
	if f.Key {
		f.RAP = RAPIntra
	}
	f.Reference = f.Type != TypeB
	return nil
}

// frameMPEG4 reads vop_coding_type of the first VOP (start code 00 00 01
// B6, ISO/IEC 14496-2 6.2.5) of an MPEG-4 Part 2 access unit.
func frameMPEG4(au []byte, f *Frame) error {
	f.NALType = -1
	for i := 0; ; {
		j := bitstream.NextStartCode(au, i)
		if j < 0 {
			break
		}
		i = j + 3
		if i >= len(au) {
			break
		}
		if au[i] != 0xb6 {
			continue
		}
		if len(au)-i < 2 {
			return fmt.Errorf("mpeg4: VOP header at byte %d cut short: %w", i-3, media.ErrTruncated)
		}
		f.Slices++
		if f.Slices > 1 {
			continue
		}
		t := int(au[i+1] >> 6)
		f.NALType = t
		f.Type = [4]PictType{TypeI, TypeP, TypeB, TypeS}[t]
	}
	if f.Slices == 0 {
		f.Type = TypeUnknown
		return nil
	}
	f.Key = f.Type == TypeI
	if f.Key {
		f.RAP = RAPIntra
	}
	f.Reference = f.Type != TypeB
	return nil
}
