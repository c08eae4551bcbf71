package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	mp4ff "github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamkit-go/streamkit/media"
)

// cutPoints returns where to truncate a file of size n: inside the first
// box or packet header, at a few places in the headers, and throughout
// the payload down to one byte short of the end.
func cutPoints(n int) []int {
	pts := []int{1, 4, 7, 8, 16, 100, 187, 189, 500, 1000, 3000}
	for _, f := range []float64{0.1, 0.25, 0.5, 0.75, 0.9, 0.99} {
		pts = append(pts, int(float64(n)*f))
	}
	pts = append(pts, n-200, n-9, n-1)
	var out []int
	seen := map[int]bool{}
	for _, p := range pts {
		if p > 0 && p < n && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// TestTruncated probes truncated copies of every fixture: each must fail
// with an error that names the byte offset and the box or packet (a
// *media.PosError, or media.ErrFormat when too little is left to
// recognise the format), or succeed with a warning that does so (a
// truncated trailing box the probe does not need, such as mfra). An
// MPEG-TS cut exactly on a packet boundary is a valid shorter stream and
// may probe cleanly. Never a panic.
func TestTruncated(t *testing.T) {
	for _, path := range fixtures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(mediaDir, path)
		t.Run(rel, func(t *testing.T) {
			for _, n := range cutPoints(len(data)) {
				res, err := Reader(context.Background(), bytes.NewReader(data[:n]), int64(n), "cut")
				if err != nil {
					var pe *media.PosError
					switch {
					case errors.As(err, &pe):
						if pe.What == "" || !strings.Contains(err.Error(), fmt.Sprintf("at byte %d", pe.Offset)) {
							t.Errorf("cut at %d: error does not say where: %v", n, err)
						}
					case errors.Is(err, media.ErrFormat) && n < media.SniffLen:
					default:
						t.Errorf("cut at %d: error without position: %v", n, err)
					}
					continue
				}
				if res.Format.Container == "mpegts" && n%188 == 0 {
					// Cut on a packet boundary: a valid, shorter
					// transport stream (a capture that stopped there).
					continue
				}
				if !hasPosWarning(res) {
					t.Errorf("cut at %d of %d: probe succeeded without an error or warning", n, len(data))
				}
			}
		})
	}
}

func hasPosWarning(res *Result) bool {
	for _, w := range res.Warnings {
		if w.What != "" && w.Offset >= 0 && strings.Contains(w.Error(), fmt.Sprintf("at byte %d", w.Offset)) {
			return true
		}
	}
	return false
}

// TestBitFlips probes copies of every fixture with random bits flipped
// (a fixed seed, so failures reproduce): each must parse or return an
// error, never panic, and a successful result must be self-consistent.
func TestBitFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rounds := 40
	if testing.Short() {
		rounds = 8
	}
	for _, path := range fixtures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(mediaDir, path)
		t.Run(rel, func(t *testing.T) {
			buf := make([]byte, len(data))
			for round := 0; round < rounds; round++ {
				copy(buf, data)
				// Flip bits in the first 4 KiB (where the headers are)
				// and anywhere in the file.
				for k := 0; k < 1+round%8; k++ {
					i := rng.IntN(len(buf))
					if k%2 == 0 {
						i = rng.IntN(min(len(buf), 4096))
					}
					buf[i] ^= 1 << rng.IntN(8)
				}
				res, err := Reader(context.Background(), bytes.NewReader(buf), int64(len(buf)), "flipped")
				if err != nil {
					continue
				}
				checkConsistent(t, res)
			}
		})
	}
}

func checkConsistent(t testing.TB, res *Result) {
	t.Helper()
	if res.Format.NbStreams != len(res.Streams) {
		t.Errorf("nb_streams %d but %d streams", res.Format.NbStreams, len(res.Streams))
	}
	b, err := res.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("{")) {
		t.Fatalf("JSON does not start with {: %.40q", b)
	}
	_ = res.String()
}

