package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/dash"
	"github.com/streamkit-go/streamkit/hls"
	"github.com/streamkit-go/streamkit/integrity"
	"github.com/streamkit-go/streamkit/media"
	_ "github.com/streamkit-go/streamkit/mp4" // register MP4 for media.Open
	"github.com/streamkit-go/streamkit/segment"
	_ "github.com/streamkit-go/streamkit/ts" // register MPEG-TS for media.Open
)

// packageOptions are the choices of `streamkit package`.
type packageOptions struct {
	HLS, DASH bool
	Segment   time.Duration
	TS        bool
	ByteRange bool
	ByTime    bool
	Force     bool
	// Strict refuses damaged inputs instead of packaging what is there;
	// otherwise the damage read past is printed on warnOut (when set).
	Strict  bool
	warnOut io.Writer
	// Sign is a private key file: every init and segment is signed into
	// a sidecar per rendition (package integrity); StreamID is the stream
	// id signed (default: OUT's base name).
	Sign, StreamID string
	signClock      func() time.Time // tests: the signer's generation clock
}

// packaged is what packageInputs wrote.
type packaged struct {
	Dir          string
	Multivariant string // HLS multivariant playlist path, "" without HLS
	MPD          string // DASH MPD path, "" without DASH
	Presentation *segment.Presentation
	Sidecars     []string // integrity sidecars written with --sign
	KeyID        string
}

func init() { registerAs("package", newPackageCmd) }

