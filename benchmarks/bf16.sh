#!/usr/bin/env bash
# Opt-in bf16 against fp32 on multistyle26 (issue 16's goal: ≥ 1.8× the fp32 speed, PSNR ≥ 40 dB).
# Speed: `model bench --precision fp32|bf16` in interleaved rounds (the order alternates each round),
# ratio = fp32 ms / bf16 ms per round, median of the rounds. Quality: `cnnpipe run -e 'stylize
# style=7 precision=…'` on corpus photos at their own size, PSNR of the bf16 PNG against the fp32 PNG
# (ImageMagick compare). On a CPU without avx512_bf16 or AMX, bf16 falls back to fp32 (ratio ≈ 1).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
runs=${RUNS:-10}
rounds=${ROUNDS:-3}
sizes=${SIZES:-"256x256 512x512 1024x1024"}
corpus=${CORPUS:-../shared/corpus/content}
photos=${PHOTOS:-"chicago dog amber"}
scripts/setup-models.sh
swift build -c release >/dev/null 2>&1 || swift build -c release
bin=$(swift build -c release --show-bin-path)/cnnpipe
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

bench() {
  "$bin" model bench multistyle26 --size "$1" --threads "$threads" --runs "$runs" --precision "$2" --json 2>/dev/null \
    | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["median_ms"])'
}
median() { python3 -c 'import statistics,sys; print("%.2f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }

"$bin" model bench multistyle26 --size 64x64 --runs 1 --precision bf16 >/dev/null   # prints the note if bf16 falls back
printf '%-10s %10s %10s %8s   %s\n' size fp32_ms bf16_ms ratio "ratio per round"
for size in $sizes; do
  fp=(); bf=(); ratios=()
  for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then f=$(bench "$size" fp32); b=$(bench "$size" bf16)
    else b=$(bench "$size" bf16); f=$(bench "$size" fp32); fi
    fp+=("$f"); bf+=("$b"); ratios+=("$(python3 -c "print('%.2f' % ($f / $b))")")
  done
  printf '%-10s %10s %10s %8s   %s\n' "$size" "$(median "${fp[@]}")" "$(median "${bf[@]}")" "$(median "${ratios[@]}")" "${ratios[*]}"
done
echo "(multistyle26, $threads threads, median of $runs warm runs per bench, $rounds interleaved rounds; ratio = fp32 / bf16)"

printf '\n%-22s %-10s %10s\n' photo size PSNR_dB
for photo in $photos; do
  file=$corpus/$photo.jpg
  [ -f "$file" ] || { echo "$photo: no $file" >&2; continue; }
  for p in fp32 bf16; do "$bin" run -e "stylize style=7 precision=$p" "$file" -o "$out/$photo-$p.png" 2>/dev/null; done
  psnr=$(compare -metric PSNR "$out/$photo-fp32.png" "$out/$photo-bf16.png" null: 2>&1 || true)
  printf '%-22s %-10s %10s\n' "$photo" "$(identify -format '%wx%h' "$file")" "$psnr"
done
echo "(stylize style=7 precision=bf16 against precision=fp32, 8-bit PNG outputs)"
