package readahead

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// countingReaderAt counts the ReadAt calls that reach the file.
type countingReaderAt struct {
	r     io.ReaderAt
	calls int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	return c.r.ReadAt(p, off)
}

func testData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// TestSequentialRunsFewReads reads a file as a remuxer does (small
// samples in file order, some skipped): every read returns the file's
// bytes, and the file sees about one ReadAt per window.
func TestSequentialRunsFewReads(t *testing.T) {
	data := testData(10<<20 + 12345)
	src := &countingReaderAt{r: bytes.NewReader(data)}
	ra := New(src, int64(len(data)), 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	off, reads := int64(100), 0
	for off < int64(len(data)) {
		n := min(int64(1+rng.IntN(8000)), int64(len(data))-off)
		if rng.IntN(3) > 0 { // the other track's samples are skipped
			p := make([]byte, n)
			if _, err := ra.ReadAt(p, off); err != nil {
				t.Fatalf("read %d at %d: %v", n, off, err)
			}
			if !bytes.Equal(p, data[off:off+n]) {
				t.Fatalf("read %d at %d: wrong bytes", n, off)
			}
			reads++
		}
		off += n
	}
	if src.calls > 14 {
		t.Errorf("%d sample reads made %d ReadAt calls on the file; want about one per 1 MiB window (11)", reads, src.calls)
	}
	fills, direct := ra.Stats()
	t.Logf("%d reads: %d file reads (%d fills, %d direct)", reads, src.calls, fills, direct)
}

// TestRandomReads checks every read against the file when reads jump
// back and forth, straddle the window and run past the end.
func TestRandomReads(t *testing.T) {
	data := testData(3<<20 + 77)
	size := int64(len(data))
	ra := New(bytes.NewReader(data), size, 64<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	pos := int64(0)
	for range 20000 {
		switch rng.IntN(4) {
		case 0:
			pos = rng.Int64N(size + 10)
		case 1:
			pos += int64(rng.IntN(MaxGap + 1000))
		default:
			pos += int64(rng.IntN(200))
		}
		n := int64(rng.IntN(40 << 10))
		p := make([]byte, n)
		m, err := ra.ReadAt(p, pos)
		end := min(pos+n, size)
		if pos > size {
			end = pos
		}
		wantN := int(max(end-pos, 0))
		if m != wantN {
			t.Fatalf("ReadAt(%d, %d) = %d bytes, want %d (err %v)", n, pos, m, wantN, err)
		}
		if wantN < int(n) && err == nil {
			t.Fatalf("ReadAt(%d, %d): short read without error", n, pos)
		}
		if wantN == int(n) && err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt(%d, %d): %v", n, pos, err)
		}
		if m > 0 && !bytes.Equal(p[:m], data[pos:pos+int64(m)]) {
			t.Fatalf("ReadAt(%d, %d): wrong bytes", n, pos)
		}
		if n > 0 && wantN < int(n) {
			pos = 0
		}
	}
}

// TestShrunkFile: a file that is shorter than the size given (truncated
// after it was opened) gives the underlying reader's error, not stale or
// zero bytes.
func TestShrunkFile(t *testing.T) {
	data := testData(100 << 10)
	ra := New(bytes.NewReader(data[:50<<10]), int64(len(data)), 32<<10)
	p := make([]byte, 100)
	if _, err := ra.ReadAt(p, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ra.ReadAt(p, 60<<10); err == nil {
		t.Fatal("read past the real end of the file succeeded")
	}
}

// BenchmarkSamples reads 2.7 kB samples in file order (the average
// sample of a 1080p H.264 + AAC file) from a 64 MiB file in the page
// cache: one pread per sample (direct) against the window; -benchmem
// shows no allocation per sample.
func BenchmarkSamples(b *testing.B) {
	data := testData(64 << 20)
	name := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, bc := range []struct {
		name string
		r    func() io.ReaderAt
	}{
		{"direct", func() io.ReaderAt { return f }},
		{"window", func() io.ReaderAt { return New(f, int64(len(data)), 0) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := make([]byte, 2700)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r := bc.r()
				for off := int64(0); off+2700 <= int64(len(data)); off += 2700 {
					if _, err := r.ReadAt(p, off); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
