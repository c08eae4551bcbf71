package integrity_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/streamkit-go/streamkit/integrity"
)

// A live packager signs each part and segment as it publishes it and
// rewrites the rendition's sidecar; a peer verifies what other peers send.
func Example() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)) // integrity.GenerateKey in real use
	pub := priv.Public().(ed25519.PublicKey)

	// Publisher.
	s, _ := integrity.NewSigner(priv, "match-42", integrity.WithClock(func() time.Time { return time.UnixMilli(1) }))
	s.AddInit("video_720p", "video_720p/init.mp4", []byte("init"))
	s.AddPart("video_720p", 100, 0, "video_720p/part_100.0.m4s", []byte("part zero"))
	s.AddPart("video_720p", 100, 1, "video_720p/part_100.1.m4s", []byte("part one"))
	s.AddSegment("video_720p", 100, "video_720p/seg_100.m4s", []byte("part zeropart one"))
	sc, _ := s.Sidecar("video_720p")
	wire, _ := sc.Marshal() // served as video_720p.integrity.json

	// Peer.
	var got integrity.Sidecar
	if err := got.Unmarshal(wire); err != nil {
		fmt.Println(err)
		return
	}
	v := integrity.NewVerifier(pub, "match-42")
	if err := v.Load(&got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("part 100.1:", v.VerifyPart("video_720p", 100, 1, []byte("part one")))
	err := v.Verify("video_720p", 100, []byte("part zeroPART ONE"))
	fmt.Println("tampered:", errors.Is(err, integrity.ErrMismatch), err)
	err = v.Verify("video_720p", 101, []byte("next"))
	fmt.Println("not signed yet, fetch from the CDN:", errors.Is(err, integrity.ErrUnknown))
	// Output:
	// part 100.1: <nil>
	// tampered: true integrity: video_720p segment 100 (video_720p/seg_100.m4s): data does not match the signed hash: sha256 ffa9fdbac777..., signed 7bbf27cf3c45...
	// not signed yet, fetch from the CDN: true
}

// A verifier with a History refuses a sidecar older than one it accepted.
func ExampleWithHistory() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32))
	s, _ := integrity.NewSigner(priv, "news", integrity.WithClock(func() time.Time { return time.UnixMilli(1000) }))
	s.AddSegment("audio", 1, "audio/seg_1.m4s", []byte("one"))
	old, _ := s.Sidecar("audio")
	s.AddSegment("audio", 2, "audio/seg_2.m4s", []byte("two"))
	cur, _ := s.Sidecar("audio")

	var h integrity.History // saved with h.WriteFile between runs
	v := integrity.NewVerifier(priv.Public().(ed25519.PublicKey), "news", integrity.WithHistory(&h))
	fmt.Println(v.Load(cur))
	fmt.Println(v.Load(old))
	// Output:
	// <nil>
	// integrity: audio sidecar: replayed older signature: generation 1000 is older than generation 1001 already accepted
}

// KeyID names a key in sidecars, key files and messages.
func ExampleKeyID() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	fmt.Println(integrity.KeyID(priv.Public().(ed25519.PublicKey)))
	// Output: dbc298251c51321b
}
