package integrity_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
)

// testKey is fixed so that the sidecars under testdata/ verify.
func testKey(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

var fixedClock = func() time.Time { return time.UnixMilli(1_700_000_000_000) }

// live signs what a live LL-HLS packager publishes for one rendition:
// the init, then per segment its parts and the whole segment.
func live(t testing.TB, s *integrity.Signer, rend string, segs, parts int) map[string][]byte {
	t.Helper()
	data := map[string][]byte{}
	put := func(e integrity.Entry, err error, b []byte) {
		if err != nil {
			t.Fatal(err)
		}
		data[e.Label()] = b
	}
	init := []byte("ftyp moov " + rend)
	e, err := s.AddInit(rend, rend+"/init.mp4", init)
	put(e, err, init)
	for seq := uint64(10); seq < uint64(10+segs); seq++ {
		var whole []byte
		for p := uint32(0); p < uint32(parts); p++ {
			b := []byte(fmt.Sprintf("moof mdat %s %d.%d", rend, seq, p))
			whole = append(whole, b...)
			e, err := s.AddPart(rend, seq, p, fmt.Sprintf("%s/part_%d.%d.m4s", rend, seq, p), b)
			put(e, err, b)
		}
		e, err := s.AddSegment(rend, seq, fmt.Sprintf("%s/seg_%d.m4s", rend, seq), whole)
		put(e, err, whole)
	}
	return data
}

func TestSignVerifyLive(t *testing.T) {
	pub, priv := testKey(1)
	s, err := integrity.NewSigner(priv, "match-42", integrity.WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	data := live(t, s, "video_720p", 3, 4)
	sc, err := s.Sidecar("video_720p")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Entries) != 1+3*5 || sc.Generation != 1_700_000_000_000 || sc.KeyID != integrity.KeyID(pub) {
		t.Fatalf("sidecar: %d entries, generation %d, key %s", len(sc.Entries), sc.Generation, sc.KeyID)
	}
	// Through the wire form.
	b, err := sc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got integrity.Sidecar
	if err := got.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	v := integrity.NewVerifier(pub, "match-42")
	if err := v.Load(&got); err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyInit("video_720p", data["init"]); err != nil {
		t.Error(err)
	}
	for seq := uint64(10); seq < 13; seq++ {
		if err := v.Verify("video_720p", seq, data[fmt.Sprintf("segment %d", seq)]); err != nil {
			t.Error(err)
		}
		for p := uint32(0); p < 4; p++ {
			if err := v.VerifyPart("video_720p", seq, p, data[fmt.Sprintf("part %d.%d", seq, p)]); err != nil {
				t.Error(err)
			}
		}
	}
	// Wrong data, wrong place, unknown place.
	seg11 := data["segment 11"]
	flipped := bytes.Clone(seg11)
	flipped[3] ^= 1
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"flipped byte", v.Verify("video_720p", 11, flipped), integrity.ErrMismatch},
		{"truncated", v.Verify("video_720p", 11, seg11[:len(seg11)-1]), integrity.ErrMismatch},
		{"segment 11 as 12", v.Verify("video_720p", 12, seg11), integrity.ErrMismatch},
		{"part as segment", v.Verify("video_720p", 11, data["part 11.0"]), integrity.ErrMismatch},
		{"other rendition", v.Verify("video_360p", 11, seg11), integrity.ErrUnknown},
		{"not yet signed", v.Verify("video_720p", 13, seg11), integrity.ErrUnknown},
		{"part 4 of 4", v.VerifyPart("video_720p", 11, 4, seg11), integrity.ErrUnknown},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
		} else if strings.Contains(c.err.Error(), "\n") || !strings.Contains(c.err.Error(), "video_") {
			t.Errorf("%s: message %q is not one line naming the rendition", c.name, c.err)
		}
	}
	if err := v.Verify("video_720p", 11, flipped); !strings.Contains(err.Error(), "video_720p/seg_11.m4s") {
		t.Errorf("mismatch does not name the file: %v", err)
	}

	// The live window slides: the next sidecar drops segment 10 and adds
	// 13; it is newer, so it replaces the trusted entries.
	s.Trim("video_720p", 11)
	live13, _ := s.AddSegment("video_720p", 13, "video_720p/seg_13.m4s", []byte("thirteen"))
	sc2, err := s.Sidecar("video_720p")
	if err != nil {
		t.Fatal(err)
	}
	if sc2.Generation <= sc.Generation || sc2.Entries[0].Kind != integrity.KindInit {
		t.Fatalf("next sidecar: generation %d after %d, first entry %v", sc2.Generation, sc.Generation, sc2.Entries[0].Kind)
	}
	if err := v.Load(sc2); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify("video_720p", 13, []byte("thirteen")); err != nil {
		t.Error(err)
	}
	if err := v.Verify("video_720p", 10, data["segment 10"]); !errors.Is(err, integrity.ErrUnknown) {
		t.Errorf("trimmed segment: %v", err)
	}
	// The older sidecar again is a replay.
	if err := v.Load(&got); !errors.Is(err, integrity.ErrReplay) {
		t.Errorf("replayed older signature: %v", err)
	}
	// A single pushed entry verifies on its own, and a contradicting one
	// is refused.
	v2 := integrity.NewVerifier(pub, "match-42")
	if err := v2.AddEntry("video_720p", live13); err != nil {
		t.Fatal(err)
	}
	if err := v2.Verify("video_720p", 13, []byte("thirteen")); err != nil {
		t.Error(err)
	}
	moved := live13
	moved.Seq = 14
	if err := v2.AddEntry("video_720p", moved); !errors.Is(err, integrity.ErrSignature) {
		t.Errorf("entry moved to seq 14: %v", err)
	}
	if err := v2.AddEntry("video_360p", live13); !errors.Is(err, integrity.ErrSignature) {
		t.Errorf("entry moved to another rendition: %v", err)
	}
}

