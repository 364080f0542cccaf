#!/usr/bin/env bash
# Runs the whole test suite (the README's test command; CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps
swift build                     # the executable and the plugin .so files the tests load
swift test 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\]'
