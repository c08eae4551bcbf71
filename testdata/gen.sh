#!/usr/bin/env bash
# gen.sh regenerates every synthetic fixture in testdata/media/ and the demo
# sample embedded by package sample, then writes the ffprobe references that
# the conformance tests compare against.
#
# Everything is made from ffmpeg's test sources (testsrc2 video, sine audio)
# with bit-exact flags and single-threaded encoders, so the same ffmpeg build
# produces byte-identical files. The ffmpeg version used is recorded in
# testdata/README.md; a different build may produce different bytes (the
# references are regenerated with the media, so tests stay consistent).
#
# Usage: testdata/gen.sh            (from anywhere; needs ffmpeg, ffprobe)
#        testdata/gen.sh fields     (only the stream-field fixtures, then every reference)
#        testdata/gen.sh refs       (only rewrite the ffprobe references)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
media="$here/media"
sample="$here/../sample/media"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Common flags: quiet, overwrite, deterministic container output.
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
BITEXACT=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 -map_chapters -1)
X264=(-c:v libx264 -threads 1 -preset veryfast -pix_fmt yuv420p)
X265=(-c:v libx265 -preset ultrafast -pix_fmt yuv420p)
AAC=(-c:a aac -b:a 64k -ac 2)

# Test sources: 320x180 25 fps colour bars with a moving clock, 440 Hz tone.
video() { # video DURATION [SIZE] [RATE]
	echo -f lavfi -i "testsrc2=size=${2:-320x180}:rate=${3:-25}:duration=$1"
}
audio() { # audio DURATION [RATE]
	echo -f lavfi -i "sine=frequency=440:sample_rate=${2:-48000}:duration=$1"
}

