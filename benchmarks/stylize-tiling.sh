#!/usr/bin/env bash
# Tiled style transfer: time, peak RSS and the difference from an untiled run.
#
# A corpus photo (PHOTO, default content/chicago.jpg) is resized to 3000x2000 (6 MP: small enough
# to also run untiled, with ~2.5 GB) and stylised (style STYLE, default 19) three ways:
#   untiled                       stylize tile-size=16384 (the whole image in one network run)
#   image (the default)           tiles with whole-image statistics measured over the tiles
#   tile                          tiles that normalise themselves (what naive tiling does)
# and each tiled result is compared with the untiled one (mean |difference| in 0..1, worst pixel,
# worst column/row mean: a seam shows up there). Then a 6000x4000 photo (24 MP) runs with the
# default settings for its time and peak RSS (untiled it would need ~11 GB).
# Goal (issue 4): tiled vs untiled mean difference <= 0.01, no seam; memory bounded at 24 MP.
source "$(dirname "$0")/lib/common.sh"
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }
need convert imagemagick
PHOTO=${PHOTO:-$CORPUS/content/chicago.jpg}
STYLE=${STYLE:-19}
THREADS=${THREADS:-2}
BIG=${BIG:-6000x4000}

convert "$PHOTO" -resize '3000x2000!' "$TMP/photo.png"
convert "$PHOTO" -resize "$BIG!" -quality 92 "$TMP/big.jpg"

# stylise NAME PARAMS: runs it on photo.png, prints "seconds peak-MiB", output in NAME.png.
stylise() {
    /usr/bin/time -f '%e %M' -o "$TMP/time.txt" "$CNNPIPE" run -e "stylize style=$STYLE $2" --threads "$THREADS" \
        --format png < "$TMP/photo.png" > "$TMP/$1.png"
    awk '{ printf "%.1f s, peak %d MiB", $1, $2 / 1024 }' "$TMP/time.txt"
}

# compare A B: mean / worst / worst column / worst row of |A - B| (8-bit, reported in 0..1).
compare() {
    convert "$TMP/$1.png" -depth 8 rgb:"$TMP/a.rgb"; convert "$TMP/$2.png" -depth 8 rgb:"$TMP/b.rgb"
    python3 - "$TMP/a.rgb" "$TMP/b.rgb" 3000 2000 <<'PY'
import sys
a, b = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
w, h = int(sys.argv[3]), int(sys.argv[4])
cols, rows, total, worst = [0] * w, [0] * h, 0, 0
for y in range(h):
    ra, rb = a[y * w * 3:(y + 1) * w * 3], b[y * w * 3:(y + 1) * w * 3]
    d = [abs(p - q) for p, q in zip(ra, rb)]
    s = sum(d); total += s; rows[y] = s; worst = max(worst, max(d))
    for x in range(w): cols[x] += d[3 * x] + d[3 * x + 1] + d[3 * x + 2]
print("mean %.5f, worst pixel %.4f, worst column %.4f, worst row %.4f" % (
    total / (w * h * 3) / 255, worst / 255, max(cols) / (h * 3) / 255, max(rows) / (w * 3) / 255))
PY
}

echo "== stylize tiling: $(basename "$PHOTO") at 3000x2000, style $STYLE, --threads $THREADS"
echo "untiled:      $(stylise untiled 'tile-size=16384')"
for mode in image tile; do
    timing=$(stylise "$mode" "tile-statistics=$mode")
    echo "tiled $mode: $timing; vs untiled: $(compare untiled "$mode")"
done
exact_mean=$(compare untiled image | sed 's/^mean \([0-9.]*\),.*/\1/')
goal "tiled (whole-image statistics) vs untiled mean difference" "$exact_mean" "<=" 0.01

/usr/bin/time -f '%e %M' -o "$TMP/time.txt" "$CNNPIPE" run -e "stylize style=$STYLE" --threads "$THREADS" \
    < "$TMP/big.jpg" > "$TMP/big-out.jpg"
echo "$BIG ($(awk -v s="$BIG" 'BEGIN { split(s, d, "x"); printf "%.0f", d[1] * d[2] / 1e6 }') MP), default (tiled): $(awk '{ printf "%.1f s, peak %d MiB", $1, $2 / 1024 }' "$TMP/time.txt")"
