// Package remux converts media between MP4, fragmented MP4, CMAF and MPEG-TS without touching the coded samples.
//
// Any input a registered reader opens (MP4 progressive or fragmented,
// CMAF, MPEG-TS) can be written in any of the output forms:
//
//	MP4   progressive, moov first (faststart), one mdat; fMP4 input is defragmented
//	FMP4  one fragmented file: init, then moof+mdat fragments cut at key frames
//	CMAF  a directory with one CMAF track per input track: trackN/init.mp4, trackN/seg_K.m4s
//	TS    MPEG-TS, one program, PAT/PMT repeated, PCR on the video PID
//
// Samples are streamed: memory does not grow with the input size (see
// mp4.WriteProgressive for how the moov is sized before the payloads are
// copied). Files are written to a temporary name in the destination
// directory and renamed into place on success; on any error, including a
// cancelled context, the temporary file is removed, so a failed run never
// leaves a half-written output.
//
// Timestamps are preserved exactly between MP4 forms. Into MPEG-TS they
// are shifted by ts.DefaultTimeOffset (1.4 s, as ffmpeg does); out of
// MPEG-TS the smallest first PTS becomes time zero. Either way one
// constant moves every timestamp of every track.
package remux

import (
	"context"
	"errors"
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/ts"
)

// Format is an output form.
type Format string

// Output forms.
const (
	MP4  Format = "mp4"
	FMP4 Format = "fmp4"
	CMAF Format = "cmaf"
	TS   Format = "ts"
)

// ErrUnknownFormat is returned when the output form cannot be inferred.
var ErrUnknownFormat = errors.New("remux: unknown output format")

// Option configures Remux and Write.
type Option func(*config)

type config struct {
	to        Format
	fragDur   time.Duration
	faststart bool
	progress  func(done, total int64)
	initPath  string
	strict    bool
	warnings  func([]media.Warning)
}

// WithInitFile makes Remux read its input as a CMAF/fMP4 media segment
// that follows the init segment at path (mp4.NewSegmentReader), as a
// player does: a lone .m4s has no moov to describe its tracks.
func WithInitFile(path string) Option { return func(c *config) { c.initPath = path } }

// WithStrict makes Remux refuse damaged input (a truncated last packet or
// box, bytes skipped to the next sync point) instead of writing what is
// there, as ffmpeg -c copy does (media.OpenStrict).
func WithStrict(strict bool) Option { return func(c *config) { c.strict = strict } }

// WithWarnings sets a callback that receives the damage the input reader
// read past (media.Warning), once the output is written.
func WithWarnings(fn func([]media.Warning)) Option { return func(c *config) { c.warnings = fn } }

// To selects the output form; by default it is inferred from the output
// path (FormatFromPath).
func To(f Format) Option { return func(c *config) { c.to = f } }

// WithFragmentDuration sets the fragment/segment duration of FMP4 and CMAF
// output (default 2 s).
func WithFragmentDuration(d time.Duration) Option { return func(c *config) { c.fragDur = d } }

// WithFaststart makes Remux of a progressive MP4 into MP4 move the moov box
// in front of the media data (mp4.Faststart) instead of rebuilding the
// file: every box is kept byte for byte, only chunk offsets change.
func WithFaststart() Option { return func(c *config) { c.faststart = true } }

// WithProgress sets a callback receiving payload bytes written and the
// total expected (0 when unknown).
func WithProgress(fn func(done, total int64)) Option { return func(c *config) { c.progress = fn } }

// FormatFromPath infers the output form from a file name: .ts .m2ts .mts
// → TS; .mp4 .m4v .m4a .mov → MP4; .m4s .fmp4 .cmfv .cmfa → FMP4; a
// trailing slash or no extension → CMAF (a directory).
func FormatFromPath(path string) (Format, error) {
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(os.PathSeparator)) {
		return CMAF, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ts", ".m2ts", ".mts", ".m2t":
		return TS, nil
	case ".mp4", ".m4v", ".m4a", ".mov":
		return MP4, nil
	case ".m4s", ".fmp4", ".cmfv", ".cmfa", ".ismv":
		return FMP4, nil
	case "":
		return CMAF, nil
	}
	return "", fmt.Errorf("%w: cannot infer it from %q (use .mp4, .m4s, .ts or a directory, or say which)", ErrUnknownFormat, filepath.Base(path))
}

