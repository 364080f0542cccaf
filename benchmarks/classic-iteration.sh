#!/usr/bin/env bash
# Time of one L-BFGS iteration of `stylize-classic` (issue 16's gradient goal: ≤ 0.6× of the time
# before the work). Each measurement runs the stage twice on the same photo, SHORT and LONG
# iterations, and divides the difference by LONG − SHORT, so loading, the style targets and the
# encoding cancel out. With BASELINE=path/to/another/cnnpipe both binaries run in interleaved rounds
# (the order alternates) and the ratio this ÷ baseline is printed per round.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
rounds=${ROUNDS:-3}
size=${SIZE:-512}
short=${SHORT:-5}
long=${LONG:-25}
photo=${PHOTO:-../shared/corpus/content/tubingen.jpg}
style=${STYLE:-../shared/corpus/styles/starry_night.jpg}
baseline=${BASELINE:-}
scripts/setup-models.sh
if [ -z "${CNNPIPE:-}" ]; then
  swift build -c release >/dev/null 2>&1 || swift build -c release
  CNNPIPE=$(swift build -c release --show-bin-path)/cnnpipe
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

seconds() {  # binary iterations -> wall seconds of the whole run
  local start end
  start=$(date +%s.%N)
  "$1" run -e "stylize-classic style-image=$style iterations=$2 size=$size" --threads "$threads" -o "$out/result.png" "$photo" 2>/dev/null
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
per_iteration() {
  local a b
  a=$(seconds "$1" "$short"); b=$(seconds "$1" "$long")
  python3 -c "print('%.4f' % (($b - $a) / ($long - $short)))"
}
median() { python3 -c 'import statistics,sys; print("%.4f" % statistics.median(map(float, sys.argv[1:])))' "$@"; }

this=(); base=(); ratios=()
for round in $(seq 1 "$rounds"); do
  if [ -n "$baseline" ] && [ $((round % 2)) = 0 ]; then b=$(per_iteration "$baseline"); t=$(per_iteration "$CNNPIPE")
  else t=$(per_iteration "$CNNPIPE"); [ -n "$baseline" ] && b=$(per_iteration "$baseline"); fi
  this+=("$t")
  if [ -n "$baseline" ]; then
    base+=("$b"); ratios+=("$(python3 -c "print('%.2f' % ($t / $b))")")
    echo "round $round: $t s this, $b s baseline, ratio ${ratios[-1]}"
  else
    echo "round $round: $t s"
  fi
done
echo "one L-BFGS iteration at ${size} px: median $(median "${this[@]}") s ($CNNPIPE)"
[ -n "$baseline" ] && echo "baseline: median $(median "${base[@]}") s ($baseline); ratio per round ${ratios[*]}, median $(median "${ratios[@]}")"
echo "($threads threads; ($long − $short iterations) difference; $(basename "$photo") with $(basename "$style"))"
