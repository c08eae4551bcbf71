package mp4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// wSample is what the writer tests compare: timing as ffprobe shows it
// (edit shift applied), flags, size and a payload hash.
type wSample struct {
	track    int
	dts, pts float64
	sync     bool
	size     uint32
	hash     [32]byte
}

func wSamples(t *testing.T, d media.Demuxer) [][]wSample {
	t.Helper()
	idx := map[int]int{}
	var out [][]wSample
	tr := map[int]*media.Track{}
	for _, x := range d.Tracks() {
		if x.Kind != media.KindAudio && x.Kind != media.KindVideo {
			continue
		}
		idx[x.ID] = len(out)
		tr[x.ID] = x
		out = append(out, nil)
	}
	var buf []byte
	for s, err := range d.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		i, ok := idx[s.TrackID]
		if !ok {
			continue
		}
		x := tr[s.TrackID]
		sh := EditShift(x)
		if buf, err = d.ReadSample(&s, buf); err != nil {
			t.Fatal(err)
		}
		sc := float64(x.Timescale)
		out[i] = append(out[i], wSample{track: i, dts: float64(s.DTS+sh) / sc, pts: float64(s.PTS+sh) / sc, sync: s.Sync, size: s.Size, hash: sha256.Sum256(buf)})
	}
	return out
}

func wEqual(t *testing.T, want, got [][]wSample) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d tracks, want %d", len(got), len(want))
	}
	for i := range want {
		if len(want[i]) != len(got[i]) {
			t.Errorf("track %d: %d samples, want %d", i, len(got[i]), len(want[i]))
			continue
		}
		bad := 0
		for j := range want[i] {
			a, b := want[i][j], got[i][j]
			if math.Abs(a.dts-b.dts) > 1e-9 || math.Abs(a.pts-b.pts) > 1e-9 || a.sync != b.sync || a.size != b.size || a.hash != b.hash {
				if bad++; bad <= 3 {
					t.Errorf("track %d sample %d: got %+v want %+v", i, j, b, a)
				}
			}
		}
	}
}

