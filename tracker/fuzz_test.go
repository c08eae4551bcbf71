package tracker_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/tracker"
)

// FuzzParseRequest: hostile messages never panic, and what parses is
// self-consistent (ids of 20 characters, bounded offers).
func FuzzParseRequest(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.in))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := tracker.ParseRequest(b, 10)
		if err != nil {
			return
		}
		if r.Action == "announce" && (r.InfoHash == "" || r.PeerID == "" || len(r.Offers) > 10 || r.Event == "") {
			t.Fatalf("inconsistent announce %+v", r)
		}
		if r.Answer != nil && (r.ToPeerID == "" || r.OfferID == "") {
			t.Fatalf("answer without ids %+v", r)
		}
		if len(r.InfoHashes) > tracker.MaxScrape {
			t.Fatalf("%d info hashes", len(r.InfoHashes))
		}
	})
}
