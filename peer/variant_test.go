package peer

import (
	"net/url"
	"testing"
)

const master = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="Audio",DEFAULT=YES,URI="audio_und.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=873137,AVERAGE-BANDWIDTH=826262,CODECS="avc1.64001E,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="a"
video_360p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="hvc1.1.6.L93.B0,mp4a.40.2",RESOLUTION=1280x720,VIDEO-RANGE=PQ
hd/video.m3u8?x=1
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=51984,CODECS="avc1.64001E",RESOLUTION=640x360,URI="i.m3u8"
`

func TestVariants(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8080/out/master.m3u8?token=7")
	vs, err := parseVariants(u, []byte(master))
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("%d variants, want 2 (no I-frame playlist)", len(vs))
	}
	want := []Variant{
		{URL: "http://127.0.0.1:8080/out/video_360p.m3u8", Attrs: StreamAttrs{Bandwidth: 873137, Codecs: "avc1.64001E", Width: 640, Height: 360, FrameRate: "25"}},
		{URL: "http://127.0.0.1:8080/out/hd/video.m3u8?x=1", Attrs: StreamAttrs{Bandwidth: 2000000, Codecs: "hvc1.1.6.L93.B0", Width: 1280, Height: 720, VideoRange: "PQ"}},
	}
	for i, w := range want {
		if vs[i].URL != w.URL || vs[i].Attrs != w.Attrs {
			t.Errorf("variant %d: %s %+v, want %s %+v", i, vs[i].URL, vs[i].Attrs, w.URL, w.Attrs)
		}
		var c config
		for _, o := range vs[i].Options {
			o(&c)
		}
		if c.swarmID != "http://127.0.0.1:8080/out/master.m3u8" || c.attrs != w.Attrs {
			t.Errorf("variant %d options: swarm %q attrs %+v", i, c.swarmID, c.attrs)
		}
	}
	media, err := parseVariants(u, []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.m4s\n"))
	if err != nil || len(media) != 1 || media[0].Options != nil {
		t.Errorf("media playlist: %+v %v", media, err)
	}
}

func FuzzParseVariants(f *testing.F) {
	f.Add([]byte(master))
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.m4s\n#EXT-X-ENDLIST\n"))
	u, _ := url.Parse("http://127.0.0.1/m.m3u8")
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := parseVariants(u, b)
		if err == nil && len(vs) == 0 {
			t.Fatal("no variants and no error")
		}
	})
}
