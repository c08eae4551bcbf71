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
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/streamkit-go/streamkit/media"
)

// TestRTMPHEVC publishes HEVC + AAC over Enhanced RTMP with gortmplib's
// client (ffmpeg 5 cannot) and checks the packaged HEVC samples against
// the file's: same sizes, same key frames, same timestamps up to RTMP's
// millisecond rounding.
func TestRTMPHEVC(t *testing.T) {
	const file = "../testdata/media/hevc_b_hvc1.mp4"
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	d, err := media.Open(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	var vt, at *media.Track
	for _, tr := range d.Tracks() {
		switch tr.Kind {
		case media.KindVideo:
			vt = tr
		case media.KindAudio:
			at = tr
		}
	}
	type frame struct {
		s    media.Sample
		data []byte
		sec  float64
	}
	var frames []frame
	var src []media.Sample
	for _, tr := range []*media.Track{vt, at} {
		for s, err := range media.TrackSamples(d, tr.ID) {
			if err != nil {
				t.Fatal(err)
			}
			b, err := d.ReadSample(&s, nil)
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, frame{s, bytes.Clone(b), tr.Seconds(s.DTS)})
			if tr == vt {
				src = append(src, s)
			}
		}
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].sec < frames[j].sec })

	h := newHarness(t)
	u, _ := url.Parse("rtmp://" + h.rtmp + "/live/hevc")
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
	vtrack := &gortmplib.Track{Codec: &codecs.H265{VPS: vt.Config.VPS[0], SPS: vt.Config.SPS[0], PPS: vt.Config.PPS[0]}}
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
		if fr.s.TrackID == vt.ID {
			var au [][]byte
			for b := fr.data; len(b) >= n; {
				l := int(binary.BigEndian.Uint32(append(make([]byte, 4-n), b[:n]...)))
				au = append(au, b[n:n+l])
				b = b[n+l:]
			}
			err = w.WriteH265(vtrack, dur(vt, fr.s.PTS), dur(vt, fr.s.DTS), au)
		} else {
			err = w.WriteMPEG4Audio(atrack, dur(at, fr.s.PTS), fr.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	h.waitServed("hevc", 3*time.Second)
	h.waitGone("hevc")
	got, _ := h.packaged("hevc", "v0")
	if r := h.srv.Stream("hevc").P.Renditions()[0]; r.Track.Codec != media.CodecHEVC {
		t.Fatalf("rendition v0 is %s", r.Track.Codec)
	}
	if len(got) < len(src)*9/10 {
		t.Fatalf("%d of %d HEVC frames packaged", len(got), len(src))
	}
	shift := vt.Seconds(src[0].DTS) - float64(got[0].DTS)/90000
	for i, s := range got {
		want := src[i]
		if s.Size != want.Size || s.Sync != want.Sync {
			t.Fatalf("HEVC sample %d: size %d key %v, file %d %v", i, s.Size, s.Sync, want.Size, want.Sync)
		}
		if dd := float64(s.DTS)/90000 + shift - vt.Seconds(want.DTS); dd > 0.0015 || dd < -0.0015 {
			t.Fatalf("HEVC sample %d: DTS off the constant shift by %.4fs", i, dd)
		}
	}
	t.Logf("%d HEVC frames over Enhanced RTMP equal the file's", len(got))
}
