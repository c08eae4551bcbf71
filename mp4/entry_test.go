package mp4

import "testing"

// TestFiel checks the field information box against libavformat's
// mov_read_fiel table; ffprobe's field_order for an HEVC MP4 comes only
// from it (testdata/media/hevc_b_hvc1.mp4 and fields/hevc_init.mp4).
func TestFiel(t *testing.T) {
	for _, c := range []struct {
		body []byte
		want string
	}{
		{[]byte{1, 0}, "progressive"},
		{[]byte{1, 6}, "progressive"}, // detail is ignored for one field
		{[]byte{2, 0x01}, "tt"},
		{[]byte{2, 0x06}, "bb"},
		{[]byte{2, 0x09}, "tb"},
		{[]byte{2, 0x0E}, "bt"},
		{[]byte{2, 0x02}, ""}, // unknown detail
		{[]byte{0, 0}, ""},
		{[]byte{3, 1}, ""},
		{[]byte{1}, ""}, // too short
		{nil, ""},
	} {
		if got := fiel(c.body); got != c.want {
			t.Errorf("fiel(% x) = %q, want %q", c.body, got, c.want)
		}
	}
}
