#!/usr/bin/env bash
# Face detection memory on large photos: peak RSS and time of `cnnpipe faces detect` on a corpus
# group photo (PHOTO, default faces/group/bald_guys.jpg) upscaled with ImageMagick to 1, 4, 12, 24
# and 50 MP (SIZES), at --upsample 0, 1, 2 (UPSAMPLES), detecting at full resolution
# (--detect-size 0) and with the default detect-size (a 1600-pixel copy).
# Peak RSS is "Maximum resident set size" from /usr/bin/time -v; one run per case (not a timing
# benchmark: wall times are indicative). Full-resolution cases whose level 0 (MP x 4^upsample)
# exceeds MAX_LEVEL0_MP (default 0 = no limit) are skipped: at 50 MP, upsample 2 is a
# 2.9-gigapixel pyramid and takes a long time.
# Goals: peak RSS <= 2 GB at 50 MP full resolution, every upsample; <= 1 GB with the default policy.
source "$(dirname "$0")/lib/common.sh"
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }
need convert imagemagick

PHOTO=${PHOTO:-$CORPUS/faces/group/bald_guys.jpg}
SIZES=${SIZES:-"1 4 12 24 50"}
UPSAMPLES=${UPSAMPLES:-"0 1 2"}
MAX_LEVEL0_MP=${MAX_LEVEL0_MP:-0}
echo "== faces memory: $(basename "$PHOTO") upscaled to ${SIZES// /, } MP; upsample ${UPSAMPLES// /, }"

read -r W0 H0 < <(identify -format '%w %h\n' "$PHOTO" 2>/dev/null)
printf '%-6s %-12s %-3s %-12s %8s %10s %6s\n' MP size up detect-size seconds "peak MiB" faces
for mp in $SIZES; do
    w=$(awk -v mp="$mp" -v w="$W0" -v h="$H0" 'BEGIN { printf "%d", sqrt(mp * 1e6 * w / h) }')
    h=$(awk -v w="$w" -v w0="$W0" -v h0="$H0" 'BEGIN { printf "%d", w * h0 / w0 }')
    img="$TMP/photo-${mp}mp.jpg"
    convert "$PHOTO" -resize "${w}x${h}!" -quality 92 "$img"
    for up in $UPSAMPLES; do
        for ds in 0 default; do
            level0=$((mp * (1 << (2 * up))))
            if [[ $ds == 0 && $MAX_LEVEL0_MP != 0 && $level0 -gt $MAX_LEVEL0_MP ]]; then
                printf '%-6s %-12s %-3s %-12s %8s\n' "$mp" "${w}x${h}" "$up" "$ds" "skipped (level 0 ${level0} MP > MAX_LEVEL0_MP)"
                continue
            fi
            args=(faces detect --upsample "$up" "$img")
            [[ $ds == 0 ]] && args+=(--detect-size 0)
            start=$(date +%s.%N)
            /usr/bin/time -v -o "$TMP/time.txt" "$CNNPIPE" "${args[@]}" > "$TMP/faces.txt"
            seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
            kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time.txt")
            printf '%-6s %-12s %-3s %-12s %8s %10d %6d\n' "$mp" "${w}x${h}" "$up" "$ds" "$seconds" $((kb / 1024)) "$(wc -l < "$TMP/faces.txt")"
            echo "$mp $up $ds $kb" >> "$TMP/peaks.txt"
        done
    done
done
# Goals on the largest size measured.
largest=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
while read -r mp up ds kb; do
    [[ $mp == "$largest" ]] || continue
    limit=$([[ $ds == 0 ]] && echo 2048 || echo 1024)
    goal "peak RSS MiB, ${mp} MP, upsample $up, detect-size $ds" $((kb / 1024)) "<=" "$limit"
done < "$TMP/peaks.txt"
