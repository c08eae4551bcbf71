// Package probe reports what a media file contains, the way ffprobe -show_format -show_streams does, from headers only.
//
// [File] and [Reader] open the input through [media]'s format registry (MP4, fragmented
// MP4/CMAF and MPEG-TS register themselves; this package imports them) and
// turn the reader's tracks into a [Result]: a [Format] and one [Stream] per
// track, carrying the values ffprobe prints, derived the way libavformat
// derives them (bit_rate from payload bytes over duration, avg_frame_rate
// from the sample count, start_time through MP4 edit lists, MPEG-TS
// durations from the last PES timestamps). [Result.JSON] writes ffprobe's
// own JSON schema so that scripts written for
//
//	ffprobe -v error -show_format -show_streams -of json FILE
//
// read streamkit's output unchanged: the same keys, in the same order, with
// the same value types (durations and bit rates are strings), and keys
// ffprobe omits are omitted. streamkit's additions (the RFC 6381 codecs
// string, the bytes read) live under "streamkit" keys, which ffprobe never
// writes. [Result.WriteText] writes a summary for people.
//
// Beyond the basics each [Stream] carries the fields ffprobe learns from
// parameter sets and container metadata: coded size, has_b_frames (the
// decoder's reorder depth; for MP4 H.264 at least libavformat's estimate
// from the composition offsets), colour range/space/transfer/primaries,
// field_order (from the first frame's headers, read with package gop, or
// an MP4 fiel box), bits_per_raw_sample, the disposition flags and the
// tags (creation_time, language, handler_name, vendor_id, encoder) in
// ffprobe's key order. A stream without samples (an init segment) gets
// what ffprobe prints when it has nothing to decode: for H.264
// has_b_frames 0 and only the container's field order and colour (fiel,
// colr); HEVC keeps what its decoder exports from the hvcC at init.
//
// A CMAF media segment has no moov box: [WithInit] / [WithInitFile] probe
// it as if its init segment were prepended. An init segment followed by
// media segments in one file needs nothing special.
//
// Probing never decodes and reads as little as it can: for a faststart MP4
// the ftyp and moov boxes, for a moov-at-end MP4 the box headers on the way
// to the moov, for a fragmented one the moof boxes (one frame more for
// E-AC-3, whose bit rate is in its frame header), for MPEG-TS the first few
// seconds and the last 250 kB (as ffprobe does). [Result.BytesRead] tells how much was read. Input is
// treated as hostile: errors are the readers' *media.PosError values,
// naming the box or packet and its byte offset; an MP4 sample table that
// points past the end of the file is an error, not a silent success.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"

	"github.com/streamkit-go/streamkit/media"
	"github.com/streamkit-go/streamkit/mp4"
	"github.com/streamkit-go/streamkit/ts"
)

// Errors returned by the probe, besides the readers' *media.PosError values.
var (
	// ErrInit means an init segment was given but could not be combined
	// with the media segment.
	ErrInit = errors.New("probe: bad init segment")
)

// Option configures a probe.
type Option func(*options)

type options struct {
	init     io.ReaderAt
	initSize int64
	initPath string
	strict   bool
}

// WithStrict refuses damaged input: a truncated last packet or box, or
// bytes skipped to the next sync point, fail the probe with a
// *media.PosError instead of being reported in Result.Warnings.
func WithStrict(strict bool) Option { return func(o *options) { o.strict = strict } }

// WithInit probes a CMAF/fMP4 media segment together with its init
// segment: the input is read as if the init segment were prepended to it
// (what `cat init.mp4 seg.m4s | ffprobe -` sees). Format.Size and
// bit_rate then count both.
func WithInit(r io.ReaderAt, size int64) Option {
	return func(o *options) { o.init, o.initSize = r, size }
}

// WithInitFile is [WithInit] for a file path; [File] opens and closes it.
func WithInitFile(path string) Option { return func(o *options) { o.initPath = path } }

// Result is what a probe found.
type Result struct {
	Format  Format
	Streams []Stream
	// Tracks are the reader's track descriptions the streams were made
	// from, in the same order.
	Tracks []*media.Track
	// BytesRead is how many bytes the probe read from the input (and the
	// init segment), counting repeated reads.
	BytesRead int64
	// Warnings are the damage the container reader read past (a truncated
	// last packet or box, bytes skipped to the next sync point), with
	// their byte offsets; see media.Warning. WithStrict makes them errors.
	Warnings []media.Warning
}

