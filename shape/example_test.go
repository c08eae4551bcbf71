package shape_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/shape"
)

// A shaped handler on a fake clock: a 250 kB segment over a link that
// drops from 4 Mbit/s to 1 Mbit/s after 0.25 s takes 0.25 s for the first
// 125 kB and 1 s for the other 125 kB.
func ExampleShaper_Handler() {
	sc := &shape.Scenario{Phases: []shape.Phase{
		{DurationS: 0.25, Kbps: 4000},
		{DurationS: 10, Kbps: 1000},
	}}
	clk := shape.NewFakeClock(time.Unix(0, 0))
	s, err := shape.New(sc, shape.WithClock(clk), shape.WithSeed(1))
	if err != nil {
		panic(err)
	}
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 250_000))
	})
	h := s.Handler(files)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/video/seg_1.m4s", nil))
	fmt.Println(rec.Body.Len(), "bytes in", clk.Now().Sub(time.Unix(0, 0)))
	// Output: 250000 bytes in 1.25s
}

// Faults per request class: here every playlist request gets a 503.
func ExampleParseScenario() {
	sc, err := shape.ParseScenario([]byte(`{
		"phases": [{"duration_s": 30, "kbps": 3000, "latency_ms": 40}],
		"faults": [{"class": "playlist", "kind": "status", "status": 503, "rate": 1}]
	}`), "flaky.json")
	if err != nil {
		panic(err)
	}
	s, _ := shape.New(sc, shape.WithClock(shape.NewFakeClock(time.Unix(0, 0))))
	h := s.Handler(http.NotFoundHandler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/live/index.m3u8", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())

	_, err = shape.ParseScenario([]byte(`{"phases": [{"duration_s": 30, "kpbs": 3000}]}`), "typo.json")
	fmt.Println(err)
	// Output:
	// 503 503 Service Unavailable (injected by streamkit shape)
	// shape: invalid scenario: typo.json: kpbs: unknown field
}

// Wrap is the one call behind a --shape flag: a scenario file (or a trace
// in any format abr reads) and a seed; an empty path leaves the handler
// as it is.
func ExampleWrap() {
	var h http.Handler = http.FileServer(http.Dir("."))
	h, err := shape.Wrap(h, "../testdata/shape/bandwidth-drop.json", shape.WithSeed(1))
	fmt.Println(err)
	_, err = shape.Wrap(h, "../testdata/shape/missing.json", shape.WithSeed(1))
	fmt.Println(strings.Contains(err.Error(), "no such file"))
	// Output:
	// <nil>
	// true
}

// LoadScenario reads the scenario files of testdata/shape, and trace
// files directly.
func ExampleLoadScenario() {
	sc, err := shape.LoadScenario("../testdata/shape/outage.json")
	if err != nil {
		panic(err)
	}
	for _, p := range sc.Phases {
		fmt.Printf("%4.0f s at %5.0f kbit/s\n", p.DurationS, p.Kbps)
	}
	// Output:
	//   20 s at  3000 kbit/s
	//    5 s at     0 kbit/s
	//   30 s at  3000 kbit/s
}