gen_media() {
	mkdir -p "$media/cmaf"
	cd "$media"

	# H.264 High, no B-frames, + AAC stereo.
	"${FF[@]}" $(video 2) $(audio 2) "${X264[@]}" -profile:v high -crf 30 \
		-x264-params "bframes=0:keyint=25:min-keyint=25:scenecut=0" \
		"${AAC[@]}" "${BITEXACT[@]}" h264_nob.mp4

	# H.264 with B-frames (b-pyramid normal), closed GOP, keyint 25, + AAC.
	# Written the default way (moov after mdat) and remuxed faststart.
	"${FF[@]}" $(video 2) $(audio 2) "${X264[@]}" -profile:v high -crf 30 \
		-x264-params "bframes=3:b-pyramid=normal:b-adapt=0:keyint=25:min-keyint=25:scenecut=0:open-gop=0" \
		"${AAC[@]}" "${BITEXACT[@]}" h264_b.mp4
	cp h264_b.mp4 h264_moovend.mp4
	"${FF[@]}" -i h264_b.mp4 -map 0 -c copy "${BITEXACT[@]}" -movflags +faststart h264_faststart.mp4

	# Open GOP: x264 emits non-IDR I frames with leading B frames.
	"${FF[@]}" $(video 2) "${X264[@]}" -profile:v high -crf 30 \
		-x264-params "bframes=3:b-pyramid=normal:b-adapt=0:keyint=25:min-keyint=25:scenecut=0:open-gop=1" \
		"${BITEXACT[@]}" h264_opengop.mp4

	# Explicit edit list: the video starts 0.5 s after the audio, so the
	# video trak gets an empty edit (media_time -1) followed by the B-frame
	# composition shift edit.
	"${FF[@]}" -itsoffset 0.5 -i h264_b.mp4 -i h264_b.mp4 -map 0:v -map 1:a -c copy \
		"${BITEXACT[@]}" h264_editlist.mp4

	# Display matrix rotated by 90 degrees (tkhd matrix).
	"${FF[@]}" -i h264_nob.mp4 -map 0 -c copy -metadata:s:v:0 rotate=90 \
		"${BITEXACT[@]}" h264_rotate90.mp4

	# Variable frame rate: 30 fps for the first second, 15 fps afterwards.
	"${FF[@]}" $(video 2 320x180 30) -vf "select='lt(t\,1)+not(mod(n\,2))'" -fps_mode vfr \
		"${X264[@]}" -profile:v high -crf 30 -x264-params "bframes=0:keyint=30:scenecut=0" \
		"${BITEXACT[@]}" h264_vfr.mp4

	# HEVC with B-frames in both sample entries (hvc1: parameter sets only
	# in hvcC; hev1: parameter sets also in band).
	local x265p="pools=none:frame-threads=1:keyint=25:min-keyint=25:scenecut=0:bframes=3:b-pyramid=1:open-gop=0:info=0:log-level=error"
	"${FF[@]}" $(video 2) $(audio 2) "${X265[@]}" -crf 32 -x265-params "$x265p" -tag:v hvc1 \
		"${AAC[@]}" "${BITEXACT[@]}" hevc_b_hvc1.mp4
	"${FF[@]}" $(video 2) $(audio 2) "${X265[@]}" -crf 32 -x265-params "$x265p:repeat-headers=1" -tag:v hev1 \
		"${AAC[@]}" "${BITEXACT[@]}" hevc_b_hev1.mp4

	# AV1 (libaom, single-threaded, fastest preset), video only.
	"${FF[@]}" $(video 2) -c:v libaom-av1 -cpu-used 8 -row-mt 0 -threads 1 -tiles 1x1 -b:v 100k -g 25 \
		-pix_fmt yuv420p "${BITEXACT[@]}" av1.mp4

	# Audio only: AAC-LC in .m4a, AC-3 stereo, E-AC-3 5.1, Opus.
	"${FF[@]}" $(audio 2) "${AAC[@]}" "${BITEXACT[@]}" aac.m4a
	"${FF[@]}" $(audio 2) -c:a ac3 -b:a 96k -ac 2 "${BITEXACT[@]}" ac3.mp4
	"${FF[@]}" $(audio 2) -c:a eac3 -b:a 192k -af "aformat=channel_layouts=5.1(side)" "${BITEXACT[@]}" eac3_51.mp4
	"${FF[@]}" $(audio 2) -c:a libopus -b:a 48k -ac 2 "${BITEXACT[@]}" opus.mp4

	# Fragmented MP4 (one moof per key frame, empty moov, default-base-is-moof).
	"${FF[@]}" -i h264_b.mp4 -map 0 -c copy -movflags frag_keyframe+empty_moov+default_base_moof \
		"${BITEXACT[@]}" h264_frag.mp4

	# CMAF video segments (styp + sidx + moof/tfdt + mdat) through the DASH
	# muxer: 1 s segments on the 25-frame GOPs of h264_b.mp4.
	rm -rf cmaf "$tmp/cmaf" && mkdir -p cmaf "$tmp/cmaf"
	"${FF[@]}" -i h264_b.mp4 -map 0:v -c copy "${BITEXACT[@]}" -f dash -seg_duration 1 \
		-use_template 1 -use_timeline 0 -dash_segment_type mp4 \
		-init_seg_name init.mp4 -media_seg_name 'seg_$Number$.m4s' "$tmp/cmaf/manifest.mpd"
	cp "$tmp"/cmaf/init.mp4 "$tmp"/cmaf/seg_*.m4s cmaf/
	cat cmaf/init.mp4 $(ls cmaf/seg_*.m4s | sort -V) > cmaf/init_and_segs.mp4

	# MPEG-TS: single program H.264 + AAC.
	"${FF[@]}" -i h264_b.mp4 -map 0 -c copy "${BITEXACT[@]}" -f mpegts ts_single.ts

	# MPEG-TS with two programs (services), each video + audio.
	"${FF[@]}" $(video 2 256x144) $(audio 2) "${X264[@]}" -crf 30 -x264-params "keyint=25:scenecut=0" \
		"${AAC[@]}" "${BITEXACT[@]}" "$tmp/prog2.mp4"
	"${FF[@]}" -i h264_b.mp4 -i "$tmp/prog2.mp4" -map 0:v -map 0:a -map 1:v -map 1:a -c copy \
		-program program_num=1:title=One:st=0:st=1 -program program_num=2:title=Two:st=2:st=3 \
		"${BITEXACT[@]}" -f mpegts ts_multi.ts

	# Interlaced H.264 (MBAFF, top field first).
	"${FF[@]}" $(video 2 320x192) -vf setfield=tff "${X264[@]}" -crf 30 -flags:v +ildct+ilme \
		-x264-params "interlaced=1:tff=1:keyint=25:scenecut=0" -field_order tt \
		"${BITEXACT[@]}" -f mpegts ts_interlaced.ts

	# HEVC in MPEG-TS.
	"${FF[@]}" -i hevc_b_hev1.mp4 -map 0 -c copy "${BITEXACT[@]}" -f mpegts ts_hevc.ts

	# H.264 + AC-3 + E-AC-3 in MPEG-TS.
	"${FF[@]}" -i h264_b.mp4 $(audio 2) -map 0:v -map 1:a -map 1:a -c:v copy \
		-c:a:0 ac3 -b:a:0 96k -ac 2 -c:a:1 eac3 -b:a:1 96k "${BITEXACT[@]}" -f mpegts ts_ac3.ts

	# GOP alignment ladder: same content, 2 s key frame interval, no
	# scenecut; and a rendition whose key frames fall elsewhere (keyint 45).
	local lad="bframes=2:keyint=50:min-keyint=50:scenecut=0:open-gop=0"
	"${FF[@]}" $(video 6 480x270) "${X264[@]}" -crf 34 -x264-params "$lad" "${BITEXACT[@]}" ladder_270.mp4
	"${FF[@]}" $(video 6 640x360) "${X264[@]}" -crf 34 -x264-params "$lad" "${BITEXACT[@]}" ladder_360.mp4
	"${FF[@]}" $(video 6 480x270) "${X264[@]}" -crf 34 \
		-x264-params "bframes=2:keyint=45:min-keyint=45:scenecut=0:open-gop=0" "${BITEXACT[@]}" ladder_misaligned.mp4
}

