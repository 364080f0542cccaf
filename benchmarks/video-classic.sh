#!/usr/bin/env bash
# Video by optimisation: stylize-classic frame by frame vs temporal=stable (each frame starts from the
# previous result moved by the optical flow, plus the short-term consistency cost of Ruder et al. 2016)
# on the first FRAMES (default 8) frames of CLIP (default carphone_pristine, 176x144) at its own size,
# ITERATIONS (default 40) L-BFGS steps per frame, the starry night painting, for each TEMPORAL_WEIGHTS
# value (default "2000 20000 200000"). Warping error as in video-stability.sh (OpenCV DIS flow,
# video_warping_error.py); style kept as there (video_style_cost.py, relative Gram difference of the
# stable output vs the frame-by-frame output). Seconds per frame for both modes.
source "$(dirname "$0")/lib/common.sh"
source "$BENCH_DIR/lib/video.sh"
need ffmpeg ffmpeg
FRAMES=${FRAMES:-8}
CLIP=${CLIP:-carphone_pristine}
ITERATIONS=${ITERATIONS:-40}
TEMPORAL_WEIGHTS=${TEMPORAL_WEIGHTS:-"2000 20000 200000"}
ffmpeg -v error -i "$CORPUS/video/$CLIP.mp4" -frames:v "$FRAMES" -f image2pipe -c:v ppm - > "$TMP/in.ppm"
chain="stylize-classic style-image=$CORPUS/styles/starry_night.jpg size=0 iterations=$ITERATIONS"
now() { date +%s.%N; }
stylise() {  # OUT EXTRA-PARAMETERS: leaves seconds per frame in $spf
    local start; start=$(now)
    "$CNNPIPE" run -e "$chain $2" --format ppm < "$TMP/in.ppm" > "$1"
    spf=$(awk -v n="$FRAMES" -v s="$start" -v e="$(now)" 'BEGIN { printf "%.2f", (e - s) / n }')
}
warping() { "$VIDEO_PY" "$BENCH_DIR/video_warping_error.py" "$TMP/in.ppm" "$1" 2>/dev/null; }

echo "== stylize-classic on $CLIP: $FRAMES frames, $ITERATIONS iterations per frame"
stylise "$TMP/off.ppm" ""
off=$(warping "$TMP/off.ppm") off_spf=$spf
printf '%-28s %10s %7s %7s %8s\n' mode "warping" ratio Gram "s/frame"
printf '%-28s %10s %7s %7s %8s\n' "frame by frame" "$off" 1 0 "$off_spf"
for weight in $TEMPORAL_WEIGHTS; do
    stylise "$TMP/stable.ppm" "temporal=stable temporal-weight=$weight"
    we=$(warping "$TMP/stable.ppm")
    gram=$("$VIDEO_PY" "$BENCH_DIR/video_style_cost.py" "$TMP/off.ppm" "$TMP/stable.ppm" "$REPO/models/arbitrary_predict.onnx")
    printf '%-28s %10s %7s %7s %8s\n' "stable, weight $weight" "$we" "$(ratio "$we" "$off")" "$gram" "$spf"
done
