package mp4

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// synthMovie builds an MP4 whose moov describes a long movie (video at
// 25 fps plus AAC audio) over an mdat that is never stored: the
// returned ReaderAt serves the header bytes and zeros for the payload.
// Sample tables are realistic: varying sizes, B-frame ctts, an stss
// entry every 50 frames, 10 samples per chunk.
func synthMovie(seconds int) (*sparseFile, int) {
	nv, na := seconds*25, seconds*48000/1024
	box := func(typ string, parts ...[]byte) []byte {
		body := bytes.Join(parts, nil)
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
		return append(append(b, typ...), body...)
	}
	u32 := func(vs ...uint32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, v)
		}
		return b
	}
	full := func(typ string, parts ...[]byte) []byte { return box(typ, append([][]byte{u32(0)}, parts...)...) }
	const head = 4 << 20 // moov is placed first; mdat starts at 4 MiB
	off := uint64(head + 16)
	trak := func(id uint32, n int, ts, delta uint32, handler string, size func(i int) uint32, video bool) []byte {
		var sizes, chunks []byte
		for i := 0; i < n; i++ {
			sizes = binary.BigEndian.AppendUint32(sizes, size(i))
		}
		var stss, ctts []byte
		if video {
			var ns uint32
			for i := 0; i < n; i += 50 {
				stss = binary.BigEndian.AppendUint32(stss, uint32(i+1))
				ns++
			}
			stss = full("stss", u32(ns), stss)
			pattern := []uint32{2, 5, 0, 0, 0}
			ctts = full("ctts", u32(uint32(n)))
			for i := 0; i < n; i++ {
				ctts = append(ctts, u32(1, pattern[i%5]*delta)...)
			}
			binary.BigEndian.PutUint32(ctts, uint32(len(ctts)))
		}
		nc := (n + 9) / 10
		for c := 0; c < nc; c++ {
			chunks = binary.BigEndian.AppendUint64(chunks, off)
			for i := c * 10; i < min(n, c*10+10); i++ {
				off += uint64(size(i))
			}
		}
		entry := box("mp4a", make([]byte, 28))
		if video {
			entry = box("avc1", make([]byte, 78))
		}
		stbl := box("stbl", full("stsd", u32(1), entry), full("stts", u32(1, uint32(n), delta)), ctts, stss,
			full("stsc", u32(1, 1, 10, 1)), full("stsz", u32(0, uint32(n)), sizes), full("co64", u32(uint32(nc)), chunks))
		hdlr := full("hdlr", u32(0), []byte(handler), make([]byte, 13))
		mdhd := full("mdhd", u32(0, 0, ts, uint32(n)*delta), []byte{0x55, 0xc4, 0, 0})
		tkhd := full("tkhd", u32(0, 0, id, 0, 0), make([]byte, 60))
		return box("trak", tkhd, box("mdia", mdhd, hdlr, box("minf", stbl)))
	}
	v := trak(1, nv, 12800, 512, "vide", func(i int) uint32 { return 2000 + uint32(i*7919%3000) }, true)
	a := trak(2, na, 48000, 1024, "soun", func(i int) uint32 { return 200 + uint32(i*31%80) }, false)
	moov := box("moov", full("mvhd", u32(0, 0, 1000, uint32(seconds*1000)), make([]byte, 80)), v, a)
	ftyp := box("ftyp", []byte("isom"), u32(0), []byte("isomiso2avc1mp41"))
	hdr := append(ftyp, moov...)
	if len(hdr) > head-8 {
		panic("moov too large for the synthetic layout")
	}
	hdr = append(hdr, u32(uint32(head-len(hdr)))...)
	hdr = append(hdr, "free"...)
	hdr = append(hdr, make([]byte, head-len(hdr))...)
	mdatSize := off - head
	hdr = append(hdr, u32(1)...)
	hdr = append(hdr, "mdat"...)
	hdr = binary.BigEndian.AppendUint64(hdr, mdatSize)
	return &sparseFile{head: hdr, size: int64(off)}, nv + na
}

