package playtest_test

import (
	"context"
	"fmt"
	"log"
	"os"
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

// Set the hls.js preset's prediction beside a real hls.js run over the
// same scenario: mean played bitrate, stall time and switches against
// the calibration goals. (Not run by go test: the real side needs
// Chromium; `streamkit playtest --compare-sim` is this in one command.)
func ExampleCompare() {
	sc, err := shape.LoadScenario("testdata/calibration/3-drop.json")
	if err != nil {
		log.Fatal(err)
	}
	s, err := shape.New(sc, shape.WithSeed(1))
	if err != nil {
		log.Fatal(err)
	}
	files, err := serve.Handler("out") // playtest/testdata/calibration/gen.sh out
	if err != nil {
		log.Fatal(err)
	}
	srv, err := playtest.Serve(playtest.Mux(files, s.Handler(files)))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	real, err := playtest.Run(context.Background(), srv.URL, "/master.m3u8", playtest.WithDuration(90*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	sim, err := playtest.Simulate("out/master.m3u8", "hlsjs", sc)
	if err != nil {
		log.Fatal(err)
	}
	c := playtest.Compare(sc.Name, real, sim)
	c.WriteText(os.Stdout)
	fmt.Println("within every goal:", c.Met())
}
