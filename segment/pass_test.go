package segment_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/segment"
)

// sampleByReads hides the *mp4.Reader behind the plain media.Demuxer
// interface, so that Cut cannot read a segment's stretch of the file in
// one piece and reads every payload on its own.
type sampleByReads struct{ media.Demuxer }

// TestStretchAndSampleReadsAgree checks that the one read per segment
// stretch (all renditions of an input from one ReadAt) writes the same
// bytes as reading each payload alone, in every segment format, for a
// ladder of one-track files and for a file holding video and audio.
func TestStretchAndSampleReadsAgree(t *testing.T) {
	ladder := func(t *testing.T, wrap bool) []segment.Input {
		ins := sampleInputs(t)
		if wrap {
			for i := range ins {
				ins[i].Demuxer = sampleByReads{ins[i].Demuxer}
			}
		}
		return ins
	}
	muxed := func(t *testing.T, wrap bool) []segment.Input {
		f, err := os.Open(filepath.Join("..", "testdata", "media", "h264_b.mp4"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		fi, _ := f.Stat()
		d, err := mp4.NewReader(f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		var dd media.Demuxer = d
		if wrap {
			dd = sampleByReads{d}
		}
		return []segment.Input{{Name: "h264_b.mp4", Demuxer: dd}}
	}
	for _, in := range []struct {
		name string
		open func(*testing.T, bool) []segment.Input
	}{{"ladder", ladder}, {"muxed", muxed}} {
		for _, m := range modes {
			t.Run(in.name+"/"+m.name, func(t *testing.T) { compareCuts(t, in.open, m.opts) })
		}
	}
}

func compareCuts(t *testing.T, open func(*testing.T, bool) []segment.Input, opts []segment.Option) {
	a, b := t.TempDir(), t.TempDir()
	if _, err := segment.Cut(context.Background(), a, open(t, false), opts...); err != nil {
		t.Fatal(err)
	}
	if _, err := segment.Cut(context.Background(), b, open(t, true), opts...); err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			t.Errorf("%s: only written by stretch reads", rel)
			return nil
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs: %d vs %d bytes", rel, len(x), len(y))
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("only %d files written", files)
	}
}
