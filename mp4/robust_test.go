package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/media"
)

// drain opens b and walks everything a caller could: tracks, samples,
// payloads, ffprobe packets and the box tree. It returns the first error.
// Any panic fails the calling test or fuzz target.
func drain(b []byte) error {
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if _, berr := ReadBoxes(bytes.NewReader(b), int64(len(b))); berr != nil && err == nil {
		checkPosError(berr)
	}
	if err != nil {
		return checkPosError(err)
	}
	var buf []byte
	n := 0
	for s, err := range r.Samples() {
		if err != nil {
			return checkPosError(err)
		}
		if n < 64 {
			if buf, err = r.ReadSample(&s, buf); err != nil {
				return checkPosError(err)
			}
		}
		n++
	}
	for _, w := range r.Warnings() {
		if w.What == "" || w.Offset < -1 || w.Offset > int64(len(b)) {
			panic("warning without a position in the input: " + w.Error())
		}
	}
	for i := range r.Tracks() {
		_ = r.FFprobePackets(i)
		_ = EditShift(r.Tracks()[i])
	}
	return nil
}

// checkPosError panics unless err locates the problem: a *media.PosError
// (possibly wrapped) whose Err is one of the media sentinels.
func checkPosError(err error) error {
	var pe *media.PosError
	if !errors.As(err, &pe) {
		panic("error without position: " + err.Error())
	}
	if !errors.Is(err, media.ErrTruncated) && !errors.Is(err, media.ErrCorrupt) && !errors.Is(err, media.ErrUnsupported) {
		panic("error without a media sentinel: " + err.Error())
	}
	return err
}

// TestTruncatedEverywhere cuts fixtures at many lengths: the reader must
// fail with a located error or read a consistent prefix, never panic.
func TestTruncatedEverywhere(t *testing.T) {
	for _, name := range []string{"h264_faststart.mp4", "h264_moovend.mp4", "h264_frag.mp4", "cmaf/init_and_segs.mp4", "aac.m4a"} {
		b, err := os.ReadFile(fixtures + "/" + name)
		if err != nil {
			t.Skip(err)
		}
		step := max(len(b)/400, 1)
		for n := 0; n < len(b); n += step {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s cut at %d: %v", name, n, p)
					}
				}()
				drain(b[:n])
			}()
		}
	}
}

// put32 overwrites a big-endian uint32 at the first occurrence of box
// type typ, at off bytes past the start of its body.
func put32(t *testing.T, b []byte, typ string, off int, v uint32) []byte {
	t.Helper()
	b = bytes.Clone(b)
	i := bytes.Index(b, []byte(typ))
	if i < 4 {
		t.Fatalf("no %s box", typ)
	}
	binary.BigEndian.PutUint32(b[i+4+off:], v)
	return b
}

func TestCorruptBoxes(t *testing.T) {
	fast, err := os.ReadFile(fixtures + "/h264_faststart.mp4")
	if err != nil {
		t.Skip(err)
	}
	frag, err := os.ReadFile(fixtures + "/h264_frag.mp4")
	if err != nil {
		t.Skip(err)
	}
	cases := []struct {
		name     string
		in       []byte
		sentinel error
		where    string // substring of PosError.What
		atOpen   bool
	}{
		{"stsz count beyond box", put32(t, fast, "stsz", 8, 1<<30), media.ErrTruncated, "moov/trak[0]/mdia/minf/stbl/stsz", true},
		{"stco count beyond box", put32(t, fast, "stco", 4, 0xffffffff), media.ErrTruncated, "stbl/stco", true},
		{"stts count beyond box", put32(t, fast, "stts", 4, 1<<28), media.ErrTruncated, "stbl/stts", true},
		{"ctts count beyond box", put32(t, fast, "ctts", 4, 1<<28), media.ErrTruncated, "stbl/ctts", true},
		{"stsc first_chunk 0", put32(t, fast, "stsc", 8, 0), media.ErrCorrupt, "stbl/stsc", true},
		{"moov larger than file", put32(t, fast, "moov", -8, 1<<30), media.ErrTruncated, "moov", false},
		{"trak size below header", put32(t, fast, "trak", -8, 3), media.ErrCorrupt, "moov/trak", true},
		{"chunk offset past EOF", put32(t, fast, "stco", 8, 0x7fffff00), media.ErrTruncated, "sample 0", false},
		{"trun sample_count huge", put32(t, frag, "trun", 4, 0x0fffffff), media.ErrTruncated, "trun", true},
		{"tfhd unknown track", put32(t, frag, "tfhd", 4, 99), media.ErrCorrupt, "tfhd", true},
		{"no moov", bytes.Replace(fast, []byte("moov"), []byte("fre2"), 1), ErrNoMoov, "file", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			r, oerr := NewReader(bytes.NewReader(c.in), int64(len(c.in)))
			if c.atOpen {
				err = oerr
			} else {
				if oerr != nil {
					t.Fatalf("open: %v", oerr)
				}
				// Read as ffmpeg reads it: the samples past the end are
				// a warning; WithStrict makes them the error.
				for _, e := range r.Samples() {
					if e != nil {
						t.Fatalf("lenient read: %v", e)
					}
				}
				found := false
				for _, w := range r.Warnings() {
					found = found || (errors.Is(w, c.sentinel) && strings.Contains(w.What, c.where))
				}
				if !found {
					t.Errorf("warnings %v, want one naming %q", r.Warnings(), c.where)
				}
				sr, serr := NewReader(bytes.NewReader(c.in), int64(len(c.in)), WithStrict(true))
				err = serr
				if serr == nil {
					for _, e := range sr.Samples() {
						if e != nil {
							err = e
							break
						}
					}
				}
			}
			var pe *media.PosError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want *media.PosError", err)
			}
			if !errors.Is(err, c.sentinel) {
				t.Errorf("err %v, want %v", err, c.sentinel)
			}
			if !strings.Contains(pe.What, c.where) {
				t.Errorf("What %q, want it to name %q", pe.What, c.where)
			}
			if pe.Offset < 0 || pe.Offset > int64(len(c.in)) {
				t.Errorf("offset %d outside the file", pe.Offset)
			}
			if drainErr := drain(c.in); drainErr == nil && c.atOpen {
				t.Errorf("drain accepted the input")
			}
		})
	}
}

