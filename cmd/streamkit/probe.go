package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/probe"
)

func init() { register(newProbeCmd) }

// newProbeCmd builds the probe command; its flags are locals of this call.
func newProbeCmd() *cobra.Command {
	var (
		asJSON   bool
		initPath string
	)
	cmd := &cobra.Command{
		Use:   "probe [--json] [--init INIT.mp4] FILE|-|URL",
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
A file made of an init segment followed by media segments needs no flag.

FILE may be - for standard input (copied to an unlinked temporary file,
as the readers seek) or an http:// or https:// URL, read with Range
requests of 256 KiB (the server must support them): probing a remote
MP4 or MPEG-TS costs a few requests, not a download.`,
		Example: `  streamkit probe movie.mp4
  streamkit probe --json movie.mp4 | jq -r '.streams[0].codec_name'
  streamkit probe --json live.ts | jq '.format.duration | tonumber'
  streamkit probe --init init.mp4 seg_3.m4s
  cat movie.ts | streamkit probe -
  streamkit probe --json https://example.com/vod/video_360.mp4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			in, err := openInput(ctx, args[0], cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("probe: %w", err)
			}
			defer in.Close()
			var opts []probe.Option
			if initPath != "" {
				ini, err := openInput(ctx, initPath, nil)
				if err != nil {
					return fmt.Errorf("probe: init segment: %w", err)
				}
				defer ini.Close()
				opts = append(opts, probe.WithInit(ini, ini.Size))
			}
			res, err := probe.Reader(ctx, in, in.Size, in.Name, opts...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return res.WriteJSON(out)
			}
			if err := res.WriteText(out); err != nil {
				return err
			}
			if len(res.Warnings) > 0 {
				fmt.Fprintf(os.Stderr, "streamkit: %d warning(s), see above\n", len(res.Warnings))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print ffprobe's -show_format -show_streams JSON")
	cmd.Flags().StringVar(&initPath, "init", "", "init segment (ftyp+moov) for a CMAF/fMP4 media segment")
	return cmd
}
