// Command live-ingest runs streamkit's live ingest on loopback ports — an
// RTMP server, an SRT listener and an MPEG-TS-over-UDP socket feeding the
// live packager — and publishes to it: a Go "encoder" sends the embedded
// sample as MPEG-TS over UDP (and restarts once, to show the
// discontinuity), and, when ffmpeg is installed, ffmpeg publishes a
// two-rendition ladder over RTMP (cam_360 and cam_240 → /live/cam/). It
// prints the entry points as each stream starts, the ingest-arrival
// stamps of the first frames, the counters, and the playlists.
//
//	go run ./examples/live-ingest
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/media"
	_ "github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/sample"
	"github.com/streamkit-go/streamkit/ts"
)

func main() {
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal("live-ingest: ", err)
	}
}

func run() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Arrival stamps: the first three frames of each rendition.
	var amu sync.Mutex
	seen := map[string]int{}
	arrival := func(a ingest.Arrival) {
		amu.Lock()
		defer amu.Unlock()
		k := a.Stream + "/" + a.Rendition
		if seen[k] < 3 {
			seen[k]++
			fmt.Printf("  arrival %-12s DTS %7.3fs key=%-5v %6d bytes at %s\n", k, float64(a.DTS)/float64(a.Timescale), a.Key, a.Size, a.At.Format("15:04:05.000"))
		}
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + httpLn.Addr().String()
	srv := ingest.New(
		ingest.WithPackagerOptions(live.WithSegmentDuration(2*time.Second), live.WithPartDuration(200*time.Millisecond)),
		ingest.WithReadTimeout(2*time.Second),
		ingest.WithLogger(slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))),
		ingest.WithArrival(arrival),
		ingest.WithOnStart(func(name string) {
			fmt.Printf("stream %s started:\n  hls: %s/live/%s/master.m3u8\n  dash: %s/live/%s/manifest.mpd\n", name, base, name, base, name)
		}),
	)
	rtmpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srtLn, err := ingest.ListenSRT("127.0.0.1:0")
	if err != nil {
		return err
	}
	udp, err := ingest.ListenUDP("127.0.0.1:0", "")
	if err != nil {
		return err
	}
	fmt.Printf("ingest: rtmp://%s/live/NAME  srt://%s?streamid=publish:NAME  udp://%s (stream studio)\n\n",
		rtmpLn.Addr(), srtLn.Addr(), udp.LocalAddr())

	var wg sync.WaitGroup
	serve := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				log.Print(err)
			}
		}()
	}
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	defer stopHTTP()
	serve(func() error { return live.Serve(httpCtx, httpLn, srv, srv.Template()) })
	serve(func() error { return srv.ServeRTMP(ctx, rtmpLn) })
	serve(func() error { return srv.ServeSRT(ctx, srtLn) })
	serve(func() error { return srv.ServeUDP(ctx, udp, "studio") })

	// The publishers.
	var pubs sync.WaitGroup
	pubs.Add(1)
	go func() {
		defer pubs.Done()
		for i := 0; i < 2; i++ {
			if i == 1 {
				fmt.Println("\n-- the UDP encoder restarts (new source port, timestamps from zero): a discontinuity --")
			}
			if err := publishUDP(ctx, udp.LocalAddr().String()); err != nil {
				log.Print("udp publisher: ", err)
			}
		}
	}()
	if ff, err := exec.LookPath("ffmpeg"); err == nil {
		dir, err := os.MkdirTemp("", "live-ingest")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		for _, n := range []string{sample.Video240, sample.Video360, sample.Audio} {
			b, _ := sample.Bytes(n)
			os.WriteFile(filepath.Join(dir, n), b, 0o644)
		}
		for _, v := range []struct{ file, name string }{{sample.Video360, "cam_360"}, {sample.Video240, "cam_240"}} {
			pubs.Add(1)
			go func() {
				defer pubs.Done()
				cmd := exec.CommandContext(ctx, ff, "-nostdin", "-loglevel", "error", "-re", "-i", filepath.Join(dir, v.file),
					"-re", "-i", filepath.Join(dir, sample.Audio), "-map", "0:v", "-map", "1:a", "-c", "copy",
					"-f", "flv", "rtmp://"+rtmpLn.Addr().String()+"/live/"+v.name)
				if out, err := cmd.CombinedOutput(); err != nil && ctx.Err() == nil {
					log.Printf("ffmpeg %s: %v %s", v.name, err, out)
				}
			}()
		}
	} else {
		fmt.Println("(ffmpeg not found: the RTMP ladder is skipped; the UDP stream still plays)")
	}
	pubs.Wait()
	time.Sleep(2500 * time.Millisecond) // the UDP publish times out: its last segment completes

	fmt.Println()
	for _, name := range srv.Streams() {
		st := srv.Stream(name).Stats()
		fmt.Printf("stream %s: %d publishes, %d frames dropped before a key frame; TS packets %d, continuity errors %d\n",
			name, st.Publishes, st.Dropped, st.TS.Packets, st.TS.CCErrors)
	}
	show := func(path string, lines int) {
		resp, err := http.Get(base + path)
		if err != nil {
			log.Print(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ls := strings.Split(strings.TrimSpace(string(b)), "\n")
		fmt.Printf("\nGET %s (%s), last %d lines:\n", path, resp.Status, min(lines, len(ls)))
		for _, l := range ls[max(0, len(ls)-lines):] {
			fmt.Println("  " + l)
		}
	}
	show("/live/studio/v0/media.m3u8", 14)
	if srv.Stream("cam") != nil {
		show("/live/cam/master.m3u8", 8)
		if d := srv.Stream("cam").P.Drift(); len(d) == 0 {
			fmt.Println("  key frames of cam_360 and cam_240 aligned at every segment start (no drift report)")
		}
	}
	cancel()
	srv.Close()
	stopHTTP()
	wg.Wait()
	return nil
}

// publishUDP is a minimal MPEG-TS-over-UDP encoder: the embedded 240p
// video and the audio, muxed by package ts, sent in real time as
// 7×188-byte datagrams from a fresh socket.
func publishUDP(ctx context.Context, addr string) error {
	var tracks []*media.Track
	var ds []media.Demuxer
	for i, n := range []string{sample.Video240, sample.Audio} {
		r, size, err := sample.Open(n)
		if err != nil {
			return err
		}
		d, err := media.Open(r, size)
		if err != nil {
			return err
		}
		t := *d.Tracks()[0]
		t.ID = i + 1
		tracks = append(tracks, &t)
		ds = append(ds, d)
	}
	var buf bytes.Buffer
	tw, err := ts.NewWriter(&buf, tracks)
	if err != nil {
		return err
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	type item struct {
		s    media.Sample
		data []byte
		sec  float64
	}
	var all []item
	for i, d := range ds {
		for s, err := range media.TrackSamples(d, d.Tracks()[0].ID) {
			if err != nil {
				return err
			}
			b, err := d.ReadSample(&s, nil)
			if err != nil {
				return err
			}
			s.TrackID = i + 1
			all = append(all, item{s, bytes.Clone(b), tracks[i].Seconds(s.DTS)})
		}
	}
	// Decode order across the two tracks.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && all[j].sec < all[j-1].sec; j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	start := time.Now()
	for _, it := range all {
		if wait := time.Until(start.Add(time.Duration(it.sec * float64(time.Second)))); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := tw.WriteSample(&it.s, it.data); err != nil {
			return err
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for buf.Len() >= 1316 {
			if _, err := conn.Write(buf.Next(1316)); err != nil && !errors.Is(err, net.ErrClosed) {
				return err
			}
		}
	}
	if buf.Len() > 0 {
		conn.Write(buf.Bytes())
	}
	return nil
}
