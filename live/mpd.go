package live

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/streamkit-go/streamkit/media"
)

// DASH (ISO/IEC 23009-1, DASH-IF IOP low-latency): a dynamic MPD over the
// same CMAF segments and parts as HLS. Two addressing modes are served:
// SegmentTemplate with $Number$ and a fixed @duration (manifest.mpd; the
// segment number is the HLS media sequence number), and SegmentTimeline
// with $Time$ (manifest-timeline.mpd; exact durations, needed when key
// frames do not fall on the nominal boundaries). A source restart opens a
// new Period. With low latency, availabilityTimeOffset lets a client ask
// for a segment as soon as its first chunk exists, and the origin sends
// it with chunked transfer encoding as the chunks complete.

// MPDOption says how to render an MPD.
type MPDOption func(*mpdConfig)

type mpdConfig struct {
	timeline  bool
	utcTiming string
}

// WithTimeline selects SegmentTimeline with $Time$ instead of $Number$
// with @duration.
func WithTimeline() MPDOption { return func(c *mpdConfig) { c.timeline = true } }

// WithUTCTiming names the URL of the origin's time source
// (urn:mpeg:dash:utc:http-iso:2014); without it the MPD points at the HTTP
// Date header of the MPD itself (http-head).
func WithUTCTiming(url string) MPDOption { return func(c *mpdConfig) { c.utcTiming = url } }

