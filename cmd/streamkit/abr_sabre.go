package main

import (
	"fmt"
	"github.com/streamkit-go/streamkit/internal/atomicfile"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamkit-go/streamkit/abr"
)

// abrRunSabre splits off streamkit's own options (--log, --svg) and runs the
// rest as a Sabre command line.
func abrRunSabre(cmd *cobra.Command, args []string) error {
	var sabreArgs []string
	var logPath, svgPath string
	for i := 0; i < len(args); i++ {
		a := args[i]
		var dst *string
		switch {
		case a == "--log" || a == "--svg":
			if i+1 >= len(args) {
				return fmt.Errorf("%s expects a file name", a)
			}
			if a == "--log" {
				dst = &logPath
			} else {
				dst = &svgPath
			}
			i++
			*dst = args[i]
			continue
		case strings.HasPrefix(a, "--log="):
			logPath = a[len("--log="):]
			continue
		case strings.HasPrefix(a, "--svg="):
			svgPath = a[len("--svg="):]
			continue
		}
		sabreArgs = append(sabreArgs, a)
	}
	out := cmd.OutOrStdout()
	if logPath == "" && svgPath == "" {
		_, err := abr.RunSabre(sabreArgs, out)
		return err
	}
	pa, err := abr.ParseSabreArgs(sabreArgs)
	if err != nil {
		return err
	}
	run, err := abr.PrepareSabre(pa)
	if err != nil {
		return err
	}
	t, err := abr.LoadTrace(run.Args.Network, 0)
	if err != nil {
		return err
	}
	s, err := run.Session(t, out)
	if err != nil {
		return err
	}
	var recs []abr.SegmentRecord
	s.SetOnSegment(func(r *abr.SegmentRecord) { recs = append(recs, *r) })
	m, err := s.Run()
	if err != nil {
		return err
	}
	if err := m.WriteSabre(out); err != nil {
		return err
	}
	if logPath != "" {
		if err := atomicfile.Write(logPath, func(f *os.File) error {
			if strings.HasSuffix(logPath, ".jsonl") {
				return abr.WriteSegmentJSONL(f, recs)
			}
			return abr.WriteSegmentCSV(f, recs)
		}); err != nil {
			return err
		}
	}
	if svgPath != "" {
		tl := abr.Timeline{Title: fmt.Sprintf("%s, %s, %s", filepath.Base(run.Args.Network), filepath.Base(run.Args.Movie), run.Args.Algorithm),
			Trace: t, Bitrates: run.Manifest.Bitrates(), Records: recs, Metrics: m}
		if err := atomicfile.Write(svgPath, func(f *os.File) error { return tl.WriteSVG(f) }); err != nil {
			return err
		}
	}
	return nil
}
