package integrity_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/internal/testtool"
)

// TestJavaScriptVerifier checks js/integrity.mjs, the browser half, against
// sidecars this package signs: same statements, same verdicts. It runs
// Node 20+ (WebCrypto with Ed25519).
func TestJavaScriptVerifier(t *testing.T) {
	node := testtool.Path(t, "node")
	dir := t.TempDir()
	write := func(name string, b []byte) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pub, priv := testKey(6)
	s, _ := integrity.NewSigner(priv, "ll", integrity.WithClock(fixedClock))
	add := func(e integrity.Entry, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	write("v/init.mp4", []byte("init"))
	add(s.AddInit("v", "v/init.mp4", []byte("init")))
	sidecar := func(rend, name string) {
		sc, err := s.Sidecar(rend)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := sc.Marshal()
		write(name, b)
	}
	for seq := uint64(5); seq <= 6; seq++ {
		var whole []byte
		for p := uint32(0); p < 2; p++ {
			b := []byte(fmt.Sprintf("part %d.%d ", seq, p))
			name := fmt.Sprintf("v/p%d.%d.m4s", seq, p)
			write(name, b)
			add(s.AddPart("v", seq, p, name, b))
			whole = append(whole, b...)
		}
		name := fmt.Sprintf("v/s%d.m4s", seq)
		write(name, whole)
		add(s.AddSegment("v", seq, name, whole))
		if seq == 5 {
			sidecar("v", "v.old.integrity.json")
		}
	}
	sidecar("v", "v.integrity.json")
	file := []byte("INITSIDXaaaaabbbbbbbcc")
	write("r/r.mp4", file)
	add(s.Add("r", integrity.Entry{Kind: integrity.KindInit, URI: "r/r.mp4"}, file[:4]))
	for i, r := range [][2]int{{8, 13}, {13, 20}, {20, 22}} {
		add(s.AddByteRange("r", uint64(i+1), "r/r.mp4", uint64(r[0]), file[r[0]:r[1]]))
	}
	sidecar("r", "r.integrity.json")
	kb, _ := integrity.MarshalPublicKey(pub)
	write("k.pub", kb)
	other, _ := testKey(7)
	ob, _ := integrity.MarshalPublicKey(other)
	write("other.pub", ob)

	cmd := exec.Command(node, filepath.Join("js", "verify_test.mjs"), dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	want := map[string]string{
		"load": "ok", "load r": "ok", "segment 5": "true", "part 6.1": "true", "init": "true", "range 2": "true",
		"flipped": "mismatch", "unknown": "unknown", "p2p url": "true", "p2p tampered": "false", "p2p range": "true",
		"reordered": "order", "hashes swapped": "signature", "wrong key": "key", "other stream": "stream",
		"replayed older": "replay", "generation changed": "signature", "entry of another session": "replay",
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	seen := 0
	for sc.Scan() {
		var r struct {
			Name string
			OK   any
			Code string
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		got := r.Code
		if got == "" {
			got = fmt.Sprint(r.OK)
			if r.OK == nil {
				got = "ok"
			}
		}
		if got != want[r.Name] {
			t.Errorf("%s: JavaScript says %s, want %s", r.Name, got, want[r.Name])
		}
		seen++
	}
	if seen != len(want) {
		t.Errorf("%d checks ran, want %d:\n%s\n%s", seen, len(want), out, stderr.String())
	}
}