func wOpen(t *testing.T, name string) (*Reader, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../testdata/media", name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

var wFixtures = []string{"h264_nob.mp4", "h264_b.mp4", "h264_editlist.mp4", "h264_moovend.mp4", "h264_frag.mp4",
	"h264_vfr.mp4", "h264_rotate90.mp4", "hevc_b_hvc1.mp4", "av1.mp4", "aac.m4a", "ac3.mp4", "eac3_51.mp4", "opus.mp4",
	"cmaf/init_and_segs.mp4"}

func TestWriteProgressive(t *testing.T) {
	for _, name := range wFixtures {
		t.Run(name, func(t *testing.T) {
			r, _ := wOpen(t, name)
			var out bytes.Buffer
			if err := WriteProgressive(context.Background(), &out, r); err != nil {
				t.Fatal(err)
			}
			o, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if !o.MoovFirst() || o.Fragmented() {
				t.Errorf("output is not progressive with moov first")
			}
			wEqual(t, wSamples(t, r), wSamples(t, o))
			for i, tr := range o.Tracks() {
				in := r.Tracks()[i]
				if tr.CodecString != in.CodecString || tr.Width != in.Width || tr.SampleRate != in.SampleRate || tr.Rotation != in.Rotation {
					t.Errorf("track %d: %s %dx%d %d Hz rot %d, want %s %dx%d %d Hz rot %d", i, tr.CodecString, tr.Width, tr.Height, tr.SampleRate, tr.Rotation,
						in.CodecString, in.Width, in.Height, in.SampleRate, in.Rotation)
				}
			}
		})
	}
}

func TestWriteFragmented(t *testing.T) {
	for _, name := range wFixtures {
		t.Run(name, func(t *testing.T) {
			r, _ := wOpen(t, name)
			var out bytes.Buffer
			if err := WriteFragmented(context.Background(), &out, r, WithFragmentDuration(500*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			o, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if !o.Fragmented() {
				t.Errorf("output is not fragmented")
			}
			wEqual(t, wSamples(t, r), wSamples(t, o))
		})
	}
}

// TestFragmentsStartWithKeyFrames checks the cut rule: every fragment of
// the video track starts with a sync sample and lasts at least the target
// (but the last).
func TestFragmentsStartWithKeyFrames(t *testing.T) {
	r, _ := wOpen(t, "ladder_270.mp4") // key frames every 2 s
	var out bytes.Buffer
	if err := WriteFragmented(context.Background(), &out, r, WithFragmentDuration(time.Second)); err != nil {
		t.Fatal(err)
	}
	o, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(o.Fragments()); n != 3 {
		t.Errorf("%d fragments, want 3 (6 s cut at 2 s key frames)", n)
	}
}

// wFake is a synthetic demuxer: one video track whose n samples of size
// bytes each are all zeros, at 25 fps.
type wFake struct {
	t    *media.Track
	n    int
	size uint32
	zero []byte
}

func (f *wFake) Format() string         { return "fake" }
func (f *wFake) Tracks() []*media.Track { return []*media.Track{f.t} }
func (f *wFake) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		for i := range f.n {
			s := media.Sample{TrackID: 1, Index: int64(i), DTS: int64(i) * 512, PTS: int64(i) * 512, Duration: 512,
				Size: f.size, Offset: int64(i) * int64(f.size), Sync: i%25 == 0}
			if !yield(s, nil) {
				return
			}
		}
	}
}
func (f *wFake) ReadSample(s *media.Sample, buf []byte) ([]byte, error) { return f.zero[:s.Size], nil }

func wFakeTrack(t *testing.T) *media.Track {
	t.Helper()
	r, _ := wOpen(t, "h264_nob.mp4")
	tr := *r.Tracks()[0]
	tr.ID, tr.Edits = 1, nil
	return &tr
}

// headWriter keeps the first bytes written and counts the rest.
type headWriter struct {
	head []byte
	max  int
	n    int64
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - len(h.head); room > 0 {
		h.head = append(h.head, p[:min(room, len(p))]...)
	}
	h.n += int64(len(p))
	return len(p), nil
}

// TestWriteProgressiveCo64 writes 4.2 GiB of (zero) samples and checks
// that the chunk offsets switched to co64 and point where the samples are.
func TestWriteProgressiveCo64(t *testing.T) {
	if testing.Short() {
		t.Skip("4 GiB through io.Discard")
	}
	const size = 1 << 20
	f := &wFake{t: wFakeTrack(t), n: 4200, size: size, zero: make([]byte, size)}
	hw := &headWriter{max: 1 << 20}
	if err := WriteProgressive(context.Background(), hw, f); err != nil {
		t.Fatal(err)
	}
	if want := int64(4200) * size; hw.n < want {
		t.Fatalf("wrote %d bytes, want more than %d", hw.n, want)
	}
	// Parse moov from the head: the last chunk must end at the file end.
	r, err := NewReader(&padReader{head: hw.head, size: hw.n}, hw.n)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(hw.head, []byte("co64")) || bytes.Contains(hw.head, []byte("stco")) {
		t.Errorf("no co64 (or a leftover stco) in a 4 GiB file")
	}
	var last media.Sample
	n := 0
	for s, err := range r.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		last = s
		n++
	}
	if n != 4200 || last.Offset+int64(last.Size) != hw.n {
		t.Errorf("%d samples, last ends at %d, file is %d bytes", n, last.Offset+int64(last.Size), hw.n)
	}
}

// padReader serves head and zeros after it.
type padReader struct {
	head []byte
	size int64
}

func (p *padReader) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	n := 0
	for i := range b {
		o := off + int64(i)
		if o >= p.size {
			return n, io.EOF
		}
		if o < int64(len(p.head)) {
			b[i] = p.head[o]
		} else {
			b[i] = 0
		}
		n++
	}
	return n, nil
}

