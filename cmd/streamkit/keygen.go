package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/integrity"
)

func init() { registerAs("keygen", newKeygenCmd) }

func newKeygenCmd() *cobra.Command {
	name := "streamkit"
	cmd := &cobra.Command{
		Use:   "keygen [-o NAME]",
		Short: "Make an Ed25519 key pair for signing segments (NAME.key, NAME.pub)",
		Long: `keygen writes a new Ed25519 key pair: NAME.key, the private key (PKCS#8
PEM, mode 0600: keep it on the packager), and NAME.pub, the public key
(SPKI PEM: give it to players and peers). Each starts with a comment line
naming the key id that sidecars carry. Existing files are never replaced.

Sign a package with 'streamkit package --sign NAME.key' and check it with
'streamkit verify DIR --pubkey NAME.pub'.`,
		Example: `  streamkit keygen -o origin
  streamkit package -o out --sign origin.key
  streamkit verify out --pubkey origin.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, priv, err := integrity.GenerateKey(nil)
			if err != nil {
				return err
			}
			if err := integrity.WriteKeyPair(name, pub, priv); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s\nprivate: %s.key (keep secret; streamkit package --sign %s.key)\npublic:  %s.pub (streamkit verify --pubkey %s.pub)\n",
				integrity.KeyID(pub), name, name, name, name)
			return nil
		},
	}
	cmd.Flags().StringVarP(&name, "out", "o", name, "base name of the key files")
	return cmd
}
