#!/usr/bin/env bash
# gen.sh makes the calibration ladder: 40 s of ffmpeg's testsrc2 in four
# constant-bit-rate H.264 renditions (250, 500, 1000, 2000 kbit/s; x264
# nal-hrd=cbr pads every 2 s segment to its rate, so the simulator and the
# players see the sizes a real CBR ladder has) with aligned 2 s closed GOPs,
# plus 64 kbit/s AAC, packaged by streamkit as HLS and DASH into OUT.
# B-frames (2, closed GOPs) as in the embedded sample. (Without B-frames
# hls.js 1.7.4 once never started on this ladder: the packager moved the
# video by the AAC priming; segment.placeTracks now leaves it at zero.)
#
# The media is generated, not committed (about 19 MB); the scenarios next
# to this script are the committed calibration set.
#
# Usage: playtest/testdata/calibration/gen.sh OUT   (needs ffmpeg and go)
set -euo pipefail
out=${1:?usage: gen.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
dur=40
for r in 320x180:250 480x270:500 640x360:1000 854x480:2000; do
	size=${r%%:*} kbps=${r##*:}
	"${FF[@]}" -f lavfi -i "testsrc2=size=$size:rate=25:duration=$dur" \
		-c:v libx264 -threads 1 -preset veryfast -pix_fmt yuv420p -profile:v high \
		-b:v "${kbps}k" -minrate "${kbps}k" -maxrate "${kbps}k" -bufsize "$((kbps / 2))k" \
		-x264-params "nal-hrd=cbr:bframes=2:open-gop=0:keyint=50:min-keyint=50:scenecut=0" \
		-an -map_metadata -1 -movflags +faststart "$tmp/v$kbps.mp4"
done
"${FF[@]}" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$dur" \
	-c:a aac -b:a 64k -ac 2 -map_metadata -1 -movflags +faststart "$tmp/audio.m4a"
(cd "$root" && go run ./cmd/streamkit package -o "$out" --force --segment 2s \
	"$tmp/v250.mp4" "$tmp/v500.mp4" "$tmp/v1000.mp4" "$tmp/v2000.mp4" "$tmp/audio.m4a")
