package main

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/streamkit-go/streamkit/abr"
)

//go:embed demodata/*.json
var demoFS embed.FS

// sharedABRDir is where the full ABR input sets live, relative to the
// repository root, where README tells users to run `streamkit demo`.
const sharedABRDir = "../shared/abr"

// demoAlgorithms are the algorithms compareDemo compares.
var demoAlgorithms = []string{"throughput", "bola", "bolae", "dynamic", "dynamicdash", "bba", "robustmpc", "dashjs", "hlsjs"}

// compareDemo runs every algorithm of demoAlgorithms over the Sabre 4G and
// 3G traces with bbb.json and a 25 s buffer, and prints a comparison table
// (means over traces): section 5 of `streamkit demo`. It uses the full trace
// sets under sharedABRDir when present and the traces embedded in the binary
// otherwise. (Demo plumbing, so it lives with the command, not in abr.)
func compareDemo(w io.Writer) error {
	man, traces, from, err := demoInputs(sharedABRDir)
	if err != nil {
		return err
	}
	return compareTable(w, man, traces, from)
}

func demoInputs(shared string) (*abr.Ladder, []*abr.Trace, string, error) {
	sabre := filepath.Join(shared, "sabre")
	if files4, err := abr.TraceFiles(filepath.Join(sabre, "4Glogs")); err == nil {
		files3, err := abr.TraceFiles(filepath.Join(sabre, "3Glogs"))
		if err == nil {
			man, err := abr.LoadSabreManifest(filepath.Join(sabre, "bbb.json"))
			if err != nil {
				return nil, nil, "", err
			}
			var ts []*abr.Trace
			for _, f := range append(files4, files3...) {
				t, err := abr.LoadTrace(f, 0)
				if err != nil {
					return nil, nil, "", err
				}
				t.Name = filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
				ts = append(ts, t)
			}
			return man, ts, fmt.Sprintf("%d 4G + %d 3G traces from %s", len(files4), len(files3), sabre), nil
		}
	}
	data, err := demoFS.ReadFile("demodata/bbb.json")
	if err != nil {
		return nil, nil, "", err
	}
	man, err := abr.ReadSabreManifest(bytes.NewReader(data), "bbb.json")
	if err != nil {
		return nil, nil, "", err
	}
	var ts []*abr.Trace
	for _, n := range []string{"report_bus_0001.json", "report.2010-09-13_1046CEST.json"} {
		data, err := demoFS.ReadFile("demodata/" + n)
		if err != nil {
			return nil, nil, "", err
		}
		t, err := abr.ReadSabreTrace(bytes.NewReader(data), n)
		if err != nil {
			return nil, nil, "", err
		}
		ts = append(ts, t)
	}
	return man, ts, "2 embedded traces (one 4G, one 3G); put the full sets in " + sharedABRDir + " for all 126", nil
}

func compareTable(w io.Writer, man *abr.Ladder, traces []*abr.Trace, from string) error {
	fmt.Fprintf(w, "ABR comparison, Sabre model: bbb.json (%d segments of %.0f s, %d levels %.0f-%.0f kbit/s), 25 s buffer\n",
		man.NumSegments(), man.SegmentMs/1000, len(man.Kbps), man.Kbps[0], man.Kbps[len(man.Kbps)-1])
	fmt.Fprintf(w, "traces: %s\n\n", from)
	fmt.Fprintf(w, "%-12s %10s %11s %8s %9s %10s %8s %12s\n", "algorithm", "kbit/s", "rebuffer s", "stalls", "switches", "abandoned", "score", "segments/s")
	type row struct {
		name                                            string
		kbps, rebuf, stalls, switches, abandoned, score float64
	}
	var rows []row
	for _, name := range demoAlgorithms {
		alg, err := abr.New(name)
		if err != nil {
			return err
		}
		var s *abr.Session
		r := row{name: name}
		segs := 0
		start := time.Now()
		for _, t := range traces {
			if s == nil {
				if s, err = abr.NewSession(man, t, alg); err != nil {
					return err
				}
			} else if err := s.ResetTrace(t); err != nil {
				return err
			}
			for !s.Done() {
				if _, err := s.Step(); err != nil {
					return err
				}
				segs++
			}
			m := s.Metrics()
			r.kbps += m.TimeAverageBitrate
			r.rebuf += m.RebufferMs / 1000
			r.stalls += float64(m.RebufferEvents)
			r.switches += float64(m.Switches)
			r.abandoned += float64(m.AbandonedDownloads)
			r.score += m.TimeAverageScore
		}
		el := time.Since(start).Seconds()
		n := float64(len(traces))
		fmt.Fprintf(w, "%-12s %10.0f %11.2f %8.1f %9.1f %10.1f %8.3f %12.0f\n", name, r.kbps/n, r.rebuf/n, r.stalls/n, r.switches/n, r.abandoned/n, r.score/n, float64(segs)/el)
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].score > rows[j].score })
	fmt.Fprintf(w, "\nkbit/s is Sabre's time-average played bitrate (stalls count as time); score is Sabre's\n"+
		"log-utility minus 5×rebuffer per segment time. Best score here: %s.\n", rows[0].name)
	return nil
}
