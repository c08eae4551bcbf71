package abr

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// traceSets lists testdata's Sabre traces and, when ../shared is present,
// every shared Sabre trace (a subset with -short).
func traceSets(t *testing.T) []string {
	files, _ := TraceFiles(filepath.Join(testdataDir, "sabre", "*", "*.json"))
	for _, d := range []string{"4Glogs", "3Glogs", "hd_fs", "sd_fs"} {
		more, err := TraceFiles(filepath.Join(sharedABR, "sabre", d))
		if err != nil {
			continue
		}
		if testing.Short() {
			more = more[:min(5, len(more))]
		}
		files = append(files, more...)
	}
	return files
}

// The specialised decoder gives encoding/json's values on every trace file,
// and hands anything outside its subset back (ok false) rather than guess.
func TestDecodeSabreFastMatchesJSON(t *testing.T) {
	var l traceLoader
	for _, f := range traceSets(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ps, ok := decodeSabreFast(data, nil)
		if !ok {
			t.Errorf("%s: not decoded by the fast path", f)
			continue
		}
		want, err := ReadSabreTrace(bytes.NewReader(data), f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ps, want.Periods) {
			t.Errorf("%s: fast decoder differs from encoding/json", f)
		}
		got, err := l.load(f)
		if err != nil || !reflect.DeepEqual(got.Periods, want.Periods) || got.Name != f {
			t.Errorf("%s: traceLoader: %v", f, err)
		}
		if got != nil {
			l.put(got)
		}
	}
	for _, c := range []struct {
		in string
		ok bool
	}{
		{`[{"duration_ms": 5000, "bandwidth_kbps": 1363.5, "latency_ms": 20}]`, true},
		{` [ {"latency_ms":0,"duration_ms":1,"bandwidth_kbps":0.000001} , {"duration_ms": 2, "bandwidth_kbps": 3, "latency_ms": 4} ] `, true},
		{`[{"duration_ms": 1e3, "bandwidth_kbps": 1, "latency_ms": 20}]`, false},                 // exponent
		{`[{"duration_ms": -1, "bandwidth_kbps": 1, "latency_ms": 20}]`, false},                  // sign
		{`[{"Duration_ms": 1, "bandwidth_kbps": 1, "latency_ms": 20}]`, false},                   // encoding/json folds case
		{`[{"duration_ms": 1, "duration_ms": 2, "bandwidth_kbps": 1, "latency_ms": 20}]`, false}, // repeated key
		{`[{"duration_ms": 1, "bandwidth_kbps": 1}]`, false},                                     // missing key
		{`[{"duration_ms": 1, "bandwidth_kbps": 1, "latency_ms": 20, "x": 1}]`, false},           // other key
		{`[{"duration_ms": 01, "bandwidth_kbps": 1, "latency_ms": 20}]`, false},                  // not JSON
		{`[{"duration_ms": 1, "bandwidth_kbps": 1, "latency_ms": 20}] x`, false},                 // trailing data
		{`[{"duration_ms": 1234567890123456, "bandwidth_kbps": 1, "latency_ms": 20}]`, false},    // 16 digits
		{`[{"duration_ms": 1., "bandwidth_kbps": 1, "latency_ms": 20}]`, false},                  // not JSON
		{`[{"duration_ms": null, "bandwidth_kbps": 1, "latency_ms": 20}]`, false},                // null
		{`[{"duration_ms": "1", "bandwidth_kbps": 1, "latency_ms": 20}]`, false},                 // string
		{`[{"duration_ms": 1, "bandwidth_kbps": 1, "latency_ms": 20},]`, false},                  // trailing comma
		{`[]`, false},
		{"\ufeff[]", false},
	} {
		ps, ok := decodeSabreFast([]byte(c.in), nil)
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.in, ok, c.ok)
			continue
		}
		if ok {
			want, err := ReadSabreTrace(bytes.NewReader([]byte(c.in)), "x")
			if err != nil || !reflect.DeepEqual(ps, want.Periods) {
				t.Errorf("%s: %v vs %v (%v)", c.in, ps, want, err)
			}
		}
	}
}

