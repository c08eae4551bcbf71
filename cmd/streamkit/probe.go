package main

import (
	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/probe"
)

func init() { register(newProbeCmd) }

// newProbeCmd builds the probe command; its flags are locals of this call.
func newProbeCmd() *cobra.Command {
	var (
		asJSON   bool
		initPath string
		strict   bool
	)
	cmd := &cobra.Command{
		Use:   "probe [--json] [--init INIT.mp4] FILE",
		Short: "Show what a media file contains, like ffprobe (headers only)",
		Long: `probe reports the container and every stream of an MP4, fragmented MP4/CMAF
or MPEG-TS file: codec and RFC 6381 codec string, profile and level,
resolution, frame rate, sample rate and channel layout, start time,
duration and bit rate. It reads headers only: for a faststart MP4 that is
the moov box, whatever the file's size.

With --json the output is ffprobe's own JSON schema, the one written by

  ffprobe -v error -show_format -show_streams -of json FILE

with the same key names and value types (durations and bit rates are
strings, as in ffprobe), so scripts written for ffprobe read it unchanged.
streamkit's additions live under "streamkit" keys, which ffprobe never
writes.

A CMAF media segment (.m4s) has no moov of its own: give its init segment
with --init, and the segment is probed as if the two were concatenated.
A file made of an init segment followed by media segments needs no flag.`,
		Example: `  streamkit probe movie.mp4
  streamkit probe --json movie.mp4 | jq -r '.streams[0].codec_name'
  streamkit probe --json live.ts | jq '.format.duration | tonumber'
  streamkit probe --init init.mp4 seg_3.m4s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts []probe.Option
			if initPath != "" {
				opts = append(opts, probe.WithInitFile(initPath))
			}
			opts = append(opts, probe.WithStrict(strict))
			res, err := probe.File(cmd.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			printWarnings(cmd.ErrOrStderr(), args[0], res.Warnings)
			out := cmd.OutOrStdout()
			if asJSON {
				return res.WriteJSON(out)
			}
			return res.WriteText(out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print ffprobe's -show_format -show_streams JSON")
	cmd.Flags().StringVar(&initPath, "init", "", "init segment (ftyp+moov) for a CMAF/fMP4 media segment")
	addStrictFlag(cmd, &strict)
	return cmd
}
