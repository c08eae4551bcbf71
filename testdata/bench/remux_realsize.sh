#!/usr/bin/env bash
# remux_realsize.sh measures streamkit remux and package on a real-sized
# 1080p H.264 + AAC file against ffmpeg -c copy and cp of the same bytes,
# in one run (BENCHMARKS.md, "Remux and packaging on a real-sized file").
#
# The input is made here, never committed: 60 s of testsrc2 1920x1080 30 fps
# (x264 ultrafast, 1.5 Mb/s, GOP 60) + 440 Hz AAC 128 kb/s, looped 30 times
# with -c copy: a 30-minute, ~372 MB file of ~139,000 samples (~2.7 kB each),
# with moov at the end (faststart input), moov first (every other task) and
# as MPEG-TS (packaging a TS input).
#
# Usage: testdata/bench/remux_realsize.sh [RUNS]     (default 5)
#   SKB_DIR   where the inputs are made and kept   (default /tmp/skbench-real)
#   SKB_OUT   where outputs are written             (default $SKB_DIR/out;
#             a tmpfs such as /dev/shm/skb takes the disk's writeback out)
#   SKB_ONLY  space-separated task names to run     (default: all)
#   SKB_BASE  another streamkit binary (an older build) run beside this
#             one as runner "base" for fmp4, package and package-ts:
#             before/after in the same rounds
#
# Every task runs RUNS times; in each round the peers and streamkit run in
# turn, the order alternating from round to round, each after `sync`, so
# that load from other processes hits both. Wall time and peak RSS come
# from /usr/bin/time (%e, %M = ru_maxrss). The summary prints medians and
# the ratios; the raw runs are in $SKB_DIR/runs.tsv.
set -euo pipefail
runs=${1:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=${SKB_DIR:-/tmp/skbench-real}
out=${SKB_OUT:-$dir/out}
mkdir -p "$dir" "$out"
FF=(ffmpeg -nostdin -hide_banner -v error -y)

if [ ! -s "$dir/real.ts" ]; then
	"${FF[@]}" -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=60 \
		-f lavfi -i sine=frequency=440:sample_rate=48000:duration=60 \
		-c:v libx264 -preset ultrafast -b:v 1500k -maxrate 1500k -bufsize 3000k -g 60 -pix_fmt yuv420p \
		-c:a aac -b:a 128k -ac 2 "$dir/base.mp4"
	"${FF[@]}" -stream_loop 29 -i "$dir/base.mp4" -map 0 -c copy "$dir/real_moovend.mp4"
	"${FF[@]}" -i "$dir/real_moovend.mp4" -map 0 -c copy -movflags +faststart "$dir/real.mp4"
	"${FF[@]}" -i "$dir/real.mp4" -map 0 -c copy -f mpegts "$dir/real.ts"
fi
(cd "$here" && go build -o "$dir/streamkit" ./cmd/streamkit)
sk=$dir/streamkit
in=$dir/real.mp4

# task name | who | command
tasks() {
	cat <<T
cp|cp|cp $in $out/cp.mp4
ts|streamkit|$sk remux --force $in $out/o.ts
ts|ffmpeg|${FF[*]} -i $in -map 0 -c copy -f mpegts $out/p.ts
fmp4|streamkit|$sk remux --force --to fmp4 $in $out/o_frag.mp4
fmp4|ffmpeg|${FF[*]} -i $in -map 0 -c copy -movflags frag_keyframe+empty_moov+default_base_moof -f mp4 $out/p_frag.mp4
mp4|streamkit|$sk remux --force $in $out/o.mp4
mp4|ffmpeg|${FF[*]} -i $in -map 0 -c copy -movflags +faststart $out/p.mp4
faststart|streamkit|$sk remux --force --faststart $dir/real_moovend.mp4 $out/o_fast.mp4
faststart|ffmpeg|${FF[*]} -i $dir/real_moovend.mp4 -map 0 -c copy -movflags +faststart $out/p_fast.mp4
package|streamkit|$sk package --force -o $out/pk --hls --dash --segment 4s $in
package|ffmpeg-hls|${FF[*]} -i $in -map 0 -c copy -f hls -hls_time 4 -hls_playlist_type vod -hls_segment_type fmp4 -hls_segment_filename $out/ph/s_%d.m4s $out/ph/index.m3u8
package|ffmpeg-dash|${FF[*]} -i $in -map 0 -c copy -f dash -seg_duration 4 $out/pd/manifest.mpd
package-ts|streamkit|$sk package --force -o $out/pkt --hls --dash --segment 4s $dir/real.ts
package-ts|ffmpeg-hls|${FF[*]} -i $dir/real.ts -map 0 -c copy -bsf:a aac_adtstoasc -tag:v avc1 -tag:a mp4a -f hls -hls_time 4 -hls_playlist_type vod -hls_segment_type fmp4 -hls_segment_filename $out/pht/s_%d.m4s $out/pht/index.m3u8
package-ts|ffmpeg-dash|${FF[*]} -i $dir/real.ts -map 0 -c copy -bsf:a aac_adtstoasc -tag:v avc1 -tag:a mp4a -f dash -seg_duration 4 $out/pdt/manifest.mpd
T
	if [ -n "${SKB_BASE:-}" ]; then
		cat <<T
fmp4|base|$SKB_BASE remux --force --to fmp4 $in $out/o_frag.mp4
package|base|$SKB_BASE package --force -o $out/pk --hls --dash --segment 4s $in
package-ts|base|$SKB_BASE package --force -o $out/pkt --hls --dash --segment 4s $dir/real.ts
T
	fi
}

res=$dir/runs.tsv
: >"$res"
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)" | tee "$dir/session.txt"
for r in $(seq 1 "$runs"); do
	lines=$(tasks)
	[ $((r % 2)) -eq 0 ] && lines=$(echo "$lines" | tac)
	while IFS='|' read -r task who cmd; do
		if [ -n "${SKB_ONLY:-}" ] && ! [[ " $SKB_ONLY cp " == *" $task "* ]]; then continue; fi
		rm -rf "$out/ph" "$out/pd" "$out/pht" "$out/pdt" "$out/cp.mp4" "$out"/p*.ts "$out"/p*.mp4
		mkdir -p "$out/ph" "$out/pd" "$out/pht" "$out/pdt"
		sync
		/usr/bin/time -o "$dir/time.txt" -f '%e %M %U %S' $cmd >/dev/null 2>&1 || { echo "failed: $cmd" >&2; exit 1; }
		read -r wall rss usr sys <"$dir/time.txt"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$task" "$who" "$wall" "$rss" "$(echo "$usr $sys" | awk '{print $1+$2}')" \
			"$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$res"
	done <<<"$lines"
