package bitstream

import (
	"bytes"
	"testing"
)

func TestAnnexB(t *testing.T) {
	cases := []struct {
		in   []byte
		offs []int
		nals [][]byte
	}{
		{nil, nil, nil},
		{[]byte{0x65, 0x88}, nil, nil}, // no start code
		{[]byte{0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x65, 0x88, 0, 0},
			[]int{3, 9, 14}, [][]byte{{0x09, 0xf0}, {0x67, 0x42}, {0x65, 0x88}}},
		{[]byte{0xaa, 0, 0, 1, 0, 0, 1, 0x41}, []int{7}, [][]byte{{0x41}}}, // leading garbage, empty unit
	}
	for _, c := range cases {
		var offs []int
		var nals [][]byte
		for off, n := range AnnexB(c.in) {
			offs = append(offs, off)
			nals = append(nals, n)
		}
		if len(offs) != len(c.offs) {
			t.Fatalf("AnnexB(% x): %d units %v, want %d", c.in, len(offs), nals, len(c.offs))
		}
		for i := range offs {
			if offs[i] != c.offs[i] || !bytes.Equal(nals[i], c.nals[i]) {
				t.Errorf("AnnexB(% x) unit %d = %d % x, want %d % x", c.in, i, offs[i], nals[i], c.offs[i], c.nals[i])
			}
		}
	}
}

func TestNALRole(t *testing.T) {
	for _, c := range []struct {
		hevc    bool
		b       byte
		aud, ps bool
	}{
		{false, 0x09, true, false}, {false, 0x67, false, true}, {false, 0x68, false, true}, {false, 0x65, false, false},
		{true, 35 << 1, true, false}, {true, 32 << 1, false, true}, {true, 34 << 1, false, true}, {true, 19 << 1, false, false},
	} {
		if aud, ps := NALRole(c.hevc, []byte{c.b}); aud != c.aud || ps != c.ps {
			t.Errorf("NALRole(%v, %#x) = %v %v, want %v %v", c.hevc, c.b, aud, ps, c.aud, c.ps)
		}
	}
	if NALLen([]byte{0, 0, 1, 2}, 4) != 258 || NALLen([]byte{1}, 2) != -1 {
		t.Error("NALLen")
	}
}

func TestADTS(t *testing.T) {
	asc := []byte{0x11, 0x90} // AAC-LC, 48 kHz, 2 channels
	h, err := ADTSTemplate(asc)
	if err != nil {
		t.Fatal(err)
	}
	frame := append(h[:], make([]byte, 93)...)
	PutADTSLen(frame, len(frame))
	p, ok := ParseADTS(frame)
	if !ok || p.HeaderLen != 7 || p.FrameLen != 100 || p.SampleRate() != 48000 || p.ChannelConf != 2 || p.Blocks != 1 {
		t.Fatalf("ParseADTS = %+v %v", p, ok)
	}
	if !bytes.Equal(p.AudioSpecificConfig(), asc) {
		t.Errorf("AudioSpecificConfig = % x, want % x", p.AudioSpecificConfig(), asc)
	}
	if ADTSHeaderLen(frame) != 7 || ADTSHeaderLen(frame[:99]) != 0 || ADTSHeaderLen(frame[7:]) != 0 {
		t.Error("ADTSHeaderLen")
	}
	if _, err := ADTSTemplate([]byte{0x10, 0x80}); err == nil { // channel configuration 0
		t.Error("ADTSTemplate accepted a PCE configuration")
	}
}

func TestEAC3AndAC3(t *testing.T) {
	// frmsiz 767 (1536 bytes), fscod 0 (48 kHz), numblkscod 3 (6 blocks): 384 kbit/s.
	f, ok := ParseEAC3Frame([]byte{0x0b, 0x77, 0x02, 0xff, 0x30})
	if !ok || f.Bytes != 1536 || f.SampleRate != 48000 || f.Blocks != 6 || f.Bitrate() != 384000 {
		t.Fatalf("ParseEAC3Frame = %+v %v", f, ok)
	}
	if AC3Bitrate(18) != 640 || AC3Bitrate(19) != 0 || AC3Bitrate(-1) != 0 {
		t.Error("AC3Bitrate")
	}
}

func TestCRC32MPEG2(t *testing.T) {
	// The check value of CRC-32/MPEG-2 (reveng catalogue).
	if got := CRC32MPEG2([]byte("123456789")); got != 0x0376e6e7 {
		t.Errorf("CRC32MPEG2 = %#x, want 0x0376e6e7", got)
	}
	sec := []byte{0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00}
	c := CRC32MPEG2(sec)
	sec = append(sec, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
	if CRC32MPEG2(sec) != 0 {
		t.Error("CRC over a section with its CRC is not 0")
	}
}

// FuzzBitstream runs every parser of the package on hostile bytes: none may
// panic, and every NAL unit yielded must lie inside the input.
func FuzzBitstream(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0, 0})
	f.Add([]byte{0xff, 0xf1, 0x4c, 0x80, 0x0c, 0x9f, 0xfc, 1, 2, 3, 4, 5})
	f.Add([]byte{0x0b, 0x77, 0x02, 0xff, 0xf0})
	// A raw AAC block ending FIL(SBR, 2 bytes), ID_END.
	f.Add([]byte{0x21, 0x10, 0x05, 0xc2, 0xd5, 0x5f, 0xe0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for off, n := range AnnexB(b) {
			if off < 0 || off+len(n) > len(b) || len(n) == 0 {
				t.Fatalf("unit at %d of %d bytes outside a %d-byte input", off, len(n), len(b))
			}
			NALRole(true, n)
			NALRole(false, n)
		}
		if h, ok := ParseADTS(b); ok && h.FrameLen < h.HeaderLen {
			t.Fatalf("ADTS frame length %d below header %d", h.FrameLen, h.HeaderLen)
		}
		ADTSHeaderLen(b)
		_, _ = ADTSTemplate(b)
		_, _ = ParseEAC3Frame(b)
		NALLen(b, 4)
		CRC32MPEG2(b)
		AACFrameHasSBR(b)
	})
}

func BenchmarkAnnexB(b *testing.B) {
	au := bytes.Repeat([]byte{0, 0, 0, 1, 0x41, 0x9a, 0x20, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}, 1000)
	b.SetBytes(int64(len(au)))
	b.ReportAllocs()
	for b.Loop() {
		for range AnnexB(au) {
		}
	}
}

// TestADTSTemplateBounds: channel configurations past 7 and sampling
// frequency indexes 13–14 have no ADTS header (ParseADTS rejects them).
func TestADTSTemplateBounds(t *testing.T) {
	for _, asc := range [][]byte{
		{0x12, 0x10}, // LC, 44.1 kHz, stereo: fine
		{0x12, 0x40}, // LC, 44.1 kHz, channel configuration 8
		{0x16, 0x88}, // LC, sampling frequency index 13, mono
	} {
		_, err := ADTSTemplate(asc)
		if ok := asc[1] == 0x10; (err == nil) != ok {
			t.Errorf("ADTSTemplate(% x): err %v", asc, err)
		}
	}
}
