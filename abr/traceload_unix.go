//go:build unix

package abr

import (
	"os"
	"syscall"
)

// readFileInto reads the file at path into buf[:0] (growing it as needed)
// with plain open/read/close system calls: os.Open would also put the
// descriptor in non-blocking mode and try the poller, two more system calls
// per file that a sweep over a thousand small traces notices. Errors are
// the *os.PathError values os.ReadFile gives.
func readFileInto(buf []byte, path string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return buf, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
