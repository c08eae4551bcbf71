package peer

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	m3u8 "github.com/Eyevinn/hls-m3u8/m3u8"
)

// Variant is one video variant of a multivariant playlist and the
// options that put a peer in the swarm hls.js players of that playlist
// join for it.
type Variant struct {
	URL   string // its media playlist
	Attrs StreamAttrs
	// Options: WithSwarmID(the multivariant playlist URL) and
	// WithStreamAttrs(Attrs).
	Options []Option
}

// videoCodecs are the sample entry types hls.js counts as video
// (isCodecType "video"): CODECS entries starting with one of them make
// up a level's videoCodec.
var videoCodecs = map[string]bool{"avc1": true, "avc2": true, "avc3": true, "avc4": true, "avcp": true,
	"av01": true, "drac": true, "dva1": true, "dvav": true, "dvh1": true, "dvhe": true, "encv": true,
	"hev1": true, "hvc1": true, "mjp2": true, "mp4v": true, "mvc1": true, "mvc2": true, "mvc3": true,
	"mvc4": true, "resv": true, "rv60": true, "s263": true, "svc1": true, "svc2": true, "vc-1": true,
	"vp08": true, "vp09": true}

// Variants reads the playlist at manifestURL. A multivariant playlist
// gives its variants; a media playlist gives itself, with no options
// (its own URL names the swarm).
func Variants(ctx context.Context, client *http.Client, manifestURL string) ([]Variant, error) {
	if client == nil {
		client = http.DefaultClient
	}
	p := &Peer{cfg: config{client: client}}
	u, err := url.Parse(manifestURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	b, err := p.get(ctx, u, 0, 0, maxPlaylist)
	if err != nil {
		return nil, err
	}
	return parseVariants(u, b)
}

func parseVariants(u *url.URL, b []byte) (vs []Variant, err error) {
	defer func() {
		if r := recover(); r != nil {
			vs, err = nil, fmt.Errorf("%w: malformed playlist %s (%v)", ErrOrigin, u, r)
		}
	}()
	pl, typ, err := m3u8.Decode(*bytes.NewBuffer(b), true)
	if err != nil {
		return nil, fmt.Errorf("%w: playlist %s: %v", ErrOrigin, u, err)
	}
	if typ == m3u8.MEDIA {
		return []Variant{{URL: u.String()}}, nil
	}
	mp, ok := pl.(*m3u8.MasterPlaylist)
	if !ok {
		return nil, fmt.Errorf("%w: playlist %s: neither media nor multivariant", ErrOrigin, u)
	}
	swarm := ManifestSwarmID(u.String())
	for _, v := range mp.Variants {
		if v == nil || v.Iframe {
			continue
		}
		r, err := url.Parse(v.URI)
		if err != nil {
			continue
		}
		a := StreamAttrs{Bandwidth: int64(v.Bandwidth)}
		var vc []string
		for _, c := range strings.FieldsFunc(v.Codecs, func(r rune) bool { return r == ',' || r == ' ' }) {
			if kind, _, _ := strings.Cut(c, "."); videoCodecs[kind] {
				vc = append(vc, strings.Split(c, "/")[0])
			}
		}
		a.Codecs = strings.Join(vc, ",")
		if w, h, ok := strings.Cut(v.Resolution, "x"); ok {
			a.Width, _ = strconv.Atoi(w)
			a.Height, _ = strconv.Atoi(h)
		}
		if v.FrameRate > 0 {
			a.FrameRate = strconv.FormatFloat(v.FrameRate, 'f', -1, 64)
		}
		a.VideoRange = v.VideoRange
		vs = append(vs, Variant{URL: u.ResolveReference(r).String(), Attrs: a,
			Options: []Option{WithSwarmID(swarm), WithStreamAttrs(a)}})
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: playlist %s has no variants", ErrOrigin, u)
	}
	return vs, nil
}