// parseDecimal is strconv.ParseFloat (so encoding/json) on its subset.
func TestParseDecimalCorrectlyRounded(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		m := r.Int63n(1_000_000_000_000_000) // up to 15 digits
		s := fmtInt(m)
		if k := r.Intn(len(s) + 1); k > 0 && k < len(s) {
			s = append(s[:len(s)-k:len(s)-k], append([]byte{'.'}, s[len(s)-k:]...)...)
			if s[0] == '.' {
				s = append([]byte{'0'}, s...)
			}
		}
		if len(s) > 1 && s[0] == '0' && s[1] != '.' {
			continue
		}
		v, n, ok := parseDecimal(s)
		var want float64
		if err := json.Unmarshal(s, &want); err != nil {
			continue
		}
		if !ok || n != len(s) || v != want {
			t.Fatalf("%s: %v %d %v, want %v", s, v, n, ok, want)
		}
	}
}

func fmtInt(x int64) []byte {
	if x == 0 {
		return []byte("0")
	}
	var b []byte
	for ; x > 0; x /= 10 {
		b = append([]byte{byte('0' + x%10)}, b...)
	}
	return b
}

// A warm loader reads a trace with a constant number of allocations (the
// path's C string), none per sample.
func TestTraceLoaderAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and race instrumentation allocate")
	}
	dir := t.TempDir()
	var b bytes.Buffer
	b.WriteString("[\n")
	for i := 0; i < 5000; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`  {"duration_ms": 1000, "bandwidth_kbps": 1234.5, "latency_ms": 20}`)
	}
	b.WriteString("\n]\n")
	f := filepath.Join(dir, "long.json")
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var l traceLoader
	tr, err := l.load(f)
	if err != nil || len(tr.Periods) != 5000 {
		t.Fatal(err)
	}
	l.put(tr)
	allocs := testing.AllocsPerRun(10, func() {
		tr, _ := l.load(f)
		l.put(tr)
	})
	if allocs > 2 {
		t.Errorf("%v allocations to load a warm 5000-period trace, want ≤ 2", allocs)
	}
	// a format registered later that claims the data takes it (as in ParseTrace)
	saved := traceFormats
	defer func() { traceFormats = saved }()
	RegisterTraceFormat("claims-arrays", func(l []byte) bool { return len(l) > 0 && l[0] == '[' },
		func(r io.Reader, name string, _ float64) (*Trace, error) {
			return &Trace{Name: name, Periods: []Period{{1, 2, 3}}}, nil
		})
	if tr, err := l.load(f); err != nil || len(tr.Periods) != 1 {
		t.Errorf("a registered format claiming JSON arrays was bypassed: %v", err)
	}
}

// FuzzDecodeSabreFast: whenever the fast decoder accepts an input, the
// encoding/json reader accepts it too with the same periods (or both find
// the trace invalid).
func FuzzDecodeSabreFast(f *testing.F) {
	addSeeds(f, "sabre", "sabre/4Glogs/report_bus_0001.json")
	f.Add([]byte(`[{"duration_ms": 5000, "bandwidth_kbps": 1363.25, "latency_ms": 20}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, ok := decodeSabreFast(data, nil)
		if !ok {
			return
		}
		fast := &Trace{Name: "f", Periods: ps}
		errF := fast.Validate()
		slow, errS := ReadSabreTrace(bytes.NewReader(data), "f")
		if (errF == nil) != (errS == nil) {
			t.Fatalf("fast %v, encoding/json %v", errF, errS)
		}
		if errS == nil && !reflect.DeepEqual(ps, slow.Periods) {
			t.Fatalf("fast %v, encoding/json %v", ps, slow.Periods)
		}
	})
}

// The movie reader's flat table equals encoding/json's rows, and sessions
// share it instead of copying it.
func TestSabreManifestFlat(t *testing.T) {
	for _, name := range []string{"bbb.json", "bbb4k.json"} {
		p := filepath.Join(testdataDir, "sabre", name)
		m, err := LoadSabreManifest(p)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(p)
		var raw struct {
			Sizes [][]float64 `json:"segment_sizes_bits"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m.Sizes, raw.Sizes) {
			t.Errorf("%s: sizes differ from encoding/json's", name)
		}
		tab := m.SizeTable()
		if len(tab) != len(m.Sizes)*len(m.Kbps) {
			t.Fatalf("%s: no flat table", name)
		}
		s, err := NewSession(m, constTrace(5000, 20), NewBola())
		if err != nil {
			t.Fatal(err)
		}
		if &s.sizes[0] != &tab[0] {
			t.Errorf("%s: the session copied the table", name)
		}
		m.Sizes[3] = append([]float64(nil), m.Sizes[3]...) // a row replaced by the caller
		if m.SizeTable() != nil {
			t.Errorf("%s: SizeTable after a row was replaced", name)
		}
	}
}

