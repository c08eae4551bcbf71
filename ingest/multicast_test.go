package ingest_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/ingest"
)

const netnsEnv = "STREAMKIT_INGEST_IN_NETNS"

// MPEG-TS over UDP multicast, tested only inside a network namespace the
// test creates (unshare --net, as root): the group is joined on that
// namespace's loopback, so no datagram can leave the machine.
func TestUDPMulticast(t *testing.T) {
	if os.Getenv(netnsEnv) == "1" {
		multicastInNetns(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("multicast is tested only inside a network namespace, which needs root (unshare --net)")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("multicast is tested only inside a network namespace: %s not installed", tool)
		}
	}
	cmd := exec.Command("unshare", "--net", "--", os.Args[0], "-test.run", "^TestUDPMulticast$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a new network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("multicast test in a network namespace: %v", err)
	}
}

func multicastInNetns(t *testing.T) {
	for _, args := range [][]string{{"link", "set", "lo", "up"}, {"link", "set", "lo", "multicast", "on"}, {"route", "add", "239.0.0.0/8", "dev", "lo"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	const group = "239.7.7.7:5004"
	conn, err := ingest.ListenUDP(group, "lo")
	if err != nil {
		t.Fatal(err)
	}
	srv := ingest.New(ingest.WithReadTimeout(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeUDP(ctx, conn, "mc") }()
	data, err := os.ReadFile("../testdata/media/ts_multi.ts")
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.Dial("udp", group)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < len(data); p += 1316 {
		out.Write(data[p:min(p+1316, len(data))])
		time.Sleep(time.Millisecond)
	}
	out.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st := srv.Stream("mc"); st != nil && st.Publishers() == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	srv.Close()
	st := srv.Stream("mc")
	if st == nil {
		t.Fatal("no stream from the multicast group")
	}
	stats := st.Stats()
	if stats.TS.Packets < int64(len(data)/188)*9/10 || len(st.P.Renditions()) == 0 {
		t.Fatalf("multicast: %+v, renditions %d", stats, len(st.P.Renditions()))
	}
	t.Logf("multicast group %s on lo: %d TS packets, %d samples, renditions %d", group, stats.TS.Packets, stats.TS.Samples, len(st.P.Renditions()))
}
