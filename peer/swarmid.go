package peer

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
)

// Swarm identity, as p2p-media-loader 2.3.1 derives it (core
// src/utils/stream.ts, src/utils/peer.ts; hlsjs src/segment-manager.ts).
// Peers meet only when all of it matches, so each step is reproduced
// exactly:
//
//	swarm id          = config.swarmId, or the manifest URL without its query
//	stream short id   = base64(sha1("BITRATE-CODECS-WIDTH-HEIGHT-LANG-CHANNELS-NAME-FPS-RANGE"))
//	stream swarm id   = "v2-" + swarm id + "-" + type + "-" + stream short id
//	info hash         = base64(sha1(stream swarm id)[:15])   (20 ASCII characters)
//	peer id           = "-PM0203-" + 12 of [A-Za-z0-9]          (20 characters)
//
// type is "main" for video variants (and audio-only streams) and
// "secondary" for alternative audio renditions.

// StreamAttrs are the variant attributes p2p-media-loader-hlsjs hashes
// into a stream's short id (from the multivariant playlist's
// EXT-X-STREAM-INF as hls.js parses it). The zero value is a media
// playlist loaded directly: hls.js then reports bitrate 0 and no metadata.
type StreamAttrs struct {
	Bandwidth      int64  // BANDWIDTH (hls.js's maxBitrate)
	Codecs         string // the video codec of CODECS (hls.js's videoCodec)
	Width, Height  int    // RESOLUTION
	FrameRate      string // FRAME-RATE as written ("30.000")
	VideoRange     string // VIDEO-RANGE
	Language, Name string // audio renditions
	Channels       string
	Secondary      bool // an EXT-X-MEDIA audio rendition
}

// StreamShortID is generateStreamShortId.
func StreamShortID(a StreamAttrs) string {
	var codecs, width, height, fps, vr string
	missing := a.Bandwidth == 0 && !a.Secondary // isMissingMetadata drops the rest
	if !missing {
		var cs []string
		for _, c := range strings.Split(a.Codecs, ",") {
			if a.Codecs == "" {
				break
			}
			c = strings.ToLower(strings.TrimSpace(c))
			if p := strings.Split(c, "."); len(p) == 3 && (p[0] == "avc1" || p[0] == "avc") {
				prof, e1 := strconv.Atoi(p[1])
				lvl, e2 := strconv.Atoi(p[2])
				if e1 == nil && e2 == nil && p[1] == strconv.Itoa(prof) && p[2] == strconv.Itoa(lvl) {
					c = p[0] + "." + hex2(prof) + "00" + hex2(lvl)
				}
			}
			cs = append(cs, c)
		}
		sortStrings(cs)
		codecs = strings.Join(cs, ",")
		if a.Width > 0 {
			width = strconv.Itoa(a.Width)
		}
		if a.Height > 0 {
			height = strconv.Itoa(a.Height)
		}
		if f, err := strconv.ParseFloat(a.FrameRate, 64); err == nil && a.FrameRate != "" && f != 0 {
			fps = strconv.FormatFloat(f, 'f', -1, 64) // Number("30.000").toString()
		}
		vr = strings.ToUpper(strings.TrimSpace(a.VideoRange))
	}
	lang := ""
	if a.Language != "" && a.Language != "und" {
		lang = strings.ToLower(a.Language[:min(2, len(a.Language))])
	}
	ch, _, _ := strings.Cut(a.Channels, "/")
	s := strings.Join([]string{strconv.FormatInt(a.Bandwidth, 10), codecs, width, height, lang, ch,
		strings.ToLower(strings.TrimSpace(a.Name)), fps, vr}, "-")
	sum := sha1.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func hex2(n int) string {
	s := strconv.FormatInt(int64(n), 16)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// StreamSwarmID is getStreamSwarmId: swarmID is the configured swarm id
// or the manifest URL (ManifestSwarmID).
func StreamSwarmID(swarmID string, a StreamAttrs) string {
	typ := "main"
	if a.Secondary {
		typ = "secondary"
	}
	return "v2-" + swarmID + "-" + typ + "-" + StreamShortID(a)
}

// ManifestSwarmID is the swarm id p2p-media-loader uses when none is
// configured: the URL the manifest was loaded from, without its query.
func ManifestSwarmID(manifestURL string) string {
	u, _, _ := strings.Cut(manifestURL, "?")
	return u
}

// InfoHash is getStreamHash: the tracker's info_hash for a stream swarm
// id (15 bytes of SHA-1 in base64: 20 ASCII characters).
func InfoHash(streamSwarmID string) string {
	sum := sha1.Sum([]byte(streamSwarmID))
	return base64.StdEncoding.EncodeToString(sum[:15])
}

// PeerIDPrefix is what p2p-media-loader 2.3 peer ids start with.
const PeerIDPrefix = "-PM0203-"

const idSymbols = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewPeerID returns a random peer id in p2p-media-loader's form.
func NewPeerID() string {
	b := make([]byte, 20-len(PeerIDPrefix))
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idSymbols[int(b[i])%len(idSymbols)]
	}
	return PeerIDPrefix + string(b)
}