# gen_fields makes the fixtures for ffprobe's stream fields beyond the
# basics: colour description, tags and disposition, MPEG-2 video and MP2
# audio, AAC in LATM. (No HE-AAC: ffmpeg's native encoder writes AAC-LC
# only; HE-AAC signalling is unit-tested in package media.) They live in
# media/fields/, which only the probe's conformance tests read: remux,
# segment and the frame tests cover the codecs every writer supports.
gen_fields() {
	mkdir -p "$media/fields"
	cd "$media/fields"

	# H.264 with a BT.709 VUI colour description (and an MP4 colr box),
	# stream tags (language, handler_name, creation_time) and a
	# non-default audio track.
	"${FF[@]}" $(video 1) $(audio 1) "${X264[@]}" -crf 30 -x264-params "bframes=0:keyint=25:scenecut=0" \
		-color_range tv -colorspace bt709 -color_trc bt709 -color_primaries bt709 \
		"${AAC[@]}" "${BITEXACT[@]}" -metadata creation_time=2021-03-04T05:06:07Z \
		-metadata:s:v:0 language=fra -metadata:s:v:0 handler_name="Camera One" \
		-metadata:s:a:0 language=eng -metadata:s:a:0 handler_name="Stereo Mix" -disposition:a:0 0 \
		h264_color_tags.mp4

	# HEVC full-range BT.2020/PQ in MPEG-TS, with German hearing-impaired
	# audio (ISO 639 descriptor, audio_type 2).
	"${FF[@]}" $(video 1) $(audio 1) "${X265[@]}" -crf 32 \
		-x265-params "pools=none:frame-threads=1:keyint=25:bframes=0:info=0:log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:range=full" \
		"${AAC[@]}" "${BITEXACT[@]}" -metadata:s:a:0 language=deu -disposition:a:0 hearing_impaired \
		-f mpegts hevc_color.ts

	# MPEG-2 video (Main@Main, 4:3 on 352x288, interlaced top field first,
	# 24 fps, B-frames) + MP2 audio in MPEG-TS.
	"${FF[@]}" $(video 1 352x288 24) $(audio 1) -c:v mpeg2video -b:v 400k -g 12 -bf 2 -aspect 4:3 \
		-flags:v +ilme+ildct -top 1 -c:a mp2 -b:a 128k "${BITEXACT[@]}" -f mpegts mpeg2_mp2.ts
	# The same in MP4 (mp4v, esds objectTypeIndication 0x61 with the
	# sequence header as decoder specific info; MP2 as mp4a 0x6B).
	"${FF[@]}" -i mpeg2_mp2.ts -map 0 -c copy "${BITEXACT[@]}" mpeg2_mp2.mp4

	# MPEG-1 video (B-frames, no sequence_extension: ffprobe's mpeg1video,
	# stream type 0x01) + MP2 in MPEG-TS, and in MP4 (esds 0x6A).
	"${FF[@]}" $(video 1 176x144 25) $(audio 1) -c:v mpeg1video -b:v 300k -g 12 -bf 2 \
		-c:a mp2 -b:a 96k "${BITEXACT[@]}" -f mpegts mpeg1_mp2.ts
	"${FF[@]}" -i mpeg1_mp2.ts -map 0 -c copy "${BITEXACT[@]}" mpeg1_mp2.mp4

	# MPEG-4 Part 2 (Simple Profile) in MP4: coded size and pix_fmt
	# that ffprobe learns from its decoder, not from the sample entry.
	"${FF[@]}" $(video 1 176x144 15) -c:v mpeg4 -b:v 100k "${BITEXACT[@]}" mpeg4.mp4

	# Init segments without samples (ffmpeg's HLS fMP4 init): HEVC, whose
	# decoder exports the hvcC's SPS at init (has_b_frames 2, colour
	# range) and whose sample entry has a fiel box (field_order), and
	# H.264 with a colr box, whose decoder exports nothing before a slice.
	"${FF[@]}" $(video 1) "${X265[@]}" -crf 32 \
		-x265-params "pools=none:frame-threads=1:keyint=25:bframes=2:info=0:log-level=error" \
		"${BITEXACT[@]}" -f hls -hls_segment_type fmp4 -hls_fmp4_init_filename hevc_init.mp4 \
		-hls_segment_filename "$tmp/hevc_%d.m4s" "$tmp/hevc.m3u8"
	mv "$tmp/hevc_init.mp4" hevc_init.mp4
	"${FF[@]}" -i h264_color_tags.mp4 -map 0:v -c copy "${BITEXACT[@]}" -f hls -hls_segment_type fmp4 \
		-hls_fmp4_init_filename h264_colr_init.mp4 -hls_segment_filename "$tmp/h264_%d.m4s" "$tmp/h264.m3u8"
	mv "$tmp/h264_colr_init.mp4" h264_colr_init.mp4

	# AAC-LC in LATM (stream_type 0x11) through ffmpeg's LATM muxer.
	"${FF[@]}" $(audio 1) "${AAC[@]}" "${BITEXACT[@]}" -f latm "$tmp/a.latm"
	"${FF[@]}" -i "$tmp/a.latm" -c copy "${BITEXACT[@]}" -f mpegts latm.ts
}