func TestByteRanges(t *testing.T) {
	pub, priv := testKey(2)
	s, _ := integrity.NewSigner(priv, "vod", integrity.WithClock(fixedClock))
	file := []byte("INITSIDXaaaaabbbbbbbcc")
	if _, err := s.Add("v", integrity.Entry{Kind: integrity.KindInit, URI: "v/v.mp4"}, file[:4]); err != nil {
		t.Fatal(err)
	}
	for i, r := range [][2]int{{8, 13}, {13, 20}, {20, 22}} {
		if _, err := s.AddByteRange("v", uint64(i+1), "v/v.mp4", uint64(r[0]), file[r[0]:r[1]]); err != nil {
			t.Fatal(err)
		}
	}
	sc, _ := s.Sidecar("v")
	if e := sc.Entries[2]; e.Offset != 13 || e.Length != 7 || !strings.Contains(e.Where(), "v/v.mp4 bytes 13-19") {
		t.Errorf("entry 2: %+v, %s", e, e.Where())
	}
	v := integrity.NewVerifier(pub, "vod")
	if err := v.Load(sc); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify("v", 2, file[13:20]); err != nil {
		t.Error(err)
	}
	// The neighbouring range is not segment 2.
	if err := v.Verify("v", 2, file[12:19]); !errors.Is(err, integrity.ErrMismatch) {
		t.Errorf("shifted range: %v", err)
	}
	// The offset is signed: moving an entry's range breaks it.
	sc.Entries[2].Offset = 12
	if err := integrity.NewVerifier(pub, "vod").Load(sc); !errors.Is(err, integrity.ErrSignature) {
		t.Errorf("moved range: %v", err)
	}
}