// File probes the file at path. A cancelled ctx stops the sample-table
// walk and returns ctx.Err().
func File(ctx context.Context, path string, opts ...Option) (*Result, error) {
	f, size, opts, closeAll, err := openPath(path, opts)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	return Reader(ctx, f, size, filepath.Base(path), opts...)
}

// openPath opens the file at path and, when WithInitFile names one, its
// init segment, turned into a WithInit option: the one place the *File
// entry points open their inputs. closeAll closes both.
func openPath(path string, opts []Option) (f *os.File, size int64, _ []Option, closeAll func(), err error) {
	o := collect(opts)
	f, err = os.Open(path)
	if err != nil {
		return nil, 0, nil, nil, fmt.Errorf("probe: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, nil, fmt.Errorf("probe: %w", err)
	}
	closeAll = func() { f.Close() }
	if o.initPath != "" {
		fi, err := os.Open(o.initPath)
		if err != nil {
			f.Close()
			return nil, 0, nil, nil, fmt.Errorf("probe: init segment: %w", err)
		}
		ist, err := fi.Stat()
		if err != nil {
			f.Close()
			fi.Close()
			return nil, 0, nil, nil, fmt.Errorf("probe: init segment: %w", err)
		}
		opts = append(opts, WithInit(fi, ist.Size()))
		closeAll = func() { f.Close(); fi.Close() }
	}
	return f, st.Size(), opts, closeAll, nil
}

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Reader probes the input r of the given size; name is what
// format.filename reports. A cancelled ctx stops the sample-table walk and
// returns ctx.Err().
func Reader(ctx context.Context, r io.ReaderAt, size int64, name string, opts ...Option) (*Result, error) {
	o := collect(opts)
	if size < 0 {
		return nil, fmt.Errorf("probe: negative size %d", size)
	}
	cr := &countingReader{r: r, n: new(atomic.Int64)}
	var in io.ReaderAt = cr
	total := size
	if o.init != nil {
		ci := &countingReader{r: o.init, n: cr.n}
		if err := checkInit(ci, o.initSize); err != nil {
			return nil, err
		}
		in = &concatReader{a: ci, aSize: o.initSize, b: cr}
		total = o.initSize + size
	}
	d, err := open(in, total, o.strict)
	if err != nil {
		if errors.Is(err, media.ErrFormat) {
			return nil, fmt.Errorf("probe: %s: %w (registered: %v)", name, err, media.Formats())
		}
		if errors.Is(err, mp4.ErrNoMoov) && o.init == nil {
			return nil, fmt.Errorf("probe: %s: %w (a CMAF/fMP4 media segment needs its init segment: --init, WithInit)", name, err)
		}
		return nil, fmt.Errorf("probe: %s: %w", name, err)
	}
	res, err := build(ctx, d, in, total, name)
	if err != nil {
		return nil, fmt.Errorf("probe: %s: %w", name, err)
	}
	res.BytesRead = cr.n.Load()
	return res, nil
}

// open sniffs the format and opens the input. MPEG-TS is opened without
// the reader's own tail scan: the probe reads the tail itself, the way
// ffprobe does (see tsDurations).
func open(r io.ReaderAt, size int64, strict bool) (media.Demuxer, error) {
	f, err := media.Sniff(r, size)
	if err != nil {
		return nil, err
	}
	switch {
	case f.Name == "mpegts":
		return ts.NewReader(r, size, ts.WithTailSize(0), ts.WithStrict(strict))
	case strict:
		return media.OpenStrict(r, size)
	}
	return f.Open(r, size)
}

// checkInit makes sure an init segment is an MP4 with a moov box, so that
// a wrong --init argument fails with a clear message.
func checkInit(r io.ReaderAt, size int64) error {
	mr, err := mp4.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInit, err)
	}
	if len(mr.Tracks()) == 0 {
		return fmt.Errorf("%w: no tracks", ErrInit)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n *atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// concatReader reads a followed by b.
type concatReader struct {
	a     io.ReaderAt
	aSize int64
	b     io.ReaderAt
}

func (c *concatReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("probe: negative offset %d", off)
	}
	n := 0
	if off < c.aSize {
		want := p
		if int64(len(want)) > c.aSize-off {
			want = want[:c.aSize-off]
		}
		m, err := c.a.ReadAt(want, off)
		n += m
		if m < len(want) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		p = p[m:]
		off += int64(m)
	}
	if len(p) == 0 {
		return n, nil
	}
	m, err := c.b.ReadAt(p, off-c.aSize)
	return n + m, err
}

