package latency

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
	"github.com/streamkit-go/streamkit/live"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/ts"
)

// StreamName is the stream the experiment publishes: served at
// /live/clock/.
const StreamName = "clock"

// Arrival is the ingest arrival of one video frame: its decode time on
// the live timeline and when its last byte arrived.
type Arrival struct {
	DTS       int64
	Timescale uint32
	At        time.Time
}

// Ingest carries the encoder's output into a live packager: the
// pluggable step between the encoder command and the origin.
type Ingest interface {
	// Start begins receiving. The packager it creates takes popts;
	// arrived is called for every video frame pushed. It returns what
	// replaces {url} in the encoder command ("-" when the encoder writes
	// MPEG-TS to its stdout, which Feed then reads).
	Start(ctx context.Context, popts []live.Option, arrived func(Arrival)) (url string, err error)
	// Feed reads the encoder's stdout until EOF or ctx ends.
	Feed(ctx context.Context, r io.Reader) error
	// Packager returns the stream's packager, nil until it started.
	Packager() *live.Packager
	// Handler serves /live/clock/… (playlists, MPD, media, player page)
	// and /js/ (the player libraries).
	Handler() http.Handler
	// Close ends the stream and releases the listeners.
	Close() error
}

// RTMPIngest is the ingest server of package ingest listening for RTMP
// on a loopback port: the encoder publishes rtmp://127.0.0.1:PORT/live/clock.
func RTMPIngest(playerJS map[string]string) Ingest { return &rtmpIngest{js: playerJS} }

type rtmpIngest struct {
	js   map[string]string
	srv  *ingest.Server
	ln   net.Listener
	done chan error
}

func (r *rtmpIngest) Start(ctx context.Context, popts []live.Option, arrived func(Arrival)) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	r.ln = ln
	r.srv = ingest.New(ingest.WithPackagerOptions(popts...), ingest.WithPlayerJS(r.js), ingest.WithMaxStreams(2),
		ingest.WithArrival(func(a ingest.Arrival) {
			if a.Stream == StreamName && a.Rendition != "" && a.Rendition[0] == 'v' {
				arrived(Arrival{DTS: a.DTS, Timescale: a.Timescale, At: a.At})
			}
		}))
	r.done = make(chan error, 1)
	go func() { r.done <- r.srv.ServeRTMP(ctx, ln) }()
	return "rtmp://" + ln.Addr().String() + "/live/" + StreamName, nil
}

func (r *rtmpIngest) Feed(ctx context.Context, rd io.Reader) error {
	_, err := io.Copy(io.Discard, rd)
	return err
}

func (r *rtmpIngest) Packager() *live.Packager {
	if st := r.srv.Stream(StreamName); st != nil && len(st.P.Renditions()) > 0 {
		return st.P
	}
	return nil
}

func (r *rtmpIngest) Handler() http.Handler { return r.srv }

func (r *rtmpIngest) Close() error {
	r.ln.Close()
	return errors.Join(r.srv.Close())
}

// PipeIngest reads MPEG-TS from the encoder's stdout through the
// project's TS reader in streaming mode (ts.Stream): the fallback when
// no network ingest is wanted, and the shortest path from encoder to
// packager. The encoder command writes MPEG-TS to "-" ({url}).
func PipeIngest(playerJS map[string]string) Ingest { return &pipeIngest{js: playerJS} }

type pipeIngest struct {
	js      map[string]string
	popts   []live.Option
	arrived func(Arrival)
	p       *live.Packager
	origin  http.Handler
}

func (pi *pipeIngest) Start(ctx context.Context, popts []live.Option, arrived func(Arrival)) (string, error) {
	pi.popts, pi.arrived = popts, arrived
	pi.p = live.New(popts...)
	pi.origin = live.NewOrigin(pi.p, live.WithPrefix("/live/"+StreamName+"/"), live.WithPlayerJS(pi.js))
	return "-", nil
}

func (pi *pipeIngest) Feed(ctx context.Context, r io.Reader) error {
	var video *media.Track
	base := int64(-1)
	st := ts.NewStream(func(t *media.Track, s media.Sample) error {
		if video == nil {
			if t.Kind != media.KindVideo {
				return nil // the experiment measures video; audio is not packaged
			}
			c := *t
			video = &c
			if err := pi.p.AddRendition("v0", video); err != nil {
				return err
			}
		}
		if t.ID != video.ID {
			return nil
		}
		at := time.Now() // the access unit is complete: its arrival
		if base < 0 {
			base = s.DTS
		}
		s.DTS -= base
		s.PTS -= base
		if s.DTS < 0 {
			return nil
		}
		if err := pi.p.Push("v0", s, s.Data); err != nil {
			return err
		}
		pi.arrived(Arrival{DTS: s.DTS, Timescale: video.Timescale, At: at})
		return nil
	})
	buf := make([]byte, 188*7)
	for ctx.Err() == nil {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := st.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return st.Close() // the last access unit of each stream ends here
		}
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (pi *pipeIngest) Packager() *live.Packager {
	if len(pi.p.Renditions()) > 0 {
		return pi.p
	}
	return nil
}

func (pi *pipeIngest) Handler() http.Handler { return pi.origin }

func (pi *pipeIngest) Close() error { return pi.p.End() }
