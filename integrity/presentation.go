package integrity

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/streamkit-go/streamkit/segment"
)

// maxPiece bounds one init or segment read back for signing.
const maxPiece = 1 << 30

// SignPresentation signs every init and media segment of p, as written
// by segment.Cut below dir, and writes each rendition's sidecar
// (SidecarName(r.ID)) into dir. Segments are numbered as p numbers them
// (seq = Segment.Number, from 1); byte-range renditions get byte-range
// entries. It returns the sidecar file names, relative to dir.
//
// It signs the files after they are written rather than inside the
// segmenter: the bytes signed are then exactly the bytes served, and the
// segmenter stays free of signing.
func SignPresentation(ctx context.Context, dir string, p *segment.Presentation, s *Signer) ([]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var names []string
	for _, r := range p.Renditions() {
		if r.Init != nil {
			data, err := readRange(root, *r.Init)
			if err != nil {
				return nil, err
			}
			if _, err := s.Add(r.ID, Entry{Kind: KindInit, URI: r.Init.URI, Offset: uint64(r.Init.Offset)}, data); err != nil {
				return nil, err
			}
		}
		for _, seg := range r.Segments {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			data, err := readRange(root, seg.Range)
			if err != nil {
				return nil, err
			}
			e := Entry{Kind: KindSegment, Seq: uint64(seg.Number), URI: seg.URI, Offset: uint64(seg.Offset)}
			if _, err := s.Add(r.ID, e, data); err != nil {
				return nil, err
			}
		}
		if err := s.WriteSidecar(dir, r.ID); err != nil {
			return nil, err
		}
		names = append(names, SidecarName(r.ID))
	}
	return names, nil
}

func readRange(root *os.Root, r segment.Range) ([]byte, error) {
	if r.Size < 0 || r.Size > maxPiece || r.Offset < 0 {
		return nil, fmt.Errorf("integrity: %s: range %d+%d out of bounds", r.URI, r.Offset, r.Size)
	}
	f, err := root.Open(filepath.FromSlash(r.URI))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, r.Size)
	if _, err := f.ReadAt(buf, r.Offset); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("integrity: %s: %w", r.URI, err)
	}
	return buf, nil
}
