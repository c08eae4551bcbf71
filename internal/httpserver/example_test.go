package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/internal/httpserver"
)

// A server is a handler plus options; cancelling the context drains it.
func ExampleServer() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") })
	srv := httpserver.New(h,
		httpserver.WithMaxConns(1000),
		httpserver.WithWriteTimeout(10*time.Second),
		httpserver.WithGracePeriod(5*time.Second),
		httpserver.WithAccessLog(os.Stderr))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, " ", string(body))

	stop() // in a command: signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	fmt.Println("shutdown:", <-done)
	// Output:
	// 200 OK hello
	// shutdown: <nil>
}

// BenchmarkWrite measures a 1 MiB response written in 32 KiB writes, each
// renewing the write deadline.
func BenchmarkWrite(b *testing.B) {
	_, addr, _ := start(b, stream(1<<20, nil))
	client := &http.Client{}
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
