#!/usr/bin/env bash
# Memory: peak RSS streaming 1,000 images through a pipeline on stdin, divided by the peak
# RSS for one image. Memory should stay flat however long the stream is.
#
# The same photo (IMAGE, default corpus styles/the_scream.jpg, 1200x1528 = 1.8 MP) is repeated
# N times (default 1000) on a pipe into
#   cnnpipe run -e 'resize width=800 | rotate angle=90 | annotate caption=cnnpipe' --threads T
# with output to /dev/null; peak RSS is "Maximum resident set size" from /usr/bin/time -v.
# Measured for --threads 1 (one image in flight, like the one-image run) and --threads 2 (the
# default on 2 cores: up to two images in flight by design, so expect more than the one-image run).
# Goal: peak(N images) / peak(1 image) <= 1.5, judged for each thread count.
source "$(dirname "$0")/lib/common.sh"
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }

IMAGE=${IMAGE:-$CORPUS/styles/the_scream.jpg}
N=${N:-1000}
CHAIN=${CHAIN:-'resize width=800 | rotate angle=90 | annotate caption=cnnpipe'}
echo "== memory: $(basename "$IMAGE") x 1 and x $N on stdin"
echo "   chain: $CHAIN"

# peak_kb COUNT THREADS: peak RSS (KiB) of cnnpipe for COUNT copies of IMAGE on stdin.
peak_kb() {
    for ((i = 0; i < $1; i++)); do cat "$IMAGE"; done |
        /usr/bin/time -v -o "$TMP/time.txt" "$CNNPIPE" run -e "$CHAIN" --threads "$2" > /dev/null
    awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time.txt"
}

for t in 1 2; do
    one=$(peak_kb 1 "$t")
    start=$SECONDS
    many=$(peak_kb "$N" "$t")
    echo "--threads $t: peak RSS 1 image $((one / 1024)) MiB, $N images $((many / 1024)) MiB ($((SECONDS - start)) s)"
    goal "memory ratio --threads $t ($N images / 1 image)" "$(ratio "$many" "$one")" "<=" 1.5
done