// formatInfo is what ffprobe calls the input format.
var formatInfo = map[string][2]string{
	"mp4":    {"mov,mp4,m4a,3gp,3g2,mj2", "QuickTime / MOV"},
	"mpegts": {"mpegts", "MPEG-TS (MPEG-2 Transport Stream)"},
}

// build turns a demuxer's tracks into a Result.
func build(ctx context.Context, d media.Demuxer, r io.ReaderAt, size int64, name string) (*Result, error) {
	tracks := d.Tracks()
	res := &Result{Tracks: tracks}
	res.Format = Format{
		Filename:   name,
		Container:  d.Format(),
		NbStreams:  len(tracks),
		Size:       size,
		StartTime:  Unknown,
		Duration:   Unknown,
		BitRate:    -1,
		ProbeScore: 100,
	}
	if fi, ok := formatInfo[d.Format()]; ok {
		res.Format.Name, res.Format.LongName = fi[0], fi[1]
	} else {
		res.Format.Name, res.Format.LongName = d.Format(), d.Format()
	}
	var err error
	switch rd := d.(type) {
	case *mp4.Reader:
		err = buildMP4(ctx, res, rd, size)
	case *ts.Reader:
		err = buildTS(ctx, res, rd, r, size)
	default:
		err = buildGeneric(ctx, res, d)
	}
	if err != nil {
		return nil, err
	}
	finishFormat(res)
	// After the sample walk: readers report damage as they reach it.
	res.Warnings = media.WarningsOf(d)
	return res, nil
}

// Unknown is the value of Format.StartTime, Format.Duration,
// Stream.StartPTS and Stream.DurationTS when the probe could not learn
// them (ffprobe prints N/A; the JSON writer omits the key).
const Unknown = int64(-1 << 62)

// finishFormat derives format start_time, duration and bit_rate from the
// streams as libavformat's update_stream_timings does: times in
// microseconds (AV_TIME_BASE), start the earliest stream start, duration
// the latest stream end minus it (per program when there are several),
// bit_rate the file size over the duration.
func finishFormat(res *Result) {
	f := &res.Format
	start, end := int64(1<<62), int64(-1<<62)
	type span struct{ s, e int64 }
	progs := map[int]*span{}
	for i := range res.Streams {
		s := &res.Streams[i]
		if s.StartPTS == Unknown {
			continue
		}
		ss := rescaleUS(s.StartPTS, s.TimeBase)
		start = min(start, ss)
		e := int64(-1 << 62)
		if s.DurationTS != Unknown {
			e = rescaleUS(s.StartPTS+s.DurationTS, s.TimeBase)
			end = max(end, e)
		}
		p := progs[s.Program]
		if p == nil {
			p = &span{ss, e}
			progs[s.Program] = p
		}
		p.s, p.e = min(p.s, ss), max(p.e, e)
	}
	if start != 1<<62 {
		f.StartTime = start
	}
	if f.Duration == Unknown && end != -1<<62 && start != 1<<62 {
		dur := end - start
		if f.NbPrograms > 1 {
			dur = -1 << 62
			for _, p := range progs {
				if p.e > p.s {
					dur = max(dur, p.e-p.s)
				}
			}
		}
		if dur > 0 {
			f.Duration = dur
		}
	}
	if f.Duration > 0 && f.Size > 0 {
		f.BitRate = int64(float64(f.Size) * 8 * 1e6 / float64(f.Duration))
	}
}

// rescaleUS converts ticks of tb to microseconds, rounding to nearest with
// halves away from zero (av_rescale_q).
func rescaleUS(ticks int64, tb media.Rational) int64 {
	return media.Rescale(ticks, 1000000*tb.Num, tb.Den)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// sortedPrograms returns the distinct non-zero program numbers.
func sortedPrograms(tracks []*media.Track) []int {
	seen := map[int]bool{}
	var out []int
	for _, t := range tracks {
		if t.Program != 0 && !seen[t.Program] {
			seen[t.Program] = true
			out = append(out, t.Program)
		}
	}
	sort.Ints(out)
	return out
}
