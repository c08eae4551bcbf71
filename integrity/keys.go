package integrity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxKeyFile bounds a key file read from disk.
const maxKeyFile = 16 << 10

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex (as
// signify and minisign name keys). Sidecars carry it so that a verifier
// holding another key says "wrong key", not just "bad signature".
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// GenerateKey makes an Ed25519 key pair from rand (crypto/rand when nil).
func GenerateKey(r io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	return ed25519.GenerateKey(r)
}

// MarshalPrivateKey encodes priv as a comment line naming the key id and
// a PKCS#8 "PRIVATE KEY" PEM block (what openssl genpkey -algorithm
// ed25519 writes, and openssl pkey reads).
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	head := fmt.Sprintf("# streamkit Ed25519 private key %s: keep it secret; sign with streamkit package --sign\n", KeyID(pub))
	return append([]byte(head), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...), nil
}

// MarshalPublicKey encodes pub as a comment line naming the key id and a
// PKIX (SPKI) "PUBLIC KEY" PEM block; base64-decoded, the block is what
// WebCrypto's importKey("spki", ...) takes.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("# streamkit Ed25519 public key %s: give it to verifiers (streamkit verify --pubkey)\n", KeyID(pub))
	return append([]byte(head), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...), nil
}

// ParsePrivateKey reads a key written by MarshalPrivateKey (or openssl:
// any PKCS#8 Ed25519 key in PEM). Text before the PEM block is ignored.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(b, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: private key: %v", ErrFormat, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: private key is %T, want Ed25519", ErrFormat, k)
	}
	return priv, nil
}

// ParsePublicKey reads a key written by MarshalPublicKey (or openssl pkey
// -pubout). Text before the PEM block is ignored.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(b, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %v", ErrFormat, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: public key is %T, want Ed25519", ErrFormat, k)
	}
	return pub, nil
}

func pemBlock(b []byte, typ string) ([]byte, error) {
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%w: key file of %d bytes (limit %d)", ErrFormat, len(b), maxKeyFile)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM %q block", ErrFormat, typ)
	}
	if blk.Type != typ {
		return nil, fmt.Errorf("%w: PEM block is %q, want %q", ErrFormat, blk.Type, typ)
	}
	return blk.Bytes, nil
}

// ReadPrivateKeyFile and ReadPublicKeyFile read a key file; errors name
// the file.
func ReadPrivateKeyFile(name string) (ed25519.PrivateKey, error) {
	b, err := readLimited(name, maxKeyFile)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

func ReadPublicKeyFile(name string) (ed25519.PublicKey, error) {
	b, err := readLimited(name, maxKeyFile)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}

// ErrExists is returned by WriteKeyPair when a key file is already there:
// overwriting a signing key by accident would orphan every signature.
var ErrExists = errors.New("integrity: key file exists")

// WriteKeyPair writes base+".key" (mode 0600) and base+".pub" (0644),
// refusing to replace either.
func WriteKeyPair(base string, pub ed25519.PublicKey, priv ed25519.PrivateKey) error {
	kb, err := MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	pb, err := MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	for _, n := range []string{base + ".key", base + ".pub"} {
		if _, err := os.Lstat(n); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, n)
		}
	}
	// The private key is created with O_EXCL at mode 0600 from the start:
	// never world-readable, not even for an instant.
	f, err := os.OpenFile(base+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(kb); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := writeAtomic(base+".pub", pb, 0o644); err != nil {
		os.Remove(base + ".key")
		return err
	}
	return nil
}
