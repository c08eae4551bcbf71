package media

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The parameter sets below come from `ffmpeg -f lavfi -i testsrc2=s=320x180:r=25`
// encoded with libx264 -profile:v high and with libx265; the expected values
// are what ffprobe 5.1 prints for those streams.
const (
	x264SPS = "6764000cacd941419f9f011000000300100000030320f1429960"
	x264PPS = "68ebe3cb22c0"
	x265VPS = "40010c01ffff01600000030090000003000003003c959809"
	x265SPS = "42010101600000030090000003000003003ca00a080b9f796566924caf016808000003000800000300c840"
	x265PPS = "4401c172b46240"
)

func TestSetAVC(t *testing.T) {
	for _, tag := range []string{"avc1", "avc3"} {
		tr := Track{CodecTag: tag}
		if err := tr.SetAVC([][]byte{unhex(t, x264SPS)}, [][]byte{unhex(t, x264PPS)}); err != nil {
			t.Fatal(err)
		}
		if tr.CodecString != tag+".64000C" || tr.Profile != "High" || tr.LevelIDC != 12 ||
			tr.Width != 320 || tr.Height != 180 || tr.PixelFormat != "yuv420p" || tr.Kind != KindVideo {
			t.Errorf("%s: got %+v", tag, tr)
		}
	}
}

func TestSetHEVC(t *testing.T) {
	tr := Track{CodecTag: "hev1"}
	if err := tr.SetHEVC([][]byte{unhex(t, x265VPS)}, [][]byte{unhex(t, x265SPS)}, [][]byte{unhex(t, x265PPS)}); err != nil {
		t.Fatal(err)
	}
	// ffprobe: profile Main, level 60, 320x180 (coded 320x184: the conformance window crops 4 lines).
	if tr.Profile != "Main" || tr.LevelIDC != 60 || tr.Width != 320 || tr.Height != 180 || tr.CodecString != "hev1.1.6.L60.90" {
		t.Errorf("got %q %q %d %dx%d", tr.CodecString, tr.Profile, tr.LevelIDC, tr.Width, tr.Height)
	}
}

// packAC3 builds a dac3 body from its fields, to test the bit unpacking.
func packAC3(fscod, bsid, bsmod, acmod, lfe, brc uint32) []byte {
	v := fscod<<22 | bsid<<17 | bsmod<<14 | acmod<<11 | lfe<<10 | brc<<5
	return []byte{byte(v >> 16), byte(v >> 8), byte(v)}
}

func TestSetAC3(t *testing.T) {
	tests := []struct {
		fscod, acmod, lfe, brc uint32
		rate, ch               int
		layout                 string
		bitrate                int64
	}{
		{0, 7, 1, 15, 48000, 6, "5.1(side)", 448000},
		{0, 2, 0, 10, 48000, 2, "stereo", 192000},
		{1, 1, 0, 8, 44100, 1, "mono", 128000},
		{2, 3, 1, 12, 32000, 4, "3.1", 256000},
	}
	for _, tc := range tests {
		var tr Track
		if err := tr.SetAC3(packAC3(tc.fscod, 8, 0, tc.acmod, tc.lfe, tc.brc)); err != nil {
			t.Fatal(err)
		}
		if tr.SampleRate != tc.rate || tr.Channels != tc.ch || tr.ChannelLayout != tc.layout || tr.Bitrate != tc.bitrate || tr.CodecString != "ac-3" {
			t.Errorf("%+v: got rate %d ch %d %q %d", tc, tr.SampleRate, tr.Channels, tr.ChannelLayout, tr.Bitrate)
		}
	}
}

func TestSetEAC3(t *testing.T) {
	// data_rate 640 kbit/s, one independent substream, 48 kHz, bsid 16, acmod 7, LFE on.
	dec3 := []byte{640 >> 5, (640 & 31) << 3, 0<<6 | 16<<1, 7<<1 | 1, 0}
	var tr Track
	if err := tr.SetEAC3(dec3); err != nil {
		t.Fatal(err)
	}
	if tr.Codec != CodecEAC3 || tr.CodecString != "ec-3" || tr.Channels != 6 || tr.ChannelLayout != "5.1(side)" || tr.Bitrate != 640000 {
		t.Errorf("got %+v", tr)
	}
}

func TestBadConfigs(t *testing.T) {
	var tr Track
	for name, err := range map[string]error{
		"sps":  tr.SetAVC(nil, nil),
		"junk": tr.SetAVC([][]byte{{0x67}}, nil),
		"hevc": tr.SetHEVC(nil, [][]byte{{0x42, 0x01}}, nil),
		"aac":  tr.SetAAC([]byte{}),
		"av1":  tr.SetAV1([]byte{1, 2}),
		"ac3":  tr.SetAC3([]byte{1}),
		"eac3": tr.SetEAC3([]byte{1, 2}),
		"opus": tr.SetOpus([]byte{1}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v is neither ErrCorrupt nor ErrTruncated", name, err)
		}
	}
}

func TestRational(t *testing.T) {
	r := Rational{60000, 2002}.Reduce()
	if r != (Rational{30000, 1001}) || r.String() != "30000/1001" {
		t.Errorf("got %v", r)
	}
	if (Rational{}).Float() != 0 || !(Rational{}).IsZero() {
		t.Error("zero rational")
	}
}

// FuzzCodecConfig feeds arbitrary bytes to every configuration parser:
// none may panic.
func FuzzCodecConfig(f *testing.F) {
	for _, s := range []string{x264SPS, x265SPS, x265VPS, "1190", "8a0c0000", "0102003c0000bb80000000",
		"2b8a0800", "130856e59d48", // HE-AAC explicit; LC + sync extension
		"b3780438320000000000b5144a0001000000", // MPEG-2 sequence header + extension
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tr Track
		_ = tr.SetAVC([][]byte{b}, nil)
		_ = tr.SetHEVC(nil, [][]byte{b}, nil)
		_ = tr.SetAV1(b)
		_ = tr.SetAAC(b)
		// The input as config and as its first frames (implicit SBR).
		if n := len(b) / 2; n >= 2 {
			var a Track
			if a.SetAAC(b[:n]) == nil {
				a.SetAACFrames([][]byte{b[n:], b[:n]})
			}
		}
		_ = tr.SetAC3(b)
		_ = tr.SetEAC3(b)
		_ = tr.SetOpus(b)
		// MPEG-2: the whole input as a sequence header, and split at its
		// first extension start code byte.
		_ = tr.SetMPEG2Video(b, nil)
		if i := bytes.IndexByte(b, 0xB5); i > 0 {
			_ = tr.SetMPEG2Video(b[:i], [][]byte{b[i:], b[i:]})
		}
	})
}