// TestHugeLengthFields rewrites length fields to claim far more than the
// file holds; the probe must fail or succeed without allocating more than
// a small multiple of the file size.
func TestHugeLengthFields(t *testing.T) {
	mp4Data, err := os.ReadFile(filepath.Join(mediaDir, "h264_faststart.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	tsData, err := os.ReadFile(filepath.Join(mediaDir, "ts_single.ts"))
	if err != nil {
		t.Fatal(err)
	}
	patch := func(src []byte, box string, delta int, val uint32) []byte {
		b := append([]byte{}, src...)
		i := bytes.Index(b, []byte(box))
		if i < 0 {
			t.Fatalf("no %s in fixture", box)
		}
		binary.BigEndian.PutUint32(b[i+delta:], val)
		return b
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"moov size", patch(mp4Data, "moov", -4, 0x7fffffff)},
		{"mdat size", patch(mp4Data, "mdat", -4, 0xfffffff0)},
		{"stsz count", patch(mp4Data, "stsz", 12, 0x3fffffff)},
		{"stts count", patch(mp4Data, "stts", 8, 0x3fffffff)},
		{"stco count", patch(mp4Data, "stco", 8, 0x3fffffff)},
		{"stsc count", patch(mp4Data, "stsc", 8, 0x3fffffff)},
		{"ctts count", patch(mp4Data, "ctts", 8, 0x3fffffff)},
		{"stsd count", patch(mp4Data, "stsd", 8, 0x3fffffff)},
		{"avcC length", patch(mp4Data, "avcC", -4, 0x7ffffff0)},
		{"largesize", func() []byte {
			b := patch(mp4Data, "mdat", -4, 1) // size 1: a 64-bit largesize follows the type
			i := bytes.Index(b, []byte("mdat"))
			return append(append(append([]byte{}, b[:i+4]...), 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), b[i+4:]...)
		}()},
		{"PES length", func() []byte {
			b := append([]byte{}, tsData...)
			// Every PES header's length field to 0xffff.
			for i := 0; i+188 <= len(b); i += 188 {
				if b[i+1]&0x40 != 0 {
					p := i + 4
					if b[i+3]&0x20 != 0 {
						p += 1 + int(b[i+4])
					}
					if p+6 < i+188 && b[p] == 0 && b[p+1] == 0 && b[p+2] == 1 {
						b[p+4], b[p+5] = 0xff, 0xff
					}
				}
			}
			return b
		}()},
		{"section length", patch(tsData, "\x47\x40\x00", 6, 0xb3ff0001)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, err := Reader(context.Background(), bytes.NewReader(c.data), int64(len(c.data)), c.name)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if limit := uint64(16*len(c.data) + 4<<20); alloc > limit {
				t.Errorf("allocated %d bytes probing a %d-byte file (limit %d)", alloc, len(c.data), limit)
			}
			if err == nil {
				checkConsistent(t, res)
			} else {
				t.Logf("error (fine): %v", err)
			}
		})
	}
}

// virtualMP4 is an MP4 whose mdat payload is not stored: reads inside it
// return zeros. head is stored at offset 0 and tail (a moov after the
// mdat) at the end. It counts the bytes read.
type virtualMP4 struct {
	head  []byte
	tail  []byte
	size  int64
	reads int64
}