// newPackageCmd builds the package command; its flags are locals of this call.
func newPackageCmd() *cobra.Command {
	opt := packageOptions{}
	var out string
	cmd := &cobra.Command{
		Use:   "package -o OUT [--hls] [--dash] [--segment 4s] [--ts] [--byterange] R1.mp4 R2.mp4 ... [audio.m4a]",
		Short: "Package an ABR ladder as HLS and DASH (VOD) from one set of CMAF segments",
		Long: `package cuts every input's video at key frames near the segment duration,
cuts the audio at the same instants, and writes CMAF segments with an HLS
multivariant playlist (master.m3u8: media playlists, an audio group,
I-frame playlists) and a DASH MPD (manifest.mpd) that both reference the
same files.

Inputs are MP4 or MPEG-TS files: one per video rendition, plus audio-only
files (one per language). Without audio-only files, the audio of the first
input that has some is used. Video renditions must have their key frames
at the same instants (encode with a fixed GOP and no scene-cut key
frames); otherwise package refuses and prints the alignment report.

--ts writes MPEG-TS segments (HLS only). --byterange writes one file per
rendition addressed by byte ranges (HLS EXT-X-BYTERANGE, DASH SegmentBase
with a sidx: the on-demand profile). --naming time names segments by start
time for DASH's $Time$ template. Without --hls or --dash both are written
(HLS only with --ts).

The output is built in a temporary directory next to OUT and renamed to
OUT when complete; an existing OUT is replaced only with --force.
Without inputs, the embedded sample ladder is packaged.`,
		Example: `  streamkit package -o out r240.mp4 r360.mp4 r720.mp4 audio_en.m4a audio_fr.m4a
  streamkit package -o out --segment 6s --dash --naming time ladder_*.mp4
  streamkit package -o out --hls --ts --byterange movie_1080.ts movie_720.ts
  streamkit package -o out      # the embedded sample ladder
  streamkit serve out           # then open http://127.0.0.1:8080/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("package: -o OUT is required")
			}
			naming, _ := cmd.Flags().GetString("naming")
			switch naming {
			case "number":
			case "time":
				opt.ByTime = true
			default:
				return fmt.Errorf("package: --naming %q: want number or time", naming)
			}
			var res *packaged
			var err error
			start := time.Now()
			if len(args) == 0 {
				res, err = packageSample(cmd.Context(), out, opt)
			} else {
				opt.warnOut = cmd.ErrOrStderr()
				res, err = packageFiles(cmd.Context(), out, args, opt)
			}
			if err != nil {
				return err
			}
			printPackaged(cmd.OutOrStdout(), res, time.Since(start))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "output directory (created; replaced only with --force)")
	f.BoolVar(&opt.HLS, "hls", false, "write HLS playlists")
	f.BoolVar(&opt.DASH, "dash", false, "write a DASH MPD")
	f.DurationVar(&opt.Segment, "segment", segment.DefaultTargetDuration, "target segment duration (segments start at the first key frame after it)")
	f.BoolVar(&opt.TS, "ts", false, "MPEG-TS segments instead of CMAF (HLS only)")
	f.BoolVar(&opt.ByteRange, "byterange", false, "one file per rendition, segments addressed by byte range")
	f.String("naming", "number", "segment file names: number (seg_1.m4s, DASH $Number$) or time (DASH $Time$)")
	f.BoolVar(&opt.Force, "force", false, "replace OUT if it exists")
	addStrictFlag(cmd, &opt.Strict)
	f.StringVar(&opt.Sign, "sign", "", "sign every segment with this private key (streamkit keygen) into RENDITION.integrity.json sidecars")
	f.StringVar(&opt.StreamID, "stream-id", "", "stream id signed into the sidecars (default: OUT's base name)")
	return cmd
}

// packageFiles packages the named MP4/TS files into out.
func packageFiles(ctx context.Context, out string, files []string, opt packageOptions) (*packaged, error) {
	var inputs []segment.Input
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		d, err := openMedia(f, fi.Size(), opt.Strict)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if opt.warnOut != nil {
			defer func() { printWarnings(opt.warnOut, name, media.WarningsOf(d)) }()
		}
		inputs = append(inputs, segment.Input{Name: name, Demuxer: d})
	}
	return packageInputs(ctx, out, inputs, opt)
}

// packageSample packages the embedded sample ladder (three H.264
// renditions and AAC audio, 8 s) into out and returns where the manifests
// are. `streamkit demo` calls it; opt's zero value writes both HLS and
// DASH with the default segment duration.
func packageSample(ctx context.Context, out string, opt packageOptions) (*packaged, error) {
	inputs, err := segment.SampleInputs()
	if err != nil {
		return nil, err
	}
	return packageInputs(ctx, out, inputs, opt)
}

// packageInputs segments inputs and writes the manifests into a
// temporary directory beside out, then renames it to out
// (internal/atomicfile: an interrupted run leaves no OUT and no
// temporary, and the next run removes temporaries of killed runs).
func packageInputs(ctx context.Context, out string, inputs []segment.Input, opt packageOptions) (*packaged, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !opt.HLS && !opt.DASH {
		opt.HLS, opt.DASH = true, !opt.TS
	}
	if opt.TS && opt.DASH {
		return nil, errors.New("package: --dash needs CMAF segments; drop --ts or --dash")
	}
	if opt.Segment == 0 {
		opt.Segment = segment.DefaultTargetDuration
	}
	var signer *integrity.Signer
	if opt.Sign != "" {
		s, err := newPackageSigner(out, opt)
		if err != nil {
			return nil, err
		}
		signer = s
	}
	if _, err := os.Stat(out); err == nil && !opt.Force {
		return nil, fmt.Errorf("package: %s exists (use --force to replace it)", out)
	}
	opts := []segment.Option{segment.WithTargetDuration(opt.Segment)}
	if opt.TS {
		opts = append(opts, segment.WithTS())
	}
	if opt.ByteRange {
		opts = append(opts, segment.WithByteRange())
	}
	if opt.ByTime {
		opts = append(opts, segment.WithNaming(segment.ByTime))
	}
	var dirOpts []atomicfile.DirOption
	if opt.Force {
		dirOpts = append(dirOpts, atomicfile.Replace())
	}
	res := &packaged{Dir: out}
	err := atomicfile.WriteDir(out, func(tmp string) error {
		p, err := segment.Cut(ctx, tmp, inputs, opts...)
		if err != nil {
			return err
		}
		res.Presentation = p
		if opt.HLS {
			if _, err := hls.Write(tmp, p); err != nil {
				return err
			}
			res.Multivariant = filepath.Join(out, hls.MultivariantName)
		}
		if opt.DASH {
			if _, err := dash.Write(tmp, p); err != nil {
				return err
			}
			res.MPD = filepath.Join(out, dash.ManifestName)
		}
		if signer != nil {
			// Signed after the manifests, from the files as written: the
			// bytes signed are the bytes served.
			names, err := integrity.SignPresentation(ctx, tmp, p, signer)
			if err != nil {
				return err
			}
			res.Sidecars = names
			res.KeyID = signer.KeyID()
		}
		return ctx.Err()
	}, dirOpts...)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func printPackaged(w io.Writer, res *packaged, took time.Duration) {
	p := res.Presentation
	mode := p.Format.String()
	if p.ByteRange {
		mode += ", one file per rendition (byte ranges)"
	}
	fmt.Fprintf(w, "packaged %.3f s into %s (%s, target %v) in %v\n\n", p.Duration, res.Dir, mode, p.TargetDuration, took.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rendition\tsource\tcodecs\tresolution\tsegments\tpeak kb/s\tavg kb/s")
	for _, r := range p.Renditions() {
		res := ""
		if r.Track.Width > 0 {
			res = fmt.Sprintf("%dx%d", r.Track.Width, r.Track.Height)
		} else if r.Track.SampleRate > 0 {
			res = fmt.Sprintf("%d Hz %s", r.Track.SampleRate, r.Track.Language)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.0f\t%.0f\n", r.ID, r.Source, r.Track.CodecString, strings.TrimSpace(res),
			len(r.Segments), float64(r.Bandwidth)/1000, float64(r.AverageBandwidth)/1000)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if res.Multivariant != "" {
		fmt.Fprintln(w, "HLS: ", res.Multivariant)
	}
	if res.MPD != "" {
		fmt.Fprintln(w, "DASH:", res.MPD)
	}
	if len(res.Sidecars) > 0 {
		fmt.Fprintf(w, "signed: %d sidecars (%s ...), key %s; check with streamkit verify %s --pubkey KEY.pub\n", len(res.Sidecars), res.Sidecars[0], res.KeyID, res.Dir)
	}
	fmt.Fprintf(w, "\nwatch it: streamkit serve %s\n", res.Dir)
}
