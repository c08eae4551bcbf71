package media

import "testing"

// bitWriter builds configurations bit by bit for the tests below.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) put(v, bits int) *bitWriter {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>i&1 != 0 {
			w.b[len(w.b)-1] |= 0x80 >> (w.n % 8)
		}
		w.n++
	}
	return w
}

// TestSetAACSignalling checks HE-AAC signalled in the four ways
// ffprobe 5.1 tells apart, with the values it prints.
func TestSetAACSignalling(t *testing.T) {
	// LC 24 kHz mono, GASpecificConfig all zero.
	lc := func() *bitWriter { return new(bitWriter).put(2, 5).put(6, 4).put(1, 4).put(0, 3) }
	cases := []struct {
		name     string
		asc      []byte
		profile  string
		rate, ch int
	}{
		{"LC", lc().b, "LC", 24000, 1},
		// Explicit, hierarchical: AOT 5 (SBR), 22.05 kHz core, 44.1 kHz
		// output, mono core: libavcodec assumes PS and outputs stereo
		// (the LATM stream of androidx's sample_latm.ts).
		{"HE-AAC explicit", unhexT(t, "2b8a0800"), "HE-AAC", 44100, 2},
		// Explicit HE-AACv2: AOT 29, 24 kHz core, 48 kHz output.
		{"HE-AACv2 explicit", new(bitWriter).put(29, 5).put(6, 4).put(1, 4).put(3, 4).put(2, 5).put(0, 3).b, "HE-AACv2", 48000, 2},
		// Backward-compatible: LC, then sync extension 0x2b7, SBR at
		// 48 kHz, then 0x548 and psPresentFlag.
		{"HE-AACv2 sync extension", lc().put(0x2b7, 11).put(5, 5).put(1, 1).put(3, 4).put(0x548, 11).put(1, 1).b, "HE-AACv2", 48000, 2},
		// The same with psPresentFlag 0: mono stays mono.
		{"HE-AAC sync extension, no PS", lc().put(0x2b7, 11).put(5, 5).put(1, 1).put(3, 4).put(0x548, 11).put(0, 1).b, "HE-AAC", 48000, 1},
		// Stereo SBR: no parametric stereo to assume.
		{"HE-AAC stereo", new(bitWriter).put(5, 5).put(6, 4).put(2, 4).put(3, 4).put(2, 5).put(0, 3).b, "HE-AAC", 48000, 2},
	}
	for _, c := range cases {
		var tr Track
		if err := tr.SetAAC(c.asc); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if tr.Profile != c.profile || tr.SampleRate != c.rate || tr.Channels != c.ch {
			t.Errorf("%s: profile %q rate %d channels %d, want %q %d %d", c.name, tr.Profile, tr.SampleRate, tr.Channels, c.profile, c.rate, c.ch)
		}
	}
}

func unhexT(t *testing.T, s string) []byte { return unhex(t, s) }

// TestSetMPEG2Video checks a 1920x1080 24 fps Main@High sequence (the
// header of androidx's bbb_2500ms.ts) and a 720x576 4:3 one with a
// display extension, against ffprobe 5.1.
func TestSetMPEG2Video(t *testing.T) {
	// 1920x1080, aspect 3 (16:9), frame_rate_code 2 (24).
	seq := new(bitWriter).put(0xB3, 8).put(1920, 12).put(1080, 12).put(3, 4).put(2, 4).put(0, 32).b
	// sequence_extension: id 1, profile_and_level 0x44 (Main@High),
	// progressive_sequence 1, chroma 4:2:0, low_delay 0.
	ext := new(bitWriter).put(0xB5, 8).put(1, 4).put(0x44, 8).put(1, 1).put(1, 2).put(0, 2).put(0, 2).put(0, 12).put(1, 1).put(0, 8).put(0, 1).put(0, 2).put(0, 5).b
	var tr Track
	if err := tr.SetMPEG2Video(seq, [][]byte{ext}); err != nil {
		t.Fatal(err)
	}
	if tr.Profile != "Main" || tr.LevelIDC != 4 || tr.Width != 1920 || tr.Height != 1080 || tr.Reorder != 1 ||
		tr.FrameRate != (Rational{24, 1}) || tr.SampleAspect != (Rational{1, 1}) || tr.Color.RangeName() != "tv" {
		t.Errorf("got %+v", tr)
	}
	// 720x576 4:3 with a display extension (bt470bg) of 704x576: DAR
	// over the display size is 15:11, neither 4:3 nor 16:9, so libavcodec
	// ignores the display size: SAR = 4:3 / (720/576) = 16:15.
	seq = new(bitWriter).put(0xB3, 8).put(720, 12).put(576, 12).put(2, 4).put(3, 4).put(0, 32).b
	disp := new(bitWriter).put(0xB5, 8).put(2, 4).put(1, 3).put(1, 1).put(5, 8).put(5, 8).put(5, 8).put(704, 14).put(1, 1).put(576, 14).put(0, 3).b
	tr = Track{}
	if err := tr.SetMPEG2Video(seq, [][]byte{ext, disp}); err != nil {
		t.Fatal(err)
	}
	if tr.SampleAspect != (Rational{16, 15}) || tr.Color.PrimariesName() != "bt470bg" || tr.Color.SpaceName() != "bt470bg" || tr.FrameRate != (Rational{25, 1}) {
		t.Errorf("got SAR %v colour %+v rate %v", tr.SampleAspect, tr.Color, tr.FrameRate)
	}
	// MPEG-1 (no sequence_extension): mpeg12dec's init still sets the
	// limited range, which ffprobe prints for mpeg1video too.
	tr = Track{}
	if err := tr.SetMPEG2Video(seq, nil); err != nil || tr.Color.RangeName() != "tv" {
		t.Errorf("MPEG-1 sequence: color_range %q, err %v; want tv", tr.Color.RangeName(), err)
	}
	// MPEG-1 is named mpeg1video (libavcodec's mpegvideo parser), has
	// one frame of reorder delay and exports the header's bit_rate, the
	// VBR marker 0x3FFFF (x 400) included; aspect code 1 is square.
	seq1 := new(bitWriter).put(0xB3, 8).put(176, 12).put(144, 12).put(1, 4).put(3, 4).put(0x3FFFF, 18).put(1, 1).put(0, 13).b
	tr = Track{}
	if err := tr.SetMPEG2Video(seq1, nil); err != nil {
		t.Fatal(err)
	}
	if tr.Codec != CodecMPEG1Video || tr.Reorder != 1 || tr.Bitrate != 104857200 || tr.SampleAspect != (Rational{1, 1}) {
		t.Errorf("MPEG-1: codec %q reorder %d bit_rate %d SAR %v; want mpeg1video 1 104857200 1:1", tr.Codec, tr.Reorder, tr.Bitrate, tr.SampleAspect)
	}
	if err := tr.SetMPEG2Video([]byte{0xB3, 1}, nil); err == nil {
		t.Error("a 2-byte sequence header was accepted")
	}
}

