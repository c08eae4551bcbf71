package abr

import (
	"fmt"
	"io"
	"strconv"
)

// Metrics are the totals of a Sabre-model session (MODELS.md §2.10), plus a
// few derived values. Field comments give the name Sabre prints.
type Metrics struct {
	BufferMs              float64 // buffer size
	PlayedUtility         float64 // total played utility
	PlayedBitrate         float64 // total played bitrate (Σ kbit/s over segments)
	PlayTimeMs            float64 // total play time (startup and stalls included)
	RebufferMs            float64 // total rebuffer
	RebufferEvents        int     // total rebuffer events
	BitrateChange         float64 // total bitrate change (kbit/s)
	LogBitrateChange      float64 // total log bitrate change
	GammaP                float64
	SegmentMs             float64
	Segments              int
	OverCount, LeqCount   int
	OverAvg, LeqAvg       float64
	EstimateAvg           float64
	RampupMs              float64 // rampup time
	ReactionMs            float64 // total reaction time
	StartupMs             float64 // time until the first segment was buffered (not printed by Sabre)
	Switches              int     // number of quality changes between consecutive played segments
	AverageBitrateKbps    float64 // plain mean of the played bitrates
	AbandonedDownloads    int
	AbandonedBits         float64
	DownloadedSegments    int
	TimeAverageBitrate    float64 // played bitrate per segment duration of play time
	TimeAverageScore      float64
	RebufferRatio         float64
	SwitchMagnitudeMeanKb float64 // mean |Δbitrate| per switch
}

// Metrics returns the session's metrics (final once Done).
func (s *Session) Metrics() Metrics {
	m := Metrics{
		BufferMs: s.bufMs, PlayedUtility: s.playedUtility, PlayedBitrate: s.playedBitrate, PlayTimeMs: s.tPlay,
		RebufferMs: s.tRebuf, RebufferEvents: s.eRebuf, BitrateChange: s.totalBitrateChange,
		LogBitrateChange: s.totalLogBitrateChg, GammaP: s.gp, SegmentMs: s.segMs, Segments: s.nseg,
		OverCount: s.overCount, LeqCount: s.leqCount, OverAvg: s.overAvg, LeqAvg: s.leqAvg, EstimateAvg: s.estAvg,
		RampupMs: s.rampupTime, ReactionMs: s.totalReaction, StartupMs: s.startup,
		Switches: s.switches, AbandonedDownloads: s.abandoned, AbandonedBits: s.abandonedBits,
	}
	if !s.rampupSet {
		m.RampupMs = float64(s.nseg) * s.segMs
	}
	m.AverageBitrateKbps = s.playedBitrate / float64(s.nseg)
	tta := 1 / (s.tPlay / s.segMs)
	m.TimeAverageBitrate = s.playedBitrate * tta
	m.TimeAverageScore = tta * (s.playedUtility - s.gp*s.tRebuf/s.segMs)
	m.RebufferRatio = s.tRebuf / s.tPlay
	if s.switches > 0 {
		m.SwitchMagnitudeMeanKb = s.totalBitrateChange / float64(s.switches)
	}
	return m
}

// SabreMetric is one printed line of Sabre's summary.
type SabreMetric struct {
	Name  string
	Value float64
	Text  string // the value as Sabre prints it
}

// SabreLines returns Sabre's summary lines (§2.10) in Sabre's order.
func (m *Metrics) SabreLines() []SabreMetric { return m.appendSabreLines(nil, true) }

// appendSabreLines appends SabreLines to dst; without text, the Text of the
// float lines is left empty (a sweep formats their full-precision Value
// instead, and "%f" on each line would cost it more than the simulation).
func (m *Metrics) appendSabreLines(dst []SabreMetric, text bool) []SabreMetric {
	tta := 1 / (m.PlayTimeMs / m.SegmentMs)
	f := func(name string, v float64) SabreMetric {
		if !text {
			return SabreMetric{name, v, ""}
		}
		return SabreMetric{name, v, fmt.Sprintf("%f", v)}
	}
	d := func(name string, v int) SabreMetric { return SabreMetric{name, float64(v), strconv.Itoa(v)} }
	out := append(dst,
		SabreMetric{"buffer size", float64(int64(m.BufferMs)), strconv.FormatInt(int64(m.BufferMs), 10)},
		f("total played utility", m.PlayedUtility),
		f("time average played utility", m.PlayedUtility*tta),
		f("total played bitrate", m.PlayedBitrate),
		f("time average played bitrate", m.PlayedBitrate*tta),
		f("total play time", m.PlayTimeMs/1000),
		f("total play time chunks", m.PlayTimeMs/m.SegmentMs),
		f("total rebuffer", m.RebufferMs/1000),
		f("rebuffer ratio", m.RebufferMs/m.PlayTimeMs),
		f("time average rebuffer", m.RebufferMs/1000*tta),
		f("total rebuffer events", float64(m.RebufferEvents)),
		f("time average rebuffer events", float64(m.RebufferEvents)*tta),
		f("total bitrate change", m.BitrateChange),
		f("time average bitrate change", m.BitrateChange*tta),
		f("total log bitrate change", m.LogBitrateChange),
		f("time average log bitrate change", m.LogBitrateChange*tta),
		f("time average score", tta*(m.PlayedUtility-float64(m.GammaP*m.RebufferMs)/m.SegmentMs)),
	)
	if m.OverCount == 0 {
		out = append(out, SabreMetric{"over estimate count", 0, "0"}, SabreMetric{"over estimate", 0, "0"})
	} else {
		out = append(out, d("over estimate count", m.OverCount), f("over estimate", m.OverAvg))
	}
	if m.LeqCount == 0 {
		out = append(out, SabreMetric{"leq estimate count", 0, "0"}, SabreMetric{"leq estimate", 0, "0"})
	} else {
		out = append(out, d("leq estimate count", m.LeqCount), f("leq estimate", m.LeqAvg))
	}
	out = append(out,
		f("estimate", m.EstimateAvg),
		f("rampup time", m.RampupMs/1000),
		f("total reaction time", m.ReactionMs/1000),
	)
	return out
}

// WriteSabre prints the summary exactly as Sabre does ("name: value" lines).
func (m *Metrics) WriteSabre(w io.Writer) error {
	for _, l := range m.SabreLines() {
		if _, err := fmt.Fprintf(w, "%s: %s\n", l.Name, l.Text); err != nil {
			return err
		}
	}
	return nil
}

// WriteReport prints the metrics in streamkit's own readable form.
func (m *Metrics) WriteReport(w io.Writer) error {
	_, err := fmt.Fprintf(w, `startup delay        %.3f s
average bitrate      %.0f kbit/s (per segment), %.0f kbit/s (time average, stalls included)
rebuffering          %.3f s in %d events (ratio %.4f)
quality switches     %d (mean step %.0f kbit/s, total log change %.3f)
abandoned downloads  %d (%.1f Mbit wasted)
play time            %.3f s for %d segments of %.3f s
score (Sabre)        %.6f (log utility, rebuffer weight %g)
`, m.StartupMs/1000, m.AverageBitrateKbps, m.TimeAverageBitrate, m.RebufferMs/1000, m.RebufferEvents, m.RebufferRatio,
		m.Switches, m.SwitchMagnitudeMeanKb, m.LogBitrateChange, m.AbandonedDownloads, m.AbandonedBits/1e6,
		m.PlayTimeMs/1000, m.Segments, m.SegmentMs/1000, m.TimeAverageScore, m.GammaP)
	return err
}
