package gop_test

import (
	"errors"

	"github.com/streamkit-go/streamkit/media"
)

// isMissingReader reports whether err means no registered reader took the
// file (while a container reader is not yet linked into the test).
func isMissingReader(err error) bool { return errors.Is(err, media.ErrFormat) }
