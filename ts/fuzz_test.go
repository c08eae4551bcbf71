package ts_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// fuzzSeedLen keeps seeds small: the first packets hold the PAT, PMT and
// the first PES of each stream, and the fuzzer's minimisation of a new
// input costs quadratic time in its length.
const fuzzSeedLen = 6 * ts.PacketSize

// FuzzDemux feeds arbitrary bytes to NewReader and Samples: they must
// return (a *media.PosError for damage) and never panic, hang or
// allocate without bound.
func FuzzDemux(f *testing.F) {
	for _, name := range fixtures(f) {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "media", name))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > fuzzSeedLen {
			b = b[:fuzzSeedLen]
		}
		f.Add(b)
		// Truncated: the last packet and PES cut short (read with a
		// warning, as ffmpeg reads them).
		f.Add(b[:len(b)-len(b)%ts.PacketSize-ts.PacketSize+77])
	}
	for _, c := range hostileCases() {
		b := c.data
		if len(b) > fuzzSeedLen {
			b = b[:fuzzSeedLen]
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ts.NewReader(bytes.NewReader(data), int64(len(data)), ts.WithProbeSize(1<<20))
		if err != nil {
			checkErr(t, err)
			return
		}
		for _, tr := range r.Tracks() {
			if tr.Timescale != ts.Timescale {
				t.Fatalf("track %d timescale %d", tr.ID, tr.Timescale)
			}
		}
		n := 0
		for s, err := range r.Samples() {
			if err != nil {
				checkErr(t, err)
				break
			}
			if int(s.Size) != len(s.Data) {
				t.Fatalf("sample size %d, data %d", s.Size, len(s.Data))
			}
			if s.Size > uint32(len(data)) {
				t.Fatalf("sample of %d bytes from %d bytes of input", s.Size, len(data))
			}
			n++
		}
		for _, w := range r.Warnings() {
			if w.What == "" || w.Offset < 0 || w.Offset > int64(len(data)) {
				t.Fatalf("warning %v: position outside the %d-byte input", w, len(data))
			}
			if !errors.Is(w, media.ErrTruncated) && !errors.Is(w, media.ErrCorrupt) {
				t.Fatalf("warning %v wraps neither ErrTruncated nor ErrCorrupt", w)
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var pe *media.PosError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *media.PosError", err, err)
	}
	if !errors.Is(err, media.ErrTruncated) && !errors.Is(err, media.ErrCorrupt) {
		t.Fatalf("error %v wraps neither ErrTruncated nor ErrCorrupt", err)
	}
}

// packet builds one 188-byte TS packet: header, optional adaptation field
// of afLen bytes (PCR when pcr >= 0), payload padded with 0xFF.
func packet(pid uint16, pusi bool, cc uint8, payload []byte) []byte {
	p := make([]byte, ts.PacketSize)
	p[0] = 0x47
	p[1] = byte(pid >> 8 & 0x1f)
	if pusi {
		p[1] |= 0x40
	}
	p[2] = byte(pid)
	n := len(payload)
	if n > 184 {
		n = 184
	}
	if n == 184 {
		p[3] = 0x10 | cc&0x0f
		copy(p[4:], payload)
		return p
	}
	// Stuff with an adaptation field so the payload ends the packet.
	p[3] = 0x30 | cc&0x0f
	af := 184 - n - 1
	p[4] = byte(af)
	if af > 0 {
		p[5] = 0
		for i := 6; i < 5+af; i++ {
			p[i] = 0xFF
		}
	}
	copy(p[5+af:], payload[:n])
	return p
}

// section wraps a PSI section body (from table_id_extension on) with the
// table header and a CRC-32/MPEG-2.
func section(tableID byte, ext uint16, body []byte) []byte {
	l := 5 + len(body) + 4
	s := []byte{0, tableID, 0xB0 | byte(l>>8), byte(l), byte(ext >> 8), byte(ext), 0xC1, 0, 0}
	s = append(s, body...)
	crc := crc32mpeg(s[1:])
	return append(s, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
}

func crc32mpeg(b []byte) uint32 {
	crc := uint32(0xFFFFFFFF)
	for _, v := range b {
		crc ^= uint32(v) << 24
		for i := 0; i < 8; i++ {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// psi returns a PAT and a PMT for one program with an H.264 stream on
// PID 0x100 and an ADTS AAC stream on 0x101.
func psi() []byte {
	pat := section(0x00, 1, []byte{0x00, 0x01, 0xE1, 0x00})
	pmt := section(0x02, 1, []byte{0xE1, 0x00, 0xF0, 0x00,
		0x1B, 0xE1, 0x00, 0xF0, 0x00,
		0x0F, 0xE1, 0x01, 0xF0, 0x00})
	return append(packet(0, true, 0, pat), packet(0x100, true, 0, pmt)...)
}

func pesHeader(streamID byte, length int, pts int64) []byte {
	h := []byte{0, 0, 1, streamID, byte(length >> 8), byte(length), 0x80, 0x80, 5,
		byte(0x21 | (pts>>29)&0x0e), byte(pts >> 22), byte(0x01 | (pts>>14)&0xfe), byte(pts >> 7), byte(0x01 | (pts<<1)&0xfe)}
	return h
}

type hostileCase struct {
	name string
	data []byte
	// want is the sentinel the reader must report (from NewReader or
	// Samples), nil when the input must be read without error.
	want error
}

func hostileCases() []hostileCase {
	adts := func(n int) []byte { // one ADTS frame of n bytes, 48 kHz stereo LC
		f := make([]byte, n)
		copy(f, []byte{0xFF, 0xF1, 0x4C, 0x80, byte(n >> 3 & 0xff), byte(n&7<<5 | 0x1f), 0xFC})
		f[3] |= byte(n >> 11 & 3)
		return f
	}
	var cases []hostileCase
	// A PES claiming 65535 bytes whose data never comes.
	{
		b := psi()
		pl := append(pesHeader(0xC0, 0xFFFF, 90000), adts(100)...)
		b = append(b, packet(0x101, true, 0, pl)...)
		cases = append(cases, hostileCase{"pes length beyond file", b, media.ErrTruncated})
	}
	// A file cut in the middle of a packet.
	{
		b := psi()
		pl := append(pesHeader(0xC0, 8+100, 90000), adts(100)...)
		b = append(b, packet(0x101, true, 0, pl)...)
		b = append(b, packet(0x101, true, 1, pl)...)
		b = b[:len(b)-50]
		cases = append(cases, hostileCase{"cut packet", b, media.ErrTruncated})
	}
	// Garbage between packets: resynchronised, no error.
	{
		b := psi()
		b = append(b, bytes.Repeat([]byte{0x47, 0x00, 0x13}, 40)...)
		for i := 0; i < 4; i++ {
			pl := append(pesHeader(0xC0, 8+100, 90000+int64(i)*1920), adts(100)...)
			b = append(b, packet(0x101, true, uint8(i), pl)...)
		}
		cases = append(cases, hostileCase{"garbage", b, nil})
	}
	// Continuity counter jumps: counted, not fatal.
	{
		b := psi()
		for i := 0; i < 4; i++ {
			pl := append(pesHeader(0xC0, 8+100, 90000+int64(i)*1920), adts(100)...)
			b = append(b, packet(0x101, true, uint8(i*3), pl)...)
		}
		cases = append(cases, hostileCase{"cc errors", b, nil})
	}
	// A PES header whose header_data_length runs past its packet.
	{
		b := psi()
		pl := pesHeader(0xE0, 0, 90000)
		pl[8] = 0xFF
		b = append(b, packet(0x100, true, 0, pl)...)
		cases = append(cases, hostileCase{"pes header overflow", b, media.ErrTruncated})
	}
	// An access unit that never ends: bounded by the input, no error.
	{
		b := psi()
		b = append(b, packet(0x100, true, 0, append(pesHeader(0xE0, 0, 90000), 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x65, 0x88))...)
		for i := 1; i < 50; i++ {
			b = append(b, packet(0x100, false, uint8(i), bytes.Repeat([]byte{0xAB}, 184))...)
		}
		cases = append(cases, hostileCase{"endless AU", b, nil})
	}
	// No PAT at all.
	cases = append(cases, hostileCase{"no PAT", bytes.Repeat(packet(0x1FFF, false, 0, nil), 4), media.ErrCorrupt})
	// Not a transport stream.
	cases = append(cases, hostileCase{"no sync", bytes.Repeat([]byte("not a ts "), 100), media.ErrCorrupt})
	// Shorter than a packet.
	cases = append(cases, hostileCase{"tiny", []byte{0x47, 0x40, 0}, media.ErrTruncated})
	// Adaptation field length larger than the packet.
	{
		b := psi()
		p := packet(0x101, true, 0, append(pesHeader(0xC0, 8+100, 90000), adts(100)...))
		p[3] |= 0x20
		p[4] = 200
		b = append(b, p...)
		cases = append(cases, hostileCase{"adaptation overflow", b, nil})
	}
	return cases
}

func TestHostileInput(t *testing.T) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			var got error
			r, err := ts.NewReader(bytes.NewReader(c.data), int64(len(c.data)))
			if err != nil {
				got = err
			} else {
				for _, err := range r.Samples() {
					if err != nil {
						got = err
					}
				}
				// Truncation the reader reads past is a warning that
				// carries the error strict reading fails with.
				for _, w := range r.Warnings() {
					if got == nil && c.want != nil && errors.Is(w, c.want) {
						got = w.PosError()
					}
				}
				if got != nil {
					sr, err := ts.NewReader(bytes.NewReader(c.data), int64(len(c.data)), ts.WithStrict(true))
					var serr error = err
					if err == nil {
						for _, err := range sr.Samples() {
							if err != nil {
								serr = err
							}
						}
					}
					// Strict fails at the first damage, which may come
					// before the truncation.
					var spe *media.PosError
					if !errors.As(serr, &spe) {
						t.Errorf("strict: got %v, want a *media.PosError", serr)
					}
				}
			}
			if c.want == nil {
				if got != nil {
					t.Fatalf("unexpected error %v", got)
				}
				return
			}
			if !errors.Is(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			checkErr(t, got)
			var pe *media.PosError
			errors.As(got, &pe)
			if pe.Format != "mpegts" || pe.What == "" || pe.Offset < 0 || pe.Offset > int64(len(c.data)) {
				t.Errorf("PosError %+v lacks a position", pe)
			}
		})
	}
}

func TestStrictReportsDamage(t *testing.T) {
	for _, c := range hostileCases() {
		if c.name != "garbage" && c.name != "cc errors" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			r, err := ts.NewReader(bytes.NewReader(c.data), int64(len(c.data)), ts.WithStrict(true))
			if err == nil {
				for _, e := range r.Samples() {
					if e != nil {
						err = e
					}
				}
			}
			if !errors.Is(err, media.ErrCorrupt) {
				t.Fatalf("strict: got %v, want ErrCorrupt", err)
			}
			// Lenient mode counts the same damage.
			r, err = ts.NewReader(bytes.NewReader(c.data), int64(len(c.data)))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range r.Samples() {
				if e != nil {
					t.Fatal(e)
				}
				n++
			}
			st := r.Stats()
			if n != 4 || st.Resyncs+st.CCErrors == 0 {
				t.Fatalf("%d samples, stats %+v", n, st)
			}
		})
	}
}