// ParseFormat parses "mp4", "fmp4", "cmaf" or "ts".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case MP4, FMP4, CMAF, TS:
		return f, nil
	case "mpegts":
		return TS, nil
	}
	return "", fmt.Errorf("%w %q (want mp4, fmp4, cmaf or ts)", ErrUnknownFormat, s)
}

// Write writes d to w in the given form (MP4, FMP4 or TS; CMAF needs a
// directory and is written by Remux or mp4.WriteCMAF).
func Write(ctx context.Context, w io.Writer, d media.Demuxer, to Format, opts ...Option) error {
	var c config
	for _, o := range opts {
		o(&c)
	}
	var mo []mp4.WriteOption
	if c.fragDur > 0 {
		mo = append(mo, mp4.WithFragmentDuration(c.fragDur))
	}
	if c.progress != nil {
		mo = append(mo, mp4.WithProgress(c.progress))
	}
	switch to {
	case MP4:
		return mp4.WriteProgressive(ctx, w, d, mo...)
	case FMP4:
		return mp4.WriteFragmented(ctx, w, d, mo...)
	case TS:
		var to []ts.WriteOption
		if c.progress != nil {
			to = append(to, ts.WithMuxProgress(c.progress))
		}
		return ts.Mux(ctx, w, d, to...)
	case CMAF:
		return fmt.Errorf("remux: CMAF output is a directory; use Remux or mp4.WriteCMAF")
	}
	return fmt.Errorf("%w %q", ErrUnknownFormat, to)
}

// Remux reads the file in and writes out in the form chosen by To (or
// inferred from out's name). out is created atomically: a temporary file
// (or directory, for CMAF) next to it is renamed over it on success and
// removed on failure. in and out may be the same path.
func Remux(ctx context.Context, in, out string, opts ...Option) error {
	c := config{}
	for _, o := range opts {
		o(&c)
	}
	if c.to == "" {
		f, err := FormatFromPath(out)
		if err != nil {
			return err
		}
		c.to = f
	}
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("remux: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("remux: %w", err)
	}
	size := st.Size()
	if c.faststart && c.to == MP4 && c.initPath == "" {
		if fs, err := media.Sniff(f, size); err == nil && fs.Name == "mp4" {
			err := atomicFile(ctx, out, func(w io.Writer) error {
				_, err := mp4.Faststart(w, f, size)
				return err
			})
			if !errors.Is(err, mp4.ErrFragmented) {
				return err
			}
			// fragmented input: defragment below instead
		}
	}
	open := media.Open
	if c.strict {
		open = media.OpenStrict
	}
	var d media.Demuxer
	if c.initPath != "" {
		fi, err := os.Open(c.initPath)
		if err != nil {
			return fmt.Errorf("remux: init segment: %w", err)
		}
		defer fi.Close()
		ist, err := fi.Stat()
		if err != nil {
			return fmt.Errorf("remux: init segment: %w", err)
		}
		d, err = mp4.NewSegmentReader(mp4.Segment{R: fi, Size: ist.Size()}, []mp4.Segment{{R: f, Size: size}}, mp4.WithStrict(c.strict))
		if err != nil {
			return fmt.Errorf("remux: %s with init segment %s: %w", filepath.Base(in), filepath.Base(c.initPath), err)
		}
	} else if d, err = open(f, size); err != nil {
		if errors.Is(err, mp4.ErrNoMoov) {
			return fmt.Errorf("remux: %s: %w (a CMAF/fMP4 media segment needs its init segment: WithInitFile, --init)", filepath.Base(in), err)
		}
		return fmt.Errorf("remux: %s: %w", filepath.Base(in), err)
	}
	if c.warnings != nil {
		defer func() {
			if ws := media.WarningsOf(d); len(ws) > 0 {
				c.warnings(ws)
			}
		}()
	}
	if err := nothingToWrite(d, size, filepath.Base(in)); err != nil {
		return err
	}
	if c.to == CMAF {
		return atomicDir(ctx, out, func(dir string) error {
			var mo []mp4.WriteOption
			if c.fragDur > 0 {
				mo = append(mo, mp4.WithFragmentDuration(c.fragDur))
			}
			if c.progress != nil {
				mo = append(mo, mp4.WithProgress(c.progress))
			}
			return mp4.WriteCMAF(ctx, d, func(trackID, seq int) (io.WriteCloser, error) {
				sub := filepath.Join(dir, fmt.Sprintf("track%d", trackID))
				if err := os.MkdirAll(sub, 0o755); err != nil {
					return nil, err
				}
				name := "init.mp4"
				if seq > 0 {
					name = fmt.Sprintf("seg_%d.m4s", seq)
				}
				return os.Create(filepath.Join(sub, name))
			}, mo...)
		})
	}
	err = atomicFile(ctx, out, func(w io.Writer) error {
		return Write(ctx, w, d, c.to, opts...)
	})
	if errors.Is(err, mp4.ErrNoSamples) {
		// The input has frames, but none makes an MP4 sample: E-AC-3
		// frames of fewer than six blocks that do not fill one six-block
		// sample (ffmpeg's MP4 muxer, movenc.c handle_eac3, writes an
		// MP4 without a packet then). As a refusal, with the damage
		// that left so little.
		where := "no damage reported"
		if ws := media.WarningsOf(d); len(ws) > 0 {
			where = ws[len(ws)-1].Error()
		}
		return fmt.Errorf("%w: %s: %v (%s)", ErrNothingToWrite, filepath.Base(in), strings.TrimPrefix(err.Error(), "mp4: cannot write: "), where)
	}
	return err
}

