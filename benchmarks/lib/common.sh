# Shared set-up for the benchmark scripts; source it, don't run it.
#   CNNPIPE        the binary: default .build/release/cnnpipe, built here with `swift build -c release`
#                  (skipped with CNNPIPE_NO_BUILD=1, or when CNNPIPE is given to time another build)
#   CNNPIPE_BENCH  the benchmark executable (cnnpipe-bench), default beside CNNPIPE; checked by the
#                  scripts that use it (need_bench)
#   CORPUS         the photo corpus (read in place, never copied into the repo)
#   BENCH          the timing helper (see lib/bench.py)
#   TMP            a scratch directory, removed on exit
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(dirname "$BENCH_DIR")
CORPUS=${CORPUS:-$REPO/../shared/corpus}
BENCH="python3 $BENCH_DIR/lib/bench.py"

if [[ -z ${CNNPIPE:-} && ${CNNPIPE_NO_BUILD:-0} != 1 ]]; then
    echo "building (swift build -c release)..." >&2
    (cd "$REPO" && swift build -c release >/dev/null)
fi
CNNPIPE=${CNNPIPE:-$REPO/.build/release/cnnpipe}
[[ -x $CNNPIPE ]] || { echo "no $CNNPIPE; build with swift build -c release" >&2; exit 1; }
CNNPIPE_BENCH=${CNNPIPE_BENCH:-$(dirname "$CNNPIPE")/cnnpipe-bench}
need_bench() { [[ -x $CNNPIPE_BENCH ]] || { echo "no $CNNPIPE_BENCH; build with swift build -c release" >&2; exit 1; }; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cnnpipe-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# need TOOL DEBIAN-PACKAGE: fail early with the install hint.
need() { command -v "$1" >/dev/null || { echo "missing $1: apt-get install $2" >&2; exit 1; }; }

# ratio A B: A/B to 3 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# goal NAME VALUE OP LIMIT (OP is <= or >=): prints GOAL MET / GOAL MISSED.
goal() {
    if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == "<=" ? v <= l : v >= l) }'; then
        echo "GOAL MET: $1 = $2 (goal $3 $4)"
    else
        echo "GOAL MISSED: $1 = $2 (goal $3 $4)"
    fi
}

# Warn when other processes used the CPUs during a measurement (fraction of one core).
warn_load() {
    if awk -v o="$2" 'BEGIN { exit !(o > 0.15) }'; then
        echo "  warning: other processes used ${2} of a core during '$1': numbers are disturbed"
    fi
}

# corpus_jpegs [SUBDIR...]: the corpus JPEGs, sorted, one per line.
corpus_jpegs() {
    local dirs=("$@")
    ((${#dirs[@]})) || dirs=(content styles faces)
    (cd "$CORPUS" && find "${dirs[@]}" -name '*.jpg' -type f | sort | sed "s|^|$CORPUS/|")
}
