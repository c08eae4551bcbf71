// Command live-load is the live origin's load generator: it runs the
// sample ladder live behind the origin and puts 10,000 concurrent
// blocking playlist requests and 1,000 clients pulling parts on it (over
// h2c, as a CDN tier would), then reports the time from each part's
// publication to the last byte of each response that was waiting for it,
// and memory and goroutines before, during and after.
//
//	go run ./examples/live-load
//
// Everything runs in one process on loopback: the RSS and goroutine
// figures include the clients.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamkit-go/streamkit/live"
)

// The load; LIVE_LOAD_PLAYLISTS and LIVE_LOAD_PARTS override the
// client counts for smaller machines.
var (
	playlistClients = envInt("LIVE_LOAD_PLAYLISTS", 10000)
	partClients     = envInt("LIVE_LOAD_PARTS", 1000)
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

const (
	loadFor    = 15 * time.Second
	transports = 64 // h2c connections pools; each multiplexes many streams
)

var renditions = []string{"v0", "v1", "v2", "a0"}

func main() {
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal("live-load: ", err)
	}
}

// pubTimes records when each part was published.
type pubTimes struct {
	mu sync.Mutex
	at map[[3]int64]time.Time // rendition index, msn, part
}

func (p *pubTimes) get(r int, msn int64, part int64) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.at[[3]int64{int64(r), msn, part}]
	return t, ok
}

type recorder struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs atomic.Int64
	n503 atomic.Int64
}

// fail counts a failed request (not those cut short by the end of the run).
func (r *recorder) fail(ctx context.Context, err error) {
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, errStatus503):
		r.n503.Add(1)
	default:
		r.errs.Add(1)
	}
}

func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.mu.Unlock()
}

func run() error {
	if path := os.Getenv("LIVE_LOAD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rendIndex := map[string]int{}
	for i, n := range renditions {
		rendIndex[n] = i
	}
	pub := &pubTimes{at: map[[3]int64]time.Time{}}
	p := live.New(live.WithEvents(func(e live.Event) {
		if e.Kind == live.EventPart {
			now := time.Now()
			pub.mu.Lock()
			pub.at[[3]int64{int64(rendIndex[e.Rendition]), e.MSN, int64(e.Part)}] = now
			pub.mu.Unlock()
		}
	}))
	src, err := live.NewSampleSource(p)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + "/live/"
	srvCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- live.Serve(srvCtx, ln, live.NewOrigin(p), p) }()
	srcCtx, stopSource := context.WithCancel(context.Background())
	defer stopSource()
	go src.Run(srcCtx)

	clients := make([]*http.Client, transports)
	trs := make([]*http.Transport, transports)
	for i := range clients {
		protos := new(http.Protocols)
		protos.SetUnencryptedHTTP2(true)
		trs[i] = &http.Transport{Protocols: protos, MaxIdleConnsPerHost: 4}
		clients[i] = &http.Client{Transport: trs[i]}
	}
	// Wait for the stream to have a few parts.
	if _, err := get(context.Background(), clients[0], base+"v0/media.m3u8?_HLS_msn=1&_HLS_part=0"); err != nil {
		return err
	}
	runtime.GC()
	before := snapshot()
	fmt.Printf("live origin at %s; %d blocking playlist clients and %d part clients for %v over h2c\n\n", base, playlistClients, partClients, loadFor)

	ctx, cancel := context.WithTimeout(context.Background(), loadFor)
	defer cancel()
	var plRec, partRec recorder
	var wg sync.WaitGroup
	var during snap
	var duringOnce sync.Once
	go func() {
		select {
		case <-time.After(loadFor * 2 / 3):
			duringOnce.Do(func() { during = snapshot() })
		case <-ctx.Done():
		}
	}()
	for i := 0; i < playlistClients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			playlistClient(ctx, clients[i%transports], base, i%len(renditions), pub, &plRec)
		}(i)
	}
	for i := 0; i < partClients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			partClient(ctx, clients[(i+7)%transports], base, i%len(renditions), pub, &partRec)
		}(i)
	}
	wg.Wait()
	duringOnce.Do(func() { during = snapshot() })
	for _, tr := range trs {
		tr.CloseIdleConnections()
	}
	// After: the clients are gone; the server's goroutines for them end.
	var after snap
	for i := 0; i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
		runtime.GC()
		after = snapshot()
		if after.goroutines <= before.goroutines {
			break
		}
	}
	stopSource()
	p.End()
	stopServer()
	if err := <-served; err != nil {
		return err
	}
	fmt.Printf("%-28s %8s %9s %9s %9s %7s %6s\n", "from part publication to", "answers", "p50", "p99", "max", "errors", "503s")
	report("last byte of blocking playlist", &plRec)
	report("last byte of part", &partRec)
	fmt.Printf("\n%-8s %10s %10s\n", "", "RSS MB", "goroutines")
	for _, s := range []struct {
		name string
		s    snap
	}{{"before", before}, {"during", during}, {"after", after}} {
		fmt.Printf("%-8s %10.1f %10d\n", s.name, float64(s.s.rss)/(1<<20), s.s.goroutines)
	}
	fmt.Printf("\nGoals (issue 14): p99 ≤ 10 ms, RSS ≤ 500 MB, goroutines back to the \"before\" count.\n")
	fmt.Printf("Measured on %d CPUs, load average %s, clients in the same process.\n", runtime.NumCPU(), loadavg())
	return nil
}

