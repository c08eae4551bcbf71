package live_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/media"
)

// A FileSource plays the embedded sample ladder into a Packager; on a
// fake clock, PushUntil feeds it up to a live time without waiting. A
// part holds whole frames: at 25 fps a 500 ms target becomes 12 frames
// (480 ms), the PART-TARGET, and a 2 s segment ends with an 80 ms part.
func ExampleFileSource() {
	clock := live.NewFakeClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	p := live.New(live.WithClock(clock), live.WithSegmentDuration(2*time.Second), live.WithPartDuration(500*time.Millisecond))
	in, err := live.SampleInputs()
	if err != nil {
		log.Fatal(err)
	}
	src, err := live.NewFileSource(p, in)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	if _, err := src.PushUntil(2600 * time.Millisecond); err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, r := range p.Renditions() {
		names = append(names, r.Name)
	}
	pl, _ := p.MediaPlaylist("v0", false)
	fmt.Print(strings.Join(names, " "), "\n", pl)
	// Output:
	// v0 v1 v2 a0
	// #EXTM3U
	// #EXT-X-VERSION:9
	// #EXT-X-TARGETDURATION:2
	// #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.000,PART-HOLD-BACK=1.440,HOLD-BACK=6.000
	// #EXT-X-PART-INF:PART-TARGET=0.480
	// #EXT-X-MEDIA-SEQUENCE:0
	// #EXT-X-MAP:URI="init_0.mp4"
	// #EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:00.080Z
	// #EXT-X-PART:DURATION=0.480,URI="part_0_0.m4s",INDEPENDENT=YES
	// #EXT-X-PART:DURATION=0.480,URI="part_0_1.m4s"
	// #EXT-X-PART:DURATION=0.480,URI="part_0_2.m4s"
	// #EXT-X-PART:DURATION=0.480,URI="part_0_3.m4s"
	// #EXT-X-PART:DURATION=0.080,URI="part_0_4.m4s"
	// #EXTINF:2.000,
	// seg_0.m4s
	// #EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:02.080Z
	// #EXT-X-PART:DURATION=0.480,URI="part_1_0.m4s",INDEPENDENT=YES
	// #EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_1_1.m4s"
	// #EXT-X-RENDITION-REPORT:URI="../v1/media.m3u8",LAST-MSN=1,LAST-PART=0
	// #EXT-X-RENDITION-REPORT:URI="../v2/media.m3u8",LAST-MSN=1,LAST-PART=0
	// #EXT-X-RENDITION-REPORT:URI="../a0/media.m3u8",LAST-MSN=1,LAST-PART=0
}

// Push is the API for any source (an ingest, an encoder): samples with
// their payload, per rendition, in decode order, on one timeline.
func ExamplePackager_Push() {
	in, err := live.SampleInputs()
	if err != nil {
		log.Fatal(err)
	}
	d := in[0].Demuxer // 426x240 H.264
	t := d.Tracks()[0]
	p := live.New(live.WithClock(live.NewFakeClock(time.Unix(0, 0))))
	if err := p.AddRendition("video", t); err != nil {
		log.Fatal(err)
	}
	var buf []byte
	for s, err := range media.TrackSamples(d, t.ID) {
		if err != nil {
			log.Fatal(err)
		}
		if buf, err = d.ReadSample(&s, buf); err != nil {
			log.Fatal(err)
		}
		if err := p.Push("video", s, buf); err != nil {
			log.Fatal(err)
		}
	}
	p.End() // the last segment is complete; the playlist ends
	pl, _ := p.MediaPlaylist("video", false)
	fmt.Println(strings.Count(pl, "#EXTINF"), "segments,", strings.Count(pl, "#EXT-X-PART:"), "parts listed,", strings.HasSuffix(pl, "#EXT-X-ENDLIST\n"))
	// Output: 4 segments, 30 parts listed, true
}

// ParseBlockRequest reads the LL-HLS query parameters; bad ones are 400.
func ExampleParseBlockRequest() {
	br, err := live.ParseBlockRequest("_HLS_msn=12&_HLS_part=3&_HLS_skip=YES")
	fmt.Println(br, err)
	_, err = live.ParseBlockRequest("_HLS_part=3")
	fmt.Println(err)
	// Output:
	// {12 3 true} <nil>
	// live: bad query: _HLS_part without _HLS_msn
}

// An Origin is an http.Handler: here behind httptest, a blocking reload
// for a part that the source has yet to produce.
func ExampleOrigin() {
	clock := live.NewFakeClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	p := live.New(live.WithClock(clock))
	src, err := live.NewSampleSource(p)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	src.PushUntil(3 * time.Second)
	srv := httptest.NewServer(live.NewOrigin(p))
	defer srv.Close()
	defer p.End()

	answered := make(chan string)
	go func() {
		resp, err := http.Get(srv.URL + "/live/v1/media.m3u8?_HLS_msn=1&_HLS_part=5")
		if err != nil {
			answered <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		answered <- resp.Status + ", last part: " + lines[len(lines)-5]
	}()
	clock.WaitTimers(1, nil)               // the request is parked in the origin
	src.PushUntil(3400 * time.Millisecond) // part 1.5 is 3.0–3.2 s: complete when the 3.2 s frame arrives
	fmt.Println(<-answered)
	// Output: 200 OK, last part: #EXT-X-PART:DURATION=0.200,URI="part_1_5.m4s"
}

// Serve runs an origin with its timeouts, connection limit and graceful
// shutdown until the context ends.
func ExampleServe() {
	p := live.New()
	src, err := live.NewSampleSource(p)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go src.Run(ctx)
	fmt.Println("hls: http://" + ln.Addr().String() + "/live/master.m3u8")
	if err := live.Serve(ctx, ln, live.NewOrigin(p), p); err != nil {
		log.Fatal(err)
	}
}

// WithSigner signs every part and segment as the packager publishes it;
// a player (or a peer) checks what it fetched against the rendition's
// sidecar, PREFIX/NAME.integrity.json on the origin.
func ExampleWithSigner() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // streamkit keygen makes real keys
	clock := live.NewFakeClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	signer, err := integrity.NewSigner(priv, "match-42", integrity.WithClock(clock.Now))
	if err != nil {
		log.Fatal(err)
	}
	p := live.New(live.WithClock(clock), live.WithSigner(signer))
	in, err := live.SampleInputs()
	if err != nil {
		log.Fatal(err)
	}
	src, err := live.NewFileSource(p, in)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	if _, err := src.PushUntil(2500 * time.Millisecond); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(live.NewOrigin(p))
	defer srv.Close()
	fetch := func(path string) []byte {
		resp, err := http.Get(srv.URL + "/live/" + path)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	var sc integrity.Sidecar
	if err := sc.Unmarshal(fetch("v0.integrity.json")); err != nil {
		log.Fatal(err)
	}
	v := integrity.NewVerifier(priv.Public().(ed25519.PublicKey), "match-42")
	if err := v.Load(&sc); err != nil {
		log.Fatal(err)
	}
	seg := fetch("v0/seg_0.m4s")
	// At 2.5 s: the init segment, segment 0's ten parts and the
	// segment, and the two parts of segment 1 published so far.
	fmt.Println("entries:", len(sc.Entries), "first:", sc.Entries[0].Label())
	fmt.Println("segment 0:", v.Verify("v0", 0, seg))
	seg[100] ^= 1
	fmt.Println("altered:", errors.Is(v.Verify("v0", 0, seg), integrity.ErrMismatch))
	// Output:
	// entries: 14 first: init
	// segment 0: <nil>
	// altered: true
}
