// Command segment-integrity signs a packaged ladder, verifies it, and
// shows what a verifier says when a peer tampers with a segment,
// reorders a sidecar, signs with another key or replays an older
// sidecar.
//
//	go run ./examples/segment-integrity
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/segment"
)

func main() {
	log.SetFlags(0)
	work, err := os.MkdirTemp("", "streamkit-segment-integrity-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	ctx := context.Background()

	fmt.Println("Threat: in P2P-assisted delivery most segments come from other viewers, and any")
	fmt.Println("of them can send altered bytes. The packager signs what it publishes; players and")
	fmt.Println("peers check every piece before using it, and fetch it from the CDN when they cannot.")

	// 1. A key pair, as `streamkit keygen -o origin` writes it.
	pub, priv, err := integrity.GenerateKey(nil)
	if err != nil {
		log.Fatal(err)
	}
	base := filepath.Join(work, "origin")
	if err := integrity.WriteKeyPair(base, pub, priv); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\n1. keygen: key id %s\n", integrity.KeyID(pub))
	fmt.Printf("   %s.key  private (PKCS#8 PEM, mode 0600): stays on the packager\n", base)
	fmt.Printf("   %s.pub  public (SPKI PEM): shipped with the player, WebCrypto imports it as \"spki\"\n", base)

	// 2. Package the embedded sample and sign it, as `streamkit package
	//    --sign origin.key` does: the files are signed as written.
	pkg := filepath.Join(work, "pkg")
	p := packageSample(ctx, pkg)
	signer, err := integrity.NewSigner(priv, "sample-vod")
	if err != nil {
		log.Fatal(err)
	}
	names, err := integrity.SignPresentation(ctx, pkg, p, signer)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\n2. package --sign: %d renditions packaged and signed, sidecars %s\n", len(names), strings.Join(names, ", "))
	sc := readSidecar(filepath.Join(pkg, names[1]))
	fmt.Printf("   %s: stream %q, rendition %q, generation %d (grows with every rewrite)\n", names[1], sc.Stream, sc.Rendition, sc.Generation)
	for _, e := range sc.Entries {
		fmt.Printf("     %-9s %-24s %7d B  sha256 %.16s...  sig %.16s...\n", e.Label(), e.URI, e.Length, e.SHA256, fmt.Sprintf("%x", e.Sig))
	}
	fmt.Println("   Each entry signs, in a length-prefixed, domain-separated statement: stream id,")
	fmt.Println("   rendition, signing session, kind, sequence number, URI, byte range and SHA-256.")
	fmt.Println("   So a signature cannot be moved to another stream, rendition or position, nor")
	fmt.Println("   reused from an earlier signing. The sidecar's own signature covers the")
	fmt.Println("   generation and every entry in order.")

	// 3. Verify the package, as `streamkit verify pkg --pubkey origin.pub`.
	fmt.Println("\n3. verify the package as published:")
	report(ctx, pkg, pub, nil)

	// 4. A peer flips one bit of one segment.
	seg := filepath.Join(pkg, p.Video[1].Segments[1].URI)
	orig := flip(seg, 1000)
	fmt.Printf("\n4. a peer flips one bit of %s:\n", p.Video[1].Segments[1].URI)
	report(ctx, pkg, pub, nil)
	os.WriteFile(seg, orig, 0o644)

	// What a P2P player does with it, segment by segment.
	v := integrity.NewVerifier(pub, "sample-vod")
	if err := v.Load(readSidecar(filepath.Join(pkg, integrity.SidecarName(p.Video[1].ID)))); err != nil {
		log.Fatal(err)
	}
	tampered := append([]byte(nil), orig...)
	tampered[1000] ^= 1
	id := p.Video[1].ID
	fmt.Println("   In the player (p2p-media-loader's validateP2PSegment would call this):")
	fmt.Printf("     from peer A, intact:   %s\n", verdict(v.Verify(id, 2, orig)))
	fmt.Printf("     from peer B, tampered: %s\n", verdict(v.Verify(id, 2, tampered)))
	fmt.Printf("     segment 9, not signed: %s\n", verdict(v.Verify(id, 9, orig)))

	// 5. Someone reorders the entries of a sidecar (to pass segment 1's
	//    signed hash off as segment 2's).
	name := filepath.Join(pkg, names[0])
	good, _ := os.ReadFile(name)
	re := readSidecar(name)
	re.Entries[1], re.Entries[2] = re.Entries[2], re.Entries[1]
	if err := re.WriteFile(name); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\n5. the entries of %s reordered:\n", names[0])
	report(ctx, pkg, pub, nil)
	os.WriteFile(name, good, 0o644)

	// 6. Verified with a key that did not sign it.
	other, _, _ := integrity.GenerateKey(nil)
	fmt.Printf("\n6. verified with another key (%s):\n", integrity.KeyID(other))
	report(ctx, pkg, other, nil)

	// 7. A replayed older signature: the packager re-signs (generation
	//    grows); a verifier that remembers what it accepted refuses the old
	//    one when someone serves it again.
	older := good
	var hist integrity.History
	// A restarted packager passes the last generation it published, so
	// the new ones are greater even within the same millisecond.
	last := readSidecar(filepath.Join(pkg, names[len(names)-1])).Generation
	resign, _ := integrity.NewSigner(priv, "sample-vod", integrity.WithGeneration(last))
	if _, err := integrity.SignPresentation(ctx, pkg, p, resign); err != nil {
		log.Fatal(err)
	}
	fmt.Println("\n7. re-signed; a verifier with a history (streamkit verify --state FILE) accepts it:")
	report(ctx, pkg, pub, &hist)
	os.WriteFile(name, older, 0o644)
	fmt.Printf("   ... then the older %s is served again:\n", names[0])
	report(ctx, pkg, pub, &hist)
	// One signature of the older signing spliced into the current
	// sidecar needs no history: entries sign their signer's session.
	var oldSC integrity.Sidecar
	if err := oldSC.Unmarshal(older); err != nil {
		log.Fatal(err)
	}
	if _, err := integrity.SignPresentation(ctx, pkg, p, resign2(priv, last)); err != nil {
		log.Fatal(err)
	}
	cur := readSidecar(name)
	cur.Entries[1] = oldSC.Entries[1]
	if err := cur.WriteFile(name); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("   ... or one older entry spliced into the current %s (no history needed):\n", names[0])
	report(ctx, pkg, pub, nil)

	fmt.Println("\nNot covered: confidentiality (encrypt or use DRM), availability (a peer can withhold")
	fmt.Println("data: the player falls back to the CDN), a stolen private key (rotate it: sidecars")
	fmt.Println("name the key id). The same checks run in a browser with WebCrypto: see integrity/doc.go.")
}

// resign2 is a third signing session, later than the second.
func resign2(priv ed25519.PrivateKey, last uint64) *integrity.Signer {
	s, err := integrity.NewSigner(priv, "sample-vod", integrity.WithGeneration(last+100))
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func packageSample(ctx context.Context, out string) *segment.Presentation {
	inputs, err := segment.SampleInputs()
	if err != nil {
		log.Fatal(err)
	}
	p, err := segment.Cut(ctx, out, inputs, segment.WithTargetDuration(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := hls.Write(out, p); err != nil {
		log.Fatal(err)
	}
	if _, err := dash.Write(out, p); err != nil {
		log.Fatal(err)
	}
	return p
}

func readSidecar(name string) *integrity.Sidecar {
	b, err := os.ReadFile(name)
	if err != nil {
		log.Fatal(err)
	}
	var sc integrity.Sidecar
	if err := sc.Unmarshal(b); err != nil {
		log.Fatal(err)
	}
	return &sc
}

// report checks the package like streamkit verify and prints its lines.
func report(ctx context.Context, dir string, pub ed25519.PublicKey, h *integrity.History) {
	src, err := integrity.DirSource(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	var opts []integrity.CheckOption
	if h != nil {
		opts = append(opts, integrity.CheckHistory(h))
	}
	rep, err := integrity.Check(ctx, src, []string{hls.MultivariantName}, pub, opts...)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range rep.Problems {
		fmt.Println("   FAIL", p)
	}
	status := "OK"
	if !rep.OK() {
		status = fmt.Sprintf("REJECTED (%d problem(s))", len(rep.Problems))
	}
	fmt.Printf("   %s: %d renditions, %d entries, %.2f MB hashed\n", status, rep.Renditions, rep.Entries, float64(rep.Bytes)/1e6)
}

func flip(name string, at int) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		log.Fatal(err)
	}
	orig := append([]byte(nil), b...)
	b[at] ^= 1
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Fatal(err)
	}
	return orig
}

func verdict(err error) string {
	switch {
	case err == nil:
		return "use it"
	case errors.Is(err, integrity.ErrMismatch):
		return "drop the peer (" + strings.TrimPrefix(err.Error(), "integrity: ") + ")"
	case errors.Is(err, integrity.ErrUnknown):
		return "cannot verify: fetch it from the CDN"
	}
	return err.Error()
}
