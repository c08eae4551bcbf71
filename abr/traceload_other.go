//go:build !unix

package abr

import (
	"io"
	"os"
)

// traceFile is a trace file open for reading.
type traceFile struct{ f *os.File }

func openTraceFile(path string) (traceFile, error) {
	f, err := os.Open(path)
	return traceFile{f}, err
}

// read reads into p; 0 bytes and no error is the end of the file.
func (f traceFile) read(p []byte) (int, error) {
	n, err := f.f.Read(p)
	if err == io.EOF && n == 0 {
		return 0, nil
	}
	if n > 0 {
		return n, nil // an error comes back from the next read
	}
	if err == nil {
		return 0, io.ErrNoProgress
	}
	return 0, err
}

func (f traceFile) close() { f.f.Close() }
