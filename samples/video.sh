#!/usr/bin/env bash
# Stylises the first SECONDS (default 4) of a corpus clip end to end: ffmpeg decodes to raw PPM frames
# on a pipe, cnnpipe stylises them in order (preset video-starry-night: temporal=stable), ffmpeg
# encodes the result at the clip's frame rate. Usage: samples/video.sh [CLIP] [OUT.mp4]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
clip=${1:-$repo/../shared/corpus/video/bikes.mp4}
out=${2:-$repo/samples/out/video-starry-night.mp4}
seconds=${SECONDS_OF_CLIP:-4}
width=${WIDTH:-640}
cnnpipe=${CNNPIPE:-$repo/.build/release/cnnpipe}
[[ -x $cnnpipe ]] || cnnpipe=$repo/.build/debug/cnnpipe
command -v ffmpeg >/dev/null || { echo "missing ffmpeg: apt-get install ffmpeg" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
rate=$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$clip")
ffmpeg -v error -i "$clip" -t "$seconds" -vf "scale=$width:-2" -f image2pipe -c:v ppm - \
  | "$cnnpipe" run "$repo/presets/video-starry-night.yaml" --format ppm \
  | ffmpeg -v error -y -f image2pipe -framerate "$rate" -c:v ppm -i - -c:v libx264 -pix_fmt yuv420p -crf 20 "$out"
echo "wrote $out ($(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$out") frames)"
