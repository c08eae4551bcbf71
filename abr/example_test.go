package abr_test

import (
	"fmt"
	"log"
	"os"

	"github.com/streamkit-go/streamkit/abr"
)

// A three-level ladder of 2 s segments and a link that drops from 5 Mbit/s
// to 800 kbit/s after 20 s.
func exampleInputs() (abr.Manifest, *abr.Trace) {
	m := &abr.Ladder{SegmentMs: 2000, Kbps: []float64{400, 1200, 3500}}
	for i := 0; i < 30; i++ {
		m.Sizes = append(m.Sizes, []float64{800e3, 2400e3, 7000e3})
	}
	tr := &abr.Trace{Name: "drop", Periods: []abr.Period{
		{DurationMs: 20000, Kbps: 5000, LatencyMs: 30},
		{DurationMs: 40000, Kbps: 800, LatencyMs: 80},
	}}
	return m, tr
}

// Run one session with Sabre's BOLA-E and print a few metrics.
func Example() {
	m, tr := exampleInputs()
	alg, err := abr.New("bolae")
	if err != nil {
		log.Fatal(err)
	}
	s, err := abr.NewSession(m, tr, alg, abr.WithBuffer(12000))
	if err != nil {
		log.Fatal(err)
	}
	met, err := s.Run()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("segments %d, mean bitrate %.0f kbit/s, %d switches, %d stalls\n",
		met.Segments, met.AverageBitrateKbps, met.Switches, met.RebufferEvents)
	// Output:
	// segments 30, mean bitrate 1977 kbit/s, 4 switches, 0 stalls
}

// lowestFirst is a custom algorithm: the highest level whose bitrate is below
// half the throughput estimate, never more than one level up at a time. It
// reads the session through abr.View, the same read-only view (ladder,
// buffer, estimates) the built-in algorithms read.
type lowestFirst struct{ last int }

func (a *lowestFirst) Init(v abr.View) { a.last = 0 }

func (a *lowestFirst) Decide(v abr.View, seg int) (int, float64) {
	q := 0
	for k, b := range v.Bitrates() {
		if b < v.Throughput()/2 {
			q = k
		}
	}
	if q > a.last+1 {
		q = a.last + 1
	}
	a.last = q
	return q, 0
}

// Plug a custom Algorithm into the simulator (and into the registry, which
// makes it available to sweeps and `streamkit abr sabre -a halfrate`).
func Example_customAlgorithm() {
	abr.Register("halfrate", "half the throughput estimate, one step up at a time",
		func(abr.Config) abr.Algorithm { return &lowestFirst{} })
	m, tr := exampleInputs()
	alg, _ := abr.New("halfrate")
	s, err := abr.NewSession(m, tr, alg, abr.WithBuffer(12000))
	if err != nil {
		log.Fatal(err)
	}
	for {
		done, err := s.Step()
		if err != nil {
			log.Fatal(err)
		}
		if r := s.Last(); r.Index%10 == 0 && !r.Abandoned {
			fmt.Printf("segment %2d at %4.0f kbit/s, buffer %5.1f s\n", r.Index, r.BitrateKbps, r.BufferAfter/1000)
		}
		if done {
			break
		}
	}
	// Output:
	// segment  0 at  400 kbit/s, buffer   2.0 s
	// segment 10 at 1200 kbit/s, buffer  11.5 s
	// segment 20 at  400 kbit/s, buffer  10.9 s
}

// Reproduce a Sabre command line (the output is Sabre's, line for line).
func ExampleRunSabre() {
	m, err := abr.RunSabre([]string{"-n", "../testdata/abr/sabre/3Glogs/report.2010-09-13_1046CEST.json",
		"-m", "../testdata/abr/sabre/bbb.json", "-b", "10", "-a", "throughput", "-noa"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("rebuffer %.6f s in %d events\n", m.RebufferMs/1000, m.RebufferEvents)
	// Output:
	// rebuffer 269.454383 s in 56 events
}

// ParseShard resolves --shard auto in a Kubernetes Indexed Job's pod (the
// manifest sets STREAMKIT_SHARDS, Kubernetes sets JOB_COMPLETION_INDEX) and
// in a Slurm array task (sbatch --array=1-8).
func ExampleParseShard() {
	pod := map[string]string{"JOB_COMPLETION_INDEX": "3", "STREAMKIT_SHARDS": "8"}
	i, n, _ := abr.ParseShard("auto", func(k string) string { return pod[k] })
	fmt.Printf("pod: shard %d of %d\n", i, n)
	task := map[string]string{"SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "8"}
	i, n, _ = abr.ParseShard("auto", func(k string) string { return task[k] })
	fmt.Printf("task: shard %d of %d\n", i, n)
	// Output:
	// pod: shard 3 of 8
	// task: shard 7 of 8
}

// A SegmentWriter logs each download as the session makes it, so a log of
// millions of segments needs no memory per segment.
func ExampleSegmentWriter() {
	m := &abr.Ladder{SegmentMs: 2000, Kbps: []float64{500, 1500}, Sizes: [][]float64{{1e6, 3e6}, {1e6, 3e6}}}
	tr := &abr.Trace{Name: "flat", Periods: []abr.Period{{DurationMs: 1000, Kbps: 2000, LatencyMs: 10}}}
	s, _ := abr.NewSession(m, tr, abr.NewThroughput())
	w := abr.NewSegmentWriter(os.Stdout, false)
	s.SetOnSegment(func(r *abr.SegmentRecord) { w.Write(r) })
	s.Run()
	w.Flush()
	// Output:
	// index,quality,bitrate_kbps,size_bits,downloaded_bits,start_ms,time_ms,ttfb_ms,wait_ms,delay_ms,buffer_before_ms,buffer_after_ms,rebuffer_ms,abandoned,abandon_to,throughput_kbps,estimate_kbps
	// 0,0,500,1e+06,1e+06,0,510,10,0,0,0,2000,0,false,-1,2000,2000
	// 1,1,1500,3e+06,3e+06,510,1510,10,0,0,2000,2490,0,false,-1,2000,1999.9999999999993
}
