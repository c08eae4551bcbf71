package integrity_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/streamkit-go/streamkit/integrity"
)

// segment2s is a 2 s segment at 6 Mb/s (1.5 MB), the size of a 1080p
// rung; set STREAMKIT_INTEGRITY_BENCH_FILE to use a real segment.
func segment2s(b *testing.B) []byte {
	if name := os.Getenv("STREAMKIT_INTEGRITY_BENCH_FILE"); name != "" {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	data := make([]byte, 6_000_000/8*2)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return data
}

// BenchmarkSignSegment is what the packager pays per published 2 s
// segment: hash, entry signature, and a new signed sidecar of a 30-entry
// live window.
func BenchmarkSignSegment(b *testing.B) {
	data := segment2s(b)
	_, priv := testKey(1)
	s, _ := integrity.NewSigner(priv, "bench")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	seq := uint64(0)
	for b.Loop() {
		seq++
		if _, err := s.AddSegment("video_1080p", seq, "video_1080p/seg.m4s", data); err != nil {
			b.Fatal(err)
		}
		if seq > 30 {
			s.Trim("video_1080p", seq-30)
		}
		if _, err := s.Sidecar("video_1080p"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySegment is what a peer pays before using a 2 s segment
// from another peer (the sidecar already loaded).
func BenchmarkVerifySegment(b *testing.B) {
	data := segment2s(b)
	pub, priv := testKey(1)
	s, _ := integrity.NewSigner(priv, "bench")
	s.AddSegment("video_1080p", 1, "video_1080p/seg.m4s", data)
	sc, _ := s.Sidecar("video_1080p")
	v := integrity.NewVerifier(pub, "bench")
	if err := v.Load(sc); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify("video_1080p", 1, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadSidecar is a peer loading a rewritten live sidecar: a
// 30-segment window with 4 parts each (151 signatures).
func BenchmarkLoadSidecar(b *testing.B) {
	pub, priv := testKey(1)
	s, _ := integrity.NewSigner(priv, "bench")
	live(b, s, "video_1080p", 30, 4)
	sc, _ := s.Sidecar("video_1080p")
	wire, _ := sc.Marshal()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		var got integrity.Sidecar
		if err := got.Unmarshal(wire); err != nil {
			b.Fatal(err)
		}
		if err := integrity.NewVerifier(pub, "bench").Load(&got); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256 is the floor: hashing the same bytes alone.
func BenchmarkSHA256(b *testing.B) {
	data := segment2s(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sha256.Sum256(data)
	}
}
