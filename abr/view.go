package abr

import "io"

// View is the read-only view of a Session that algorithms decide from: the
// ladder and segment sizes, the buffer, the throughput and latency
// estimates and their history, and the clocks. Every Algorithm method
// receives one, and the built-in algorithms decide from exactly these
// methods, so a registered algorithm sees everything they see. (BOLA's
// proofs that an Abandon call would answer "keep downloading", which let
// the session skip those calls, also look at the trace ahead; they change
// no decision, only how fast the session gets to it.)
//
// A View is a small value (one pointer) whose methods inline: passing it
// costs what passing the *Session would, and it cannot step, reset or
// reconfigure the session. It stays valid for the life of the session, so
// an algorithm may keep it from Init; its values change as the session runs.
type View struct{ s *Session }

// View returns the session's read-only view (what its Algorithm sees).
func (s *Session) View() View { return View{s} }

// SegmentMs is the segment duration P in ms.
func (v View) SegmentMs() float64 { return v.s.segMs }

// Bitrates is the ladder in kbit/s, ascending (do not modify).
func (v View) Bitrates() []float64 { return v.s.kbps }

// Levels is the number of qualities, len(Bitrates()).
func (v View) Levels() int { return v.s.n }

// NumSegments is the number of segments N.
func (v View) NumSegments() int { return v.s.nseg }

// SegmentSize is the size of segment i at quality q in bits.
func (v View) SegmentSize(i, q int) float64 { return v.s.segSize(i, q) }

// BufferLevel is the buffered media in ms.
func (v View) BufferLevel() float64 { return v.s.bufferLevel() }

// Buffered is the number of segments in the buffer, the one playing
// first.
func (v View) Buffered() int { return len(v.s.buf) - v.s.bh }

// BufferedQuality is the quality of the k-th buffered segment (0: the one
// playing), -1 when k is out of the buffer.
func (v View) BufferedQuality(k int) int {
	if k < 0 || k >= len(v.s.buf)-v.s.bh {
		return -1
	}
	return v.s.buf[v.s.bh+k]
}

// BufferSize is the maximum buffer B in ms.
func (v View) BufferSize() float64 { return v.s.bufMs }

// GammaP is Sabre's γp (-gp): BOLA's rebuffer weight.
func (v View) GammaP() float64 { return v.s.gp }

// Throughput is the current throughput estimate in kbit/s (bits/ms).
func (v View) Throughput() float64 { return v.s.est.throughput }

// Latency is the current latency estimate in ms.
func (v View) Latency() float64 { return v.s.est.latency }

// HasEstimate reports whether at least one sample was measured.
func (v View) HasEstimate() bool { return v.s.est.have }

// History appends up to the last 32 measurements, oldest first, to dst.
func (v View) History(dst []Sample) []Sample {
	s := v.s
	k := s.nh
	if k > histLen {
		k = histLen
	}
	for i := s.nh - k; i < s.nh; i++ {
		dst = append(dst, s.hist[i%histLen])
	}
	return dst
}

// PlayTimeMs is the play clock (startup and stalls included).
func (v View) PlayTimeMs() float64 { return v.s.tPlay }

// NetworkTimeMs is the network clock.
func (v View) NetworkTimeMs() float64 { return v.s.tnet }

// QualityFromThroughput is Sabre's quality_from_throughput (§2.8): the
// highest level whose segment requested now arrives within one segment
// duration at x kbit/s, counting the latency estimate.
func (v View) QualityFromThroughput(x float64) int {
	s := v.s
	q := 0
	for q+1 < s.n && s.est.latency+float64(s.segMs*s.kbps[q+1])/x <= s.segMs {
		q++
	}
	return q
}

// Output is where an algorithm prints Sabre-compatible console lines
// (WithOutput; io.Discard when unset).
func (v View) Output() io.Writer {
	if v.s.opt.Out == nil {
		return io.Discard
	}
	return v.s.opt.Out
}

// path is where the network is now, for the silent-abandonment proofs
// (session.go): the trace's periods, the current one and the ms left in
// it. It is the one thing the built-ins see that a View does not export,
// and only to prove that calling Abandon would change nothing, which
// keeps their decisions those of the exported methods.
func (v View) path() (periods []Period, index int, left float64) {
	return v.s.periods, v.s.index, v.s.ttn
}
