package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamkit-go/streamkit/internal/httpreader"
	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
)

// inputFile is an opened input: a file, standard input ("-") or an
// http(s) URL read with Range requests.
type inputFile struct {
	io.ReaderAt
	Size int64
	// Name is what ffprobe prints as format.filename: the base name of a
	// file (the reference outputs are made from inside its folder), the
	// URL as given, "pipe:" for standard input.
	Name  string
	close func() error
}

// Close releases the input.
func (in *inputFile) Close() error {
	if in.close == nil {
		return nil
	}
	return in.close()
}

// isURL reports whether arg names an http(s) input.
func isURL(arg string) bool {
	return strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://")
}

// openInput opens arg; stdin is what "-" reads (the command's
// InOrStdin). Standard input is copied to a temporary file that
// is unlinked at once (the readers seek, a pipe cannot): nothing is left
// behind, whatever happens to the process. A URL is read with bounded
// Range requests (internal/httpreader); its server must answer them.
func openInput(ctx context.Context, arg string, stdin io.Reader) (*inputFile, error) {
	switch {
	case arg == "-" && stdin != nil:
		f, err := os.CreateTemp("", "streamkit-stdin-*")
		if err != nil {
			return nil, err
		}
		_ = os.Remove(f.Name())
		n, err := io.Copy(f, ctxReader{ctx, stdin}) // Ctrl-C stops the copy
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return &inputFile{ReaderAt: f, Size: n, Name: "pipe:", close: f.Close}, nil
	case isURL(arg):
		r, err := httpreader.Open(ctx, arg)
		if err != nil {
			return nil, err
		}
		return &inputFile{ReaderAt: r, Size: r.Size(), Name: arg}, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &inputFile{ReaderAt: f, Size: st.Size(), Name: filepath.Base(arg), close: f.Close}, nil
}

// openDemuxer opens arg as a media.Demuxer, leniently or, with strict,
// refusing damaged input (openMedia); with initPath, arg is a
// CMAF/fMP4 media segment read after that init segment (as a player
// does, and as `cat init seg | ffprobe -` sees it). The returned close
// releases both inputs.
func openDemuxer(ctx context.Context, arg, initPath string, strict bool) (media.Demuxer, *inputFile, func(), error) {
	in, err := openInput(ctx, arg, os.Stdin)
	if err != nil {
		return nil, nil, nil, err
	}
	if initPath == "" {
		d, err := openMedia(in, in.Size, strict)
		if err != nil {
			in.Close()
			return nil, nil, nil, fmt.Errorf("%s: %w", arg, err)
		}
		return d, in, func() { in.Close() }, nil
	}
	ini, err := openInput(ctx, initPath, nil)
	if err != nil {
		in.Close()
		return nil, nil, nil, fmt.Errorf("init segment: %w", err)
	}
	d, err := mp4.NewSegmentReader(mp4.Segment{R: ini, Size: ini.Size}, []mp4.Segment{{R: in, Size: in.Size}}, mp4.WithStrict(strict))
	if err != nil {
		in.Close()
		ini.Close()
		return nil, nil, nil, fmt.Errorf("%s with init segment %s: %w", arg, initPath, err)
	}
	return d, in, func() { in.Close(); ini.Close() }, nil
}

// ctxReader ends a read loop once ctx is done (between reads: a read
// blocked on a silent pipe ends when the process does).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