// MPD renders the dynamic MPD at wall-clock time now.
func (p *Packager) MPD(now time.Time, opts ...MPDOption) ([]byte, error) {
	var o mpdConfig
	for _, opt := range opts {
		opt(&o)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mpdOpts(now, o)
}

func (p *Packager) mpd(now time.Time, timeline bool) ([]byte, error) {
	return p.mpdOpts(now, mpdConfig{timeline: timeline})
}

func xsDuration(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	return "PT" + s + "S"
}

func xsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func attr(b *bytes.Buffer, name, value string) {
	b.WriteString(" ")
	b.WriteString(name)
	b.WriteString(`="`)
	xml.EscapeText(b, []byte(value))
	b.WriteString(`"`)
}

// mpdOpts renders the MPD; the caller holds p.mu.
func (p *Packager) mpdOpts(now time.Time, o mpdConfig) ([]byte, error) {
	if !p.hasEp || len(p.periods) == 0 {
		return nil, fmt.Errorf("live: no media yet")
	}
	ll := p.cfg.ll
	seg := p.cfg.segment
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"`)
	profiles := "urn:mpeg:dash:profile:isoff-live:2011"
	if ll {
		profiles += ",http://www.dashif.org/guidelines/low-latency-live-v5"
	}
	attr(&b, "profiles", profiles)
	if p.ended {
		attr(&b, "type", "static")
	} else {
		attr(&b, "type", "dynamic")
	}
	p.epochFixed = true // shown (see settleEpoch)
	attr(&b, "availabilityStartTime", xsTime(p.epoch))
	attr(&b, "publishTime", xsTime(now))
	latency := p.latencyTarget()
	if !p.ended {
		attr(&b, "minimumUpdatePeriod", xsDuration(seg))
		attr(&b, "timeShiftBufferDepth", xsDuration(p.cfg.window))
		attr(&b, "suggestedPresentationDelay", xsDuration(latency))
	} else {
		var end float64
		for _, r := range p.rends {
			for _, s := range r.segs {
				end = max(end, float64(s.StartPTS+s.Duration)/float64(r.Track.Timescale))
			}
		}
		attr(&b, "mediaPresentationDuration", xsDuration(time.Duration(end*float64(time.Second))))
	}
	attr(&b, "minBufferTime", xsDuration(min(seg, time.Second)))
	attr(&b, "maxSegmentDuration", xsDuration(time.Duration(p.targetDuration())*time.Second))
	b.WriteString(">\n")
	if ll && !p.ended {
		// Latency@max is what a player may drift to before it seeks back
		// to the target (dash.js seeks when the latency exceeds the target
		// by max - target + 0.5 s; a wider max left it 1.5 s behind after
		// a slow start). PlaybackRate@max lets it catch up smaller drifts
		// within seconds: with 1.04 (livesim2's value) dash.js needed
		// ~40 s to recover 1.5 s. min is livesim2's three quarters.
		ms := latency.Milliseconds()
		fmt.Fprintf(&b, "  <ServiceDescription id=\"0\">\n    <Latency referenceId=\"0\" target=\"%d\" min=\"%d\" max=\"%d\"/>\n    <PlaybackRate min=\"0.96\" max=\"1.1\"/>\n  </ServiceDescription>\n",
			ms, ms*3/4, ms+latencyMaxDrift.Milliseconds())
	}
	// Periods, oldest first; each ends where the next starts.
	seqs := make([]int64, 0, len(p.periods))
	for d := range p.periods {
		seqs = append(seqs, d)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	utcScheme, utcValue := "urn:mpeg:dash:utc:http-head:2014", "manifest.mpd"
	if o.utcTiming != "" {
		utcScheme, utcValue = "urn:mpeg:dash:utc:http-iso:2014", o.utcTiming
	}
	for _, d := range seqs {
		start := p.periods[d]
		fmt.Fprintf(&b, "  <Period id=\"p%d\" start=\"%s\">\n", d, xsDuration(time.Duration(start*float64(time.Second))))
		for i, r := range p.rends {
			first, ok := r.periodMSN[d]
			if !ok {
				continue
			}
			ts := int64(r.Track.Timescale)
			pto := int64(math.Round(start * float64(ts)))
			kind := "video"
			if r.Track.Kind == media.KindAudio {
				kind = "audio"
			}
			fmt.Fprintf(&b, "    <AdaptationSet id=\"%d\"", i)
			attr(&b, "contentType", kind)
			attr(&b, "mimeType", kind+"/mp4")
			b.WriteString(` segmentAlignment="true" startWithSAP="1"`)
			if kind == "audio" && r.Track.Language != "" && r.Track.Language != "und" {
				attr(&b, "lang", r.Track.Language)
			}
			b.WriteString(">\n")
			if kind == "audio" && r.Track.Channels > 0 {
				fmt.Fprintf(&b, "      <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"%d\"/>\n", r.Track.Channels)
			}
			if !p.ended {
				// ProducerReferenceTime: the media time pto was produced at
				// this wall-clock time (the live timeline's mapping).
				fmt.Fprintf(&b, "      <ProducerReferenceTime id=\"%d\" type=\"encoder\"", i)
				attr(&b, "wallClockTime", xsTime(p.wall(pto, r.Track.Timescale)))
				fmt.Fprintf(&b, " presentationTime=\"%d\">\n", pto)
				fmt.Fprintf(&b, "        <UTCTiming schemeIdUri=%q", utcScheme)
				attr(&b, "value", utcValue)
				b.WriteString("/>\n      </ProducerReferenceTime>\n")
			}
			gen := 0
			for _, s := range r.segs {
				if s.DiscSeq == d {
					gen = s.Gen
					break
				}
			}
			fmt.Fprintf(&b, "      <SegmentTemplate timescale=\"%d\" presentationTimeOffset=\"%d\"", ts, pto)
			attr(&b, "initialization", "$RepresentationID$/"+initName(gen))
			if o.timeline {
				attr(&b, "media", "$RepresentationID$/t_$Time$.m4s")
			} else {
				attr(&b, "media", "$RepresentationID$/seg_$Number$.m4s")
				fmt.Fprintf(&b, " startNumber=\"%d\" duration=\"%d\"", first, r.segDur)
			}
			if ll && !p.ended {
				ato := (r.segDur - r.partDur)
				fmt.Fprintf(&b, " availabilityTimeOffset=\"%s\" availabilityTimeComplete=\"false\"", strconv.FormatFloat(float64(ato)/float64(ts), 'f', -1, 64))
			}
			if o.timeline {
				b.WriteString(">\n        <SegmentTimeline>\n")
				for _, s := range r.segs {
					if s.DiscSeq != d {
						continue
					}
					dur := s.Duration
					if !s.Complete {
						if !ll || len(s.Parts) == 0 {
							continue
						}
						dur = r.segDur
					}
					fmt.Fprintf(&b, "          <S t=\"%d\" d=\"%d\"/>\n", s.StartPTS, dur)
				}
				b.WriteString("        </SegmentTimeline>\n      </SegmentTemplate>\n")
			} else {
				b.WriteString("/>\n")
			}
			peak, _ := r.bandwidth()
			fmt.Fprintf(&b, "      <Representation")
			attr(&b, "id", r.Name)
			fmt.Fprintf(&b, " bandwidth=\"%d\"", max(peak, 1))
			attr(&b, "codecs", r.Track.CodecString)
			if kind == "video" {
				if r.Track.Width > 0 {
					fmt.Fprintf(&b, " width=\"%d\" height=\"%d\"", r.Track.Width, r.Track.Height)
				}
				if fr := r.Track.FrameRate.Reduce(); fr.Num > 0 && fr.Den > 0 {
					if fr.Den == 1 {
						fmt.Fprintf(&b, " frameRate=\"%d\"", fr.Num)
					} else {
						fmt.Fprintf(&b, " frameRate=\"%d/%d\"", fr.Num, fr.Den)
					}
				}
			} else if r.Track.SampleRate > 0 {
				fmt.Fprintf(&b, " audioSamplingRate=\"%d\"", r.Track.SampleRate)
			}
			b.WriteString("/>\n    </AdaptationSet>\n")
		}
		b.WriteString("  </Period>\n")
	}
	fmt.Fprintf(&b, "  <UTCTiming schemeIdUri=%q", utcScheme)
	attr(&b, "value", utcValue)
	b.WriteString("/>\n</MPD>\n")
	return b.Bytes(), nil
}

// latencyTarget is the latency a player should aim at. With low
// latency: three parts plus 400 ms (1 s with 200 ms parts). A player
// fetching the segment in progress chunk by chunk has media up to about
// one part behind the live edge, so at this target it holds two to three
// parts of buffer, as LL-HLS players do at PART-HOLD-BACK (three parts),
// plus time to fetch, append and decode. Without low latency, three
// segments.
func (p *Packager) latencyTarget() time.Duration {
	if p.cfg.ll {
		return 3*p.cfg.part + 400*time.Millisecond
	}
	return 3 * p.cfg.segment
}

// latencyMaxDrift is how far above the target the ServiceDescription's
// Latency@max lies.
const latencyMaxDrift = 500 * time.Millisecond
