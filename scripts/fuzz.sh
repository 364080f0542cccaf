#!/usr/bin/env bash
# libFuzzer targets (Fuzz/, a package of its own) with AddressSanitizer, OSS-Fuzz style.
#   scripts/fuzz.sh TARGET [SECONDS]    fuzz one target (default 60 s); new corpus in .build-fuzz/corpus/TARGET,
#                                        crashes in .build-fuzz/artifacts/TARGET (add them to Fuzz/corpus/TARGET)
#   scripts/fuzz.sh --replay [TARGET..]  run the generated seeds and the saved corpus once (CI; seconds)
#   scripts/fuzz.sh --list               the targets
#   scripts/fuzz.sh --build              build them only
# Extra libFuzzer flags: FUZZ_FLAGS="-jobs=1 -workers=1 ...". FUZZ_NO_BUILD=1: use the targets as built.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/.build-fuzz
targets=(stream-splitter decode-jpeg decode-png decode-webp xmp-regions preset onnx dlib-network dlib-shape-predictor
         gallery-json plugin-descriptor)

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${targets[@]}"; exit 0; fi

build_targets() {
    # SwiftPM's --sanitize flags are passed to swiftc one by one and the last wins, so the combined
    # flag goes through -Xswiftc; --sanitize=fuzzer stays so that SwiftPM lets libFuzzer supply main.
    # No build-manifest caching: a cached manifest misses source files added to the main package (a
    # path dependency here), and the build then fails on the new names.
    (cd Fuzz && swift build -c release --build-path "$build" --sanitize=fuzzer --disable-build-manifest-caching \
        -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]|ld.gold: warning') || exit 1
}

# Seeds that are not in the repository: small corpus photos, the ONNX node tests Debian ships, dlib models.
extra_seeds() {
    local target=$1 dir=$2
    mkdir -p "$dir"
    case $target in
        decode-jpeg) # small photos (speed), a few larger ones with real metadata segments (EXIF, ICC, XMP:
            # the Swift side's coverage; libjpeg-turbo itself is not instrumented), and coding variants
            find ../shared/corpus -iname '*.jpg' -size -30k 2>/dev/null | head -20 | xargs -r cp -t "$dir"
            find ../shared/corpus -iname '*.jpg' -size +30k -size -200k 2>/dev/null | head -5 | xargs -r cp -t "$dir"
            local photo; photo=$(find ../shared/corpus -iname '*.jpg' -size -30k 2>/dev/null | head -1)
            if [ -n "$photo" ] && command -v convert >/dev/null; then
                convert "$photo" -resize 64x48 -interlace JPEG "$dir/v-progressive.jpg"
                convert "$photo" -resize 64x48 -define jpeg:restart-interval=1 "$dir/v-restart.jpg"
                convert "$photo" -resize 64x48 -colorspace CMYK "$dir/v-cmyk.jpg"
                convert "$photo" -resize 64x48 -sampling-factor 4:1:1 "$dir/v-411.jpg"
                convert "$photo" -resize 64x48 -colorspace Gray "$dir/v-gray.jpg"
                convert "$photo" -resize 33x17 -quality 100 -sampling-factor 4:4:4 "$dir/v-444-odd.jpg"
                convert "$photo" -resize 64x48 -interlace JPEG -colorspace CMYK "$dir/v-progressive-cmyk.jpg"
            fi ;;
        decode-png) find ../shared/corpus -iname '*.png' -size -200k 2>/dev/null | head -20 | xargs -r cp -t "$dir" ;;
        decode-webp) find ../shared/corpus -iname '*.webp' -size -200k 2>/dev/null | head -20 | xargs -r cp -t "$dir" ;;
        onnx) for m in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
                  [ -f "$m" ] && cp "$m" "$dir/$(basename "$(dirname "$m")").onnx"; done ;;
        dlib-network) [ -f models/mmod_human_face_detector.dat ] && cp models/mmod_human_face_detector.dat "$dir/" ;;
    esac
    return 0
}

if [ "${1:-}" = "--build" ]; then build_targets; exit 0; fi

if [ "${1:-}" = "--replay" ]; then
    shift
    [ $# -gt 0 ] && targets=("$@")
    build_targets
    status=0
    for t in "${targets[@]}"; do
        seeds=$(mktemp -d); mkdir -p "Fuzz/corpus/$t"
        if ! FUZZ_WRITE_SEEDS=$seeds "$build/release/$t" -runs=0 "$seeds" "Fuzz/corpus/$t" >"$seeds.log" 2>&1; then
            echo "fuzz replay: $t FAILED"; tail -40 "$seeds.log"; status=1
        else
            echo "fuzz replay: $t ok ($(grep -Eo 'INITED cov: [0-9]+ ft: [0-9]+' "$seeds.log" | head -1), $(ls "Fuzz/corpus/$t" | wc -l) saved inputs)"
        fi
        rm -rf "$seeds" "$seeds.log"
    done
    exit $status
fi

target=${1:?"usage: scripts/fuzz.sh TARGET [SECONDS] | --replay [TARGET...] | --list"}
seconds=${2:-60}
[[ " ${targets[*]} " == *" $target "* ]] || { echo "unknown target '$target' (scripts/fuzz.sh --list)" >&2; exit 2; }
[ "${FUZZ_NO_BUILD:-0}" = 1 ] || build_targets
work=$build/corpus/$target artifacts=$build/artifacts/$target
mkdir -p "$work" "$artifacts" "Fuzz/corpus/$target"
extra_seeds "$target" "$work"
# Decoders: inputs up to 16 KB (metadata segments and the start of the coded data; libjpeg/libpng/
# libwebp are not instrumented, so longer inputs only slow it down: 7,900 vs 440 exec/s on decode-jpeg
# for about the same coverage). FUZZ_FLAGS may set another -max_len.
limit=()
case $target in decode-*) [[ ${FUZZ_FLAGS:-} == *-max_len=* ]] || limit=(-max_len=16384) ;; esac
FUZZ_WRITE_SEEDS=$work exec "$build/release/$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=4096 -artifact_prefix="$artifacts/" "${limit[@]}" ${FUZZ_FLAGS:-} "$work" "Fuzz/corpus/$target"
