#!/usr/bin/env bash
# Pipeline scaling: throughput of a 3-stage Basics chain with --threads 2 divided by --threads 1.
#
# Input: 200 JPEGs back to back on stdin, made by cycling the corpus photos in content/ and
# styles/ (0.1-1.8 MP). Chain (CHAIN to override):
#   resize width=800 | rotate angle=90 | annotate caption=cnnpipe
# Output: JPEG quality 90 to /dev/null. Each variant runs ROUNDS times (default 3), interleaved.
# Goal: throughput(--threads 2) / throughput(--threads 1) >= 1.8 on 2 cores.
# For reference the same run also measures what this machine can give at best: two independent
# --threads 1 processes at once, each on half the stream ("ceiling"). A ceiling well below 2
# means the CPUs themselves do not scale (shared host, memory bandwidth), not cnnpipe.
# Then one more --threads 2 run, untimed, under lib/runnable.py: how many of cnnpipe's threads
# are runnable at once (goal: more than the CPUs in at most 1% of the samples, the moments a pool thread
# wakes as a step ends; every stage shares the one --threads budget).
# A CNN stage in the chain: CHAIN='resize width=512 height=512 mode=fill | stylize style=19' IMAGES=50
source "$(dirname "$0")/lib/common.sh"

ROUNDS=${ROUNDS:-3}
IMAGES=${IMAGES:-200}
CHAIN=${CHAIN:-'resize width=800 | rotate angle=90 | annotate caption=cnnpipe'}
mapfile -t photos < <(corpus_jpegs content styles)
for ((i = 0; i < IMAGES; i++)); do
    cat "${photos[i % ${#photos[@]}]}" >> "$TMP/half$((2 * i / IMAGES)).jpgs"
done
cat "$TMP/half0.jpgs" "$TMP/half1.jpgs" > "$TMP/stream.jpgs"
export CNNPIPE TMP CHAIN
echo "== pipeline scaling: $IMAGES images (${#photos[@]} photos cycled, $(($(stat -c %s "$TMP/stream.jpgs") >> 20)) MiB), $ROUNDS rounds, $(nproc) CPUs"
echo "   chain: $CHAIN"

run='"$CNNPIPE" run -e "$CHAIN" --threads @T@ < "$TMP/@IN@.jpgs" > /dev/null'
one=${run/@IN@/stream} half0=${run/@IN@/half0} half1=${run/@IN@/half1}
$BENCH "$ROUNDS" "${one/@T@/1}" "${one/@T@/2}" "${half0/@T@/1} & pid=\$!; ${half1/@T@/1}; wait \$pid" > "$TMP/times"
mapfile -t r < "$TMP/times"
read -r t1_wall t1_cpu t1_best t1_load <<< "${r[0]}"
read -r t2_wall t2_cpu t2_best t2_load <<< "${r[1]}"
read -r c_wall c_cpu c_best c_load <<< "${r[2]}"

row() {  # label wall cpu best: also images/s and cores busy on average (CPU / wall)
    printf '%-34s total wall %7s s, CPU %7s s (%s cores busy), best round %6s s, %5s images/s\n' "$1" "$2" "$3" \
        "$(ratio "$3" "$2")" "$4" "$(awk -v n="$((IMAGES * ROUNDS))" -v w="$2" 'BEGIN { printf "%.1f", n / w }')"
}
row "--threads 1" "$t1_wall" "$t1_cpu" "$t1_best"
row "--threads 2" "$t2_wall" "$t2_cpu" "$t2_best"
row "ceiling: 2 processes, --threads 1" "$c_wall" "$c_cpu" "$c_best"
warn_load "--threads 1" "$t1_load"; warn_load "--threads 2" "$t2_load"; warn_load "ceiling" "$c_load"
echo "ratio throughput --threads 2 / --threads 1: $(ratio "$t1_wall" "$t2_wall") (best rounds: $(ratio "$t1_best" "$t2_best"))"
echo "ceiling ratio 2 processes / --threads 1:    $(ratio "$t1_wall" "$c_wall") (best rounds: $(ratio "$t1_best" "$c_best"))"
goal "pipeline scaling (throughput 2 threads / 1 thread)" "$(ratio "$t1_wall" "$t2_wall")" ">=" 1.8

read -r samples mean peak above most < <(python3 "$BENCH_DIR/lib/runnable.py" "${one/@T@/2}")
echo "runnable threads, --threads 2 ($samples samples every 5 ms): mean $mean, max $peak, above $(nproc) CPUs in $above of the busy samples; $most threads at most"
goal "share of busy samples with more runnable threads than CPUs" "$above" "<=" 0.01
