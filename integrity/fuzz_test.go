package integrity_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/streamkit-go/streamkit/integrity"
)

var update = flag.Bool("update", false, "rewrite testdata/valid.integrity.json")

// TestTestdata pins the committed sidecar: it still parses and verifies
// with the test key, and this code still writes it byte for byte (the
// wire format did not drift).
func TestTestdata(t *testing.T) {
	sc, pub := signedSidecar(t)
	b, err := sc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join("testdata", "valid.integrity.json")
	if *update {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, b) {
		t.Errorf("%s differs from what Marshal writes now (format change? rerun with -update only if intended)", name)
	}
	var got integrity.Sidecar
	if err := got.Unmarshal(old); err != nil {
		t.Fatal(err)
	}
	if err := integrity.NewVerifier(pub, "s").Load(&got); err != nil {
		t.Fatal(err)
	}
}

// FuzzSidecar feeds hostile sidecars to Unmarshal and the verifier:
// never a panic; what parses marshals back to the same sidecar; nothing
// but the seeds' own signed content verifies.
func FuzzSidecar(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range sidecarCases {
		sc, _ := signedSidecar(f)
		c.mutate(sc)
		if b, err := sc.Marshal(); err == nil {
			f.Add(b)
		}
	}
	_, pub := signedSidecar(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var sc integrity.Sidecar
		if err := sc.Unmarshal(b); err != nil {
			return
		}
		out, err := sc.Marshal()
		if err != nil {
			t.Fatalf("parsed sidecar does not marshal: %v", err)
		}
		var again integrity.Sidecar
		if err := again.Unmarshal(out); err != nil {
			t.Fatalf("marshalled sidecar does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normal(sc), normal(again)) {
			t.Fatalf("round trip changed the sidecar:\n%+v\n%+v", sc, again)
		}
		v := integrity.NewVerifier(pub, sc.Stream)
		if v.Load(&sc) == nil {
			for _, e := range sc.Entries {
				// The signed hash is of data we do not have: any bytes
				// are a mismatch, never a success or a panic.
				if err := v.VerifyEntry(sc.Rendition, e, []byte("x")); err == nil && e.Length != 1 {
					t.Fatalf("%s verified one byte", e.Label())
				}
			}
		}
	})
}

// normal treats a nil and an empty entry list alike.
func normal(sc integrity.Sidecar) integrity.Sidecar {
	if len(sc.Entries) == 0 {
		sc.Entries = nil
	}
	return sc
}
