#!/usr/bin/env bash
# The demo: sets up (apt packages, release build), then runs cnnpipe on samples/images and the
# shared photo corpus, writing viewable results to samples/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
bin="$(swift build -c release --show-bin-path)/cnnpipe"
out=samples/out
mkdir -p "$out"
corpus=../shared/corpus
photos=()
[ -d "$corpus/content" ] && photos=("$corpus/content")

run() { echo "+ cnnpipe $*" >&2; "$bin" "$@"; }

# 1. A contact sheet of the samples and photos (an aggregator stage: one image at end of stream).
run run contact-sheet samples/images "${photos[@]}" -o "$out/contact-sheet.jpg"
# 2. Square thumbnails of everything, one WebP file each (preset that extends another).
run run square-thumbnails samples/images "${photos[@]}" --format webp -o "$out/thumbs/"
# 3. A branching graph: each photo beside a blend with its mirror image.
run run mirror-blend samples/images/color-bars.jpg -o "$out/mirror-blend.jpg"
# 4. Neural style transfer on cnnpipe's own CNN runtime: a painting preset and the 26-style sheet.
if [ -d "$corpus/content" ]; then
  run run starry-night "$corpus/content/tubingen.jpg" -o "$out/tubingen-starry-night.jpg"
  run run -e 'resize width=800 | stylize style=19 preserve-colour=true' "$corpus/content/golden_gate.jpg" -o "$out/golden-gate-swirls.jpg"
  run run style-sheet "$corpus/content/chicago.jpg" -o "$out/chicago-26-styles.jpg"
  # A painting style at the photo's own resolution (left) vs on a 384-pixel copy scaled back (right).
  for r in native 384; do
    run run -e "resize width=1200 | stylize style-image=$corpus/styles/the_scream.jpg resolution=$r" \
      "$corpus/content/chicago.jpg" -o "$out/scream-$r.png"
  done
  run run -e 'grid columns=2 cell=1200 captions=false' "$out/scream-native.png" "$out/scream-384.png" -o "$out/native-vs-384.jpg"
  # The classic method: gradient descent on the pixels (a short run; the presets do 2 x 100 steps).
  run run -v -e "stylize-classic style-image=$corpus/styles/starry_night.jpg size=384 iterations=60" \
    "$corpus/content/golden_gate.jpg" -o "$out/golden-gate-classic.jpg"
  # What a network sees: the 9 patches that excite each of 9 units of a deep MobileNetV2 layer.
  run run top-patches --set top-patches.layer=Relu6__40:0 "$corpus"/content/*.jpg -o "$out/top-patches.jpg"
fi
# 5. Faces: detected, drawn and tagged as XMP face regions (exiftool -j -XMP-mwg-rs:all shows them).
run run face-detect-and-tag "$corpus/faces/group/obama_biden_two_people.jpg" -o "$out/faces-tagged.jpg"
run faces detect "$corpus/faces/group"
# 6. Streams through pipes: mixed formats in, one stream out, split again by a second cnnpipe.
cat samples/images/*.jpg samples/images/*.png samples/images/*.webp \
  | "$bin" run -e 'resize width=400 | rotate angle=90' --format png \
  | "$bin" run -e 'annotate caption="cnnpipe | piped twice"' -o "$out/piped-{index}.png"
echo "demo: results in $out/" >&2
ls -1 "$out" >&2
