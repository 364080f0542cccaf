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
# 4. Streams through pipes: mixed formats in, one stream out, split again by a second cnnpipe.
cat samples/images/*.jpg samples/images/*.png samples/images/*.webp \
  | "$bin" run -e 'resize width=400 | rotate angle=90' --format png \
  | "$bin" run -e 'annotate caption="cnnpipe | piped twice"' -o "$out/piped-{index}.png"
echo "demo: results in $out/" >&2
ls -1 "$out" >&2
