package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/probe"
)

func init() { registerAs("probe", newProbeCmd) }

// newProbeCmd builds the probe command; its flags are locals of this call.
func newProbeCmd() *cobra.Command {
	var (
		asJSON   bool
		initPath string
		show     probe.Selection
		entries  string
		selectSp string
		strict   bool
	)
	cmd := &cobra.Command{
		Use:   "probe [--json] [--init INIT.mp4] [--show-packets] [--show-entries E] [--select-streams S] FILE|-|URL",
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

Output selection works as in ffprobe. --show-packets lists every packet
(reading the whole file) with ffprobe -show_packets' fields: pts, dts,
duration and their _time forms, size, pos, flags (K key, D discard) and
side data; with --json it equals ffprobe -show_packets -of json.
--show-streams and --show-format pick those sections. --show-entries
takes ffprobe's syntax, SECTION[=FIELD,...][:SECTION...], with sections
packet, stream and format (and stream_tags, stream_disposition,
stream_side_data_list, format_tags, packet_side_data_list); any field
name of the JSON output can be named. --select-streams takes an ffprobe
stream specifier: 1 (index), v, a, v:0 (first video), p:1 (program),
#0x101 (PID or track_ID). Without --json these print ffprobe's default
format ([STREAM] key=value ... [/STREAM]).

FILE may be - for standard input (copied to an unlinked temporary file,
as the readers seek) or an http:// or https:// URL, read with Range
requests of 256 KiB (the server must support them): probing a remote
MP4 or MPEG-TS costs a few requests, not a download.`,
		Example: `  streamkit probe movie.mp4
  streamkit probe --json movie.mp4 | jq -r '.streams[0].codec_name'
  streamkit probe --json live.ts | jq '.format.duration | tonumber'
  streamkit probe --init init.mp4 seg_3.m4s
  streamkit probe --show-packets --select-streams a --json movie.mp4
  streamkit probe --show-entries stream=codec_name,width:format=duration movie.mp4
  streamkit probe --show-entries packet=pts,flags --select-streams v:0 live.ts
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
			opts = append(opts, probe.WithStrict(strict))
			if entries != "" || selectSp != "" || show.Packets || show.Streams || show.Format {
				if entries != "" {
					if show.Entries, err = probe.ParseEntries(entries); err != nil {
						return err
					}
				}
				if selectSp != "" {
					if show.Select, err = probe.ParseStreamSpecifier(selectSp); err != nil {
						return err
					}
				}
				if !show.Packets && !show.Streams && !show.Format && show.Entries == nil {
					show.Streams, show.Format = true, true
				}
				show.JSON = asJSON
				show.Warnings = func(ws []media.Warning) { printWarnings(cmd.ErrOrStderr(), args[0], ws) }
				return probe.WriteSelectedReader(ctx, cmd.OutOrStdout(), in, in.Size, in.Name, show, opts...)
			}
			res, err := probe.Reader(ctx, in, in.Size, in.Name, opts...)
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
	cmd.Flags().BoolVar(&show.Packets, "show-packets", false, "list every packet, as ffprobe -show_packets (reads the whole file)")
	cmd.Flags().BoolVar(&show.Streams, "show-streams", false, "show the streams section (ffprobe -show_streams)")
	cmd.Flags().BoolVar(&show.Format, "show-format", false, "show the format section (ffprobe -show_format)")
	cmd.Flags().StringVar(&entries, "show-entries", "", "ffprobe -show_entries: SECTION[=FIELD,...][:SECTION...], e.g. stream=codec_name,width:format=duration")
	cmd.Flags().StringVar(&selectSp, "select-streams", "", "ffprobe stream specifier: N, v, a, v:0, p:PROG, #ID")
	addStrictFlag(cmd, &strict)
	return cmd
}
