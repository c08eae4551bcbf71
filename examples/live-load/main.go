// Command live-load is the live origin's load generator: it runs the
// sample ladder live behind the origin and puts 10,000 concurrent
// blocking playlist requests and 1,000 clients pulling parts on it, then
// reports the time from each part's publication to the last byte of each
// response that was waiting for it, the CPU each request costs the origin
// and the clients, whether the clients kept up with the stream, and the
// origin's memory and goroutines before, during and after.
//
//	go run ./examples/live-load
//
// The origin runs in this process; the clients run in a second one (this
// program started again with LIVE_LOAD_ROLE=clients), so that the
// origin's CPU, memory and goroutines are its own. It runs the load twice:
// over HTTP/1.1 (one connection per client) and over HTTP/2 without TLS
// (h2c, 200 streams per connection). LIVE_LOAD_PROTO=h1 or h2c runs one.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
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

const loadFor = 15 * time.Second

var renditions = []string{"v0", "v1", "v2", "a0"}

func main() {
	log.SetFlags(0)
	var err error
	if os.Getenv("LIVE_LOAD_ROLE") == "clients" {
		err = runClients()
	} else {
		err = run()
	}
	if err != nil {
		log.Fatal("live-load: ", err)
	}
}

func run() error {
	protos := []string{"h1", "h2c"}
	if p := os.Getenv("LIVE_LOAD_PROTO"); p != "" {
		protos = strings.Split(p, ",")
	}
	fmt.Printf("The origin serves the sample ladder live (parts of 200 ms, segments of 2 s) in this process.\n")
	fmt.Printf("A second process runs %d blocking playlist clients (each asks for the delta update that will list\n", playlistClients)
	fmt.Printf("the next part, _HLS_msn/_HLS_part/_HLS_skip, as hls.js does) and %d part clients (each asks for the next part\n", partClients)
	fmt.Printf("before it exists, as a preload hint is fetched), for %v per protocol. Machine: %d CPUs, load average %s.\n", loadFor, runtime.NumCPU(), loadavg())
	for _, proto := range protos {
		if err := runOnce(proto); err != nil {
			return err
		}
	}
	fmt.Printf("\nGoals (issue 14): p99 ≤ 10 ms, RSS ≤ 500 MB, goroutines back to the \"before\" count.\n")
	return nil
}

// pubTimes records when each part was published (Unix ns).
type pubTimes struct {
	mu sync.Mutex
	at map[[3]int64]int64 // rendition index, msn, part
}

