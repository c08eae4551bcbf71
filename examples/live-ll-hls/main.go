// Command live-ll-hls plays streamkit's embedded sample ladder as a live
// Low-Latency HLS stream for 20 s and follows it with a Go client that
// does what hls.js does in low-latency mode: blocking playlist reloads
// (_HLS_msn/_HLS_part) and preload-hint requests. It prints, for every
// part, when the client had it relative to the moment the packager
// published it.
//
//	go run ./examples/live-ll-hls
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streamkit-go/streamkit/live"
)

const (
	rendition = "v0"
	runFor    = 20 * time.Second
)

func main() {
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal("live-ll-hls: ", err)
	}
}

// published records when the packager published each part, by URL path.
type published struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (p *published) get(path string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.at[path]
	return t, ok
}

func run() error {
	pub := &published{at: map[string]time.Time{}}
	p := live.New(
		live.WithSegmentDuration(2*time.Second),
		live.WithPartDuration(200*time.Millisecond),
		live.WithEvents(func(e live.Event) {
			if e.Kind == live.EventPart {
				pub.mu.Lock()
				pub.at[fmt.Sprintf("/live/%s/part_%d_%d.m4s", e.Rendition, e.MSN, e.Part)] = time.Now()
				pub.mu.Unlock()
			}
		}),
	)
	src, err := live.NewSampleSource(p)
	if err != nil {
		return err
	}
	origin := live.NewOrigin(p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + origin.Prefix()
	fmt.Printf(`The sample ladder (3 H.264 renditions with 2 s GOPs, AAC) now plays as a live stream:

  hls:  %smaster.m3u8
  dash: %smanifest.mpd

Segments are cut at key frames every 2 s; each is split into parts of 200 ms
(CMAF chunks: a moof+mdat each) that are published as soon as their last frame
is in. A segment is its parts concatenated, byte for byte.

A low-latency client does not wait for segments. It asks for the playlist that
will contain the next part (_HLS_msn=M&_HLS_part=P): the origin holds that
request until the part exists (a blocking reload), and at the same time it
fetches the part the playlist's EXT-X-PRELOAD-HINT names, which the origin also
holds until the part is complete. So the part reaches the client as soon as it is
published, not one playlist reload later.

Following rendition %s for %v:

`, base, base, rendition, runFor)

	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()
	srvCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- live.Serve(srvCtx, ln, origin, p) }()
	srcDone := make(chan error, 1)
	go func() { srcDone <- src.Run(ctx) }()

	stats, err := follow(ctx, base, pub)
	if err := <-srcDone; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	p.End()
	stopServer()
	if serr := <-served; serr != nil {
		return serr
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	report(stats)
	return nil
}

// arrival is one part as the client saw it.
type arrival struct {
	path     string
	bytes    int
	viaHint  time.Duration // hinted part body complete, after publication
	viaList  time.Duration // blocking reload answered, after publication
	hintOK   bool
	listOK   bool
	duration string
	indep    bool
}

// follow is the client: a blocking reload and a preload-hint request for
// each part, in parallel, until ctx ends.
func follow(ctx context.Context, base string, pub *published) ([]arrival, error) {
	client := &http.Client{}
	body, err := get(ctx, client, base+rendition+"/media.m3u8")
	if err != nil {
		return nil, err
	}
	pl := parse(body)
	fmt.Printf("First playlist: PART-TARGET=%s, %s\n", pl.partTarget, pl.control)
	fmt.Println(`  PART-HOLD-BACK is how far behind the live edge a low-latency player starts
  (at least 3 part targets); HOLD-BACK the same for a player that ignores parts
  (3 target durations); CAN-SKIP-UNTIL lets a client ask for a delta update.`)
	fmt.Printf("\n%-22s %8s %5s %7s %12s %12s\n", "part", "duration", "indep", "bytes", "hint +ms", "reload +ms")
	var out []arrival
	for ctx.Err() == nil {
		msn, part := pl.lastMSN, pl.lastPart+1
		hint := pl.hint
		type result struct {
			n   int
			at  time.Time
			err error
		}
		hintc := make(chan result, 1)
		go func() {
			b, err := get(ctx, client, base+rendition+"/"+hint)
			hintc <- result{len(b), time.Now(), err}
		}()
		b, err := get(ctx, client, fmt.Sprintf("%s%s/media.m3u8?_HLS_msn=%d&_HLS_part=%d", base, rendition, msn, part))
		listAt := time.Now()
		h := <-hintc
		if err != nil {
			return out, err
		}
		next := parse(b)
		a := arrival{path: "/live/" + rendition + "/" + hint, bytes: h.n}
		if d, ok := next.parts[hint]; ok {
			a.duration, a.indep = d.duration, d.independent
		}
		if t, ok := pub.get(a.path); ok {
			if h.err == nil {
				a.viaHint, a.hintOK = h.at.Sub(t), true
			}
			a.viaList, a.listOK = listAt.Sub(t), true
		}
		out = append(out, a)
		fmt.Printf("%-22s %8s %5v %7d %12s %12s\n", hint, a.duration, a.indep, a.bytes, ms(a.viaHint, a.hintOK), ms(a.viaList, a.listOK))
		pl = next
	}
	return out, ctx.Err()
}

func ms(d time.Duration, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%+.1f", float64(d.Microseconds())/1000)
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, err
}

type partInfo struct {
	duration    string
	independent bool
}

type mediaPlaylist struct {
	partTarget, control string
	lastMSN             int64
	lastPart            int
	hint                string
	parts               map[string]partInfo
}

// parse reads what the client needs from a media playlist: the last part
// (from its URI, part_MSN_INDEX.m4s), the preload hint and the parts.
func parse(b []byte) mediaPlaylist {
	pl := mediaPlaylist{parts: map[string]partInfo{}}
	for _, line := range strings.Split(string(b), "\n") {
		tag, val, _ := strings.Cut(line, ":")
		a := map[string]string{}
		for _, kv := range strings.Split(val, ",") {
			k, v, _ := strings.Cut(kv, "=")
			a[k] = strings.Trim(v, `"`)
		}
		switch tag {
		case "#EXT-X-PART-INF":
			pl.partTarget = a["PART-TARGET"]
		case "#EXT-X-SERVER-CONTROL":
			pl.control = val
		case "#EXT-X-PART":
			pl.parts[a["URI"]] = partInfo{a["DURATION"], a["INDEPENDENT"] == "YES"}
			fmt.Sscanf(a["URI"], "part_%d_%d.m4s", &pl.lastMSN, &pl.lastPart)
		case "#EXT-X-PRELOAD-HINT":
			pl.hint = a["URI"]
		}
	}
	return pl
}

func report(st []arrival) {
	var hint, list []time.Duration
	for _, a := range st {
		if a.hintOK {
			hint = append(hint, a.viaHint)
		}
		if a.listOK {
			list = append(list, a.viaList)
		}
	}
	q := func(d []time.Duration, f float64) string {
		if len(d) == 0 {
			return "-"
		}
		slices.Sort(d)
		return fmt.Sprintf("%.1f ms", float64(d[int(f*float64(len(d)-1))].Microseconds())/1000)
	}
	fmt.Printf(`
%d parts followed. From publication to the client having the part:
  via the preload hint:     median %s, max %s
  via the blocking reload:  median %s, max %s
The requests were parked in the origin before the part existed, and each
publish wakes exactly the requests waiting for it (no polling), so the median
is the time to write one response on loopback; the max is the machine's
scheduling. A player that polled the playlist every part target instead would
have each part on average 100 ms (half a part) later, plus a round trip.

Play it in a browser: go run ./cmd/streamkit live (player page at /).
`, len(st), q(hint, 0.5), q(hint, 1), q(list, 0.5), q(list, 1))
}
