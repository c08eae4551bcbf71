package probe

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// WriteText writes a summary for people: one line for the container and
// one per stream, with the RFC 6381 codec string a manifest would carry.
//
//	h264_b.mp4: MP4 (mov,mp4,m4a,3gp,3g2,mj2), 52.0 KiB, 2.000 s, 213 kb/s, 2 streams
//	  #0 video h264 High L1.2 (avc1.64000c) 320x180 SAR 1:1 DAR 16:9 yuv420p(progressive), 25 fps, 136 kb/s, 50 frames, start 0.000 s, 2.000 s
//	  #1 audio aac LC (mp4a.40.2) 48000 Hz stereo fltp, 65 kb/s, 95 frames, start 0.000 s, 2.000 s [und]
func (r *Result) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, r.String())
	return err
}

// String returns the text summary written by WriteText.
func (r *Result) String() string {
	var b bytes.Buffer
	f := &r.Format
	fmt.Fprintf(&b, "%s: %s (%s), %s", f.Filename, containerName(f.Container), f.Name, humanBytes(f.Size))
	if f.Duration != Unknown {
		fmt.Fprintf(&b, ", %.3f s", float64(f.Duration)/1e6)
	}
	if f.BitRate > 0 {
		fmt.Fprintf(&b, ", %s", humanRate(f.BitRate))
	}
	fmt.Fprintf(&b, ", %d stream%s", f.NbStreams, plural(f.NbStreams))
	if f.NbPrograms > 0 {
		fmt.Fprintf(&b, " in %d program%s", f.NbPrograms, plural(f.NbPrograms))
	}
	b.WriteByte('\n')
	for i := range r.Streams {
		s := &r.Streams[i]
		var p []string
		head := fmt.Sprintf("  #%d %s", s.Index, s.CodecType)
		if s.Program != 0 {
			head += fmt.Sprintf(" (program %d)", s.Program)
		}
		desc := []string{head, orDash(s.CodecName)}
		if s.Profile != "" {
			desc = append(desc, s.Profile)
		}
		if s.CodecType == "video" && s.Level > 0 {
			desc = append(desc, levelName(s))
		}
		if s.CodecString != "" {
			desc = append(desc, "("+s.CodecString+")")
		}
		switch s.CodecType {
		case "video":
			desc = append(desc, fmt.Sprintf("%dx%d", s.Width, s.Height))
			if s.SampleAspectRatio.Den > 0 {
				desc = append(desc, fmt.Sprintf("SAR %d:%d DAR %d:%d", s.SampleAspectRatio.Num, s.SampleAspectRatio.Den,
					s.DisplayAspectRatio.Num, s.DisplayAspectRatio.Den))
			}
			if s.PixFmt != "" {
				desc = append(desc, s.PixFmt+pixDetail(s))
			}
			if s.Interlaced {
				desc = append(desc, "interlaced")
			}
			if s.Rotation != 0 {
				desc = append(desc, fmt.Sprintf("rotated %d°", s.Rotation))
			}
			if s.AvgFrameRate.Num > 0 {
				fps := fmt.Sprintf("%.4g fps", s.AvgFrameRate.Float())
				if s.RFrameRate.Num > 0 && s.RFrameRate != s.AvgFrameRate {
					fps += fmt.Sprintf(" (variable, base %s)", s.RFrameRate)
				}
				p = append(p, fps)
			} else if s.RFrameRate.Num > 0 {
				p = append(p, fmt.Sprintf("%.4g fps", s.RFrameRate.Float()))
			}
		case "audio":
			if s.SampleRate > 0 {
				desc = append(desc, fmt.Sprintf("%d Hz", s.SampleRate))
			}
			if s.ChannelLayout != "" {
				desc = append(desc, s.ChannelLayout)
			} else if s.Channels > 0 {
				desc = append(desc, fmt.Sprintf("%d channels", s.Channels))
			}
			if s.SampleFmt != "" {
				desc = append(desc, s.SampleFmt)
			}
		}
		if s.BitRate > 0 {
			p = append(p, humanRate(s.BitRate))
		}
		if s.NbFrames > 0 {
			p = append(p, fmt.Sprintf("%d frames", s.NbFrames))
		}
		if s.StartPTS != Unknown {
			p = append(p, fmt.Sprintf("start %.3f s", s.StartTime()))
		}
		if s.DurationTS != Unknown {
			p = append(p, fmt.Sprintf("%.3f s", s.Duration()))
		}
		line := strings.Join(desc, " ")
		if len(p) > 0 {
			line += ", " + strings.Join(p, ", ")
		}
		if s.Language != "" && s.Language != "und" {
			line += " [" + s.Language + "]"
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func containerName(c string) string {
	switch c {
	case "mp4":
		return "MP4"
	case "mpegts":
		return "MPEG-TS"
	}
	return c
}

// levelName prints a codec level the way people say it: H.264 31 is 3.1,
// HEVC 93 is 3.1 (level_idc is 30 times the level).
func levelName(s *Stream) string {
	switch s.CodecName {
	case "h264":
		return fmt.Sprintf("L%d.%d", s.Level/10, s.Level%10)
	case "hevc":
		return fmt.Sprintf("L%g", float64(s.Level)/30)
	}
	return fmt.Sprintf("L%d", s.Level)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func humanRate(bps int64) string {
	if bps >= 10_000_000 {
		return fmt.Sprintf("%.1f Mb/s", float64(bps)/1e6)
	}
	return fmt.Sprintf("%d kb/s", (bps+500)/1000)
}

// pixDetail is what ffmpeg prints in parentheses after the pixel format
// (libavcodec's avcodec_string): colour range, the colour description
// (one name when space, primaries and transfer agree), field order.
func pixDetail(s *Stream) string {
	var d []string
	if s.ColorRange != "" {
		d = append(d, s.ColorRange)
	}
	if s.ColorSpace != "" || s.ColorPrimaries != "" || s.ColorTransfer != "" {
		if s.ColorSpace == s.ColorPrimaries && s.ColorSpace == s.ColorTransfer {
			d = append(d, s.ColorSpace)
		} else {
			name := func(v string) string {
				if v == "" {
					return "unknown"
				}
				return v
			}
			d = append(d, name(s.ColorSpace)+"/"+name(s.ColorPrimaries)+"/"+name(s.ColorTransfer))
		}
	}
	if f, ok := map[string]string{"progressive": "progressive", "tt": "top first", "bb": "bottom first",
		"tb": "top coded first (swapped)", "bt": "bottom coded first (swapped)"}[s.FieldOrder]; ok {
		d = append(d, f)
	}
	if len(d) == 0 {
		return ""
	}
	return "(" + strings.Join(d, ", ") + ")"
}
