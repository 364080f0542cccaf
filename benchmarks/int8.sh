#!/usr/bin/env bash
# The int8 QDQ Magenta models: cnnpipe with its integer convolutions (oneDNN u8/s8×s8, the default
# where VNNI is there), cnnpipe with them off (CNNPIPE_INT8=0: dequantise, float conv, quantise) and
# ONNX Runtime, in interleaved rounds (the order rotates each round). Median of `runs` warm runs per
# bench; the ratio columns are per-round ratios against ONNX Runtime, median over the rounds.
# Parity of the same builds against the ORT references: scripts/make-reference.sh, then
# `swift test --filter 'QuantizedConvTests|ParityTests/testMagenta'`.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
runs=${RUNS:-10}
rounds=${ROUNDS:-3}
source benchmarks/lib/ort.sh

ours() { # model size int8(1|0)
  CNNPIPE_INT8=$3 "$bin" model bench "$1" --size "$2" --threads "$threads" --runs "$runs" --json \
    | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["median_ms"])'
}
theirs() { "$venv/bin/python" benchmarks/ort_bench.py "models/$1.onnx" "${2%x*}" "${2#*x}" "$threads" "$runs"; }
median() { python3 -c 'import statistics,sys; print("%.2f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

printf '%-22s %-8s %9s %9s %9s %10s %10s   %s\n' model size int8_ms float_ms ort_ms int8/ort float/ort "int8/ort per round"
for spec in arbitrary_predict:256x256 arbitrary_transform:384x384; do
  model=${spec%%:*}; size=${spec##*:}
  i8=(); fl=(); ort=(); ri=(); rf=()
  for round in $(seq 1 "$rounds"); do
    case $((round % 3)) in
      1) a=$(ours "$model" "$size" 1); b=$(ours "$model" "$size" 0); o=$(theirs "$model" "$size") ;;
      2) o=$(theirs "$model" "$size"); a=$(ours "$model" "$size" 1); b=$(ours "$model" "$size" 0) ;;
      0) b=$(ours "$model" "$size" 0); o=$(theirs "$model" "$size"); a=$(ours "$model" "$size" 1) ;;
    esac
    i8+=("$a"); fl+=("$b"); ort+=("$o"); ri+=("$(ratio "$a" "$o")"); rf+=("$(ratio "$b" "$o")")
  done
  printf '%-22s %-8s %9s %9s %9s %10s %10s   %s\n' "$model" "$size" "$(median "${i8[@]}")" "$(median "${fl[@]}")" \
    "$(median "${ort[@]}")" "$(median "${ri[@]}")" "$(median "${rf[@]}")" "${ri[*]}"
done
echo "(ONNX Runtime $ortver, $threads threads, median of $runs warm runs per bench, $rounds interleaved rounds; load: $(cut -d' ' -f1-3 /proc/loadavg))"
