package p2pplayer_test

import (
	"fmt"
	"net/http"

	"github.com/streamkit-go/streamkit/p2pplayer"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/tracker"
)

// Mount the P2P player page beside a tracker and the files; browsers open
// /_p2p/?src=/video_360p.m3u8&pubkey=/origin.pub.
func ExampleHandler() {
	files, err := serve.Handler("out")
	if files == nil {
		fmt.Println(err)
		return
	}
	var opts []p2pplayer.Option
	if js, err := serve.FindPlayerJS(""); err == nil {
		opts = append(opts, p2pplayer.WithHLSJS(js["hls.js"]))
	}
	page, err := p2pplayer.Handler(opts...)
	if err != nil {
		fmt.Println("the page will say what is missing:", err != nil)
	}
	mux := http.NewServeMux()
	mux.Handle("/announce", tracker.New())
	mux.Handle(p2pplayer.Path, page)
	mux.Handle("/", files)
	_ = mux // http.ListenAndServe("127.0.0.1:8080", mux), on a server with timeouts
}
