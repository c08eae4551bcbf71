package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamkit-go/streamkit/internal/atomicfile"
)

// errInterrupted is what a command stopped by SIGINT or SIGTERM returns;
// the exit status is then 130, as shells report an interrupted program.
var errInterrupted = errors.New("interrupted; nothing written")

// execute runs the command line with a context that SIGINT (Ctrl-C) and
// SIGTERM cancel. Every command that writes builds its output under a
// temporary name (internal/atomicfile) and commits nothing once the
// context is cancelled, so the first signal makes it unwind and remove its
// temporaries; serve drains its transfers. A second signal does not wait:
// the temporaries still open are removed and the process exits at once.
// Temporaries of a process killed outright (SIGKILL, power loss) are
// removed by the next run that writes the same output.
func execute() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	// No signal.Stop: the process exits when execute returns, and
	// restoring the default action first would let a SIGINT arriving
	// between the command's end and the exit kill the process by signal
	// after it has committed its output (TestInterruptLeavesNoTemporary
	// tells the two apart). A signal then lands in the buffered channel.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- newRootCmdFor(os.Args[1:]).ExecuteContext(ctx) }()
	select {
	case err := <-done:
		return err
	case <-sigs:
	}
	cancel()
	select {
	case err := <-done:
		if err == nil { // finished before it noticed: the output is whole
			return nil
		}
		if errors.Is(err, context.Canceled) {
			return errInterrupted
		}
		return fmt.Errorf("%w (%v)", errInterrupted, oneLine(err))
	case <-sigs:
		atomicfile.Cleanup()
		return errInterrupted
	}
}

// exitCode is the process exit status for a command's error.
func exitCode(err error) int {
	if errors.Is(err, errInterrupted) {
		return 130
	}
	return 1
}
