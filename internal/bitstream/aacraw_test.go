package bitstream

import (
	"math/rand/v2"
	"os"
	"testing"
)

// bits is a big-endian bit writer for building raw AAC blocks.
type bits struct {
	b []byte
	n int
}

func (w *bits) put(v, width int) *bits {
	for i := width - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>i&1 == 1 {
			w.b[len(w.b)-1] |= 0x80 >> (w.n % 8)
		}
		w.n++
	}
	return w
}

// rawBlock builds a raw_data_block: noise standing for a channel
// element, then FIL elements with the given extension types and payload
// lengths (type -1: an empty FIL), ID_END and byte alignment.
func rawBlock(rng *rand.Rand, noise int, fils [][2]int) []byte {
	w := new(bits)
	for range noise {
		w.put(rng.IntN(2), 1)
	}
	for _, f := range fils {
		typ, cnt := f[0], f[1]
		if typ < 0 {
			w.put(aacIDFIL, 3).put(0, 4)
			continue
		}
		w.put(aacIDFIL, 3)
		if cnt < 15 {
			w.put(cnt, 4)
		} else {
			w.put(15, 4).put(cnt-14, 8)
		}
		w.put(typ, 4)
		for range 8*cnt - 4 {
			w.put(rng.IntN(2), 1)
		}
	}
	w.put(aacIDEND, 3)
	for w.n%8 != 0 {
		w.put(0, 1)
	}
	return w.b
}

// TestAACFrameHasSBR: SBR payloads of every length class are found,
// behind empty and fill FILs too; blocks without one are mostly not
// (a chance match is possible per frame, see AACFrameHasSBR), and never
// all of 8 in AACStreamHasSBR.
func TestAACFrameHasSBR(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		fils [][2]int
		want bool
	}{
		{"SBR short", [][2]int{{aacExtSBR, 9}}, true},
		{"SBR escaped", [][2]int{{aacExtSBR, 40}}, true},
		{"SBR longest", [][2]int{{aacExtSBRCRC, 269}}, true},
		{"SBR then empty FIL", [][2]int{{aacExtSBR, 19}, {-1, 0}}, true},
		{"SBR then fill", [][2]int{{aacExtSBR, 30}, {0, 3}}, true},
		{"fill only", [][2]int{{0, 12}}, false},
		{"no FIL", nil, false},
	} {
		hits := 0
		var frames [][]byte
		for range 50 {
			f := rawBlock(rng, 300+rng.IntN(900), c.fils)
			if AACFrameHasSBR(f) {
				hits++
			}
			frames = append(frames, f)
		}
		if c.want && hits != 50 {
			t.Errorf("%s: SBR found in %d of 50 frames", c.name, hits)
		}
		if !c.want && hits > 10 {
			t.Errorf("%s: SBR found in %d of 50 frames without it", c.name, hits)
		}
		if got := AACStreamHasSBR(frames); got != c.want {
			t.Errorf("%s: AACStreamHasSBR = %v", c.name, got)
		}
	}
	if AACFrameHasSBR(nil) || AACFrameHasSBR([]byte{0xff}) || AACStreamHasSBR(nil) {
		t.Error("SBR found in nothing")
	}
}

// TestAACFrameHasSBRReal reads the ADTS frames of a real implicit
// HE-AACv2 stream in MPEG-TS (../shared/media, skipped without it): every
// frame carries SBR data.
func TestAACFrameHasSBRReal(t *testing.T) {
	b, err := os.ReadFile("../../../shared/media/fetched/shaka/id3-metadata.ts")
	if err != nil {
		t.Skipf("no shared media: %v", err)
	}
	// Collect the ADTS frames of PID 0x102's PES payloads by scanning
	// the concatenated TS payloads for ADTS headers.
	var es []byte
	for p := 0; p+188 <= len(b); p += 188 {
		pkt := b[p : p+188]
		if pkt[0] != 0x47 || pkt[3]&0x10 == 0 {
			continue
		}
		pid := int(pkt[1]&0x1f)<<8 | int(pkt[2])
		if pid == 0 || pid == 0x1fff {
			continue
		}
		off := 4
		if pkt[3]&0x20 != 0 {
			off += 1 + int(pkt[4])
		}
		if off >= 188 {
			continue
		}
		pl := pkt[off:]
		if pkt[1]&0x40 != 0 && len(pl) > 9 && pl[0] == 0 && pl[1] == 0 && pl[2] == 1 {
			if pl[3] != 0xc0 { // audio PES only
				es = append(es, 0) // break any frame in progress
				continue
			}
			pl = pl[9+int(pl[8]):]
		}
		es = append(es, pl...)
	}
	n, hits := 0, 0
	for p := 0; p+7 <= len(es); {
		h, ok := ParseADTS(es[p:])
		if !ok || p+h.FrameLen > len(es) {
			p++
			continue
		}
		n++
		if AACFrameHasSBR(es[p+h.HeaderLen : p+h.FrameLen]) {
			hits++
		}
		p += h.FrameLen
	}
	if n < 50 || hits != n {
		t.Errorf("SBR found in %d of %d frames", hits, n)
	}
}