// TestMdatTooLong: an mdat claiming more bytes than the file has (an
// interrupted recording) still opens, with a warning, as in ffprobe.
func TestMdatTooLong(t *testing.T) {
	const f = "../../shared/media/fetched/androidx/mp4/sample_mdat_too_long.mp4"
	if _, err := os.Stat(f); err != nil {
		t.Skip(err)
	}
	r := openFile(t, f)
	if len(r.Warnings()) == 0 || !errors.Is(r.Warnings()[0], media.ErrTruncated) {
		t.Errorf("warnings %v, want a truncation warning", r.Warnings())
	}
}

// TestSharedFilesNoPanic opens every file in ../shared/media that looks
// like MP4, including the deliberately broken ones.
func TestSharedFilesNoPanic(t *testing.T) {
	for _, f := range sharedMP4(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: %v", f, p)
				}
			}()
			if err := drain(b); err != nil && !errors.Is(err, ErrNoMoov) {
				t.Logf("%s: %v", f, err)
			}
		}()
	}
}

func TestOptions(t *testing.T) {
	f := fixtures + "/h264_frag.mp4"
	if _, err := os.Stat(f); err != nil {
		t.Skip(err)
	}
	r := openFile(t, f, WithoutFragmentScan())
	n := 0
	for _, err := range r.Samples() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	for _, tr := range r.Tracks() {
		if tr.SampleCount != -1 || tr.Bytes != -1 {
			t.Errorf("track %d: SampleCount %d Bytes %d without a fragment scan, want -1", tr.ID, tr.SampleCount, tr.Bytes)
		}
	}
	if full := openFile(t, f); n != int(full.Tracks()[0].SampleCount+full.Tracks()[1].SampleCount) {
		t.Errorf("iterated %d samples without the scan", n)
	}

	b, _ := os.ReadFile(f)
	_, err := NewReader(bytes.NewReader(b), int64(len(b)), WithMaxBoxSize(64))
	var pe *media.PosError
	if !errors.Is(err, ErrBoxTooLarge) || !errors.Is(err, media.ErrUnsupported) || !errors.As(err, &pe) || pe.What != "moov" {
		t.Errorf("WithMaxBoxSize(64): %v", err)
	}
}

func TestMatchAndRegistry(t *testing.T) {
	cases := []struct {
		head []byte
		want bool
	}{
		{[]byte("\x00\x00\x00\x20ftypisom"), true},
		{[]byte("\x00\x00\x00\x18stypmsdh"), true},
		{[]byte("\x00\x00\x00\x08free"), true},
		{[]byte("\x00\x00\x00\x01mdat\x00\x00\x00\x00\x00\x00\x00\x10"), true},
		{[]byte("\x00\x00\x00\x00moov"), true},
		{[]byte("\x00\x00\x00\x04moov"), false}, // size below a header
		{[]byte("\x47\x40\x00\x10\x00\x00\xb0\x0d"), false},
		{[]byte("ftyp"), false},
		{nil, false},
	}
	for _, c := range cases {
		if got := Match(c.head); got != c.want {
			t.Errorf("Match(%q) = %v", c.head, got)
		}
	}
	f := fixtures + "/aac.m4a"
	b, err := os.ReadFile(f)
	if err != nil {
		t.Skip(err)
	}
	d, err := media.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Format() != "mp4" || len(d.Tracks()) != 1 || d.Tracks()[0].Codec != media.CodecAAC {
		t.Errorf("media.Open: format %q, %d tracks", d.Format(), len(d.Tracks()))
	}
}

// TestConcurrentIteration runs several Samples iterations and
// ReadSample calls at once (meaningful under -race).
func TestConcurrentIteration(t *testing.T) {
	f := fixtures + "/h264_frag.mp4"
	if _, err := os.Stat(f); err != nil {
		t.Skip(err)
	}
	r := openFile(t, f)
	want := 0
	for range r.Samples() {
		want++
	}
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			var buf []byte
			for s, err := range r.Samples() {
				if err == nil {
					buf, err = r.ReadSample(&s, buf)
				}
				if err != nil {
					break
				}
				n++
			}
			done <- n
		}()
	}
	for range 4 {
		if n := <-done; n != want {
			t.Errorf("concurrent iteration saw %d samples, want %d", n, want)
		}
	}
}
