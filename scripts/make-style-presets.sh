#!/usr/bin/env bash
# Writes presets/<painting>.yaml for each painting in ../shared/corpus/styles: the painting's
# 100-number style vector, computed once with CNNRuntime (Magenta predictor), stored in the preset
# so it works without the painting file. Rerun after changing the predictor path.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(swift build -c release --show-bin-path)/cnnpipe
styles=../shared/corpus/styles
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
declare -A titles=(
  [starry_night]="The Starry Night (Vincent van Gogh, 1889)"
  [the_scream]="The Scream (Edvard Munch, 1893)"
  [great_wave]="The Great Wave off Kanagawa (Hokusai, c. 1831)"
  [shipwreck]="The Shipwreck (J. M. W. Turner, 1805)"
  [udnie]="Udnie (Francis Picabia, 1913)"
  [woman-with-hat-matisse]="Woman with a Hat (Henri Matisse, 1905)"
  [contrast_of_forms]="Contrast of Forms (Fernand Léger, 1913)"
)
for painting in "$styles"/*.jpg; do
  name=$(basename "$painting" .jpg)
  preset=presets/$(echo "$name" | tr '_' '-').yaml
  # Any small photo will do: the vector depends on the painting only.
  "$bin" run -e "resize width=64 height=64 mode=exact | stylize style-image=$painting" samples/images/color-bars.jpg \
    --json-file "$tmp/meta.jsonl" -o "$tmp/out.jpg"
  vector=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["tags"]["style-vector"])' "$tmp/meta.jsonl")
  cat > "$preset" <<YAML
description: In the style of ${titles[$name]:-$name} (painting style, works without the painting file)
# Style vector computed by scripts/make-style-presets.sh with CNNRuntime's Magenta style predictor.
stages:
  - stylize:
      style-vector: "$vector"
      strength: 1.0
YAML
  echo "wrote $preset" >&2
done