// sparseFile is a ReaderAt of head followed by zeros up to size.
type sparseFile struct {
	head []byte
	size int64
}

func (f *sparseFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(f.head)) {
		n = copy(p, f.head[off:])
	}
	for i := n; i < len(p) && off+int64(i) < f.size; i++ {
		p[i] = 0
		n++
	}
	if n < len(p) {
		return n, os.ErrClosed
	}
	return n, nil
}

func TestSynthMovie(t *testing.T) {
	f, n := synthMovie(60)
	r, err := NewReader(f, f.size)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	var lastOff int64
	for s, err := range r.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		if s.Offset < lastOff {
			t.Fatalf("sample %d of track %d at %d before %d: not file order", s.Index, s.TrackID, s.Offset, lastOff)
		}
		lastOff = s.Offset + int64(s.Size)
		got++
	}
	if got != n || r.Tracks()[0].SampleCount+r.Tracks()[1].SampleCount != int64(n) {
		t.Fatalf("%d samples, want %d", got, n)
	}
	if lastOff != f.size {
		t.Errorf("samples end at %d, mdat at %d", lastOff, f.size)
	}
}

// BenchmarkReaderSamples iterates over every sample of a one-hour movie
// (90 000 video + 168 750 audio samples) from its sample tables.
// STREAMKIT_MP4_BENCH_FILE=path benchmarks a real file instead.
func BenchmarkReaderSamples(b *testing.B) {
	var r *Reader
	var n int
	if p := os.Getenv("STREAMKIT_MP4_BENCH_FILE"); p != "" {
		r = openFile(b, p)
		for range r.Samples() {
			n++
		}
	} else {
		f, cnt := synthMovie(3600)
		var err error
		if r, err = NewReader(f, f.size); err != nil {
			b.Fatal(err)
		}
		n = cnt
	}
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for b.Loop() {
		for s, err := range r.Samples() {
			if err != nil {
				b.Fatal(err)
			}
			bytes += int64(s.Size)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		for range r.Samples() {
		}
	}))/float64(n), "allocs/sample")
}

// BenchmarkReaderReadSamples also reads every payload with ReadSample
// into one reused buffer (what remuxing costs on the read side).
func BenchmarkReaderReadSamples(b *testing.B) {
	var r *Reader
	if p := os.Getenv("STREAMKIT_MP4_BENCH_FILE"); p != "" {
		r = openFile(b, p)
	} else {
		f, _ := synthMovie(600)
		var err error
		if r, err = NewReader(f, f.size); err != nil {
			b.Fatal(err)
		}
	}
	n, total := 0, int64(0)
	for s := range r.Samples() {
		n++
		total += int64(s.Size)
	}
	b.ReportAllocs()
	b.SetBytes(total)
	var buf []byte
	for b.Loop() {
		for s, err := range r.Samples() {
			if err == nil {
				buf, err = r.ReadSample(&s, buf)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkReaderFragments iterates over the samples of the fragmented
// fixture (one moof per GOP), parsing each moof as it is reached.
func BenchmarkReaderFragments(b *testing.B) {
	r := openFile(b, fixtures+"/h264_frag.mp4")
	n := 0
	for range r.Samples() {
		n++
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range r.Samples() {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkOpenHeader measures NewReader alone (box walk, moov decode,
// per-track totals) on the one-hour movie: what probing a file costs.
// STREAMKIT_MP4_BENCH_FILE=path opens a real file instead.
func BenchmarkOpenHeader(b *testing.B) {
	var f interface {
		ReadAt(p []byte, off int64) (int, error)
	}
	var size int64
	if p := os.Getenv("STREAMKIT_MP4_BENCH_FILE"); p != "" {
		fh, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		st, _ := fh.Stat()
		f, size = fh, st.Size()
	} else {
		sf, _ := synthMovie(3600)
		f, size = sf, sf.size
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewReader(f, size); err != nil {
			b.Fatal(err)
		}
	}
}
