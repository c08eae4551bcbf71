package tracker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamkit-go/streamkit/tracker"
)

// BenchmarkTrackerLoad connects STREAMKIT_TRACKER_PEERS peers (1000 by
// default; 10000 for the figure in BENCHMARKS.md) from a second process
// (each side then needs one file descriptor per peer), in swarms of 100,
// each announcing with 5 offers; then every peer announces again, b.N
// rounds. It reports announces/s and the tracker's memory per peer.
func BenchmarkTrackerLoad(b *testing.B) {
	peers := 1000
	if v := os.Getenv("STREAMKIT_TRACKER_PEERS"); v != "" {
		peers, _ = strconv.Atoi(v)
	}
	tr := tracker.New(tracker.WithAnnounceRate(1e9), tracker.WithAnnounceBurst(1<<30), tracker.WithMaxConns(peers+10))
	srv := httptest.NewServer(tr)
	defer srv.Close()
	defer tr.Shutdown(context.Background())
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadHelper$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("STREAMKIT_TRACKER_LOAD_HELPER=%s %d", "ws"+strings.TrimPrefix(srv.URL, "http"), peers))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	expect := func(word string) {
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), word) {
			b.Fatalf("load helper: want %q, got %q", word, lines.Text())
		}
	}
	expect("ready")
	st := tr.Stats()
	if st.Peers != peers {
		b.Fatalf("%d peers in the tracker, want %d", st.Peers, peers)
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	rss := vmRSS()
	fds, _ := os.ReadDir("/proc/self/fd")
	b.ResetTimer()
	start := time.Now()
	fmt.Fprintf(stdin, "go %d\n", b.N)
	expect("done")
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(peers*b.N)/el.Seconds(), "announces/s")
	b.ReportMetric(float64(m1.HeapInuse-m0.HeapInuse)/float64(peers), "heap-B/peer")
	b.ReportMetric(float64(rss)/1e6, "RSS-MB")
	b.ReportMetric(float64(peers), "peers")
	b.ReportMetric(float64(len(fds)), "fds")
}

func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1000
		}
	}
	return 0
}

// TestLoadHelper is BenchmarkTrackerLoad's client process; it does
// nothing in a normal test run.
func TestLoadHelper(t *testing.T) {
	arg := os.Getenv("STREAMKIT_TRACKER_LOAD_HELPER")
	if arg == "" {
		t.Skip("only run by BenchmarkTrackerLoad")
	}
	var url string
	var peers int
	fmt.Sscan(arg, &url, &peers)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	type cl struct {
		ws   *websocket.Conn
		resp chan struct{}
		msg  []byte
	}
	cls := make([]*cl, peers)
	var wg sync.WaitGroup
	for i := range cls {
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatalf("peer %d: %v", i, err)
		}
		id := fmt.Sprintf("-SK0100-%012d", i)
		info := fmt.Sprintf("swarm-%014d", i/100)
		offers := make([]map[string]any, 5)
		for k := range offers {
			offers[k] = map[string]any{"offer_id": fmt.Sprintf("o%d-%017d", k, i), "offer": map[string]any{"type": "offer", "sdp": strings.Repeat("a=candidate x\r\n", 20)}}
		}
		msg, _ := json.Marshal(map[string]any{"action": "announce", "info_hash": info, "peer_id": id, "event": "started", "numwant": 5, "offers": offers})
		c := &cl{ws: ws, resp: make(chan struct{}, 1), msg: msg}
		cls[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, b, err := ws.Read(ctx)
				if err != nil {
					return
				}
				if strings.Contains(string(b), `"interval"`) { // our response, not a relayed offer
					c.resp <- struct{}{}
				}
			}
		}()
		if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		<-c.resp
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var rounds int
		fmt.Sscanf(in.Text(), "go %d", &rounds)
		var all sync.WaitGroup
		for _, c := range cls {
			all.Add(1)
			go func() {
				defer all.Done()
				for r := 0; r < rounds; r++ {
					if c.ws.Write(ctx, websocket.MessageText, c.msg) != nil {
						return
					}
					<-c.resp
				}
			}()
		}
		all.Wait()
		fmt.Println("done")
	}
	for _, c := range cls {
		c.ws.CloseNow()
	}
	wg.Wait()
}
