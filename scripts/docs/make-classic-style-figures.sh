#!/usr/bin/env bash
# The pictures and numbers of docs/CLASSIC-STYLE.md: for two corpus photos, the photo, the painting,
# the feed-forward result (stylize with the painting) and the optimisation result (stylize-classic),
# side by side; the cost curves of both runs as an SVG; the time per iteration at 512x512. Needs a release build (swift build -c release)
# and the models (scripts/setup-models.sh). Takes about 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
cnnpipe=.build/release/cnnpipe
corpus=../shared/corpus
out=docs/images
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
painting=$corpus/styles/starry_night.jpg
rm -f "$tmp/costs.csv"
for photo in tubingen golden_gate; do
    mkdir -p "$tmp/$photo"
    "$cnnpipe" run -e 'resize width=512 height=512 mode=fit' "$corpus/content/$photo.jpg" -o "$tmp/$photo/1-photo.jpg"
    "$cnnpipe" run -e 'resize width=512 height=512 mode=fit' "$painting" -o "$tmp/$photo/2-painting.jpg"
    "$cnnpipe" run -e "stylize style-image=$painting" "$tmp/$photo/1-photo.jpg" -o "$tmp/$photo/3-feed-forward.jpg"
    start=$(date +%s.%N)
    "$cnnpipe" run -v -e "stylize-classic style-image=$painting size=512 scales=2 iterations=100 costs-csv=$tmp/costs.csv" \
        "$tmp/$photo/1-photo.jpg" -o "$tmp/$photo/4-optimised.jpg" 2> "$tmp/$photo/log"
    end=$(date +%s.%N)
    echo "$photo: stylize-classic 2 scales x 100 iterations: $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
    grep -E "iteration (10|50|100):" "$tmp/$photo/log" | sed 's/^/   /'
    "$cnnpipe" run -e 'grid columns=4 cell=300 gap=6' "$tmp/$photo"/*.jpg -o "$out/classic-$photo.jpg"
done
# Time per iteration at 512x512: runs of 5 and 25 iterations, the difference over 20 (loading and
# the painting's Grams cancel out).
convert "$corpus/content/tubingen.jpg" -resize '512x512!' "$tmp/square.jpg"
seconds() {
    local start end
    start=$(date +%s.%N)
    "$cnnpipe" run -e "stylize-classic style-image=$painting size=0 iterations=$1" "$tmp/square.jpg" -o "$tmp/square-out.jpg"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
t5=$(seconds 5); t25=$(seconds 25)
echo "512x512: 5 iterations $t5 s, 25 iterations $t25 s: $(awk -v a="$t5" -v b="$t25" 'BEGIN { printf "%.3f", (b - a) / 20 }') s per iteration"
python3 scripts/docs/plot_costs.py "$tmp/costs.csv" "$out/classic-costs.svg" \
    "stylize-classic, The Starry Night: costs per iteration (log scale; dashed: 256 px -> 512 px)"
cp "$tmp/costs.csv" "$out/classic-costs.csv"
ls -l "$out"/classic-*
