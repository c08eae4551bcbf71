package ingest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/streamkit-go/streamkit/media"
)

// TestRTMPHEVC publishes HEVC + AAC over Enhanced RTMP with gortmplib's
// client (ffmpeg 5 cannot) and checks the packaged HEVC samples against
// the file's: same sizes, same key frames, same timestamps up to RTMP's
// millisecond rounding.
func TestRTMPHEVC(t *testing.T) {
	enhancedRTMP(t, "../testdata/media/hevc_b_hvc1.mp4", "../testdata/media/hevc_b_hvc1.mp4", "hevc", media.CodecHEVC)
}

// TestRTMPAV1: AV1 + AAC over Enhanced RTMP; the av1C of the CMAF header
// is rebuilt from the bitstream's sequence header.
func TestRTMPAV1(t *testing.T) {
	enhancedRTMP(t, "../testdata/media/av1.mp4", "../testdata/media/hevc_b_hvc1.mp4", "av1", media.CodecAV1)
}

func openTrack(t *testing.T, path string, kind media.Kind) (media.Demuxer, *media.Track) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	d, err := media.Open(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range d.Tracks() {
		if tr.Kind == kind {
			return d, tr
		}
	}
	t.Fatalf("%s: no %s track", path, kind)
	return nil, nil
}

func enhancedRTMP(t *testing.T, vfile, afile, name string, codec media.Codec) {
	vd, vt := openTrack(t, vfile, media.KindVideo)
	ad, at := openTrack(t, afile, media.KindAudio)
	var err error
	type frame struct {
		s    media.Sample
		data []byte
		sec  float64
	}
	var frames []frame
	var src []media.Sample
	for _, tr := range []*media.Track{vt, at} {
		d := vd
		if tr == at {
			d = ad
		}
		for s, err := range media.TrackSamples(d, tr.ID) {
			if err != nil {
				t.Fatal(err)
			}
			b, err := d.ReadSample(&s, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tr == at {
				s.TrackID = -1
			}
			frames = append(frames, frame{s, bytes.Clone(b), tr.Seconds(s.DTS)})
			if tr == vt {
				src = append(src, s)
			}
		}
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].sec < frames[j].sec })

	h := newHarness(t)
	u, _ := url.Parse("rtmp://" + h.rtmp + "/live/" + name)
	c := &gortmplib.Client{URL: u, Publish: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	var asc mpeg4audio.AudioSpecificConfig
	if err := asc.Unmarshal(at.Config.AudioSpecificConfig); err != nil {
		t.Fatal(err)
	}
	vtrack := &gortmplib.Track{Codec: &codecs.AV1{}}
	if codec == media.CodecHEVC {
		vtrack.Codec = &codecs.H265{VPS: vt.Config.VPS[0], SPS: vt.Config.SPS[0], PPS: vt.Config.PPS[0]}
	}
	atrack := &gortmplib.Track{Codec: &codecs.MPEG4Audio{Config: &asc}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{vtrack, atrack}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	dur := func(tr *media.Track, ticks int64) time.Duration {
		return time.Duration(float64(ticks) / float64(tr.Timescale) * float64(time.Second))
	}
	n := vt.Config.NALLengthSize
	for _, fr := range frames {
		switch {
		case fr.s.TrackID != -1 && codec == media.CodecAV1:
			var tu av1.Bitstream
			if err := tu.Unmarshal(fr.data); err != nil {
				t.Fatal(err)
			}
			err = w.WriteAV1(vtrack, dur(vt, fr.s.PTS), tu)
		case fr.s.TrackID != -1:
			var au [][]byte
			for b := fr.data; len(b) >= n; {
				l := int(binary.BigEndian.Uint32(append(make([]byte, 4-n), b[:n]...)))
				au = append(au, b[n:n+l])
				b = b[n+l:]
			}
			err = w.WriteH265(vtrack, dur(vt, fr.s.PTS), dur(vt, fr.s.DTS), au)
		default:
			err = w.WriteMPEG4Audio(atrack, dur(at, fr.s.PTS), fr.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	h.waitServed(name, 3*time.Second)
	h.waitGone(name)
	got, _ := h.packaged(name, "v0")
	if r := h.srv.Stream(name).P.Renditions()[0]; r.Track.Codec != codec || r.Track.Width != vt.Width {
		t.Fatalf("rendition v0 is %s %dx%d, want %s %dx%d", r.Track.Codec, r.Track.Width, r.Track.Height, codec, vt.Width, vt.Height)
	}
	if len(got) < len(src)*9/10 {
		t.Fatalf("%d of %d %s frames packaged", len(got), len(src), codec)
	}
	shift := vt.Seconds(src[0].DTS) - float64(got[0].DTS)/90000
	for i, s := range got {
		want := src[i]
		if s.Size != want.Size || s.Sync != want.Sync {
			t.Fatalf("%s sample %d: size %d key %v, file %d %v", codec, i, s.Size, s.Sync, want.Size, want.Sync)
		}
		if dd := float64(s.DTS)/90000 + shift - vt.Seconds(want.DTS); dd > 0.0015 || dd < -0.0015 {
			t.Fatalf("%s sample %d: DTS off the constant shift by %.4fs", codec, i, dd)
		}
	}
	t.Logf("%d %s frames over Enhanced RTMP equal the file's", len(got), codec)
}
