package gop

import (
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// BenchmarkAnalyze measures frame classification alone: one op is one
// access unit of a committed vector (parameter sets, SEI and slice headers
// of every NAL unit; AV1 OBU headers), so ns/op is the time per frame,
// allocs/op the allocations per frame and MB/s the bitstream rate.
func BenchmarkAnalyze(b *testing.B) {
	for _, v := range loadVectors(b) {
		for _, ls := range []int{0, 4} {
			if ls == 4 && v.codec != media.CodecH264 && v.codec != media.CodecHEVC {
				continue
			}
			name := v.name
			if ls == 4 {
				name += "/avcc"
			} else {
				name += "/annexb"
			}
			aus := make([][]byte, len(v.ref.AUs))
			total := 0
			for i := range aus {
				aus[i] = v.au(i)
				if ls > 0 {
					aus[i] = toLengthPrefixed(b, aus[i], ls)
				}
				total += len(aus[i])
			}
			b.Run(name, func(b *testing.B) {
				tr := &media.Track{ID: 1, Codec: v.codec, Config: media.CodecConfig{NALLengthSize: ls}}
				a, err := NewAnalyzer(tr)
				if err != nil {
					b.Fatal(err)
				}
				// Warm up parameter sets and scratch buffers.
				for i := range aus {
					s := media.Sample{Index: int64(i)}
					if _, err := a.Analyze(&s, aus[i]); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(total / len(aus)))
				b.ReportAllocs()
				b.ResetTimer()
				var s media.Sample
				for i := 0; i < b.N; i++ {
					k := i % len(aus)
					s.Index = int64(k)
					if _, err := a.Analyze(&s, aus[k]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
			})
		}
	}
}
