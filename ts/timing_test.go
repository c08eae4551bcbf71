package ts

import "testing"

func TestUnwrap(t *testing.T) {
	cases := []struct {
		name string
		raw  []int64
		want []int64
	}{
		{"plain", []int64{1000, 4000, 2500, 90000}, []int64{1000, 4000, 2500, 90000}},
		{"wrap", []int64{wrap33 - 61*Timescale, wrap33 - 1000, 500, 3000}, []int64{wrap33 - 61*Timescale, wrap33 - 1000, wrap33 + 500, wrap33 + 3000}},
		// Less than 60 s before the wrap: the timeline starts below zero.
		{"start below zero", []int64{wrap33 - 2*Timescale, wrap33 - 1, 0, 10}, []int64{-2 * Timescale, -1, 0, 10}},
		// B-frame PTS a little behind the reference, across the wrap.
		{"backwards across wrap", []int64{100, wrap33 - 100, 200}, []int64{100, -100, 200}},
	}
	for _, c := range cases {
		var p progState
		for i, raw := range c.raw {
			if got := p.unwrap(raw); got != c.want[i] {
				t.Errorf("%s: value %d: unwrap(%d) = %d, want %d", c.name, i, raw, got, c.want[i])
			}
		}
	}
}

// TestAddStable checks the interpolated PTS against values ffprobe
// printed for ADTS frames that follow the first of their PES.
func TestAddStable(t *testing.T) {
	cases := []struct{ ts, num, den, want int64 }{
		{127820, 1024, 44100, 129909},
		{129909, 1024, 44100, 131999},
		{134090, 1024, 44100, 136180},
		{136180, 1024, 44100, 138270},
		{126000, 2048, 44100, 130179}, // LATM, HE-AAC
		{130179, 2048, 44100, 134359},
		{90000, 1024, 48000, 91920}, // exact
	}
	for _, c := range cases {
		if got := addStable(c.ts, c.num, c.den); got != c.want {
			t.Errorf("addStable(%d, %d/%d) = %d, want %d", c.ts, c.num, c.den, got, c.want)
		}
	}
}

func TestReadUE(t *testing.T) {
	cases := []struct {
		b    []byte
		want int64
	}{
		{[]byte{0x80}, 0},
		{[]byte{0x40}, 1},
		{[]byte{0x60}, 2},
		{[]byte{0x20}, 3},
		{[]byte{0x00, 0x80, 0x00}, 255},
		{[]byte{0x00, 0x80}, 1<<32 - 1}, // cut short
		{nil, 1<<32 - 1},
	}
	for _, c := range cases {
		if got := readUE(c.b); got != c.want {
			t.Errorf("readUE(%x) = %d, want %d", c.b, got, c.want)
		}
	}
}

// TestH264SliceBoundaries: a slice starts a new access unit when its
// first_mb_in_slice does not follow the previous slice's (libavcodec's
// rule), so the second field of a pair and a picture whose first slice
// was lost are cut too, and further slices of a picture are not.
func TestH264SliceBoundaries(t *testing.T) {
	last := int64(0)
	steps := []struct {
		nal   []byte
		newAU bool
	}{
		{[]byte{0x65, 0x88}, true},       // IDR, first_mb 0
		{[]byte{0x65, 0x20}, false},      // first_mb 3: same picture
		{[]byte{0x41, 0x88}, true},       // first_mb 0: next picture or field
		{[]byte{0x41, 0x20}, false},      // first_mb 3
		{[]byte{0x41, 0x40}, true},       // first_mb 1 <= 3: new picture
		{[]byte{0x09, 0xF0}, true},       // AUD
		{[]byte{0x0E, 0x00}, false},      // prefix NAL: ignored as libavcodec does
		{[]byte{0x06, 0x06, 0x01}, true}, // SEI
	}
	for i, st := range steps {
		if _, got, _, _ := h264NAL(st.nal, &last); got != st.newAU {
			t.Errorf("step %d (%x): newAU %v, want %v", i, st.nal, got, st.newAU)
		}
	}
}
