package ts_test

import (
	"fmt"
	"log"
	"os"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// Demultiplex a transport stream: list its tracks from the headers, then
// walk the first access units with their timestamps (90 kHz) and flags.
func ExampleNewReader() {
	f, err := os.Open("../testdata/media/ts_single.ts")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	r, err := ts.NewReader(f, st.Size())
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range r.Tracks() {
		fmt.Printf("track %d: PID 0x%x program %d %s %s %q start %d duration %.2fs\n",
			t.Index, t.ID, t.Program, t.Kind, t.Codec, t.CodecString, t.StartPTS, t.Seconds(t.Duration))
	}
	shown := map[int]int{}
	count := map[int]int{}
	for s, err := range r.Samples() {
		if err != nil {
			log.Fatal(err)
		}
		count[s.TrackID]++
		if shown[s.TrackID] < 3 {
			shown[s.TrackID]++
			fmt.Printf("PID 0x%x #%d dts %d pts %d %4d bytes key=%v PES at byte %d\n",
				s.TrackID, s.Index, s.DTS, s.PTS, s.Size, s.Sync, s.Pos)
		}
	}
	fmt.Println("access units per PID:", count)
	// Output:
	// track 0: PID 0x100 program 1 video h264 "avc1.64000C" start 133200 duration 2.00s
	// track 1: PID 0x101 program 1 audio aac "mp4a.40.2" start 131280 duration 1.73s
	// PID 0x100 #0 dts 126000 pts 133200 3226 bytes key=true PES at byte 564
	// PID 0x100 #1 dts 129600 pts 147600 1030 bytes key=false PES at byte 3948
	// PID 0x100 #2 dts 133200 pts 140400  462 bytes key=false PES at byte 5076
	// PID 0x101 #0 dts 131280 pts 131280  155 bytes key=true PES at byte 12596
	// PID 0x101 #1 dts 133200 pts 133200  238 bytes key=true PES at byte 12596
	// PID 0x101 #2 dts 135120 pts 135120  170 bytes key=true PES at byte 12596
	// access units per PID: map[256:50 257:95]
}

// media.Open finds the reader by the file's first bytes once package ts
// is imported.
func ExampleMatch() {
	b, err := os.ReadFile("../testdata/media/ts_multi.ts")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ts.Match(b[:media.SniffLen]))
	f, err := os.Open("../testdata/media/ts_multi.ts")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	d, err := media.Open(f, int64(len(b)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Format())
	for _, p := range d.(*ts.Reader).Programs() {
		fmt.Printf("program %d: PMT PID 0x%x, PCR PID 0x%x, tracks %v\n", p.Number, p.PMTPID, p.PCRPID, p.Tracks)
	}
	// Output:
	// true
	// mpegts
	// program 1: PMT PID 0x1000, PCR PID 0x100, tracks [0 1]
	// program 2: PMT PID 0x1001, PCR PID 0x102, tracks [2 3]
}

// FindSync finds where packets line up again after junk: here 5 bytes of
// garbage, then three 188-byte packets.
func ExampleFindSync() {
	b := make([]byte, 5+3*ts.PacketSize)
	for i := 0; i < 3; i++ {
		b[5+i*ts.PacketSize] = 0x47
	}
	b[2] = 0x47 // a lone sync byte in the junk is not a packet grid
	fmt.Println(ts.FindSync(b, ts.PacketSize, 0, true))
	// Output: 5
}
