package playtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/streamkit-go/streamkit/playtest"
	"github.com/streamkit-go/streamkit/serve"
	"github.com/streamkit-go/streamkit/shape"
)

// Play a packaged directory with hls.js through an outage and print the
// stalls. (Not run by go test: it needs Chromium and the player cache;
// the package's tests do run it.)
func ExampleRun() {
	files, err := serve.Handler("out") // what `streamkit package -o out` wrote
	if err != nil {
		log.Fatal(err)
	}
	shaped, err := shape.Wrap(files, "testdata/shape/outage.json", shape.WithSeed(1))
	if err != nil {
		log.Fatal(err)
	}
	srv, err := playtest.Serve(playtest.Mux(files, shaped))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	res, err := playtest.Run(context.Background(), srv.URL, "/master.m3u8",
		playtest.WithPlayer("hlsjs"), playtest.WithDuration(60*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("startup %.1f s, %d stalls for %.1f s, %d switches\n", res.StartupS, res.StallCount, res.StallS, res.Switches)
}