// atomicFile runs write on a temporary file beside out and renames it to
// out on success (internal/atomicfile); a cancelled ctx commits nothing.
func atomicFile(ctx context.Context, out string, write func(io.Writer) error) error {
	return atomicfile.Write(out, func(f *os.File) error {
		if err := write(f); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// atomicDir is atomicFile for a directory output. An existing directory
// at out is replaced only when it is empty or holds nothing but trackN
// directories (an earlier CMAF output); anything else is an error rather
// than a deletion.
func atomicDir(ctx context.Context, out string, write func(dir string) error) error {
	out = filepath.Clean(out)
	if st, e := os.Stat(out); e == nil {
		if !st.IsDir() {
			return fmt.Errorf("remux: %s exists and is not a directory (CMAF output is a directory)", out)
		}
		ents, e := os.ReadDir(out)
		if e != nil {
			return fmt.Errorf("remux: %w", e)
		}
		for _, en := range ents {
			if !en.IsDir() || !strings.HasPrefix(en.Name(), "track") {
				return fmt.Errorf("remux: %s already holds %s; refusing to replace a directory that is not an earlier CMAF output", out, en.Name())
			}
		}
	}
	return atomicfile.WriteDir(out, func(dir string) error {
		if err := write(dir); err != nil {
			return err
		}
		return ctx.Err()
	}, atomicfile.Replace())
}

// ErrNothingToWrite is returned by Remux for a damaged input that holds
// no sample a player could use: no sample before the damage, (MP4) only
// the first video sample, cut by the end of the file, or (MP4 output)
// E-AC-3 frames too few to fill one six-block MP4 sample.
var ErrNothingToWrite = errors.New("remux: nothing to write")

// nothingToWrite looks at the first two samples of a damaged input (one
// that has reported warnings by then) and refuses what ffmpeg -c copy
// turns into an MP4 without a packet:
//
//   - no sample at all (a file cut before its first sample's data);
//   - one MP4 video sample that the end of the file cuts: libavformat's
//     H.264 parser finds no complete picture in it and clears its key
//     flag (ffprobe lists it as "__"), and ffmpeg -c copy drops packets
//     until a key frame, so it writes nothing. A part of one coded
//     picture decodes to nothing either: writing it would only hide the
//     damage.
//
// The error names the first warning, which carries the position.
// It reads at most two samples of any input (the damage may only show
// while reading them); an input without a warning by then is left to
// the writer.
func nothingToWrite(d media.Demuxer, size int64, name string) error {
	video := map[int]bool{}
	for _, t := range d.Tracks() {
		video[t.ID] = t.Kind == media.KindVideo
	}
	n := 0
	var first media.Sample
	for s, err := range d.Samples() {
		if err != nil {
			return nil // the writer reports it
		}
		if n == 0 {
			first = s
		}
		if n++; n > 1 {
			break
		}
	}
	ws := media.WarningsOf(d)
	if len(ws) == 0 {
		return nil
	}
	switch {
	case n == 0:
		return fmt.Errorf("%w: %s: no sample before the damage (%v)", ErrNothingToWrite, name, ws[0])
	case n == 1 && video[first.TrackID] && first.Offset >= 0 && first.Offset+int64(first.Size) >= size:
		return fmt.Errorf("%w: %s: the only sample, video sample %d of track %d at byte %d, is cut by the end of the file at byte %d (%d bytes of it are there)",
			ErrNothingToWrite, name, first.Index, first.TrackID, first.Offset, size, first.Size)
	}
	return nil
}
