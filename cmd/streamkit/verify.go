package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/integrity"
)

func init() { registerAs("verify", newVerifyCmd) }

func newVerifyCmd() *cobra.Command {
	var pubkey, stream, state string
	cmd := &cobra.Command{
		Use:   "verify DIR|MANIFEST|URL --pubkey KEY.pub",
		Short: "Check a signed package: every sidecar, signature and segment hash",
		Long: `verify checks a package signed with 'streamkit package --sign' (or by the
live packager): for every rendition the manifests list, the rendition's
sidecar (RENDITION.integrity.json) must be signed by KEY.pub for the
stream, its entries in order, every init, segment and part must hash as
signed, and every one an HLS media playlist references must be signed.

DIR is a package directory (its master.m3u8 and manifest.mpd are read);
MANIFEST a playlist or MPD file; URL an http(s) URL of one (segments are
fetched with range requests; nothing outside that host is fetched).

It prints one line per problem and a summary, and exits non-zero on any
problem. An entry signed by an earlier signing (another session) is
refused as a replay on its own; a whole older sidecar needs memory:
--state FILE remembers the newest generation accepted per key, stream and
rendition, so that a later run rejects an older sidecar replayed in its
place.`,
		Example: `  streamkit verify out --pubkey origin.pub
  streamkit verify http://127.0.0.1:8080/master.m3u8 --pubkey origin.pub --state seen.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if pubkey == "" {
				return errors.New("verify: --pubkey KEY.pub is required")
			}
			pub, err := integrity.ReadPublicKeyFile(pubkey)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			src, manifests, closeSrc, err := verifySource(args[0])
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			defer closeSrc()
			opts := []integrity.CheckOption{}
			if stream != "" {
				opts = append(opts, integrity.CheckStream(stream))
			}
			var hist integrity.History
			if state != "" {
				if b, err := os.ReadFile(state); err == nil {
					if err := hist.Unmarshal(b); err != nil {
						return fmt.Errorf("verify: %s: %w", state, err)
					}
				} else if !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("verify: %w", err)
				}
				opts = append(opts, integrity.CheckHistory(&hist))
			}
			rep, err := integrity.Check(cmd.Context(), src, manifests, pub, opts...)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			if state != "" {
				if err := hist.WriteFile(state); err != nil {
					return fmt.Errorf("verify: %w", err)
				}
			}
			w := cmd.OutOrStdout()
			for _, p := range rep.Problems {
				fmt.Fprintln(w, "FAIL", p)
			}
			what := fmt.Sprintf("%d renditions, %d entries, %.1f MB hashed; stream %q, key %s", rep.Renditions, rep.Entries, float64(rep.Bytes)/1e6, rep.Stream, rep.KeyID)
			if !rep.OK() {
				return fmt.Errorf("verify: %d problem(s) in %s", len(rep.Problems), what)
			}
			fmt.Fprintln(w, "OK:", what)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&pubkey, "pubkey", "", "the publisher's public key (from streamkit keygen)")
	f.StringVar(&stream, "stream-id", "", "require this stream id (default: the first sidecar's, which all others must match)")
	f.StringVar(&state, "state", "", "file remembering the newest generation accepted, to reject replayed older sidecars")
	return cmd
}

// verifySource opens what verify was given: a URL, a manifest file or a
// package directory.
func verifySource(arg string) (integrity.Source, []string, func(), error) {
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		u, err := url.Parse(arg)
		if err != nil {
			return nil, nil, nil, err
		}
		if strings.HasSuffix(u.Path, "/") || u.Path == "" {
			u.Path = path.Join(u.Path, hls.MultivariantName)
		}
		root := *u
		root.Path = path.Dir(u.Path) + "/"
		root.RawQuery = ""
		return integrity.HTTPSource(&root, nil), []string{path.Base(u.Path)}, func() {}, nil
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return nil, nil, nil, err
	}
	dir, manifests := arg, []string(nil)
	if fi.IsDir() {
		for _, m := range []string{hls.MultivariantName, dash.ManifestName} {
			if _, err := os.Stat(filepath.Join(dir, m)); err == nil {
				manifests = append(manifests, m)
			}
		}
		if len(manifests) == 0 {
			return nil, nil, nil, fmt.Errorf("%s: no %s or %s", arg, hls.MultivariantName, dash.ManifestName)
		}
	} else {
		dir, manifests = filepath.Dir(arg), []string{filepath.Base(arg)}
	}
	d, err := integrity.DirSource(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	return d, manifests, func() { d.Close() }, nil
}
