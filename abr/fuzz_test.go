package abr

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badInputs are hostile or broken inputs with the part of the error message
// that must name where the problem is. They double as fuzz seeds.
var badInputs = []struct {
	name, format, data, want string
	is                       error
}{
	{"trunc.json", "sabre", `[{"duration_ms": 1000, "bandwidth_kbps": 500, "latency_ms": 20},` + "\n" + `{"duration_ms": 10`, "trunc.json:2", ErrMalformed},
	{"type.json", "sabre", "[\n{\"duration_ms\": \"x\", \"bandwidth_kbps\": 5, \"latency_ms\": 1}]", "type.json:2: duration_ms", ErrMalformed},
	{"missing.json", "sabre", `[{"duration_ms": 1000, "latency_ms": 20}]`, "[0].bandwidth_kbps: missing", ErrMalformed},
	{"neg.json", "sabre", `[{"duration_ms": -5, "bandwidth_kbps": 5, "latency_ms": 1}]`, "period 0 duration_ms", ErrMalformed},
	{"zero.json", "sabre", `[{"duration_ms": 1000, "bandwidth_kbps": 0, "latency_ms": 20},{"duration_ms": 500, "bandwidth_kbps": 0, "latency_ms": 20}]`, "zero.json: bandwidth_kbps: every period has zero bandwidth", ErrNeverDelivers},
	{"nodur.json", "sabre", `[{"duration_ms": 0, "bandwidth_kbps": 100, "latency_ms": 20}]`, "total duration is zero", ErrNeverDelivers},
	{"empty.json", "sabre", `[]`, "no periods", ErrMalformed},
	{"cooked", "cooked", "0.0\t1.5\n1.0\tabc\n", "cooked:2: throughput", ErrMalformed},
	{"cooked1", "cooked", "0.0 1.0\n", "need at least 2 samples", ErrMalformed},
	{"cooked0", "cooked", "0 0\n1 0\n2 0\n", "no interval has positive throughput", ErrNeverDelivers},
	{"back", "cooked", "0 1\n2 1\n1 1\n", "back:3: time: time goes backwards", ErrMalformed},
	{"mm", "mahimahi", "1\n2\nx\n", "mm:3", ErrMalformed},
	{"mmback", "mahimahi", "5\n3\n", "mmback:2", ErrMalformed},
	{"t.csv", "csv", "time_s,kbps,latency_ms\n0,1000,20\n1,-5,20\n", "t.csv:3: kbps", ErrMalformed},
	{"t2.csv", "csv", "0,1000\n0,1000\n", "t2.csv:2: time_s", ErrMalformed},
	{"t3.csv", "csv", "0,0\n1,0\n", "every period has zero bandwidth", ErrNeverDelivers},
	{"m.json", "manifest", `{"segment_duration_ms": 3000, "bitrates_kbps": [], "segment_sizes_bits": [[1]]}`, "m.json: bitrates_kbps: no bitrates", ErrEmptyLadder},
	{"m2.json", "manifest", `{"segment_duration_ms": 3000, "bitrates_kbps": [100, 200], "segment_sizes_bits": [[1, 2], [3]]}`, "m2.json: segment_sizes_bits[1]: 1 sizes, want 2", ErrMismatch},
	{"m3.json", "manifest", `{"bitrates_kbps": [100], "segment_sizes_bits": [[1]]}`, "m3.json: segment_duration_ms: missing", ErrMalformed},
	{"m4.json", "manifest", `{"segment_duration_ms": 3000, "bitrates_kbps": [200, 100], "segment_sizes_bits": [[1, 2]]}`, "bitrates_kbps[1]", ErrMalformed},
	{"m5.json", "manifest", "{\"segment_duration_ms\": 3000,\n\"bitrates_kbps\": [100],\n \"segment_sizes_bits\": [[1]]", "m5.json:3", ErrMalformed},
	{"m6.json", "manifest", `{"segment_duration_ms": 3000, "bitrates_kbps": [100], "segment_sizes_bits": []}`, "segment_sizes_bits: no segments", ErrMismatch},
	{"video_size_0", "sizes", "100\n200\n-3\n", "video_size_0:3", ErrMalformed},
}

