#!/usr/bin/env bash
# JPEG decode + encode speed: cnnpipe against libjpeg-turbo's own djpeg | cjpeg.
#
# Every *.jpg under the corpus' content/, styles/ and faces/ is decoded and re-encoded at
# quality 90, single-threaded, ROUNDS times (default 5), the three ways interleaved:
#   cnnpipe, one process   cnnpipe run -e passthrough --format jpeg --quality 90 --threads 1 ALL-IMAGES
#                          (how cnnpipe is used: the goal is measured with this one)
#   cnnpipe, per image     the same command once per image (pays process start-up every time)
#   djpeg | cjpeg          djpeg IMG | cjpeg -quality 90, once per image (no one-process mode exists)
# Both decode with the islow DCT and encode baseline 4:2:0 (cnnpipe's and cjpeg's defaults).
# Everything is pinned to one CPU (PIN_CPU, default 0; PIN_CPU= to unpin), so djpeg and cjpeg,
# two processes, cannot overlap on two cores (unpinned, djpeg|cjpeg gets ~1.5 cores for free).
# Goal: cnnpipe one process / djpeg|cjpeg <= 1.1 (wall); the CPU-time ratio is printed too.
source "$(dirname "$0")/lib/common.sh"
need djpeg libjpeg-turbo-progs
need cjpeg libjpeg-turbo-progs

ROUNDS=${ROUNDS:-5}
PIN_CPU=${PIN_CPU-0}
corpus_jpegs content styles faces > "$TMP/images.txt"
export CNNPIPE TMP
echo "== JPEG passthrough: $(wc -l < "$TMP/images.txt") corpus JPEGs, $ROUNDS rounds, ${PIN_CPU:+pinned to CPU }${PIN_CPU:-unpinned}"

one='mapfile -t imgs < "$TMP/images.txt"
     "$CNNPIPE" run -e passthrough --format jpeg --quality 90 --threads 1 "${imgs[@]}" > "$TMP/one.out"'
per='while read -r f; do "$CNNPIPE" run -e passthrough --format jpeg --quality 90 --threads 1 "$f"
     done < "$TMP/images.txt" > "$TMP/per.out"'
ref='while read -r f; do djpeg "$f" | cjpeg -quality 90; done < "$TMP/images.txt" > "$TMP/ref.out"'

$BENCH ${PIN_CPU:+--cpu "$PIN_CPU"} "$ROUNDS" "$one" "$per" "$ref" > "$TMP/times"
mapfile -t r < "$TMP/times"
read -r one_wall one_cpu one_best one_load <<< "${r[0]}"
read -r per_wall per_cpu per_best per_load <<< "${r[1]}"
read -r ref_wall ref_cpu ref_best ref_load <<< "${r[2]}"

printf '%-26s %9s %9s %11s %12s\n' "" "wall s" "CPU s" "best round" "output bytes"
printf '%-26s %9s %9s %11s %12s\n' "cnnpipe, one process" "$one_wall" "$one_cpu" "$one_best" "$(stat -c %s "$TMP/one.out")"
printf '%-26s %9s %9s %11s %12s\n' "cnnpipe, process per image" "$per_wall" "$per_cpu" "$per_best" "$(stat -c %s "$TMP/per.out")"
printf '%-26s %9s %9s %11s %12s\n' "djpeg | cjpeg, per image" "$ref_wall" "$ref_cpu" "$ref_best" "$(stat -c %s "$TMP/ref.out")"
warn_load "cnnpipe, one process" "$one_load"; warn_load "cnnpipe, per image" "$per_load"; warn_load "djpeg | cjpeg" "$ref_load"
echo "ratio cnnpipe one process / djpeg|cjpeg: wall $(ratio "$one_wall" "$ref_wall"), CPU $(ratio "$one_cpu" "$ref_cpu")"
echo "ratio cnnpipe per image   / djpeg|cjpeg: wall $(ratio "$per_wall" "$ref_wall"), CPU $(ratio "$per_cpu" "$ref_cpu")"
goal "JPEG passthrough wall ratio (cnnpipe one process / djpeg|cjpeg)" "$(ratio "$one_wall" "$ref_wall")" "<=" 1.1
