package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPackets feeds arbitrary bytes to the packet lister (which also
// scans MPEG-TS packets itself to order them as ffprobe does). Seeds are
// the fixtures' heads. Whatever the input, it returns or fails without a
// panic, and every packet it gives renders as JSON with a known codec
// type and a valid flags string.
func FuzzPackets(f *testing.F) {
	for _, pat := range []string{"*.mp4", "*.m4a", "*.ts"} {
		m, _ := filepath.Glob(filepath.Join("../testdata/media", pat))
		for _, path := range m {
			b, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b[:min(len(b), 8<<10)])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		_ = Packets(context.Background(), bytes.NewReader(b), int64(len(b)), func(p *Packet) error {
			if n++; n > 1<<16 {
				t.Fatalf("%d packets from %d bytes", n, len(b))
			}
			if len(p.Flags) != 2 || p.CodecType == "" {
				t.Fatalf("packet %+v", p)
			}
			if _, err := json.Marshal(p); err != nil {
				t.Fatal(err)
			}
			return nil
		})
	})
}

// BenchmarkPackets lists every packet of fixtures held in memory, as
// probe --show-packets does (MP4: the edit-list re-indexing and track
// interleaving; MPEG-TS: the reader plus the PES completion scan).
func BenchmarkPackets(b *testing.B) {
	for _, name := range []string{"h264_b.mp4", "h264_frag.mp4", "ts_single.ts", "ts_ac3.ts"} {
		data, err := os.ReadFile(filepath.Join("../testdata/media", name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				n := 0
				err := Packets(context.Background(), bytes.NewReader(data), int64(len(data)), func(*Packet) error { n++; return nil })
				if err != nil || n == 0 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