func TestWriteCancel(t *testing.T) {
	f := &wFake{t: wFakeTrack(t), n: 100000, size: 10, zero: make([]byte, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, fn := range map[string]func() error{
		"progressive": func() error { return WriteProgressive(ctx, io.Discard, f) },
		"fragmented":  func() error { return WriteFragmented(ctx, io.Discard, f) },
	} {
		if err := fn(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", name, err)
		}
	}
}

// TestWriteRejects checks the clear errors for what cannot be written.
func TestWriteRejects(t *testing.T) {
	tr := wFakeTrack(t)
	back := &wBackwards{wFake{t: tr, n: 10, size: 10, zero: make([]byte, 10)}}
	err := WriteProgressive(context.Background(), io.Discard, back)
	if !errors.Is(err, ErrWrite) {
		t.Errorf("DTS going backwards: err = %v, want ErrWrite", err)
	}
	vp9 := *tr
	vp9.Codec, vp9.Config = media.CodecVP9, media.CodecConfig{}
	err = WriteProgressive(context.Background(), io.Discard, &wFake{t: &vp9, n: 1, size: 1, zero: []byte{0}})
	if !errors.Is(err, ErrWrite) {
		t.Errorf("vp9 without config: err = %v, want ErrWrite", err)
	}
}

type wBackwards struct{ wFake }

func (f *wBackwards) Samples() iter.Seq2[media.Sample, error] {
	return func(yield func(media.Sample, error) bool) {
		for i := range f.n {
			s := media.Sample{TrackID: 1, Index: int64(i), DTS: int64(5-i) * 512, PTS: int64(5-i) * 512, Size: f.size, Sync: true}
			if !yield(s, nil) {
				return
			}
		}
	}
}

// TestAnnexBConversion converts Annex B with 3- and 4-byte start codes,
// an AUD and repeated parameter sets to length-prefixed NAL units.
func TestAnnexBConversion(t *testing.T) {
	sps, pps := []byte{0x67, 1, 2}, []byte{0x68, 3}
	c := &annexBConv{codec: media.CodecH264, ps: [][]byte{sps, pps}}
	in := []byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 9, 9, 0, 0, 0, 1, 0x67, 1, 3, 0}
	got, err := c.convert(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 3, 0x65, 9, 9, 0, 0, 0, 3, 0x67, 1, 3}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
	if _, err := c.convert(nil, []byte{1, 2, 3, 4}); err == nil {
		t.Errorf("no error for a payload without start codes")
	}
}

func TestPatchChunkOffsetsToCo64(t *testing.T) {
	r, b := wOpen(t, "h264_moovend.mp4")
	mo := r.MoovOffset()
	h, err := parseHeader(b[mo:], mo, int64(len(b))-mo, "")
	if err != nil {
		t.Fatal(err)
	}
	moov := b[mo : mo+h.size]
	out, err := patchChunkOffsets(moov, mo, func(v int64) (int64, error) { return v + 1<<32, nil })
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("stco")) || !bytes.Contains(out, []byte("co64")) {
		t.Fatal("stco not converted")
	}
	if int(be32(out)) != len(out) || len(out) <= len(moov) {
		t.Errorf("moov size %d for %d bytes (was %d)", be32(out), len(out), len(moov))
	}
}

func TestFaststart(t *testing.T) {
	r, b := wOpen(t, "h264_moovend.mp4")
	var out bytes.Buffer
	moved, err := Faststart(&out, bytes.NewReader(b), int64(len(b)))
	if err != nil || !moved {
		t.Fatalf("moved=%v err=%v", moved, err)
	}
	if out.Len() != len(b) {
		t.Errorf("output %d bytes, input %d", out.Len(), len(b))
	}
	o, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !o.MoovFirst() {
		t.Error("moov not first")
	}
	wEqual(t, wSamples(t, r), wSamples(t, o))

	// Already faststart: copied unchanged.
	_, fb := wOpen(t, "h264_faststart.mp4")
	out.Reset()
	if moved, err := Faststart(&out, bytes.NewReader(fb), int64(len(fb))); err != nil || moved || !bytes.Equal(out.Bytes(), fb) {
		t.Errorf("faststart input: moved=%v err=%v identical=%v", moved, err, bytes.Equal(out.Bytes(), fb))
	}
	// Fragmented.
	_, fr := wOpen(t, "h264_frag.mp4")
	if _, err := Faststart(io.Discard, bytes.NewReader(fr), int64(len(fr))); !errors.Is(err, ErrFragmented) {
		t.Errorf("fragmented: err = %v", err)
	}
	// Truncated anywhere: an error, never a panic.
	for _, n := range []int{0, 7, 100, len(b) / 2, len(b) - 1} {
		if _, err := Faststart(io.Discard, bytes.NewReader(b[:n]), int64(n)); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
}

// FuzzWriteProgressive reads arbitrary input with the MP4 reader and, when
// it opens, writes it back: the writer must not panic and what it writes
// must read back with the same number of samples.
func FuzzWriteProgressive(f *testing.F) {
	for _, n := range []string{"h264_nob.mp4", "aac.m4a", "h264_frag.mp4", "ac3.mp4"} {
		b, err := os.ReadFile(filepath.Join("../testdata/media", n))
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		for _, frag := range []bool{false, true} {
			out.Reset()
			if frag {
				err = WriteFragmented(context.Background(), &out, r)
			} else {
				err = WriteProgressive(context.Background(), &out, r)
			}
			if err != nil {
				return
			}
			o, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatalf("frag=%v: output does not read back: %v", frag, err)
			}
			count := func(d media.Demuxer) (n int) {
				for _, err := range d.Samples() {
					if err != nil {
						return -1
					}
					n++
				}
				return n
			}
			if a, b := count(r), count(o); a != b {
				t.Fatalf("frag=%v: %d samples written, %d read", frag, a, b)
			}
		}
	})
}