func parseAny(format string, data []byte, name string) (any, error) {
	r := bytes.NewReader(data)
	switch format {
	case "sabre":
		return ReadSabreTrace(r, name)
	case "cooked":
		return ReadCookedTrace(r, name)
	case "mahimahi":
		return ReadMahimahiTrace(r, name, 0)
	case "csv":
		return ReadCSVTrace(r, name, 0)
	case "manifest":
		return ReadSabreManifest(r, name)
	case "sizes":
		return ReadChunkSizes(r, name)
	}
	panic(format)
}

func TestBadInputs(t *testing.T) {
	for _, c := range badInputs {
		_, err := parseAny(c.format, []byte(c.data), c.name)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
		if !errors.Is(err, c.is) {
			t.Errorf("%s: error %q is not %v", c.name, err, c.is)
		}
	}
}

func TestVideoSizesMismatch(t *testing.T) {
	dir := t.TempDir()
	for q := 0; q < 6; q++ {
		n := 49
		if q == 3 {
			n = 40
		}
		os.WriteFile(filepath.Join(dir, "video_size_"+string(rune('0'+q))), bytes.Repeat([]byte("1000\n"), n), 0o644)
	}
	_, err := LoadVideoSizes(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "video_size_3") || !errors.Is(err, ErrMismatch) {
		t.Fatalf("err = %v", err)
	}
}

// A trace that delivers something, but so little that no segment could ever
// finish in practice, ends with ErrNeverDelivers instead of a hang.
func TestNeverDeliversTerminates(t *testing.T) {
	m := &Ladder{SegmentMs: 3000, Kbps: []float64{100, 200}, Sizes: [][]float64{{3e5, 6e5}, {3e5, 6e5}}}
	tr := &Trace{Name: "slow.json", Periods: []Period{{1000, 1e-300, 10}, {1000, 0, 10}}}
	for _, noa := range []bool{false, true} {
		s, err := NewSession(m, tr, NewThroughput(), WithAbandonment(!noa))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Run()
		if !errors.Is(err, ErrNeverDelivers) || !strings.Contains(err.Error(), "slow.json") {
			t.Fatalf("err = %v", err)
		}
	}
	c := &CookedTrace{Name: "slow", Time: []float64{0, 1, 2}, Mbps: []float64{0, 1e-300, 0}}
	vs := &VideoSizes{Kbps: PensieveLadderKbps, ChunkMs: 4000, Chunks: 48}
	for range PensieveLadderKbps {
		row := make([]float64, 49)
		for i := range row {
			row[i] = 1e5
		}
		vs.Bytes = append(vs.Bytes, row)
	}
	e, err := NewPensieveSession(c, vs, BB{}, QoELinear)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(); !errors.Is(err, ErrNeverDelivers) {
		t.Fatalf("pensieve err = %v", err)
	}
}

var fuzzManifest = &Ladder{SegmentMs: 2000, Kbps: []float64{300, 1000, 3000}, Sizes: [][]float64{{6e5, 2e6, 6e6}, {6e5, 2e6, 6e6}, {5e5, 2.1e6, 5.5e6}}}

func addSeeds(f *testing.F, format string, files ...string) {
	for _, c := range badInputs {
		if c.format == format {
			f.Add([]byte(c.data))
		}
	}
	for _, p := range files {
		b, err := os.ReadFile(filepath.Join(testdataDir, p))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 8000 {
			b = b[:8000]
		}
		f.Add(b)
	}
}

// fuzzTrace parses data and, when it is accepted, runs a short session on it:
// neither may panic or hang.
func fuzzTrace(t *testing.T, tr *Trace, err error) {
	if err != nil {
		return
	}
	for _, name := range []string{"bolae", "throughput"} {
		alg, _ := New(name)
		s, err := NewSession(fuzzManifest, tr, alg, WithBuffer(6000))
		if err != nil {
			continue
		}
		s.Run()
	}
}