func runOnce(proto string) error {
	rendIndex := map[string]int{}
	for i, n := range renditions {
		rendIndex[n] = i
	}
	pub := &pubTimes{at: map[[3]int64]int64{}}
	p := live.New(live.WithEvents(func(e live.Event) {
		if e.Kind == live.EventPart {
			now := time.Now().UnixNano()
			r := rendIndex[e.Rendition]
			pub.mu.Lock()
			pub.at[[3]int64{int64(r), e.MSN, int64(e.Part)}] = now
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
	srvCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	served := make(chan error, 1)
	origin := live.NewOrigin(p)
	go func() { served <- live.Serve(srvCtx, ln, origin, p) }()
	srcCtx, stopSource := context.WithCancel(context.Background())
	defer stopSource()
	go src.Run(srcCtx)
	// Wait for the first segment (a plain playlist request waits for it).
	if err := waitFirst("http://" + ln.Addr().String() + origin.Prefix() + "v0/media.m3u8"); err != nil {
		return err
	}
	runtime.GC()
	before := snapshot()

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "LIVE_LOAD_ROLE=clients", "LIVE_LOAD_ADDR="+ln.Addr().String(),
		"LIVE_LOAD_PREFIX="+origin.Prefix(), "LIVE_LOAD_PROTO="+proto)
	if path := os.Getenv("LIVE_LOAD_CPUPROFILE"); path != "" {
		cmd.Env = append(cmd.Env, "LIVE_LOAD_CLIENT_CPUPROFILE="+path+"."+proto+".clients")
	}
	var records bytes.Buffer
	cmd.Stdout = &records
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var (
		during      snap
		summary     clientSummary
		childErr    strings.Builder
		stopProfile = func() {}
	)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "ready":
			runtime.GC()
		case line == "start":
			if path := os.Getenv("LIVE_LOAD_CPUPROFILE"); path != "" {
				f, err := os.Create(path + "." + proto + ".origin")
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
			}
		case line == "during":
			during = snapshot()
		case line == "end":
			stopProfile()
			if during.goroutines == 0 {
				during = snapshot()
			}
		case strings.HasPrefix(line, "summary "):
			if err := json.Unmarshal([]byte(line[len("summary "):]), &summary); err != nil {
				return err
			}
		default:
			childErr.WriteString(line + "\n")
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("client process: %v\n%s", err, childErr.String())
	}
	// After: the clients are gone; the server's goroutines for them end.
	var after snap
	for i := 0; i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
		runtime.GC()
		if after = snapshot(); after.goroutines <= before.goroutines {
			break
		}
	}
	stopSource()
	p.End()
	stopServer()
	if err := <-served; err != nil {
		return err
	}
	return report(proto, pub, records.Bytes(), summary, before, during, after)
}

// waitFirst waits for the stream's first segment.
func waitFirst(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func report(proto string, pub *pubTimes, recs []byte, cs clientSummary, before, during, after snap) error {
	var pl, parts []time.Duration
	var n503, unmatched, early int
	cpu := cs.OriginCPU
	pub.mu.Lock()
	for ; len(recs) >= 16; recs = recs[16:] {
		kind, r := int(recs[0]), int64(recs[1])
		part := int64(binary.LittleEndian.Uint16(recs[2:]))
		msn := int64(binary.LittleEndian.Uint32(recs[4:]))
		done := int64(binary.LittleEndian.Uint64(recs[8:]))
		if kind == kind503 {
			n503++
			continue
		}
		t, ok := pub.at[[3]int64{r, msn, part}]
		if !ok && kind == kindPlaylist {
			t, ok = pub.at[[3]int64{r, msn + 1, 0}] // past the segment's end: part 0 of the next
		}
		if !ok {
			unmatched++
			continue
		}
		if t < cs.Start || t >= cs.End {
			early++
			continue // published outside the load: not in "expected"
		}
		d := time.Duration(done - t)
		if kind == kindPart {
			parts = append(parts, d)
		} else {
			pl = append(pl, d)
		}
	}
	var counts [4]int
	for k, t := range pub.at {
		if t >= cs.Start && t < cs.End {
			counts[k[0]]++
		}
	}
	pub.mu.Unlock()

	secs := float64(cs.End-cs.Start) / 1e9
	var offeredPl, offeredParts int
	for r, n := range counts {
		offeredPl += n * clientsOn(playlistClients, r)
		offeredParts += n * clientsOn(partClients, r)
	}
	title := map[string]string{"h1": "HTTP/1.1, one connection per client", "h2c": "HTTP/2 without TLS (h2c), 200 streams per connection"}[proto]
	fmt.Printf("\n== %s ==\n", title)
	fmt.Printf("%-32s %9s %9s %7s %9s %9s %9s\n", "from part publication to", "answers", "expected", "kept", "p50", "p99", "max")
	line := func(name string, lat []time.Duration, offered int) {
		slices.Sort(lat)
		q := func(f float64) string {
			if len(lat) == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1fms", float64(lat[int(f*float64(len(lat)-1))].Microseconds())/1000)
		}
		kept := "-"
		if offered > 0 {
			kept = fmt.Sprintf("%.0f%%", 100*float64(len(lat))/float64(offered))
		}
		fmt.Printf("%-32s %9d %9d %7s %9s %9s %9s\n", name, len(lat), offered, kept, q(0.5), q(0.99), q(1))
	}
	line("last byte of blocking playlist", pl, offeredPl)
	line("last byte of part", parts, offeredParts)
	fmt.Printf("(answers and expected: for the parts published during the %.1f s of load, one answer per client per\n", secs)
	fmt.Printf("part of its rendition. kept: the share answered. A client answered late asks for the next part after\n")
	fmt.Printf("the newest its playlist lists, skipping those it missed: below 100%% the clients fell behind the stream,\n")
	fmt.Printf("the offered load exceeded what the machine serves, and the latencies measure a queue.)\n")
	if cs.Errors > 0 || n503 > 0 || unmatched > 0 {
		fmt.Printf("errors %d, 503s %d, answers without a matching publication %d\n", cs.Errors, n503, unmatched)
	}
	if early > 0 {
		fmt.Printf("(%d answers to parts published before the load began or after it ended are not counted)\n", early)
	}
	answers := len(pl) + len(parts)
	if answers > 0 && secs > 0 {
		fmt.Printf("\nCPU during the load: origin %.2f s (%.0f%% of the %d cores), clients %.2f s (%.0f%%)\n",
			cpu.Seconds(), 100*cpu.Seconds()/secs/float64(runtime.NumCPU()), runtime.NumCPU(),
			cs.CPU.Seconds(), 100*cs.CPU.Seconds()/secs/float64(runtime.NumCPU()))
		perOrigin := cpu.Seconds() / float64(cs.Requests) * 1e6
		perClient := cs.CPU.Seconds() / float64(cs.Requests) * 1e6
		fmt.Printf("per request (%d requests): origin %.1f µs, clients %.1f µs\n", cs.Requests, perOrigin, perClient)
		// The burst: the three video renditions publish a part at the same
		// instant, waking three quarters of the held playlists at once.
		burst := playlistClients * 3 / 4
		fmt.Printf("One video part wakes %d held playlists at once: at %.1f µs each (origin and clients) that is\n", burst, perOrigin+perClient)
		fmt.Printf("%.1f ms of CPU, so the last of them is answered ≥ %.1f ms after the publication on %d cores.\n",
			float64(burst)*(perOrigin+perClient)/1000, float64(burst)*(perOrigin+perClient)/1000/float64(runtime.NumCPU()), runtime.NumCPU())
	}
	fmt.Printf("\n%-22s %10s %10s\n", "origin process", "RSS MB", "goroutines")
	for _, s := range []struct {
		name string
		s    snap
	}{{"before", before}, {"during", during}, {"after", after}} {
		fmt.Printf("%-22s %10.1f %10d\n", s.name, float64(s.s.rss)/(1<<20), s.s.goroutines)
	}
	fmt.Printf("%-22s %10.1f %10d\n", "client process, during", float64(cs.RSS)/(1<<20), cs.Goroutines)
	if after.goroutines > before.goroutines {
		return errors.New("goroutines left after the clients went")
	}
	return nil
}

// clientsOn is how many of n clients (spread round-robin) watch
// rendition r.
func clientsOn(n, r int) int {
	k := n / len(renditions)
	if r < n%len(renditions) {
		k++
	}
	return k
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
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
