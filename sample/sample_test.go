package sample

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

func TestOpenEveryFile(t *testing.T) {
	names := Names()
	want := []string{Audio, Video240, Video360, Video480}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("Names() = %v, want %v", names, want)
	}
	var total int64
	for _, name := range names {
		r, size, err := Open(name)
		if err != nil {
			t.Fatal(err)
		}
		total += size
		head := make([]byte, 8)
		if _, err := r.ReadAt(head, 0); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(head[4:8]) != "ftyp" {
			t.Errorf("%s: first box %q, want ftyp", name, head[4:8])
		}
		// Faststart: the box after ftyp is moov.
		next := int64(binary.BigEndian.Uint32(head[:4]))
		box := make([]byte, 8)
		if _, err := r.ReadAt(box, next); err != nil && err != io.EOF {
			t.Fatalf("%s: %v", name, err)
		}
		if string(box[4:8]) != "moov" {
			t.Errorf("%s: box after ftyp is %q, want moov (faststart)", name, box[4:8])
		}
	}
	if total > 1536*1024 {
		t.Errorf("embedded sample is %d bytes, budget is 1.5 MiB", total)
	}
}

func TestOpenUnknown(t *testing.T) {
	if _, _, err := Open("nope.mp4"); err == nil {
		t.Fatal("Open of a missing name succeeded")
	}
}

func TestFS(t *testing.T) {
	b, err := Bytes(Video240)
	if err != nil {
		t.Fatal(err)
	}
	f, err := FS().Open(Video240)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Fatal("FS and Bytes disagree")
	}
}
