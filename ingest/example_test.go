package ingest_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
	"github.com/streamkit-go/streamkit/live"
)

// An ingest server with an RTMP listener and the HTTP origin of its
// streams: publish with ffmpeg -re -i in.mp4 -c copy -f flv
// rtmp://127.0.0.1:1935/live/show, watch http://127.0.0.1:8080/live/show/.
func ExampleServer_ServeRTMP() {
	srv := ingest.New(
		ingest.WithPackagerOptions(live.WithSegmentDuration(2*time.Second), live.WithPartDuration(200*time.Millisecond)),
		ingest.WithPublishKey("s3cret"), // rtmp://…/live/show?key=s3cret
		ingest.WithOnStart(func(name string) { fmt.Println("hls: http://127.0.0.1:8080/live/" + name + "/master.m3u8") }),
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rtmp, err := net.Listen("tcp", "127.0.0.1:1935")
	if err != nil {
		return
	}
	web, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		return
	}
	go live.Serve(ctx, web, srv, srv.Template())
	srv.ServeRTMP(ctx, rtmp) // until ctx is done
	srv.Close()              // EXT-X-ENDLIST on every stream
}

// MPEG-TS over UDP, unicast or multicast, as one stream.
func ExampleServer_ServeUDP() {
	srv := ingest.New()
	conn, err := ingest.ListenUDP("127.0.0.1:5000", "") // or "239.1.1.1:5000", "eth0"
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv.ServeUDP(ctx, conn, "tv") // served at /live/tv/
	if st := srv.Stream("tv"); st != nil {
		fmt.Println(st.Stats().TS.CCErrors, "continuity errors (lost packets)")
	}
}

// SRT with a passphrase and 200 ms latency; publishers send
// streamid=publish:NAME.
func ExampleListenSRT() {
	ln, err := ingest.ListenSRT("127.0.0.1:9000", ingest.WithSRTPassphrase("a long passphrase"), ingest.WithSRTLatency(200*time.Millisecond))
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ingest.New().ServeSRT(ctx, ln)
}
