package abr

// A sweep reads a thousand small trace files and simulates each for a few
// tens of microseconds, so reading them costs more than simulating them
// unless the reading is as lean as the simulation: the decoder below is
// specialised to Sabre's trace JSON (an array of flat objects with three
// numeric keys), and traceLoader reuses its file buffer and period slices,
// so a warm loader allocates nothing per sample (TestTraceLoaderAllocs).
//
// Design: the fast decoder accepts a strict subset of JSON — exactly the
// three keys, spelled as Sabre writes them, each once, with plain decimal
// numbers — and answers "not mine" for anything else (other or repeated
// keys, escapes, exponents, signs, nulls, trailing data). Such input goes
// to ReadSabreTrace, the encoding/json reader, so every file decodes to
// the values, and fails with the positioned error, that encoding/json
// gives; the fast path only ever agrees with it (FuzzSabreTraceFast).

// sabreKey identifies the three keys of a Sabre period.
const (
	keyDuration = 1 << iota
	keyBandwidth
	keyLatency
)

// decodeSabreFast appends the periods of a Sabre trace JSON to dst. ok is
// false when data is outside the subset described above (or malformed):
// the caller then decodes it with ReadSabreTrace.
func decodeSabreFast(data []byte, dst []Period) (out []Period, ok bool) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '[' {
		return dst, false
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return dst, false // empty: let the reader report it
	}
	for {
		if i >= len(data) || data[i] != '{' {
			return dst, false
		}
		var p Period
		seen := 0
		i = skipWS(data, i+1)
		for {
			// "key"
			if i >= len(data) || data[i] != '"' {
				return dst, false
			}
			j := i + 1
			for j < len(data) && data[j] != '"' && data[j] != '\\' {
				j++
			}
			if j >= len(data) || data[j] != '"' {
				return dst, false
			}
			key := data[i+1 : j]
			var bit int
			var v *float64
			switch string(key) { // (no allocation: the compiler compares in place)
			case "duration_ms":
				bit, v = keyDuration, &p.DurationMs
			case "bandwidth_kbps":
				bit, v = keyBandwidth, &p.Kbps
			case "latency_ms":
				bit, v = keyLatency, &p.LatencyMs
			default:
				return dst, false
			}
			if seen&bit != 0 {
				return dst, false
			}
			seen |= bit
			i = skipWS(data, j+1)
			if i >= len(data) || data[i] != ':' {
				return dst, false
			}
			i = skipWS(data, i+1)
			x, n, good := parseDecimal(data[i:])
			if !good {
				return dst, false
			}
			*v = x
			i = skipWS(data, i+n)
			if i >= len(data) {
				return dst, false
			}
			if data[i] == ',' {
				i = skipWS(data, i+1)
				continue
			}
			if data[i] != '}' {
				return dst, false
			}
			break
		}
		if seen != keyDuration|keyBandwidth|keyLatency {
			return dst, false
		}
		dst = append(dst, p)
		i = skipWS(data, i+1)
		if i >= len(data) {
			return dst, false
		}
		if data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if data[i] != ']' {
			return dst, false
		}
		if skipWS(data, i+1) != len(data) {
			return dst, false
		}
		return dst, true
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// pow10 holds the powers of ten that are exact in float64.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal reads a JSON number without sign or exponent, "123" or
// "12.5", of at most 15 significant digits and 22 fraction digits, and
// returns its value, correctly rounded, and its length. Such a number is
// m / 10^k with m < 2^53 and 10^k exact, so one IEEE division rounds it
// correctly (Clinger's fast path), as strconv.ParseFloat — and so
// encoding/json — would. good is false for anything else.
func parseDecimal(b []byte) (v float64, n int, good bool) {
	var m uint64
	digits, frac := 0, -1
	i := 0
	if i < len(b) && b[i] == '0' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9' {
		return 0, 0, false // leading zero: not JSON
	}
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0 && digits > 0:
			frac = 0
		default:
			goto end
		}
	}
end:
	if digits == 0 || digits > 15 || frac == 0 || frac > 22 {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E' || b[i] == '.') {
		return 0, 0, false
	}
	v = float64(m)
	if frac > 0 {
		v /= pow10[frac]
	}
	return v, i, true
}

// traceLoader reads trace files into reused memory: one file buffer and
// the period slices of the traces it hands out, which come back with put.
type traceLoader struct {
	buf  []byte
	free []*Trace
}

// minTraceBuf is the loader's first buffer: a Sabre trace of the FCC or
// 4G sets is 1–20 kB, so one read takes a whole file.
const minTraceBuf = 64 << 10

// load reads the trace at path as LoadTrace would (same values, same
// errors), reusing a Trace given back by put. The trace it returns is
// valid (Trace.Validate).
//
// A file costs three system calls, open, one read and close, instead of
// the four (or five, with fstat) of a read to end of file: when a read
// fills less than the room it was given, the data is decoded at once, and
// if it is a complete Sabre trace — a closed JSON array, nothing after it
// but white space — that is the file. A short read from a regular file is
// the end of the file on Linux's file systems; where it was not, the data
// would have to end exactly after a closing bracket for it to be taken,
// and anything else (a partial array, another format) reads on to the
// end of the file and takes the general path, as before.
func (l *traceLoader) load(path string) (*Trace, error) {
	f, err := openTraceFile(path)
	if err != nil {
		return nil, err
	}
	defer f.close()
	var t *Trace
	if k := len(l.free); k > 0 {
		t, l.free = l.free[k-1], l.free[:k-1]
	} else {
		t = &Trace{}
	}
	// only where ParseTrace would pick the Sabre reader: a format registered
	// after the built-in ones is tried first and may claim the data
	extra := len(traceFormats) - builtinTraceFormats
	buf := l.buf[:0]
	if cap(buf) < minTraceBuf {
		buf = make([]byte, 0, minTraceBuf)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := cap(buf) - len(buf)
		n, err := f.read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			l.buf = buf
			l.put(t)
			return nil, err
		}
		if n == 0 {
			break
		}
		if n < room && extra == 0 {
			if cap(t.Periods) == 0 { // a fresh trace: size it from the file (a Sabre period takes 60–70 bytes)
				t.Periods = make([]Period, 0, len(buf)/48+1)
			}
			if ps, ok := decodeSabreFast(buf, t.Periods[:0]); ok {
				l.buf = buf
				return l.fast(t, ps, path)
			} else {
				t.Periods = ps[:0]
			}
		}
	}
	l.buf = buf
	if extra > 0 {
		first := firstContentLine(buf)
		for _, f := range traceFormats[:extra] {
			if f.sniff(first) {
				l.put(t)
				return parseValid(buf, path)
			}
		}
	}
	if ps, ok := decodeSabreFast(buf, t.Periods[:0]); ok {
		return l.fast(t, ps, path)
	} else {
		t.Periods = ps[:0]
	}
	l.put(t)
	return parseValid(buf, path)
}

// fast finishes load for periods the fast decoder read.
func (l *traceLoader) fast(t *Trace, ps []Period, path string) (*Trace, error) {
	t.Name, t.Periods = path, ps
	if err := t.Validate(); err != nil {
		l.put(t)
		return nil, err
	}
	return t, nil
}

// parseValid is ParseTrace, and Validate for a registered format whose
// reader does not (the built-in ones do): a loaded trace is always valid,
// so a sweep's sessions need not validate it again.
func parseValid(data []byte, path string) (*Trace, error) {
	t, err := ParseTrace(data, path, 0)
	if err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// put gives a trace from load back for reuse.
func (l *traceLoader) put(t *Trace) { l.free = append(l.free, t) }