# gen_sample makes the ladder embedded in the binary by package sample: three
# H.264 renditions with aligned 2 s closed GOPs and one AAC track, 8 s each.
gen_sample() {
	mkdir -p "$sample"
	cd "$sample"
	local gop="bframes=2:keyint=50:min-keyint=50:scenecut=0:open-gop=0"
	local r
	for r in "240 426x240 90k" "360 640x360 160k" "480 854x480 280k"; do
		set -- $r
		"${FF[@]}" $(video 8 "$2") "${X264[@]}" -profile:v high -b:v "$3" -maxrate "$3" -bufsize "$3" \
			-x264-params "$gop" "${BITEXACT[@]}" -movflags +faststart "video_$1.mp4"
	done
	"${FF[@]}" $(audio 8) "${AAC[@]}" "${BITEXACT[@]}" -movflags +faststart audio.m4a
}

# refs writes the four ffprobe references next to a fixture. ffprobe runs
# from inside the fixture's folder so format.filename is the bare name.
refs() { # refs PATH
	local dir base
	dir=$(dirname "$1")
	base=$(basename "$1")
	(
		cd "$dir"
		ffprobe -v error -show_format -show_streams -of json "$base" > "$base.ffprobe.json"
		local nv
		nv=$(ffprobe -v error -select_streams v -show_entries stream=index -of csv=p=0 "$base")
		if [ -n "$nv" ]; then
			ffprobe -v error -select_streams v -show_frames -show_entries \
				frame=media_type,stream_index,key_frame,pts,pts_time,pkt_dts,pkt_dts_time,best_effort_timestamp,duration,pkt_duration,pkt_size,pict_type,interlaced_frame,top_field_first \
				-of json "$base" > "$base.frames.json"
		fi
		ffprobe -v error -show_packets -show_entries \
			packet=codec_type,stream_index,pts,pts_time,dts,dts_time,duration,size,flags \
			-of json "$base" > "$base.packets.json"
		# Every packet field ffprobe prints (pos, side data too), for
		# "streamkit probe --show-packets --json".
		ffprobe -v error -show_packets -of json "$base" > "$base.show_packets.json"
	)
}

gen_refs() {
	cd "$media"
	local f
	for f in *.mp4 *.m4a *.ts cmaf/init.mp4 cmaf/init_and_segs.mp4 fields/*.mp4 fields/*.ts; do
		refs "$media/$f"
	done
}

case "${1:-all}" in
all)
	gen_media
	gen_fields
	gen_sample
	gen_refs
	;;
fields)
	gen_fields
	gen_refs
	;;
refs) gen_refs ;;
*)
	echo "usage: $0 [all|fields|refs]" >&2
	exit 2
	;;
esac
