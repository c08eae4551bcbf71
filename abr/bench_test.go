package abr

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// sabre4G loads the Sabre 4G traces: all 40 from ../shared/abr when present,
// else the copies in testdata/abr.
func sabre4G(tb testing.TB) ([]*Trace, Manifest) {
	tb.Helper()
	dir := sharedABR + "/sabre"
	if _, err := os.Stat(filepath.Join(dir, "4Glogs")); err != nil {
		dir = filepath.Join(testdataDir, "sabre")
	}
	files, err := TraceFiles(filepath.Join(dir, "4Glogs"))
	if err != nil {
		tb.Fatal(err)
	}
	var ts []*Trace
	for _, f := range files {
		t, err := LoadTrace(f, 0)
		if err != nil {
			tb.Fatal(err)
		}
		ts = append(ts, t)
	}
	m, err := LoadSabreManifest(filepath.Join(dir, "bbb4k.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return ts, m
}

// BenchmarkSabre4G simulates sessions of bbb4k.json over the Sabre 4G traces
// (Sabre's defaults: 25 s buffer, abandonment on) and reports simulated
// segments per second. Sessions are reused, so allocs/op is the allocation
// count of a whole session.
func BenchmarkSabre4G(b *testing.B) {
	traces, m := sabre4G(b)
	for _, name := range []string{"throughput", "bola", "bolae", "dynamic", "dynamicdash", "bba", "robustmpc", "hlsjs", "dashjs"} {
		for _, mode := range []string{"", "-noa", "-exact"} {
			if mode != "" && (name == "bba" || name == "robustmpc") {
				continue // (no abandonment rule: -noa changes nothing)
			}
			label := name + mode
			noa := mode == "-noa"
			b.Run(label, func(b *testing.B) {
				alg, _ := New(name)
				opt := []Option{WithAbandonment(!noa), WithExact(mode == "-exact")}
				s, err := NewSession(m, traces[0], alg, opt...)
				if err != nil {
					b.Fatal(err)
				}
				segs := 0
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := threadCPU()
				for i := 0; i < b.N; i++ {
					if err := s.ResetTrace(traces[i%len(traces)], opt...); err != nil {
						b.Fatal(err)
					}
					for !s.done {
						if _, err := s.Step(); err != nil {
							b.Fatal(err)
						}
						segs++
					}
				}
				cpu := threadCPU() - cpu0
				sec := b.Elapsed().Seconds()
				b.ReportMetric(float64(segs)/sec, "segments/s")
				b.ReportMetric(float64(b.N)/sec, "sessions/s")
				if cpu > 0 {
					b.ReportMetric(float64(segs)/cpu, "segments/cpu-s")
				}
			})
		}
	}
}

// BenchmarkRobustMPC runs Pensieve sessions with robustMPC over the cooked
// traces and reports decisions (and whole 48-chunk sessions) per second.
func BenchmarkRobustMPC(b *testing.B) {
	dir := sharedABR + "/pensieve"
	if _, err := os.Stat(filepath.Join(dir, "cooked_3gp")); err != nil {
		dir = filepath.Join(testdataDir, "pensieve")
	}
	vs, err := LoadVideoSizes(filepath.Join(dir, "video_sizes"), nil)
	if err != nil {
		b.Fatal(err)
	}
	files, err := TraceFiles(filepath.Join(dir, "cooked_3gp"))
	if err != nil {
		b.Fatal(err)
	}
	var cs []*CookedTrace
	for _, f := range files {
		cs = append(cs, loadCooked(b, f))
	}
	for _, ex := range []bool{false, true} {
		name := "fast"
		if ex {
			name = "exhaustive"
		}
		b.Run(name, func(b *testing.B) {
			mpc := &RobustMPC{scoreAll: ex}
			sessions := make([]*PensieveSession, len(cs))
			for i, c := range cs {
				sessions[i], _ = NewPensieveSession(c, vs, mpc, QoELinear)
			}
			var r ChunkResult
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			mpc.decisions = 0
			cpu0 := threadCPU()
			for i := 0; i < b.N; i++ {
				e := sessions[i%len(sessions)]
				e.Reset()
				for !e.Done() {
					if err := e.Step(&r); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu := threadCPU() - cpu0
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(mpc.decisions)/sec, "decisions/s")
			b.ReportMetric(float64(b.N)/sec, "sessions/s")
			if cpu > 0 {
				b.ReportMetric(float64(mpc.decisions)/cpu, "decisions/cpu-s")
				b.ReportMetric(float64(b.N)/cpu, "sessions/cpu-s")
			}
		})
	}
	b.Run("BB", func(b *testing.B) {
		sessions := make([]*PensieveSession, len(cs))
		for i, c := range cs {
			sessions[i], _ = NewPensieveSession(c, vs, BB{}, QoELinear)
		}
		var r ChunkResult
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			e := sessions[i%len(sessions)]
			e.Reset()
			for !e.Done() {
				if err := e.Step(&r); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	})
}

// BenchmarkSabreFCC is the sweep configuration, session by session:
// bbb4k.json looped to 180 s (-ml 180, 60 segments), 25 s buffer, BOLA-O
// options (-ao), abandonment on, WithExact (what `streamkit abr sweep`
// runs), over the FCC HD traces of ../shared (skipped without them), and
// reports segments per CPU-second of its thread.
func BenchmarkSabreFCC(b *testing.B) {
	files, err := TraceFiles(filepath.Join(sharedABR, "sabre", "hd_fs"))
	if err != nil {
		b.Skip("needs ../shared/abr/sabre/hd_fs")
	}
	var traces []*Trace
	for _, f := range files {
		t, err := LoadTrace(f, 0)
		if err != nil {
			b.Fatal(err)
		}
		traces = append(traces, t)
	}
	base, err := LoadSabreManifest(filepath.Join(sharedABR, "sabre", "bbb4k.json"))
	if err != nil {
		b.Fatal(err)
	}
	m := Looped(base, 180000)
	for _, name := range []string{"throughput", "bola", "bolae", "dynamic", "dynamicdash"} {
		b.Run(name, func(b *testing.B) {
			alg, _ := New(name, WithBOLAO())
			opt := []Option{WithExact(true)}
			s, err := NewSession(m, traces[0], alg, opt...)
			if err != nil {
				b.Fatal(err)
			}
			segs := 0
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := threadCPU()
			for i := 0; i < b.N; i++ {
				if err := s.ResetTrace(traces[i%len(traces)], opt...); err != nil {
					b.Fatal(err)
				}
				for !s.done {
					if _, err := s.Step(); err != nil {
						b.Fatal(err)
					}
					segs++
				}
			}
			cpu := threadCPU() - cpu0
			b.ReportMetric(float64(segs)/b.Elapsed().Seconds(), "segments/s")
			if cpu > 0 {
				b.ReportMetric(float64(segs)/cpu, "segments/cpu-s")
			}
		})
	}
}

// BenchmarkSweepSabreFCC is the whole sweep in process (reading the 1,000
// FCC HD trace files, simulating, building the table), one worker: the
// issue's `streamkit abr sweep` without process start-up and CSV output.
func BenchmarkSweepSabreFCC(b *testing.B) {
	files, err := TraceFiles(filepath.Join(sharedABR, "sabre", "hd_fs"))
	if err != nil {
		b.Skip("needs ../shared/abr/sabre/hd_fs")
	}
	args := []string{"-m", filepath.Join(sharedABR, "sabre", "bbb4k.json"), "-b", "25", "-ao", "-a", "bolae", "-ml", "180"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := SweepSabre(context.Background(), args, files, nil, nil, WithWorkers(1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "traces/s")
}

// BenchmarkTraceLoaderFCC reads and decodes the 1,000 FCC-HD traces as a
// sweep's loader does (one warm traceLoader), without simulating them.
func BenchmarkTraceLoaderFCC(b *testing.B) {
	files, err := TraceFiles(filepath.Join(sharedABR, "sabre", "hd_fs"))
	if err != nil {
		b.Skip("needs ../shared/abr/sabre/hd_fs")
	}
	var l traceLoader
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			t, err := l.load(f)
			if err != nil {
				b.Fatal(err)
			}
			l.put(t)
		}
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "traces/s")
}
