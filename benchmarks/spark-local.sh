#!/usr/bin/env bash
# cnnpipe under Spark on one machine: photos per second of one cnnpipe process (all cores) against
# scripts/spark/tag_library.py with local[CORES] (one single-threaded cnnpipe worker per core), over the
# same N photos (default 200: the corpus's face and content photos, cycled under distinct names), and
# the start-up time of a worker (process start, plugin and model loading, gallery loading).
#
#   1. start-up: `cnnpipe faces identify --gallery G --paths-from /dev/null` (no photos), median of 5
#   2. one process: cnnpipe faces identify --gallery G --paths-from LIST --threads CORES
#   3. Spark: tag_library.py --master local[CORES] --job identify (PPP photos per partition, default 25),
#      its own wall (photos/s from the job's summary) and the time from spark-submit to the result
#      (JVM and Spark start-up included); per-partition start-up = time to the worker's first answer
# Needs scripts/setup.sh --deps --spark (Java 17, PySpark). UPSAMPLE (default 1) as faces tag uses.
source "$(dirname "$0")/lib/common.sh"
N=${N:-200} PPP=${PPP:-25} UPSAMPLE=${UPSAMPLE:-1} CORES=${CORES:-$(nproc)}
PY=$REPO/.build-venv-spark/bin/python
[[ -x $PY ]] || { echo "no PySpark venv: run scripts/setup.sh --deps --spark" >&2; exit 1; }
command -v java >/dev/null || { echo "no java: run scripts/setup.sh --deps --spark" >&2; exit 1; }

G=$TMP/people.db LIB=$TMP/library
"$CNNPIPE" gallery enroll-dir --gallery "$G" "$CORPUS/faces/train" >/dev/null
mkdir -p "$LIB"
mapfile -t photos < <(cd "$CORPUS" && find faces/test faces/group faces/unknown faces/noface faces/edge_cases content \
                      -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
for ((i = 0; i < N; i++)); do
    src=${photos[i % ${#photos[@]}]}
    ln -s "$CORPUS/$src" "$LIB/$(printf %04d $i)_${src//\//_}"
done
find "$LIB" -type l | sort > "$TMP/list"
echo "photos: $N ($(du -shL "$LIB" | cut -f1)), gallery: 10 people from faces/train, upsample $UPSAMPLE, $CORES cores"

now() { date +%s.%N; }
startups=()
for i in 1 2 3 4 5; do
    t0=$(now); "$CNNPIPE" faces identify --gallery "$G" --paths-from /dev/null --threads 1 >/dev/null; t1=$(now)
    startups+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
done
startup=$(printf '%s\n' "${startups[@]}" | sort -n | sed -n 3p)
echo "worker start-up (no photos, median of 5): ${startup} s"

t0=$(now)
"$CNNPIPE" faces identify --gallery "$G" --paths-from "$TMP/list" --threads "$CORES" --upsample "$UPSAMPLE" > "$TMP/one.jsonl"
t1=$(now)
one=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
one_rate=$(ratio "$N" "$one")
echo "one process, $CORES threads: ${one} s, ${one_rate} photos/s ($(grep -c '"status":"ok"' "$TMP/one.jsonl") ok)"

t0=$(now)
CNNPIPE_BIN=$CNNPIPE "$PY" "$REPO/scripts/spark/tag_library.py" --master "local[$CORES]" --job identify --gallery "$G" \
    --upsample "$UPSAMPLE" --photos-per-partition "$PPP" --format parquet -o "$TMP/spark" --paths-file "$TMP/list" \
    > "$TMP/summary.json" 2> "$TMP/spark.log" || { tail -20 "$TMP/spark.log"; exit 1; }
t1=$(now)
total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
read -r job rate partitions pstart < <("$PY" -c '
import json, sys; s = json.load(open(sys.argv[1]))
print(s["seconds"], s["photos_per_second"], s["partitions"], s["worker_startup_seconds_median"])' "$TMP/summary.json")
echo "spark local[$CORES], $partitions partitions of $PPP: job ${job} s, ${rate} photos/s; ${total} s with Spark's own start-up"
echo "  per partition: median time to the first answer ${pstart} s (start-up + first photo)"
echo "ratio spark/one-process photos/s: $(ratio "$rate" "$one_rate") (job), $(ratio "$(ratio "$N" "$total")" "$one_rate") (end to end)"
