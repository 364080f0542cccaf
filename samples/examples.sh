#!/usr/bin/env bash
# Ways to compose cnnpipe with other shell tools. Read, copy, adapt; run with: bash samples/examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cnnpipe="$(swift build -c release --show-bin-path)/cnnpipe"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Many images through one process via a pipe; the output stream holds them back to back.
cat samples/images/*.jpg | "$cnnpipe" run thumbnails > "$tmp/thumbs.jpgs"

# One process per file with xargs, two at a time, each writing next to a name of its own.
ls samples/images/* | xargs -P 2 -I{} "$cnnpipe" run -e 'resize width=200' {} -o "$tmp/"

# A loop that chooses parameters per file.
for f in samples/images/*; do
  "$cnnpipe" run -e 'rotate angle=180' --set rotate.flip=horizontal "$f" -o "$tmp/flipped-$(basename "$f")"
done

# Metadata for scripts: one JSON line per frame on stderr, picked apart with python.
"$cnnpipe" run -e passthrough samples/images --json -o "$tmp/copies/" 2>&1 >/dev/null \
  | python3 -c 'import json,sys; [print(d["output"], d["width"], "x", d["height"]) for d in map(json.loads, sys.stdin)]'

# Convert formats in a pipeline with other tools: ImageMagick makes, cnnpipe processes, exiftool reads.
convert -size 300x200 gradient:navy-gold png:- | "$cnnpipe" run -e 'annotate caption=hello' --format jpeg > "$tmp/hello.jpg"
exiftool -s -ImageSize "$tmp/hello.jpg"
echo "examples ran; outputs were in $tmp"
