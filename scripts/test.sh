#!/usr/bin/env bash
# Runs the whole test suite (the README's test command; CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps --spark   # --spark: Java 17 and PySpark, for the Spark job's test
scripts/make-reference.sh        # ONNX Runtime reference outputs for the parity tests (regenerated, not committed)
swift build                     # the executable and the plugin .so files the tests load
log=$(mktemp); trap 'rm -f "$log"' EXIT
status=0
swift test --disable-swift-testing 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]' | tee "$log" || status=$?
# XCTest's own last summary line, restated as the plain "N passed, N failed" closing line.
summary=$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -1 || true)
if [ -z "$summary" ]; then echo "tests: no test summary found" >&2; exit 1; fi
total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$summary")
echo "tests: $((total - failed)) passed, $failed failed"
# Fuzz targets (Fuzz/, ASan) over their generated seeds and saved corpus only: seconds once built.
scripts/fuzz.sh --replay || { echo "fuzz replay: failed" >&2; status=1; }
echo "tests: $((total - failed)) passed, $failed failed"     # restated: the closing line
exit "$status"