func (v *virtualMP4) ReadAt(p []byte, off int64) (int, error) {
	if off >= v.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > v.size-off {
		n = int(v.size - off)
	}
	tailOff := v.size - int64(len(v.tail))
	for i := 0; i < n; i++ {
		j := off + int64(i)
		switch {
		case j < int64(len(v.head)):
			p[i] = v.head[j]
		case j >= tailOff:
			p[i] = v.tail[j-tailOff]
		default:
			p[i] = 0
		}
	}
	v.reads += int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// hugeMP4 builds a real ftyp+moov for one H.264 track of nSamples
// samples of sampleSize bytes at 25 fps, one sample per chunk, pointing
// into a virtual mdat that follows the moov (or precedes it, moovLast).
// The sample description comes from a fixture.
func hugeMP4(t testing.TB, nSamples int, sampleSize uint32, moovLast ...bool) *virtualMP4 {
	t.Helper()
	f, err := os.Open(filepath.Join(mediaDir, "h264_faststart.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := mp4ff.DecodeFile(f)
	if err != nil {
		t.Fatal(err)
	}
	stsd := src.Moov.Trak.Mdia.Minf.Stbl.Stsd

	const timescale = 12800
	const frameDur = 512
	build := func(mdatStart uint64) []byte {
		moov := mp4ff.NewMoovBox()
		mvhd := mp4ff.CreateMvhd()
		mvhd.Timescale = 1000
		mvhd.Duration = uint64(nSamples) * 40
		moov.AddChild(mvhd)
		trak := &mp4ff.TrakBox{}
		moov.AddChild(trak)
		tkhd := mp4ff.CreateTkhd()
		tkhd.TrackID = 1
		tkhd.Duration = mvhd.Duration
		tkhd.Width = mp4ff.Fixed32(320 << 16)
		tkhd.Height = mp4ff.Fixed32(180 << 16)
		trak.AddChild(tkhd)
		mdia := &mp4ff.MdiaBox{}
		trak.AddChild(mdia)
		mdhd := &mp4ff.MdhdBox{Timescale: timescale, Duration: uint64(nSamples) * frameDur}
		mdhd.SetLanguage("und")
		mdia.AddChild(mdhd)
		hdlr, err := mp4ff.CreateHdlr("vide")
		if err != nil {
			t.Fatal(err)
		}
		mdia.AddChild(hdlr)
		minf := mp4ff.NewMinfBox()
		mdia.AddChild(minf)
		minf.AddChild(mp4ff.CreateVmhd())
		dinf := &mp4ff.DinfBox{}
		dinf.AddChild(mp4ff.CreateDref())
		minf.AddChild(dinf)
		stbl := mp4ff.NewStblBox()
		minf.AddChild(stbl)
		stbl.AddChild(stsd)
		stbl.AddChild(&mp4ff.SttsBox{SampleCount: []uint32{uint32(nSamples)}, SampleTimeDelta: []uint32{frameDur}})
		stss := &mp4ff.StssBox{}
		for i := 0; i < nSamples; i += 50 {
			stss.SampleNumber = append(stss.SampleNumber, uint32(i+1))
		}
		stbl.AddChild(stss)
		stsc := &mp4ff.StscBox{}
		if err := stsc.AddEntry(1, 1, 1); err != nil {
			t.Fatal(err)
		}
		stbl.AddChild(stsc)
		stbl.AddChild(&mp4ff.StszBox{SampleUniformSize: sampleSize, SampleNumber: uint32(nSamples)})
		co64 := &mp4ff.Co64Box{ChunkOffset: make([]uint64, nSamples)}
		for i := range co64.ChunkOffset {
			co64.ChunkOffset[i] = mdatStart + uint64(i)*uint64(sampleSize)
		}
		stbl.AddChild(co64)
		var b bytes.Buffer
		if err := moov.Encode(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var ftyp bytes.Buffer
	if err := mp4ff.NewFtyp("isom", 512, []string{"isom", "iso2", "avc1", "mp41"}).Encode(&ftyp); err != nil {
		t.Fatal(err)
	}
	payload := uint64(nSamples) * uint64(sampleSize)
	var mh [16]byte
	binary.BigEndian.PutUint32(mh[0:], 1)
	copy(mh[4:], "mdat")
	binary.BigEndian.PutUint64(mh[8:], 16+payload)
	if len(moovLast) > 0 && moovLast[0] {
		head := append(ftyp.Bytes(), mh[:]...)
		moov := build(uint64(len(head)))
		return &virtualMP4{head: head, tail: moov, size: int64(len(head)) + int64(payload) + int64(len(moov))}
	}
	// Two passes: the first to learn the moov size.
	moovLen := len(build(0))
	mdatStart := uint64(ftyp.Len() + moovLen + 16)
	head := append(ftyp.Bytes(), build(mdatStart)...)
	if len(head) != ftyp.Len()+moovLen {
		t.Fatalf("moov size changed between passes")
	}
	head = append(head, mh[:]...)
	return &virtualMP4{head: head, size: int64(len(head)) + int64(payload)}
}

// TestHeaderOnlyHugeFile probes a synthesised 1.1 GB MP4 (one hour at
// 25 fps, 12 kB per frame), faststart and with the moov at the end: only
// the headers may be read, less than 1 % of the file.
func TestHeaderOnlyHugeFile(t *testing.T) {
	t.Run("faststart", func(t *testing.T) { testHuge(t, hugeMP4(t, 90000, 12500)) })
	t.Run("moov at end", func(t *testing.T) { testHuge(t, hugeMP4(t, 90000, 12500, true)) })
}

func testHuge(t *testing.T, v *virtualMP4) {
	if v.size < 1<<30 {
		t.Fatalf("synthetic file is only %d bytes", v.size)
	}
	res, err := Reader(context.Background(), v, v.size, "huge.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if v.reads > v.size/100 {
		t.Errorf("read %d bytes of a %d-byte file (%.2f %%), want < 1 %%", v.reads, v.size, 100*float64(v.reads)/float64(v.size))
	}
	if res.BytesRead != v.reads {
		t.Errorf("Result.BytesRead = %d, reader saw %d", res.BytesRead, v.reads)
	}
	t.Logf("read %d of %d bytes (%.3f %%)", v.reads, v.size, 100*float64(v.reads)/float64(v.size))
	s := res.Streams[0]
	if s.NbFrames != 90000 || s.Duration() != 3600 || s.AvgFrameRate.String() != "25/1" {
		t.Errorf("nb_frames %d duration %v avg_frame_rate %v, want 90000, 3600, 25/1", s.NbFrames, s.Duration(), s.AvgFrameRate)
	}
	if want := int64(12500 * 8 * 25); s.BitRate != want {
		t.Errorf("bit_rate %d, want %d", s.BitRate, want)
	}
	if res.Format.Duration != 3600*1000000 {
		t.Errorf("format duration %d µs, want 3600 s", res.Format.Duration)
	}
}
