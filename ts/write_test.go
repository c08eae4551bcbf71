package ts_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/ts"
)

const muxFixtures = "../testdata/media"

func muxFixture(t testing.TB, name string, opts ...ts.WriteOption) (media.Demuxer, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(muxFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := media.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ts.Mux(context.Background(), &out, d, opts...); err != nil {
		t.Fatal(err)
	}
	return d, out.Bytes()
}

// TestMuxStructure checks the transport-level rules of the writer's
// output: packet size and sync, continuity counters, PAT and PMT first
// and before every key frame, an SDT, PCR on the video PID at most 100 ms
// apart (audio-only: on every PES, so at most the 350 ms an audio PES
// holds) and never ahead of the DTS it precedes, PES headers with PTS.
func TestMuxStructure(t *testing.T) {
	for _, name := range []string{"h264_b.mp4", "hevc_b_hvc1.mp4", "aac.m4a", "h264_vfr.mp4", "ts_ac3.ts", "ac3.mp4"} {
		t.Run(name, func(t *testing.T) {
			_, out := muxFixture(t, name)
			if len(out)%ts.PacketSize != 0 {
				t.Fatalf("%d bytes: not whole packets", len(out))
			}
			cc := map[uint16]int{}
			var lastPCR int64 = -1
			sawPAT, sawPMT, sawSDT := false, false, false
			maxGap := int64(100 * 90)
			video := name != "aac.m4a" && name != "ac3.mp4" // the first PID is video
			if name == "h264_vfr.mp4" {
				// The period is a multiple of the average frame duration
				// (as in ffmpeg): the 15 fps part can overshoot by a frame.
				maxGap += 6000
			}
			if !video {
				maxGap = 350*90 + 2880 // 350 ms of PES plus one frame
			}
			psiBeforeKey := 0 // packets since the last PAT
			keys := 0
			for i := 0; i < len(out); i += ts.PacketSize {
				p := out[i : i+ts.PacketSize]
				if p[0] != 0x47 {
					t.Fatalf("packet %d: no sync byte", i/ts.PacketSize)
				}
				pid := uint16(p[1]&0x1f)<<8 | uint16(p[2])
				pusi := p[1]&0x40 != 0
				afc := p[3] >> 4 & 3
				c := int(p[3] & 0xf)
				if afc&1 != 0 {
					if prev, ok := cc[pid]; ok && c != (prev+1)&0xf {
						t.Fatalf("packet %d PID %#x: continuity counter %d after %d", i/ts.PacketSize, pid, c, prev)
					}
					cc[pid] = c
				}
				if i == 0 && pid != 0 {
					t.Fatalf("first packet is PID %#x, want the PAT", pid)
				}
				switch pid {
				case 0:
					sawPAT = true
					psiBeforeKey = 0
					continue
				case ts.WriterPMTPID:
					sawPMT = true
					continue
				case 0x11:
					sawSDT = true
					continue
				}
				if !sawPAT || !sawPMT {
					t.Fatalf("packet %d: elementary stream before PAT/PMT", i/ts.PacketSize)
				}
				psiBeforeKey++
				payload := 4
				rai := false
				if afc&2 != 0 {
					afl := int(p[4])
					payload = 5 + afl
					if afl > 0 {
						rai = p[5]&0x40 != 0
						if p[5]&0x10 != 0 {
							base := int64(p[6])<<25 | int64(p[7])<<17 | int64(p[8])<<9 | int64(p[9])<<1 | int64(p[10])>>7
							if pid != ts.WriterFirstPID {
								t.Errorf("PCR on PID %#x, want the first stream's", pid)
							}
							if lastPCR >= 0 && base-lastPCR > maxGap {
								t.Errorf("packet %d: PCR gap %.1f ms", i/ts.PacketSize, float64(base-lastPCR)/90)
							}
							if base < lastPCR {
								t.Errorf("packet %d: PCR goes back", i/ts.PacketSize)
							}
							lastPCR = base
						}
					}
				}
				if rai && video && pid == ts.WriterFirstPID {
					keys++
					if psiBeforeKey != 1 {
						t.Errorf("packet %d: key frame without PAT/PMT right before it", i/ts.PacketSize)
					}
				}
				if pusi && afc&1 != 0 {
					pes := p[payload:]
					if len(pes) < 14 || pes[0] != 0 || pes[1] != 0 || pes[2] != 1 || pes[7]&0x80 == 0 {
						t.Fatalf("packet %d: PES start without PTS", i/ts.PacketSize)
					}
					dts := pesTS(pes[9:])
					if pes[7]&0x40 != 0 {
						dts = pesTS(pes[14:])
					}
					if lastPCR > dts {
						t.Errorf("packet %d: PCR %d ahead of DTS %d", i/ts.PacketSize, lastPCR, dts)
					}
				}
			}
			if lastPCR < 0 {
				t.Error("no PCR")
			}
			if !sawSDT {
				t.Error("no SDT")
			}
		})
	}
}

func pesTS(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// TestMuxReadsBack reads the output with the TS reader: every sample is
// there, key frames where they were, timestamps moved by
// DefaultTimeOffset (for MP4 input, after the edit-list shift).
func TestMuxReadsBack(t *testing.T) {
	for _, name := range []string{"h264_b.mp4", "h264_editlist.mp4", "hevc_b_hev1.mp4", "eac3_51.mp4", "ts_single.ts"} {
		t.Run(name, func(t *testing.T) {
			in, out := muxFixture(t, name)
			r, err := ts.NewReader(bytes.NewReader(out), int64(len(out)))
			if err != nil {
				t.Fatal(err)
			}
			type tm struct {
				dts, pts int64
				key      bool
			}
			collect := func(d media.Demuxer, toTS func(*media.Track, int64) int64) [][]tm {
				idx := map[int]int{}
				tr := map[int]*media.Track{}
				var res [][]tm
				for _, x := range d.Tracks() {
					idx[x.ID] = len(res)
					tr[x.ID] = x
					res = append(res, nil)
				}
				for s, err := range d.Samples() {
					if err != nil {
						t.Fatal(err)
					}
					x := tr[s.TrackID]
					res[idx[s.TrackID]] = append(res[idx[s.TrackID]], tm{toTS(x, s.DTS), toTS(x, s.PTS), s.Sync})
				}
				return res
			}
			off := int64(ts.DefaultTimeOffset)
			if in.Format() == "mpegts" {
				off = 0
			}
			want := collect(in, func(x *media.Track, v int64) int64 {
				v += mp4.EditShift(x)
				return (v*ts.Timescale+int64(x.Timescale)/2)/int64(x.Timescale) + off
			})
			got := collect(r, func(_ *media.Track, v int64) int64 { return v })
			if len(got) != len(want) {
				t.Fatalf("%d tracks, want %d", len(got), len(want))
			}
			for i := range want {
				if len(got[i]) != len(want[i]) {
					t.Errorf("track %d: %d samples, want %d", i, len(got[i]), len(want[i]))
					continue
				}
				for j := range want[i] {
					a, b := want[i][j], got[i][j]
					if abs(a.dts-b.dts) > 1 || abs(a.pts-b.pts) > 1 || a.key != b.key {
						t.Errorf("track %d sample %d: %+v, want %+v", i, j, b, a)
						break
					}
				}
			}
		})
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestMuxRejectsAV1(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(muxFixtures, "av1.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := media.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Mux(context.Background(), &bytes.Buffer{}, d); !errors.Is(err, ts.ErrWrite) {
		t.Errorf("err = %v, want ts.ErrWrite", err)
	}
}

// FuzzMux muxes whatever the readers accept (MPEG-TS or MP4): the writer
// must not panic, and its output must open with the TS reader.
func FuzzMux(f *testing.F) {
	for _, n := range []string{"ts_single.ts", "ts_ac3.ts", "aac.m4a", "h264_nob.mp4"} {
		b, err := os.ReadFile(filepath.Join(muxFixtures, n))
		if err == nil {
			if len(b) > 64<<10 {
				b = b[:64<<10]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := media.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := ts.Mux(context.Background(), &out, d); err != nil {
			return
		}
		if out.Len() == 0 {
			return
		}
		if _, err := ts.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
			t.Fatalf("output does not open: %v", err)
		}
	})
}

// BenchmarkMux muxes the 6 s 640x360 ladder rendition (MP4, in memory) to
// io.Discard. MB/s counts input bytes.
func BenchmarkMux(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(muxFixtures, "ladder_360.mp4"))
	if err != nil {
		b.Fatal(err)
	}
	d, err := media.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ts.Mux(context.Background(), io.Discard, d); err != nil {
			b.Fatal(err)
		}
	}
}
