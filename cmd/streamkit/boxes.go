package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/mp4"
)

func init() { registerAs("boxes", newBoxesCmd) }

// newBoxesCmd builds the boxes command; its flags are locals of this call.
func newBoxesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "boxes [--json] FILE",
		Short: "Print the MP4 box tree with offsets, sizes and key fields",
		Long: `boxes prints the box (atom) structure of an MP4, QuickTime, fragmented MP4
or CMAF segment file: every box with its byte offset and size, nested
boxes indented, and a few decoded fields per box (ftyp brands, mvhd/mdhd
timescale and duration, tkhd track ID and size, hdlr type, edit list
entries, sample-table entry counts, sample entry size or channels, trex
defaults, tfhd/trun flags, tfdt base media decode time, sidx timing).

Only box headers and container boxes are read; mdat payloads are skipped,
so a multi-gigabyte file lists instantly. A malformed file prints the
boxes read up to the problem, then fails with the offending box path and
byte offset.

With --json the tree is a JSON array of {type, offset, size, header_size,
fields: [{name, value}], children: [...]}.`,
		Example: `  streamkit boxes movie.mp4
  streamkit boxes seg_1.m4s | grep tfdt
  streamkit boxes --json movie.mp4 | jq '.[] | select(.type=="moov") | .size'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			head := make([]byte, 16)
			n, _ := f.ReadAt(head, 0)
			if !mp4.Match(head[:n]) {
				return fmt.Errorf("%s: not an MP4 file (no known box at byte 0)", args[0])
			}
			boxes, rerr := mp4.ReadBoxes(f, st.Size())
			out := cmd.OutOrStdout()
			if asJSON {
				if boxes == nil {
					boxes = []*mp4.Box{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(boxes); err != nil {
					return err
				}
			} else {
				for _, b := range boxes {
					printBox(out, b, 0)
				}
			}
			return rerr
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tree as JSON")
	return cmd
}

func printBox(w io.Writer, b *mp4.Box, depth int) {
	var fields []string
	for _, f := range b.Fields {
		v := fmt.Sprint(f.Value)
		if l, ok := f.Value.([]string); ok {
			v = "[" + strings.Join(l, ", ") + "]"
		}
		fields = append(fields, f.Name+"="+v)
	}
	line := fmt.Sprintf("%s%s  @%d size=%d", strings.Repeat("  ", depth), b.Type, b.Offset, b.Size)
	if len(fields) > 0 {
		line += "  " + strings.Join(fields, " ")
	}
	fmt.Fprintln(w, line)
	for _, c := range b.Children {
		printBox(w, c, depth+1)
	}
}