func TestWriteMoovAtEndThenFaststart(t *testing.T) {
	r, _ := wOpen(t, "h264_b.mp4")
	var end, fast bytes.Buffer
	if err := WriteProgressive(context.Background(), &end, r, WithMoovAtEnd()); err != nil {
		t.Fatal(err)
	}
	e, err := NewReader(bytes.NewReader(end.Bytes()), int64(end.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if e.MoovFirst() {
		t.Fatal("moov first despite WithMoovAtEnd")
	}
	wEqual(t, wSamples(t, r), wSamples(t, e))
	moved, err := Faststart(&fast, bytes.NewReader(end.Bytes()), int64(end.Len()))
	if err != nil || !moved {
		t.Fatalf("moved=%v err=%v", moved, err)
	}
	var direct bytes.Buffer
	if err := WriteProgressive(context.Background(), &direct, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fast.Bytes(), direct.Bytes()) {
		t.Errorf("faststart of the moov-at-end output differs from the moov-first output")
	}
}

// Writer benchmarks: the 6 s 640x360 ladder rendition, in memory, to
// io.Discard. MB/s counts input bytes.
func wBenchInput(b *testing.B) (*Reader, []byte) {
	data, err := os.ReadFile("../testdata/media/ladder_360.mp4")
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	return r, data
}

func BenchmarkWriteProgressive(b *testing.B) {
	r, data := wBenchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteProgressive(context.Background(), io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteFragmented(b *testing.B) {
	r, data := wBenchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteFragmented(context.Background(), io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFaststart(b *testing.B) {
	data, err := os.ReadFile("../testdata/media/h264_moovend.mp4")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Faststart(io.Discard, bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteChunkEqualsSegment: a segment written chunk by chunk
// (WriteFragment for the first, WriteChunk for the others, as the live
// packager writes LL-HLS parts) is byte for byte what WriteSegment writes
// for the same samples: one styp, at the start.
func TestWriteChunkEqualsSegment(t *testing.T) {
	src, _ := wOpen(t, "h264_nob.mp4")
	track := src.Tracks()[0]
	var chunks [][]FragmentSample
	for s, err := range src.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		if s.TrackID != track.ID {
			continue
		}
		if len(chunks) == 0 || len(chunks[len(chunks)-1]) == 10 {
			if len(chunks) == 4 {
				break
			}
			chunks = append(chunks, nil)
		}
		data, err := src.ReadSample(&s, nil)
		if err != nil {
			t.Fatal(err)
		}
		chunks[len(chunks)-1] = append(chunks[len(chunks)-1], FragmentSample{Sample: s, Data: data})
	}
	write := func(byChunk bool) []byte {
		f, err := NewCMAFFragmenter(track)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := f.WriteInit(&b); err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if !byChunk {
			if _, err := f.WriteSegment(&b, chunks, nil); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}
		for k, c := range chunks {
			next := map[int]int64{}
			if k+1 < len(chunks) {
				next[track.ID] = chunks[k+1][0].DTS
			}
			if k == 0 {
				err = f.WriteFragment(&b, c, next)
			} else {
				var info FragmentInfo
				info, err = f.WriteChunk(&b, c, next)
				if err == nil && info.Offset != 0 {
					t.Errorf("chunk %d: moof at %d, want 0 (no styp)", k, info.Offset)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	seg, byChunk := write(false), write(true)
	if !bytes.Equal(seg, byChunk) {
		at := 0
		for at < len(seg) && seg[at] == byChunk[at] {
			at++
		}
		t.Fatalf("chunked segment differs at byte %d: %d bytes, WriteSegment %d", at, len(byChunk), len(seg))
	}
	if n := bytes.Count(seg, []byte("styp")); n != 1 {
		t.Errorf("%d styp boxes, want 1", n)
	}
	f, _ := NewCMAFFragmenter(track)
	if _, err := f.WriteChunk(io.Discard, chunks[0], nil); !errors.Is(err, ErrWrite) {
		t.Errorf("WriteChunk before WriteInit: %v, want ErrWrite", err)
	}
}
