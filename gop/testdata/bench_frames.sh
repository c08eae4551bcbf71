#!/usr/bin/env bash
# Times `streamkit frames --json FILE` against `ffprobe -show_frames -of json
# FILE` in the same run: RUNS runs of each, interleaved; reports the median
# wall-clock and CPU (user+sys) time of each and their ratios. Prints one
# Markdown table row per file.
#
#   go build -o /tmp/streamkit ./cmd/streamkit
#   gop/testdata/bench_frames.sh FILE...
set -euo pipefail
SK=${SK:-/tmp/streamkit}
RUNS=${RUNS:-5}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # prints "wall cpu" in seconds, millisecond resolution (bash's time, getrusage)
  local TIMEFORMAT='%3R %3U %3S'
  { time "$@" >/dev/null 2>&1; } 2>/tmp/bench_frames.$$
  awk '{printf "%s %.3f\n", $1, $2 + $3}' /tmp/bench_frames.$$
}
for f in "$@"; do
  skw=() skc=() ffw=() ffc=()
  for _ in $(seq "$RUNS"); do
    read -r w c < <(measure "$SK" frames --json "$f"); skw+=("$w") skc+=("$c")
    read -r w c < <(measure ffprobe -v error -select_streams v:0 -show_frames -of json "$f"); ffw+=("$w") ffc+=("$c")
  done
  sw=$(printf '%s\n' "${skw[@]}" | median) sc=$(printf '%s\n' "${skc[@]}" | median)
  pw=$(printf '%s\n' "${ffw[@]}" | median) pc=$(printf '%s\n' "${ffc[@]}" | median)
  n=$("$SK" frames --csv "$f" | tail -n +2 | wc -l)
  mb=$(echo "scale=2; $(stat -c %s "$f") / 1000000" | bc)
  printf '| %s | %s MB, %d frames | %.3f s wall (%.0f frames/s, %.0f MB/s), %.3f s CPU | %.3f s wall (%.0f frames/s), %.3f s CPU | %.0fx | %.0fx |\n' \
    "$(basename "$f")" "$mb" "$n" "$sw" "$(echo "$n / $sw" | bc -l)" "$(echo "$mb / $sw" | bc -l)" "$sc" \
    "$pw" "$(echo "$n / $pw" | bc -l)" "$pc" "$(echo "$pw / $sw" | bc -l)" "$(echo "$pc / $sc" | bc -l)"
done
rm -f /tmp/bench_frames.$$
