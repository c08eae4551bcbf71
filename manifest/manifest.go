// Package manifest loads whatever the ABR simulator can play into an
// abr.Manifest in one call: a packaged HLS multivariant playlist (.m3u8)
// or DASH MPD (.mpd), as `streamkit package` writes them, with the segment
// sizes read from the files or byte ranges on disk; a Sabre movie JSON;
// or a directory of Pensieve video_size_N files.
//
//	m, err := manifest.Load("out/master.m3u8")
//	...
//	s, err := abr.NewSession(m, trace, alg)
//
// # Why a package of its own
//
// Package abr imports no container or manifest package (the simulator is a
// model of players, not of formats), and hls and dash do not import abr
// (packaging knows nothing of simulation). This package sits above the
// three and is the one place that knows all the formats. Importing it
// also registers the .m3u8 and .mpd readers with abr.RegisterManifestFormat,
// so abr.LoadManifest, Sabre's -m option (abr.RunSabre) and sweeps accept
// packaged presentations too; without it abr.LoadManifest answers a
// playlist with an error that names Load.
package manifest

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/streamkit-go/streamkit/abr"
	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
)

func init() {
	abr.RegisterManifestFormat(".m3u8", loader(hls.ReadLadder))
	abr.RegisterManifestFormat(".mpd", loader(dash.ReadLadder))
}

// Load reads the presentation at path as an abr.Manifest:
//
//   - a .m3u8 file: a packaged HLS multivariant playlist (hls.ReadLadder);
//   - a .mpd file: a packaged DASH MPD (dash.ReadLadder);
//   - a directory holding master.m3u8 or manifest.mpd (the output directory
//     of `streamkit package`): that manifest, HLS first;
//   - any other directory: Pensieve video_size_N files (abr.LoadVideoSizes);
//   - any other file: a Sabre movie JSON (abr.LoadSabreManifest).
//
// Errors name the file and what is wrong in it.
func Load(path string) (abr.Manifest, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		for _, name := range []string{hls.MultivariantName, dash.ManifestName} {
			p := filepath.Join(path, name)
			if _, err := os.Stat(p); err == nil {
				return abr.LoadManifest(p)
			}
		}
	}
	return abr.LoadManifest(path)
}

// loader adapts a packaged-ladder reader to abr.ManifestLoader: its error
// names the manifest, and a failed read is a nil Manifest, not a nil
// *Ladder inside one.
func loader[L abr.Manifest](read func(string) (L, error)) abr.ManifestLoader {
	return func(path string) (abr.Manifest, error) {
		l, err := read(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return l, nil
	}
}
