#!/usr/bin/env bash
# CNNRuntime vs ONNX Runtime vs OpenVINO (CPU plugin), same machine, same run, same thread count: median
# latency of warm runs on multistyle26 at 256², 512², 1024² and on the two Magenta models at their declared
# sizes (the list of runtime-vs-ort.sh). Also prints cnnpipe's achieved GFLOP/s.
# Goals (issue 16): multistyle26 fp32 at 512² ≤ 0.67× ONNX Runtime and ≤ 0.8× OpenVINO fp32;
# the int8 Magenta models ≤ OpenVINO's int8 latency.
# openvino_bf16_ms is only measured where the CPU has native bf16 (avx512_bf16 or AMX), else "-".
# THREADS (2), RUNS (10); CNNPIPE=path benches that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
runs=${RUNS:-10}
source benchmarks/lib/ort.sh
source benchmarks/lib/openvino.sh
load0=$(cut -d' ' -f1-3 /proc/loadavg)

field() { python3 -c 'import json,sys; print("%.*f" % (int(sys.argv[2]), json.loads(sys.argv[1])[sys.argv[3]]))' "$1" "$2" "$3"; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
within() { python3 -c "print(1 if $1 <= $2 * $3 else 0)"; } # a b k: a ≤ k·b
goal() { # met(1|0) text
  if [ "$1" = 1 ]; then echo "GOAL MET: $2"; else echo "GOAL MISSED: $2"; fi
}

fmt='%-20s %-10s %10s %9s %16s %16s %9s %9s %8s\n'
printf "$fmt" model size cnnpipe_ms ort_ms openvino_fp32_ms openvino_bf16_ms c/ort c/ov_fp32 GFLOP/s
goals=()
for spec in multistyle26:256x256 multistyle26:512x512 multistyle26:1024x1024 arbitrary_predict:256x256 arbitrary_transform:384x384; do
  model=${spec%%:*}; size=${spec##*:}; h=${size%x*}; w=${size#*x}
  ours=$("$bin" model bench "$model" --size "$size" --threads "$threads" --runs "$runs" --json)
  ms=$(field "$ours" 2 median_ms)
  gfs=$(field "$ours" 1 gflops_per_s)
  ort=$("$venv/bin/python" benchmarks/ort_bench.py "models/$model.onnx" "$h" "$w" "$threads" "$runs")
  ov=$("$venv/bin/python" benchmarks/openvino_bench.py "models/$model.onnx" "$h" "$w" "$threads" "$runs" --precision fp32)
  ovbf="-"
  if [ "$ovbf16" = 1 ]; then
    ovbf=$("$venv/bin/python" benchmarks/openvino_bench.py "models/$model.onnx" "$h" "$w" "$threads" "$runs" --precision bf16)
  fi
  printf "$fmt" "$model" "$size" "$ms" "$ort" "$ov" "$ovbf" "$(ratio "$ms" "$ort")" "$(ratio "$ms" "$ov")" "$gfs"
  case $spec in
    multistyle26:512x512)
      goals+=("$(goal "$(within "$ms" "$ort" 0.67)" "multistyle26 512² ≤ 0.67× ONNX Runtime ($ms vs $ort ms)")")
      goals+=("$(goal "$(within "$ms" "$ov" 0.8)" "multistyle26 512² ≤ 0.8× OpenVINO fp32 ($ms vs $ov ms)")") ;;
    arbitrary_*)
      goals+=("$(goal "$(within "$ms" "$ov" 1)" "$model $size ≤ OpenVINO int8 ($ms vs $ov ms)")") ;;
  esac
done
echo "(c/ort = cnnpipe / ONNX Runtime, c/ov_fp32 = cnnpipe / OpenVINO with the f32 precision hint)"
echo "(the Magenta models are int8 QDQ: OpenVINO runs their quantised convolutions in int8 under either hint,"
echo " so their openvino_fp32_ms column is OpenVINO int8 with f32 elsewhere, and openvino_bf16_ms int8 with bf16 elsewhere)"
[ "$ovbf16" = 1 ] || echo "(no avx512_bf16/AMX on this CPU: openvino_bf16_ms not measured)"
echo "(ONNX Runtime $ortver, OpenVINO $ovver, $threads threads, median of $runs warm runs; load average at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${goals[@]}"