func report(name string, r *recorder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.lat)
	q := func(f float64) string {
		if len(r.lat) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fms", float64(r.lat[int(f*float64(len(r.lat)-1))].Microseconds())/1000)
	}
	fmt.Printf("%-28s %8d %9s %9s %9s %7d %6d\n", name, len(r.lat), q(0.5), q(0.99), q(1), r.errs.Load(), r.n503.Load())
}

// playlistClient loops on blocking reloads for the next part.
func playlistClient(ctx context.Context, c *http.Client, base string, r int, pub *pubTimes, rec *recorder) {
	name := renditions[r]
	body, err := get(ctx, c, base+name+"/media.m3u8")
	if err != nil {
		return
	}
	msn, part := lastPart(body)
	for ctx.Err() == nil {
		want := part + 1
		body, err := get(ctx, c, base+name+"/media.m3u8?_HLS_msn="+strconv.FormatInt(msn, 10)+"&_HLS_part="+strconv.FormatInt(want, 10))
		done := time.Now()
		if err != nil {
			rec.fail(ctx, err)
			continue
		}
		t, ok := pub.get(r, msn, want)
		if !ok {
			t, ok = pub.get(r, msn+1, 0) // past the segment's end: part 0 of the next
		}
		if ok {
			rec.add(done.Sub(t))
		}
		msn, part = lastPart(body)
	}
}

// partClient fetches every part in order, each requested before it exists
// (as a preload hint would be).
func partClient(ctx context.Context, c *http.Client, base string, r int, pub *pubTimes, rec *recorder) {
	name := renditions[r]
	body, err := get(ctx, c, base+name+"/media.m3u8")
	if err != nil {
		return
	}
	msn, part := lastPart(body)
	part++
	for ctx.Err() == nil {
		_, err := get(ctx, c, fmt.Sprintf("%s%s/part_%d_%d.m4s", base, name, msn, part))
		done := time.Now()
		if errors.Is(err, errStatus404) {
			msn, part = msn+1, 0 // the segment ended: its next part is part 0 of the next
			continue
		}
		if err != nil {
			rec.fail(ctx, err)
			continue
		}
		if t, ok := pub.get(r, msn, part); ok {
			rec.add(done.Sub(t))
		}
		part++
	}
}

var (
	errStatus404 = errors.New("404")
	errStatus503 = errors.New("503")
)

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
	switch resp.StatusCode {
	case http.StatusOK:
		return b, err
	case http.StatusNotFound:
		return nil, errStatus404
	case http.StatusServiceUnavailable:
		return nil, errStatus503
	}
	return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
}

// lastPart finds the last EXT-X-PART of a playlist (its URI is
// part_MSN_INDEX.m4s).
func lastPart(b []byte) (msn, part int64) {
	i := strings.LastIndex(string(b), "URI=\"part_")
	if i < 0 {
		return 0, -1
	}
	fmt.Sscanf(string(b[i+len("URI=\"part_"):]), "%d_%d", &msn, &part)
	return msn, part
}

type snap struct {
	rss        int64
	goroutines int
}

func snapshot() snap {
	s := snap{goroutines: runtime.NumGoroutine()}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return s
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			s.rss = kb << 10
		}
	}
	return s
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
