//go:build unix

package abr

import (
	"os"
	"syscall"
)

// traceFile is a trace file open for reading with plain open/read/close
// system calls: os.Open would also put the descriptor in non-blocking mode
// and try the poller, two more system calls per file that a sweep over a
// thousand small traces notices. Errors are the *os.PathError values
// os.ReadFile gives.
type traceFile struct {
	fd   int
	path string
}

func openTraceFile(path string) (traceFile, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return traceFile{-1, path}, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return traceFile{fd, path}, nil
	}
}

// read reads into p; 0 bytes and no error is the end of the file.
func (f traceFile) read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(f.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: f.path, Err: err}
		}
		return n, nil
	}
}

func (f traceFile) close() { syscall.Close(f.fd) }