// FuzzSabreManifestFast: the flat decoder agrees with encoding/json.
func FuzzSabreManifestFast(f *testing.F) {
	addSeeds(f, "manifest")
	f.Add([]byte(`{"segment_duration_ms": 3000, "bitrates_kbps": [230, 331], "segment_sizes_bits": [[886360, 1000000.5], [5, 6]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast struct {
			Sizes sizeRows `json:"segment_sizes_bits"`
		}
		if json.Unmarshal(data, &fast) != nil || !fast.Sizes.ok {
			return
		}
		var raw struct {
			Sizes [][]float64 `json:"segment_sizes_bits"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects: %v", err)
		}
		if !reflect.DeepEqual(fast.Sizes.rows, raw.Sizes) {
			t.Fatalf("fast %v, encoding/json %v", fast.Sizes.rows, raw.Sizes)
		}
	})
}

// A looped movie (-ml) keeps the table it repeats: memory per session does
// not grow with the movie's length, and the session plays what a movie
// with the rows written out plays.
func TestLoopedMovieSharesTable(t *testing.T) {
	base := smallLadder(7)
	for i := range base.Sizes {
		base.Sizes[i] = []float64{1e6 + float64(i)*1e4, 3e6 + float64(i)*3e4, 8e6 - float64(i)*5e4}
	}
	long, err := NewSession(Looped(base, 3e6*2000), constTrace(3000, 20), NewBola())
	if err != nil {
		t.Fatal(err)
	}
	if long.nseg != 3e6 || len(long.sizes) != 7*3 {
		t.Fatalf("3M-segment looped movie: %d segments, %d sizes held", long.nseg, len(long.sizes))
	}
	loop := Looped(base, 100*2000)
	flat := &Ladder{SegmentMs: base.SegmentMs, Kbps: base.Kbps}
	for i := 0; i < 100; i++ {
		flat.Sizes = append(flat.Sizes, base.Sizes[i%7])
	}
	tr, _ := LoadTrace(filepath.Join(testdataDir, "sabre", "4Glogs", "report_bus_0001.json"), 0)
	for _, name := range []string{"bola", "bolae", "robustmpc", "dashjs"} {
		a1, _ := New(name)
		a2, _ := New(name)
		s1, _ := NewSession(loop, tr, a1)
		s2, _ := NewSession(flat, tr, a2)
		m1, e1 := s1.Run()
		m2, e2 := s2.Run()
		if e1 != nil || e2 != nil || m1 != m2 {
			t.Errorf("%s: looped %+v (%v) vs written out %+v (%v)", name, m1, e1, m2, e2)
		}
	}
}

// The loader's one-read path gives what LoadTrace gives, values or error,
// for files it must not take from a single read: data after the array,
// an unclosed array, other formats, an empty file, a directory, a file
// larger than its first buffer.
func TestTraceLoaderMatchesLoadTrace(t *testing.T) {
	dir := t.TempDir()
	row := `{"duration_ms": 1000, "bandwidth_kbps": 1234.5, "latency_ms": 20}`
	big := "[" + row + strings.Repeat(","+row, minTraceBuf/len(row)+10) + "]"
	files := map[string]string{
		"ok.json":       "[" + row + "]\n",
		"trailing.json": "[" + row + "] x",
		"unclosed.json": "[" + row,
		"csv.csv":       "time_s,kbps\n0,1000\n1,2000\n",
		"empty.json":    "",
		"big.json":      big,
		"bigtail.json":  big + "]",
	}
	var l traceLoader
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range append(slices.Sorted(maps.Keys(files)), "missing.json", ".") {
		p := filepath.Join(dir, name)
		want, werr := LoadTrace(p, 0)
		if werr == nil {
			werr = want.Validate()
		}
		got, gerr := l.load(p)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Errorf("%s: loader error %v, LoadTrace %v", name, gerr, werr)
			continue
		}
		if werr == nil {
			if !reflect.DeepEqual(got.Periods, want.Periods) {
				t.Errorf("%s: loader periods differ from LoadTrace's", name)
			}
			l.put(got)
		}
	}
}
