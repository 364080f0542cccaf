#!/usr/bin/env bash
# Regenerates the reference outputs for the parity tests into .build-reference/ (not committed:
# CI regenerates them). Needs the models (scripts/setup-models.sh), ImageMagick and Python.
#   ONNX Runtime outputs -> .build-reference/         (venv .build-venv/: onnxruntime, numpy)
#   dlib outputs         -> .build-reference/dlib/    (venv .build-venv-dlib/: dlib-bin, numpy)
# The Python packages are used only here, never by cnnpipe. Each part is skipped when its
# stamp (a hash of its script) says it is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build-reference}
models=${CNNPIPE_MODELS:-models}
corpus=../shared/corpus

# A venv with the given packages (installed only when an import fails).
venv_with() {
  local venv=$1 imports=$2; shift 2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -c "import $imports" 2>/dev/null || "$venv/bin/pip" install --quiet "$@" >&2
}

onnx_reference() {
  local stamp="$out/.done-$(sha256sum scripts/parity/make_reference.py | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  venv_with .build-venv "onnxruntime, numpy" onnxruntime numpy
  # Everything but the dlib part (which has its own stamp) is regenerated.
  mkdir -p "$out"; find "$out" -mindepth 1 -maxdepth 1 ! -name dlib -exec rm -rf {} +
  mkdir -p "$out/photos"
  # Real photos as raw RGB at the sizes the cases use (centre crop to the aspect, then resize).
  for spec in content/tubingen:64x64 content/chicago:256x256 content/golden_gate:96x160 \
              styles/starry_night:256x256 styles/the_scream:256x256 content/tubingen:384x384; do
    file=${spec%%:*}; size=${spec##*:}; h=${size%x*}; w=${size#*x}
    convert "$corpus/$file.jpg" -resize "${w}x${h}^" -gravity center -extent "${w}x${h}" -depth 8 \
      "rgb:$out/photos/$(basename "$file")-${h}x${w}.rgb"
  done
  .build-venv/bin/python scripts/parity/make_reference.py "$models" "$corpus" "$out" >&2
  touch "$stamp"
}

# dlib's face chips + descriptors and CNN detector results (dlib 20 from the dlib-bin wheel).
dlib_reference() {
  local dir="$out/dlib"
  local stamp="$dir/.done-$(cat scripts/parity/make_dlib_reference.py scripts/parity/make_dlib_corpus_reference.py | sha256sum | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  venv_with .build-venv-dlib "dlib, numpy" dlib-bin numpy
  rm -rf "$dir"
  .build-venv-dlib/bin/python scripts/parity/make_dlib_reference.py "$models" "$corpus" "$dir" >&2
  touch "$stamp"
}

onnx_reference
dlib_reference