func FuzzReadSabreTrace(f *testing.F) {
	addSeeds(f, "sabre", "sabre/4Glogs/report_bus_0001.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadSabreTrace(bytes.NewReader(data), "fuzz.json")
		fuzzTrace(t, tr, err)
	})
}

func FuzzReadCookedTrace(f *testing.F) {
	addSeeds(f, "cooked", "pensieve/cooked_3gp/norway_bus_1")
	vs, err := LoadVideoSizes(filepath.Join(testdataDir, "pensieve", "video_sizes"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadCookedTrace(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		fuzzTrace(t, c.Trace(20), nil)
		if e, err := NewPensieveSession(c, vs, &RobustMPC{}, QoELinear); err == nil {
			e.Run()
		}
	})
}

func FuzzReadMahimahiTrace(f *testing.F) {
	addSeeds(f, "mahimahi")
	f.Add([]byte("1\n1\n2\n5\n5\n5\n100\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadMahimahiTrace(bytes.NewReader(data), "fuzz", 20)
		fuzzTrace(t, tr, err)
	})
}

func FuzzReadCSVTrace(f *testing.F) {
	addSeeds(f, "csv")
	f.Add([]byte("time_s,kbps,latency_ms\n0,5000,20\n10,0,20\n20,800,80\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadCSVTrace(bytes.NewReader(data), "fuzz.csv", 20)
		fuzzTrace(t, tr, err)
	})
}

func FuzzParseTrace(f *testing.F) {
	for _, c := range badInputs {
		if c.format != "manifest" && c.format != "sizes" {
			f.Add([]byte(c.data))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ParseTrace(data, "fuzz", 20)
		fuzzTrace(t, tr, err)
	})
}

func FuzzReadSabreManifest(f *testing.F) {
	addSeeds(f, "manifest")
	f.Add([]byte(`{"segment_duration_ms": 3000, "bitrates_kbps": [230, 331], "segment_sizes_bits": [[886360, 1000000], [5, 6]]}`))
	tr := &Trace{Name: "t", Periods: []Period{{1000, 2000, 20}, {500, 0, 50}, {2000, 500, 10}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadSabreManifest(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		if m.NumSegments()*len(m.Kbps) > 10000 {
			return
		}
		for _, name := range Names() {
			alg, _ := New(name)
			if s, err := NewSession(m, tr, alg); err == nil {
				s.Run()
			}
		}
	})
}

func FuzzReadChunkSizes(f *testing.F) {
	addSeeds(f, "sizes", "pensieve/video_sizes/video_size_0")
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadChunkSizes(bytes.NewReader(data), "video_size_0")
	})
}

func FuzzParseSabreArgs(f *testing.F) {
	f.Add("-n x.json -m y.json -b 25 -ao -a bola -ab")
	f.Add("-hl 3 8 -ws 3 5 -ma sliding -rmp 2 -nm 0.5 -ml 600 -gp 4 -noibr -noa -v")
	f.Add("--network=x --max-buffer=10 -r none")
	f.Add("-hl -3 -ws")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseSabreArgs(strings.Fields(s))
		if err == nil {
			a.Options()
			a.AlgorithmOptions(true)
		}
	})
}

func FuzzReadTableCSV(f *testing.F) {
	f.Add([]byte("trace,algo,qoe_sum,avg_bitrate_kbps,rebuf_s\nnorway_bus_1,bb,80.95,2659.57,0\n"))
	f.Add([]byte("trace,buffer size\na,\"b\n"))
	f.Add([]byte("x,y\n1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := ReadTableCSV(bytes.NewReader(data), "part.csv")
		if err != nil {
			return
		}
		if m, err := MergeTables([]*Table{tb}); err == nil {
			m.Summarize(m.Columns)
			var b bytes.Buffer
			m.WriteCSV(&b)
			m.WriteJSONL(&b)
		}
	})
}