func TestSignerOrder(t *testing.T) {
	_, priv := testKey(3)
	s, _ := integrity.NewSigner(priv, "x")
	steps := []struct {
		e  integrity.Entry
		ok bool
	}{
		{integrity.Entry{Kind: integrity.KindInit}, true},
		{integrity.Entry{Kind: integrity.KindPart, Seq: 1, Part: 0}, true},
		{integrity.Entry{Kind: integrity.KindPart, Seq: 1, Part: 0}, false}, // repeated
		{integrity.Entry{Kind: integrity.KindPart, Seq: 1, Part: 1}, true},
		{integrity.Entry{Kind: integrity.KindSegment, Seq: 1}, true},
		{integrity.Entry{Kind: integrity.KindPart, Seq: 1, Part: 2}, false}, // part after its segment
		{integrity.Entry{Kind: integrity.KindInit}, false},                  // init after media
		{integrity.Entry{Kind: integrity.KindSegment, Seq: 3}, true},        // a gap is allowed (lost segment)
		{integrity.Entry{Kind: integrity.KindSegment, Seq: 2}, false},
		{integrity.Entry{Kind: integrity.KindInit, Seq: 4}, false}, // init with a seq
	}
	for i, st := range steps {
		_, err := s.Add("r", st.e, []byte{byte(i)})
		if (err == nil) != st.ok {
			t.Errorf("step %d %s: err = %v", i, st.e.Label(), err)
		}
	}
	if _, err := integrity.NewSigner(priv, ""); err == nil {
		t.Error("empty stream id accepted")
	}
	if _, err := integrity.NewSigner(priv[:10], "x"); err == nil {
		t.Error("short key accepted")
	}
	// Generations grow even with a clock standing still.
	s2, _ := integrity.NewSigner(priv, "x", integrity.WithClock(fixedClock), integrity.WithGeneration(1_800_000_000_000))
	a, _ := s2.Sidecar("r")
	b, _ := s2.Sidecar("r")
	if a.Generation != 1_800_000_000_001 || b.Generation != a.Generation+1 {
		t.Errorf("generations %d, %d", a.Generation, b.Generation)
	}
}

// sidecarCases are tampered sidecars and what the verifier must say. They
// are also the fuzz target's seeds.
var sidecarCases = []struct {
	name   string
	mutate func(sc *integrity.Sidecar)
	want   error
}{
	{"valid", func(*integrity.Sidecar) {}, nil},
	{"reordered entries", func(sc *integrity.Sidecar) { sc.Entries[2], sc.Entries[3] = sc.Entries[3], sc.Entries[2] }, integrity.ErrOrder},
	{"hashes swapped", func(sc *integrity.Sidecar) {
		sc.Entries[2].SHA256, sc.Entries[3].SHA256 = sc.Entries[3].SHA256, sc.Entries[2].SHA256
	}, integrity.ErrSignature},
	{"seq renumbered", func(sc *integrity.Sidecar) { sc.Entries[len(sc.Entries)-1].Seq = 99 }, integrity.ErrSignature},
	{"entry dropped", func(sc *integrity.Sidecar) { sc.Entries = append(sc.Entries[:2], sc.Entries[3:]...) }, integrity.ErrSignature},
	{"entry repeated", func(sc *integrity.Sidecar) { sc.Entries = append(sc.Entries[:3], sc.Entries[2:]...) }, integrity.ErrOrder},
	{"generation raised", func(sc *integrity.Sidecar) { sc.Generation++ }, integrity.ErrSignature},
	{"other stream", func(sc *integrity.Sidecar) { sc.Stream = "other" }, integrity.ErrStream},
	{"other rendition", func(sc *integrity.Sidecar) { sc.Rendition = "audio" }, integrity.ErrSignature},
	{"other key id", func(sc *integrity.Sidecar) { sc.KeyID = "0123456789abcdef" }, integrity.ErrKey},
	{"uri changed", func(sc *integrity.Sidecar) { sc.Entries[1].URI = "v/evil.m4s" }, integrity.ErrSignature},
	{"sig zeroed", func(sc *integrity.Sidecar) { sc.Sig = integrity.Sig{} }, integrity.ErrSignature},
}

func signedSidecar(t testing.TB) (*integrity.Sidecar, ed25519.PublicKey) {
	pub, priv := testKey(4)
	s, _ := integrity.NewSigner(priv, "s", integrity.WithClock(fixedClock))
	live(t, s, "v", 2, 2)
	sc, err := s.Sidecar("v")
	if err != nil {
		t.Fatal(err)
	}
	return sc, pub
}

