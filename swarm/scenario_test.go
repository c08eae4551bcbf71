package swarm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamkit-go/streamkit/abr"
)

func TestScenarioFilesLoad(t *testing.T) {
	files, _ := filepath.Glob("../testdata/swarm/*.json")
	if len(files) < 4 {
		t.Fatalf("%d scenario files", len(files))
	}
	for _, f := range files {
		sc, err := LoadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range sc.Classes {
			for _, tr := range c.Traces {
				if _, err := os.Stat(tr); err != nil {
					t.Errorf("%s: trace %s: %v", f, tr, err)
				}
			}
		}
	}
}

func TestScenarioStrict(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"stream": {"live": true, "holdback_s": 30}}`, `unknown field "holdback_s"`},
		{`{"audience": {"peers": "many"}}`, "line 1"},
		{`{} {}`, "data after"},
		{`{"audience": {"peers": -3}}`, "peers"},
		{`{"scheduler": {"preset": "webtorrent"}}`, "preset"},
		{`{"nat": {"types": ["a", "b"], "success": [[1]]}}`, "success matrix"},
		{`{"integrity": {"mode": "md5"}}`, "mode"},
		{"{\n\"stream\": {\"duration_s\": 1e400}}", "line 2"},
	} {
		_, err := ReadScenario(strings.NewReader(c.in), "x.json")
		if err == nil || !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrScenario mentioning %q", c.in, err, c.want)
		}
	}
}

func TestScenarioSet(t *testing.T) {
	sc, err := LoadScenario("../testdata/swarm/football-final.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"audience.peers", "500"}, {"scheduler.preset", "cdn-only"}, {"classes.1.up_median_kbps", "1234.5"},
		{"stream.ladder_kbps", "500,1000"}, {"stream.live", "false"}, {"seed", "9"}} {
		if err := sc.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if sc.Audience.Peers != 500 || sc.Scheduler.Preset != "cdn-only" || sc.Classes[1].UpMedianKbps != 1234.5 ||
		len(sc.Stream.LadderKbps) != 2 || sc.Stream.Live || sc.Seed != 9 {
		t.Errorf("Set: %+v", sc)
	}
	for _, kv := range [][2]string{{"audience.nobody", "1"}, {"classes.9.share", "1"}, {"audience.peers", "x"}, {"classes.0.nat", "a"}} {
		if err := sc.Set(kv[0], kv[1]); err == nil {
			t.Errorf("Set(%s=%s) accepted", kv[0], kv[1])
		}
	}
}

func FuzzScenario(f *testing.F) {
	files, _ := filepath.Glob("../testdata/swarm/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"stream": {"live": true}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ReadScenario(strings.NewReader(string(data)), "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrScenario) {
				t.Fatalf("error without ErrScenario: %v", err)
			}
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("read but invalid: %v", err)
		}
	})
}

// lowest is a user-defined algorithm: always the lowest rendition.
type lowest struct{}

func (lowest) Init(v abr.View)                           {}
func (lowest) Decide(v abr.View, seg int) (int, float64) { return 0, 0 }

// Any algorithm registered in abr drives the players, a user's included,
// and segment sizes come from a manifest file named in the scenario.
func TestUserAlgorithmAndManifestFile(t *testing.T) {
	abr.Register("swarm-test-lowest", "always the lowest rendition", func(abr.Config) abr.Algorithm { return lowest{} })
	sc, err := LoadScenario("../testdata/swarm/tampering-2pct.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"abr.algorithm", "swarm-test-lowest"}, {"audience.peers", "80"}, {"stream.duration_s", "120"},
		{"stream.manifest", "../testdata/abr/sabre/bbb.json"}} {
		if err := sc.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if r.MeanBitrateKbps != 230 { // bbb.json's lowest level
		t.Errorf("mean bitrate %v, want bbb.json's lowest 230 kbit/s", r.MeanBitrateKbps)
	}
	if err := sc.Set("abr.algorithm", "no-such-algo"); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), sc); err == nil || !errors.Is(err, ErrScenario) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

func TestMobileShare(t *testing.T) {
	sc, err := LoadScenario("../testdata/swarm/mobile-heavy.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"audience.peers", "400"}, {"stream.duration_s", "60"}, {"audience.arrive_s", "30"}, {"audience.mobile_share", "0.2"}} {
		if err := sc.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	mob := 0
	for _, c := range r.Classes {
		if c.Mobile {
			mob += c.Peers
		}
	}
	if f := float64(mob) / float64(r.Peers); f < 0.14 || f > 0.26 {
		t.Errorf("mobile share %v with audience.mobile_share 0.2", f)
	}
}
