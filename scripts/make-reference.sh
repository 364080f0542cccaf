#!/usr/bin/env bash
# Regenerates the ONNX Runtime reference outputs for the parity tests into .build-reference/
# (not committed: CI regenerates them). Needs the models (scripts/setup-models.sh), ImageMagick
# and Python (onnxruntime and numpy go into the venv .build-venv/, used only here).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build-reference}
models=${CNNPIPE_MODELS:-models}
corpus=../shared/corpus
stamp="$out/.done-$(sha256sum scripts/parity/make_reference.py | cut -c1-16)"
[ -f "$stamp" ] && exit 0
venv=.build-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import onnxruntime, numpy' 2>/dev/null || "$venv/bin/pip" install --quiet onnxruntime numpy >&2
rm -rf "$out"; mkdir -p "$out/photos"
# Real photos as raw RGB at the sizes the cases use (centre crop to the aspect, then resize).
for spec in content/tubingen:64x64 content/chicago:256x256 content/golden_gate:96x160 \
            styles/starry_night:256x256 styles/the_scream:256x256 content/tubingen:384x384; do
  file=${spec%%:*}; size=${spec##*:}; h=${size%x*}; w=${size#*x}
  convert "$corpus/$file.jpg" -resize "${w}x${h}^" -gravity center -extent "${w}x${h}" -depth 8 \
    "rgb:$out/photos/$(basename "$file")-${h}x${w}.rgb"
done
"$venv/bin/python" scripts/parity/make_reference.py "$models" "$corpus" "$out" >&2
touch "$stamp"
