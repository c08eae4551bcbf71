package gop

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

func TestCorruptAccessUnits(t *testing.T) {
	idr := []byte{0x65, 0x88, 0x84, 0x00} // IDR slice, first_mb 0, slice_type 7 (I)
	tests := []struct {
		name  string
		codec media.Codec
		ls    int
		au    []byte
		want  error
	}{
		{"length past end", media.CodecH264, 4, []byte{0, 0, 0, 9, 0x65, 0x88}, media.ErrTruncated},
		{"prefix cut short", media.CodecH264, 4, append([]byte{0, 0, 0, 4}, append(idr, 0, 0)...), media.ErrTruncated},
		{"forbidden bit", media.CodecH264, 0, []byte{0, 0, 1, 0xe5, 0x88}, media.ErrCorrupt},
		{"slice_type 12", media.CodecH264, 0, []byte{0, 0, 1, 0x41, 0x8d, 0x80}, media.ErrCorrupt},             // first_mb 0, slice_type ue=12
		{"P slice in IDR", media.CodecH264, 0, []byte{0, 0, 1, 0x65, 0xe0}, media.ErrCorrupt},                  // slice_type 0 in IDR
		{"slice header cut", media.CodecH264, 0, []byte{0, 0, 1, 0x41, 0x00}, media.ErrTruncated},              // ue runs off the end
		{"no start code", media.CodecH264, 0, []byte{0x41, 0x9a, 0x22}, media.ErrCorrupt},                      //
		{"hevc temporal id 0", media.CodecHEVC, 0, []byte{0, 0, 1, 0x26, 0x00, 0x80}, media.ErrCorrupt},        //
		{"hevc slice cut", media.CodecHEVC, 0, []byte{0, 0, 1, 0x02, 0x01}, media.ErrTruncated},                //
		{"av1 obu size", media.CodecAV1, 0, []byte{0x12, 0x05, 0x00}, media.ErrTruncated},                      // TD OBU claiming 5 bytes
		{"av1 frame without sequence", media.CodecAV1, 0, []byte{0x32, 0x01, 0x10}, media.ErrCorrupt},          //
		{"mpeg2 coding type 0", media.CodecMPEG2Video, 0, []byte{0, 0, 1, 0, 0, 0x00, 0xff}, media.ErrCorrupt}, //
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAnalyzer(&media.Track{ID: 1, Codec: tt.codec, Config: media.CodecConfig{NALLengthSize: tt.ls}})
			if err != nil {
				t.Fatal(err)
			}
			s := media.Sample{Index: 41, Offset: 1234}
			_, err = a.Analyze(&s, tt.au)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Index != 41 || !strings.Contains(err.Error(), "sample 41") {
				t.Errorf("error %q does not name sample 41", err)
			}
		})
	}
}