func TestColorNames(t *testing.T) {
	c := Color{Range: 2, Described: true, Primaries: 9, Transfer: 16, Matrix: 9}
	if c.RangeName() != "pc" || c.PrimariesName() != "bt2020" || c.TransferName() != "smpte2084" || c.SpaceName() != "bt2020nc" {
		t.Errorf("got %q %q %q %q", c.RangeName(), c.PrimariesName(), c.TransferName(), c.SpaceName())
	}
	u := Color{Described: true, Primaries: 2, Transfer: 2, Matrix: 2}
	if u.RangeName()+u.PrimariesName()+u.TransferName()+u.SpaceName() != "" {
		t.Error("unspecified code points have names")
	}
	if FourCCString([]byte{0, 0, 0, 0}) != "[0][0][0][0]" || FourCCString([]byte("avc1")) != "avc1" {
		t.Error("FourCCString")
	}
}

// TestSetAACFrames: implicit SBR found in the first frames turns an LC
// config into what ffprobe 5.1 prints after decoding them; explicit
// signalling either way, or frames without SBR, leave the track alone.
func TestSetAACFrames(t *testing.T) {
	// A raw block: 200 bits standing for a channel element, FIL with a
	// 4-byte EXT_SBR_DATA payload, ID_END, alignment.
	frame := func(ext int) []byte {
		w := new(bitWriter)
		for i := range 200 {
			w.put(i*7%3&1, 1)
		}
		w.put(6, 3).put(4, 4).put(ext, 4).put(0x5a5a5a, 28).put(7, 3)
		for w.n%8 != 0 {
			w.put(0, 1)
		}
		return w.b
	}
	sbr := [][]byte{frame(13), frame(13), frame(14)}
	lc := func(ch int) []byte { return new(bitWriter).put(2, 5).put(6, 4).put(ch, 4).put(0, 3).b }
	for _, c := range []struct {
		name    string
		asc     []byte
		frames  [][]byte
		profile string
		rate    int
		ch      int
	}{
		{"mono core", lc(1), sbr, "HE-AACv2", 48000, 2},
		{"stereo core", lc(2), sbr, "HE-AAC", 48000, 2},
		{"no SBR in the frames", lc(2), [][]byte{frame(0), frame(0)}, "LC", 24000, 2},
		{"one frame without", lc(2), [][]byte{frame(13), frame(0)}, "LC", 24000, 2},
		{"sync extension says no SBR", new(bitWriter).put(2, 5).put(6, 4).put(2, 4).put(0, 3).put(0x2b7, 11).put(5, 5).put(0, 1).b, sbr, "LC", 24000, 2},
	} {
		var tr Track
		if err := tr.SetAAC(c.asc); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		tr.SetAACFrames(c.frames)
		if tr.Profile != c.profile || tr.SampleRate != c.rate || tr.Channels != c.ch {
			t.Errorf("%s: %s %d Hz %d ch, want %s %d Hz %d ch", c.name, tr.Profile, tr.SampleRate, tr.Channels, c.profile, c.rate, c.ch)
		}
	}
}
