package mp4

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// shrinkMdat returns b with every top-level mdat cut to at most 64 bytes
// of payload, so that fuzzing mutates headers rather than media data.
func shrinkMdat(b []byte) []byte {
	var out []byte
	for off := 0; off+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		if size < 8 || off+size > len(b) {
			return append(out, b[off:]...)
		}
		box := b[off : off+size]
		if string(box[4:8]) == "mdat" && size > 72 {
			box = bytes.Clone(box[:72])
			binary.BigEndian.PutUint32(box, 72)
		}
		out = append(out, box...)
		off += size
	}
	return out
}

func fuzzSeeds(f *testing.F) {
	var files []string
	for _, pat := range []string{"*.mp4", "*.m4a", "cmaf/*.mp4", "cmaf/*.m4s"} {
		m, _ := filepath.Glob(filepath.Join(fixtures, pat))
		files = append(files, m...)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f.Add(shrinkMdat(b))
		if len(b) < 40000 {
			f.Add(b)
			// Cut files: mdat, moof or the last sample missing its tail
			// (read with warnings, as ffmpeg reads them).
			f.Add(b[:len(b)*2/3])
			f.Add(b[:len(b)-7])
		}
	}
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'v'})
	f.Add([]byte{0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0, 0, 0, 0, 0, 0, 16})
}

// FuzzReader feeds mutated MP4 files through NewReader, Samples,
// ReadSample, FFprobePackets and ReadBoxes: errors must be located
// *media.PosErrors, never panics.
func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if os.Getenv("MP4_FUZZ_HANG") != "" {
			tm := time.AfterFunc(3*time.Second, func() { panic("slow input") })
			defer tm.Stop()
		}
		drain(b)
	})
}

// FuzzBoxes feeds mutated files through ReadBoxes alone.
func FuzzBoxes(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		bs, err := ReadBoxes(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			checkPosError(err)
		}
		for _, x := range bs {
			if x.Offset < 0 || x.Size < 8 || x.Offset+x.Size > int64(len(b)) {
				t.Fatalf("box %s at %d size %d in %d bytes", x.Type, x.Offset, x.Size, len(b))
			}
		}
	})
}

// FuzzParseSidx decodes hostile segment index boxes (as a DASH indexRange
// hands them over): never a panic or an allocation the box cannot back,
// and what decodes re-encodes to a box that decodes the same.
func FuzzParseSidx(f *testing.F) {
	f.Add(AppendSidx(nil, &Sidx{ReferenceID: 1, Timescale: 12800, EarliestPresentationTime: 1024,
		References: []SidxRef{{Size: 51369, Duration: 51200, StartsWithSAP: true, SAPType: 1}}}))
	f.Add(AppendSidx(nil, &Sidx{ReferenceID: 2, Timescale: 48000, EarliestPresentationTime: 1 << 40, FirstOffset: 7}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSidx(b, 100)
		if err != nil {
			return
		}
		if len(s.References)*12 > len(b) {
			t.Fatalf("%d references from a %d-byte box", len(s.References), len(b))
		}
		anchor := s.Offset + int64(len(b)) // FirstOffset is absolute: relative to the box end
		c := *s
		c.FirstOffset -= anchor
		again, err := ParseSidx(AppendSidx(nil, &c), 100)
		if err != nil {
			t.Fatalf("re-encoded sidx does not decode: %v", err)
		}
		if len(again.References) != len(s.References) || again.Timescale != s.Timescale || again.EarliestPresentationTime != s.EarliestPresentationTime {
			t.Fatalf("round trip changed the sidx: %+v -> %+v", s, again)
		}
	})
}
