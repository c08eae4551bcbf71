package gop

import (
	"context"
	"iter"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// bitWriter builds test bitstreams.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) u(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>i&1 == 1 {
			w.b[len(w.b)-1] |= 0x80 >> (w.n % 8)
		}
		w.n++
	}
}

func (w *bitWriter) ue(v uint32) {
	v++
	l := 0
	for x := v; x > 1; x >>= 1 {
		l++
	}
	w.u(0, l)
	w.u(v, l+1)
}

// trailing adds rbsp_trailing_bits and returns the bytes with start code.
func (w *bitWriter) nal() []byte {
	w.u(1, 1)
	for w.n%8 != 0 {
		w.u(0, 1)
	}
	return append([]byte{0, 0, 0, 1}, w.b...)
}

// paffParams is an SPS (Main, frame_mbs_only_flag 0, 4-bit frame_num and
// POC lsb) and a PPS.
func paffParams() []byte {
	sps := bitWriter{b: []byte{0x67, 77, 0, 30}, n: 32}
	sps.ue(0)   // seq_parameter_set_id
	sps.ue(0)   // log2_max_frame_num_minus4
	sps.ue(0)   // pic_order_cnt_type
	sps.ue(0)   // log2_max_pic_order_cnt_lsb_minus4
	sps.ue(1)   // max_num_ref_frames
	sps.u(0, 1) // gaps_in_frame_num_value_allowed_flag
	sps.ue(1)   // pic_width_in_mbs_minus1
	sps.ue(0)   // pic_height_in_map_units_minus1
	sps.u(0, 1) // frame_mbs_only_flag
	sps.u(0, 1) // mb_adaptive_frame_field_flag
	sps.u(1, 1) // direct_8x8_inference_flag
	sps.u(0, 2) // frame_cropping_flag, vui_parameters_present_flag
	pps := bitWriter{b: []byte{0x68}, n: 8}
	pps.ue(0)   // pic_parameter_set_id
	pps.ue(0)   // seq_parameter_set_id
	pps.u(0, 2) // entropy_coding_mode_flag, bottom_field_pic_order_in_frame_present_flag
	pps.ue(0)   // num_slice_groups_minus1
	return append(sps.nal(), pps.nal()...)
}

// field is one field slice: sliceType 7 (I) or 5 (P), IDR or not.
func field(idr bool, sliceType, frameNum uint32, bottom bool, poc uint32) []byte {
	hdr := byte(0x21)
	if idr {
		hdr = 0x65
	}
	w := bitWriter{b: []byte{hdr}, n: 8}
	w.ue(0) // first_mb_in_slice
	w.ue(sliceType)
	w.ue(0) // pic_parameter_set_id
	w.u(frameNum, 4)
	w.u(1, 1) // field_pic_flag
	b := uint32(0)
	if bottom {
		b = 1
	}
	w.u(b, 1)
	if idr {
		w.ue(0) // idr_pic_id
	}
	w.u(poc, 4)
	w.u(0xa5, 8) // some slice data
	return w.nal()
}

func TestFieldPairs(t *testing.T) {
	tr := &media.Track{ID: 1, Codec: media.CodecH264}
	a, err := NewAnalyzer(tr)
	if err != nil {
		t.Fatal(err)
	}
	cat := func(b ...[]byte) []byte {
		var out []byte
		for _, x := range b {
			out = append(out, x...)
		}
		return out
	}
	// 1: an IDR field pair (I top + P bottom) in one access unit.
	s := media.Sample{Index: 0}
	f, err := a.Analyze(&s, cat(paffParams(), field(true, 7, 0, false, 0), field(false, 5, 0, true, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Structure != FieldPair || f.Type != TypeI || !f.Key || f.RAP != RAPIDR || f.SecondField || f.Slices != 2 {
		t.Errorf("pair in one unit: %+v", f)
	}
	// 2: a P field pair split over two access units (one field per PES).
	s.Index = 1
	f1, err := a.Analyze(&s, field(false, 5, 1, false, 2))
	if err != nil {
		t.Fatal(err)
	}
	s.Index = 2
	f2, err := a.Analyze(&s, field(false, 5, 1, true, 3))
	if err != nil {
		t.Fatal(err)
	}
	if f1.Structure != SingleField || f1.SecondField || !f2.SecondField || f2.Structure != FieldPair {
		t.Errorf("split pair: first %+v second %+v", f1, f2)
	}
	// 3: the next frame's first field is not taken for a second field.
	s.Index = 3
	f3, err := a.Analyze(&s, field(false, 5, 2, false, 4))
	if err != nil {
		t.Fatal(err)
	}
	if f3.SecondField || f3.FrameNum != 2 {
		t.Errorf("new frame taken as a second field: %+v", f3)
	}
}

// memDemuxer serves in-memory access units of one track.
type memDemuxer struct {
	track *media.Track
	aus   [][]byte
	pts   []int64
}

func (m *memDemuxer) Format() string         { return "mem" }
func (m *memDemuxer) Tracks() []*media.Track { return []*media.Track{m.track} }
func (m *memDemuxer) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		for i, au := range m.aus {
			s := media.Sample{TrackID: m.track.ID, Index: int64(i), PTS: m.pts[i], DTS: int64(i) * 1800, Duration: 1800,
				Size: uint32(len(au)), Offset: -1, Data: au, Pos: int64(i) * 188}
			if !yield(s, nil) {
				return
			}
		}
	}
}
func (m *memDemuxer) ReadSample(s *media.Sample, buf []byte) ([]byte, error) { return s.Data, nil }

func TestReadFramesFoldsFields(t *testing.T) {
	tr := &media.Track{ID: 1, Codec: media.CodecH264, Kind: media.KindVideo, Timescale: 90000, SampleCount: -1}
	d := &memDemuxer{track: tr,
		aus: [][]byte{append(paffParams(), field(true, 7, 0, false, 0)...), field(false, 5, 0, true, 1),
			field(false, 5, 1, false, 4), field(false, 5, 1, true, 5)},
		pts: []int64{0, 1800, 3600, 5400}}
	frames, err := ReadFrames(context.Background(), d, tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 2 {
		t.Fatalf("%d frames, want 2 field pairs: %v", len(frames), frames)
	}
	if f := frames[0]; f.Type != TypeI || !f.Key || f.Structure != FieldPair || f.Duration != 3600 || f.Size != len(d.aus[0])+len(d.aus[1]) {
		t.Errorf("first pair %+v", f)
	}
	if f := frames[1]; f.Type != TypeP || f.Key || f.PTS != 3600 || f.Display != 1 {
		t.Errorf("second pair %+v", f)
	}
}
