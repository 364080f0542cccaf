#!/usr/bin/env bash
# A fuzzing campaign: every target (or the ones named) until 1,000,000 executions or SECONDS (default
# 1800) have passed, whichever comes first, one after the other; prints and appends to
# .build-fuzz/campaign.txt a row per target: executions, executions per second, coverage (cov,
# features), peak RSS, crashes/leaks found (artifacts in .build-fuzz/artifacts/TARGET).
#   scripts/fuzz-campaign.sh [--seconds N] [--no-build] [TARGET...]
# --no-build: use the fuzz binaries as built (a second campaign beside a running one).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=1800
if [ "${1:-}" = "--seconds" ]; then seconds=$2; shift 2; fi
build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(scripts/fuzz.sh --list); fi
log=.build-fuzz/campaign.txt
mkdir -p .build-fuzz
artifacts() { { find ".build-fuzz/artifacts/$1" -type f 2>/dev/null || true; } | wc -l; }
row() { printf '%-22s %12s %10s %8s %8s %8s %8s %s\n' "$@" | tee -a "$log"; }
# Built once: sources edited during a long campaign must not fail the later targets' builds.
[ "$build" = 0 ] || scripts/fuzz.sh --build
export FUZZ_NO_BUILD=1
row target executions "exec/s" cov ft "rss MB" found "when"
for t in "${targets[@]}"; do
    out=.build-fuzz/campaign-$t.log
    before=$(artifacts "$t")
    status=0
    FUZZ_FLAGS="-runs=1000000 ${FUZZ_FLAGS:-}" scripts/fuzz.sh "$t" "$seconds" > "$out" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$out" | tail -1 | tr -d " ")
    rate=$(sed -n 's/^stat::average_exec_per_sec: //p' "$out" | tail -1 | tr -d " ")
    rss=$(sed -n 's/^stat::peak_rss_mb: //p' "$out" | tail -1 | tr -d " ")
    read -r cov ft < <(grep -aEo 'cov: [0-9]+ ft: [0-9]+' "$out" | tail -1 | awk '{ print $2, $4 }' || true) || true
    found=$(( $(artifacts "$t") - before ))
    [ "$status" = 0 ] || found="$found (exit $status)"
    row "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${rss:-?}" "$found" "$(date -u +%FT%TZ)"
done