done
echo "# done $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$dir/session.txt"

# Summary: medians per task and runner; ratios peer/streamkit (above 1:
# streamkit is faster) and time/cp. CPU is user+sys: on a loaded machine
# wall time measures the scheduler as much as the program.
awk -F'\t' '
function median(s,   n, i, j, t, a) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
NF < 7 { next }
{ k = $2 "|" $3; w[k] = w[k] " " $4; m[k] = m[k] " " $5; c[k] = c[k] " " $6; l = l " " $7
  if (!(k in seen)) { seen[k] = 1; order[++no] = k } }
END {
	cpw = median(w["cp|cp"]); cpc = median(c["cp|cp"])
	printf "median load average during the runs: %s\n\n", median(l)
	printf "| task | runner | wall | CPU | peak RSS | peer/streamkit wall | peer/streamkit CPU | wall / cp | CPU / cp |\n|---|---|---|---|---|---|---|---|---|\n"
	for (i = 1; i <= no; i++) {
		k = order[i]; split(k, p, "|")
		ww = median(w[k]); cc = median(c[k]); mm = median(m[k])
		us = p[1] "|streamkit"
		rw = rc = ""
		if (p[2] != "streamkit" && p[2] != "cp") { rw = sprintf("%.2fx", ww / median(w[us])); rc = sprintf("%.2fx", cc / median(c[us])) }
		printf "| %s | %s | %.2f s | %.2f s | %.1f MiB | %s | %s | %.2f | %.2f |\n", p[1], p[2], ww, cc, mm / 1024, rw, rc, ww / cpw, (cpc > 0 ? cc / cpc : 0)
	}
}' "$res" | tee "$dir/summary.md"
