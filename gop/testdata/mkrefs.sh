#!/usr/bin/env bash
# Regenerates the elementary-stream test vectors of package gop and their
# ffprobe references. Needs ffmpeg/ffprobe (5.1) and python3; the tests
# themselves need neither.
#
# For each vector NAME it writes NAME.es (the raw elementary stream:
# Annex B for H.264/HEVC, low-overhead OBUs for AV1, MPEG-2/4 ES) and
# NAME.json: the byte range of every access unit in decode order (from
# ffprobe -show_packets on NAME.es) joined with the pts/dts of the same
# packet in the container and ffprobe -show_frames' pict_type and
# key_frame for the frame with that pts.
set -euo pipefail
cd "$(dirname "$0")"
src="-f lavfi -i testsrc2=size=192x128:rate=25,format=yuv420p"
enc() { # NAME CONTAINER ES_FORMAT BSF ARGS...
  local name=$1 cont=$2 esf=$3 bsf=$4; shift 4
  ffmpeg -hide_banner -loglevel error -y $src -t 3 "$@" "/tmp/$name.$cont"
  vec "$name" "$cont" "$esf" "$bsf"
}
vec() { # NAME CONTAINER ES_FORMAT BSF: vector from /tmp/NAME.CONTAINER
  local name=$1 cont=$2 esf=$3 bsf=$4
  ffmpeg -hide_banner -loglevel error -y -i "/tmp/$name.$cont" -c copy $bsf -f "$esf" "$name.es"
  ffprobe -v error -select_streams v:0 -show_packets -show_entries packet=pts,dts -of json "/tmp/$name.$cont" >/tmp/$name.pk.json
  ffprobe -v error -f "${esf/mpeg2video/mpegvideo}" -show_packets -show_entries packet=pos,size -of json "$name.es" >/tmp/$name.es.json
  ffprobe -v error -select_streams v:0 -show_frames -show_entries frame=pts,pict_type,key_frame,interlaced_frame,top_field_first -of json "/tmp/$name.$cont" >/tmp/$name.fr.json
  python3 - "$name" <<'PY'
import json, sys
n = sys.argv[1]
pk = json.load(open(f"/tmp/{n}.pk.json"))["packets"]
es = json.load(open(f"/tmp/{n}.es.json"))["packets"]
fr = json.load(open(f"/tmp/{n}.fr.json"))["frames"]
assert len(pk) == len(es), (n, len(pk), len(es))
byp = {int(f["pts"]): f for f in fr}
aus = []
for p, e in zip(pk, es):
    a = {"pos": int(e["pos"]), "size": int(e["size"]), "pts": int(p["pts"]), "dts": int(p["dts"])}
    f = byp.get(a["pts"])
    if f:
        a["pict_type"] = f["pict_type"]
        a["key_frame"] = f["key_frame"]
        a["interlaced_frame"] = f["interlaced_frame"]
        a["top_field_first"] = f["top_field_first"]
    aus.append(a)
json.dump({"frames_reported": len(fr), "aus": aus}, open(f"{n}.json", "w"), separators=(",", ":"))
PY
}
enc h264_opengop_pyramid mp4 h264 "-bsf:v h264_mp4toannexb,h264_metadata=aud=insert" \
  -c:v libx264 -x264-params open-gop=1:keyint=24:min-keyint=24:scenecut=0:bframes=3:b-pyramid=normal
enc h264_mbaff_b mp4 h264 "-bsf:v h264_mp4toannexb,h264_metadata=aud=insert" \
  -c:v libx264 -flags +ildct+ilme -x264-params keyint=20:bframes=2:tff=1
enc h264_baseline mp4 h264 "-bsf:v h264_mp4toannexb,h264_metadata=aud=insert" \
  -c:v libx264 -profile:v baseline -x264-params keyint=30:slices=3
enc h264_intrarefresh mp4 h264 "-bsf:v h264_mp4toannexb,h264_metadata=aud=insert" \
  -c:v libx264 -x264-params intra-refresh=1:keyint=25:bframes=0
enc hevc_cra_b mp4 hevc "-bsf:v hevc_mp4toannexb,hevc_metadata=aud=insert" \
  -c:v libx265 -x265-params log-level=error:keyint=24:min-keyint=24:scenecut=0:open-gop=1:bframes=4:b-pyramid=1
enc hevc_idr_b mp4 hevc "-bsf:v hevc_mp4toannexb,hevc_metadata=aud=insert" \
  -c:v libx265 -x265-params log-level=error:keyint=20:open-gop=0:bframes=3:slices=2
enc av1_aom mp4 obu "" -c:v libaom-av1 -cpu-used 8 -g 30 -lag-in-frames 10 -b:v 200k
enc mpeg2_b ts mpeg2video "" -c:v mpeg2video -g 12 -bf 2
enc mpeg4_b mp4 m4v "" -c:v mpeg4 -g 15 -bf 1
enc mpeg2_interlaced_bff ts mpeg2video "" -c:v mpeg2video -flags +ilme+ildct -top 0 -g 12 -bf 2
# Open GOP without recovery point SEI: libavcodec sets key_frame only for
# the IDR; the other I frames are not key frames.
ffmpeg -hide_banner -loglevel error -y $src -t 3 -c:v libx264 \
  -x264-params open-gop=1:keyint=24:min-keyint=24:scenecut=0:bframes=3 /tmp/h264_opengop_nosei.full.mp4
ffmpeg -hide_banner -loglevel error -y -i /tmp/h264_opengop_nosei.full.mp4 -c copy -bsf:v filter_units=remove_types=6 /tmp/h264_opengop_nosei.mp4
vec h264_opengop_nosei mp4 h264 "-bsf:v h264_mp4toannexb,h264_metadata=aud=insert"
