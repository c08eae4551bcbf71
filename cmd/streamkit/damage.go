package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/media"
)

// Damaged input. The commands that read media (probe, frames, gop, remux,
// package) read what is there, as ffprobe and ffmpeg do: a truncated last
// packet or box and bytes skipped to the next sync point are reported as
// warnings, one line each on stderr, and the rest is used. --strict
// refuses such input instead, with the error the warning would have been.

// strictUsage is the help text of every command's --strict flag.
const strictUsage = "refuse damaged input (a truncated last packet or box, bytes skipped to the next sync point) instead of reading what is there with a warning"

// addStrictFlag registers --strict on cmd.
func addStrictFlag(cmd *cobra.Command, strict *bool) {
	cmd.Flags().BoolVar(strict, "strict", false, strictUsage)
}

// openMedia opens a media input leniently, or strictly with --strict.
func openMedia(r io.ReaderAt, size int64, strict bool) (media.Demuxer, error) {
	if strict {
		return media.OpenStrict(r, size)
	}
	return media.Open(r, size)
}

// printWarnings writes ws to w, one line each, named after the input.
func printWarnings(w io.Writer, name string, ws []media.Warning) {
	for _, x := range ws {
		fmt.Fprintf(w, "streamkit: warning: %s: %v\n", name, x)
	}
}
