package main

import (
	"fmt"
	"path/filepath"

	"github.com/streamkit-go/streamkit/integrity"
)

// `streamkit package --sign KEY` signs every init and segment into
// RENDITION.integrity.json sidecars (package integrity) after the
// manifests are written, from the files as written: packageInputs calls
// integrity.SignPresentation on its temporary directory before renaming
// it into place, so a signed package appears whole or not at all.

// newPackageSigner reads the --sign key and makes the signer.
func newPackageSigner(out string, opt packageOptions) (*integrity.Signer, error) {
	priv, err := integrity.ReadPrivateKeyFile(opt.Sign)
	if err != nil {
		return nil, fmt.Errorf("package: --sign: %w", err)
	}
	stream := opt.StreamID
	if stream == "" {
		stream = filepath.Base(filepath.Clean(out))
	}
	var opts []integrity.SignerOption
	if opt.signClock != nil {
		opts = append(opts, integrity.WithClock(opt.signClock))
	}
	s, err := integrity.NewSigner(priv, stream, opts...)
	if err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	return s, nil
}
