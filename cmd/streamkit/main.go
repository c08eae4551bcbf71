// Command streamkit inspects, remuxes, packages and serves media, and
// simulates ABR players, in pure Go.
//
// Each subcommand lives in its own file and adds itself to rootCmd from an
// init function, so features land without touching this file.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:   "streamkit",
	Short: "Inspect, remux, package and serve media; simulate ABR players",
	Long: `streamkit is a pure-Go toolkit for streaming engineers.

It reads MP4, fragmented MP4/CMAF and MPEG-TS without FFmpeg, reports what
ffprobe reports (in ffprobe's own JSON schema with --json), and simulates
adaptive-bitrate players over throughput traces.`,
	Example: `  streamkit demo                     # run the tour on the embedded sample
  streamkit probe movie.mp4          # what is in this file?
  streamkit probe --json movie.mp4   # the same, as ffprobe -show_format -show_streams JSON
  streamkit boxes movie.mp4          # the MP4 box tree with offsets and sizes`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := execute(); err != nil {
		fmt.Fprintln(os.Stderr, "streamkit:", oneLine(err))
		os.Exit(exitCode(err))
	}
}

// oneLine keeps CLI errors to one line, as the brief promises users.
func oneLine(err error) string {
	s := err.Error()
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
