#!/usr/bin/env bash
# CNNRuntime vs ONNX Runtime, same machine, same run, same thread count: median latency of warm runs
# on multistyle26 at 256², 512², 1024² and on the two Magenta models at their declared sizes.
# Goal: multistyle26 at 512² ≤ 0.67× ONNX Runtime's latency. Prints achieved GFLOP/s too.
# onednn_ms: the same binary with CNNPIPE_DNNL=1 (fp32 convolutions on oneDNN instead of im2col + OpenBLAS sgemm).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
runs=${RUNS:-10}
source benchmarks/lib/ort.sh

printf '%-22s %-10s %12s %12s %12s %8s %10s\n' model size cnnpipe_ms onednn_ms ort_ms ratio GFLOP/s
met=0
for spec in multistyle26:256x256 multistyle26:512x512 multistyle26:1024x1024 arbitrary_predict:256x256 arbitrary_transform:384x384; do
  model=${spec%%:*}; size=${spec##*:}; h=${size%x*}; w=${size#*x}
  ours=$("$bin" model bench "$model" --size "$size" --threads "$threads" --runs "$runs" --json)
  ms=$(python3 -c 'import json,sys; print("%.2f" % json.loads(sys.argv[1])["median_ms"])' "$ours")
  old=$(CNNPIPE_DNNL=1 "$bin" model bench "$model" --size "$size" --threads "$threads" --runs "$runs" --json)
  oldms=$(python3 -c 'import json,sys; print("%.2f" % json.loads(sys.argv[1])["median_ms"])' "$old")
  gfs=$(python3 -c 'import json,sys; print("%.1f" % json.loads(sys.argv[1])["gflops_per_s"])' "$ours")
  ort=$("$venv/bin/python" benchmarks/ort_bench.py "models/$model.onnx" "$h" "$w" "$threads" "$runs")
  ratio=$(python3 -c "print('%.2f' % ($ms / $ort))")
  printf '%-22s %-10s %12s %12s %12s %8s %10s\n' "$model" "$size" "$ms" "$oldms" "$ort" "$ratio" "$gfs"
  if [ "$spec" = multistyle26:512x512 ]; then met=$(python3 -c "print(1 if $ms <= 0.67 * $ort else 0)"); fi
done
echo "(ratio = cnnpipe / ONNX Runtime $ortver, $threads threads, median of $runs warm runs)"
[ "$met" = 1 ] && echo "GOAL MET: multistyle26 512² ≤ 0.67× ONNX Runtime" || echo "GOAL MISSED: multistyle26 512² > 0.67× ONNX Runtime"