func TestSidecarTampering(t *testing.T) {
	for _, c := range sidecarCases {
		t.Run(c.name, func(t *testing.T) {
			sc, pub := signedSidecar(t)
			c.mutate(sc)
			// Through JSON, as a verifier receives it.
			b, err := sc.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			var got integrity.Sidecar
			if err := got.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			err = integrity.NewVerifier(pub, "s").Load(&got)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if err != nil && (strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "integrity: ")) {
				t.Errorf("message %q", err)
			}
		})
	}
	// A wrong key: the key id says so before any signature is tried.
	sc, _ := signedSidecar(t)
	other, _ := testKey(9)
	if err := integrity.NewVerifier(other, "s").Load(sc); !errors.Is(err, integrity.ErrKey) || !strings.Contains(err.Error(), integrity.KeyID(other)) {
		t.Errorf("wrong key: %v", err)
	}
}

func TestReplayHistory(t *testing.T) {
	pub, priv := testKey(5)
	s, _ := integrity.NewSigner(priv, "s", integrity.WithClock(fixedClock))
	s.AddSegment("v", 1, "v/1", []byte("one"))
	old, _ := s.Sidecar("v")
	s.AddSegment("v", 2, "v/2", []byte("two"))
	cur, _ := s.Sidecar("v")

	var h integrity.History
	if err := integrity.NewVerifier(pub, "s", integrity.WithHistory(&h)).Load(cur); err != nil {
		t.Fatal(err)
	}
	// Saved and loaded again: a later run still refuses the old one.
	b, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var h2 integrity.History
	if err := h2.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	err = integrity.NewVerifier(pub, "s", integrity.WithHistory(&h2)).Load(old)
	if !errors.Is(err, integrity.ErrReplay) || !strings.Contains(err.Error(), fmt.Sprint(old.Generation)) {
		t.Errorf("replayed old sidecar: %v", err)
	}
	// Without history, the old one on its own is acceptable: replay
	// protection needs memory.
	if err := integrity.NewVerifier(pub, "s").Load(old); err != nil {
		t.Errorf("fresh verifier: %v", err)
	}
	// Same generation, different content: equivocation.
	v := integrity.NewVerifier(pub, "s")
	v.Load(cur)
	forged := *cur
	s2, _ := integrity.NewSigner(priv, "s", integrity.WithClock(func() time.Time { return time.UnixMilli(int64(cur.Generation)) }))
	s2.AddSegment("v", 2, "v/2", []byte("TWO"))
	forged2, _ := s2.Sidecar("v")
	_ = forged
	if err := v.Load(forged2); !errors.Is(err, integrity.ErrReplay) {
		t.Errorf("same generation, other entries: %v", err)
	}
}

// An entry signed by an earlier signer of the same stream (valid
// signature, same seq) is refused by name, in a sidecar and pushed alone.
func TestReplayedEntry(t *testing.T) {
	pub, priv := testKey(5)
	old, _ := integrity.NewSigner(priv, "s", integrity.WithClock(func() time.Time { return time.UnixMilli(1000) }))
	oldSeg, _ := old.AddSegment("v", 1, "v/1", []byte("old one"))
	cur, _ := integrity.NewSigner(priv, "s", integrity.WithClock(func() time.Time { return time.UnixMilli(2000) }))
	cur.AddSegment("v", 1, "v/1", []byte("new one"))
	curSeg2, _ := cur.AddSegment("v", 2, "v/2", []byte("two"))
	sc, _ := cur.Sidecar("v")
	if sc.Session != 2000 || sc.Entries[0].Session != 2000 || oldSeg.Session != 1000 {
		t.Fatalf("sessions: sidecar %d, entry %d, old entry %d", sc.Session, sc.Entries[0].Session, oldSeg.Session)
	}
	spliced := *sc
	spliced.Entries = append([]integrity.Entry{oldSeg}, sc.Entries[1:]...)
	err := integrity.NewVerifier(pub, "s").Load(&spliced)
	if !errors.Is(err, integrity.ErrReplay) || !strings.Contains(err.Error(), "entries[0] was signed in session 1000, this sidecar's session is 2000") {
		t.Errorf("spliced old entry: %v", err)
	}
	// Claiming the new session for it breaks its signature instead.
	oldSeg.Session = 2000
	spliced.Entries[0] = oldSeg
	if err := integrity.NewVerifier(pub, "s").Load(&spliced); !errors.Is(err, integrity.ErrSignature) {
		t.Errorf("old entry relabelled: %v", err)
	}
	oldSeg.Session = 1000
	// Pushed alone, after the current sidecar was loaded.
	v := integrity.NewVerifier(pub, "s")
	if err := v.Load(sc); err != nil {
		t.Fatal(err)
	}
	if err := v.AddEntry("v", oldSeg); !errors.Is(err, integrity.ErrReplay) {
		t.Errorf("pushed old entry: %v", err)
	}
	if err := v.AddEntry("v", curSeg2); err != nil {
		t.Errorf("pushed current entry: %v", err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	sc, _ := signedSidecar(t)
	good, _ := sc.Marshal()
	cases := []struct{ name, in, want string }{
		{"empty", "", "byte 0"},
		{"syntax", `{"format": "streamkit-integrity",, }`, "byte 34"},
		{"type", `{"format": 1}`, "byte 12: field format"},
		{"unknown field", strings.Replace(string(good), `"format"`, `"evil":1,"format"`, 1), "unknown field"},
		{"trailing", string(good) + "{}", "after the JSON object"},
		{"format", strings.Replace(string(good), `"streamkit-integrity"`, `"x"`, 1), "sidecar format"},
		{"version", strings.Replace(string(good), `"version":1`, `"version":2`, 1), "version 1"},
		{"short hash", strings.Replace(string(good), `"sha256":"`, `"sha256":"00`, 1), "entries[0].sha256"},
		{"bad hex sig", strings.Replace(string(good), `"sig":"`, `"sig":"zz`, 1), "entries[0].sig"},
		{"kind", strings.Replace(string(good), `"kind":"part"`, `"kind":"chunk"`, 1), "entries[1].kind"},
		{"seq beyond 2^53", strings.Replace(string(good), `"seq":10`, `"seq":9007199254740993`, 1), "2^53"},
		{"key id", strings.Replace(string(good), `"key_id":"`, `"key_id":"X`, 1), "key_id"},
		{"stream", strings.Replace(string(good), `"stream":"s"`, `"stream":""`, 1), "stream"},
		{"huge", strings.Repeat(" ", integrity.MaxSidecarSize+1), "limit"},
	}
	for _, c := range cases {
		var got integrity.Sidecar
		err := got.Unmarshal([]byte(c.in))
		if !errors.Is(err, integrity.ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrFormat mentioning %q", c.name, err, c.want)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pub, priv, err := integrity.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "k")
	if err := integrity.WriteKeyPair(base, pub, priv); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(base + ".key"); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", fi.Mode().Perm())
	}
	if err := integrity.WriteKeyPair(base, pub, priv); !errors.Is(err, integrity.ErrExists) {
		t.Errorf("overwrite: %v", err)
	}
	p2, err := integrity.ReadPrivateKeyFile(base + ".key")
	if err != nil || !p2.Equal(priv) {
		t.Fatalf("private key round trip: %v", err)
	}
	pb, err := integrity.ReadPublicKeyFile(base + ".pub")
	if err != nil || !pb.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	text, _ := os.ReadFile(base + ".pub")
	if !strings.Contains(string(text), integrity.KeyID(pub)) || !strings.Contains(string(text), "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("public key file:\n%s", text)
	}
	// The public key where the private one is expected, and garbage.
	if _, err := integrity.ReadPrivateKeyFile(base + ".pub"); !errors.Is(err, integrity.ErrFormat) || !strings.Contains(err.Error(), "k.pub") {
		t.Errorf("public as private: %v", err)
	}
	if _, err := integrity.ParsePublicKey([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); !errors.Is(err, integrity.ErrFormat) {
		t.Errorf("garbage key: %v", err)
	}
}
