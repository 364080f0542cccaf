#!/usr/bin/env bash
# Clustering unknown faces: `cnnpipe faces cluster` against the true identities and against dlib's own
# chinese_whispers_clustering on the same embeddings (the dlib-bin wheel, dlib 20).
#
# Faces: every photo in the corpus's faces/train, faces/test and faces/unknown (a folder per person:
# 10 people in train/test, 2 more in unknown; ../shared/corpus/SOURCES.md).
#   1. `cnnpipe faces cluster --threshold 0.5 -o DIR` over the person folders (timed: the whole run,
#      model loading, detection, embedding, clustering and the contact sheets).
#   2. benchmarks/cluster_dlib.py reads the embeddings cnnpipe wrote (DIR/N/faces.json, float32) and
#      runs dlib.chinese_whispers_clustering(descriptors, 0.5) on them in cnnpipe's order, and the
#      `cnnpipe-bench cluster` on the same numbers; it prints clusters, the adjusted Rand
#      index (ARI) against the identities (the photo's folder) and between cnnpipe and dlib, and
#      whether the labels are identical; then the same on larger synthetic sets (corpus embeddings
#      plus noise, SYNTHETIC sizes, default 1000,3000) with the clustering times of both (cnnpipe:
#      descriptor graph through sgemm + whispers; dlib: its Python call, distances in a double loop).
# Goals (issue): ARI >= 0.95 against the identities, and the same clusters as dlib (ARI 1.0 between
# them; here the labels are compared one by one).
# dlib-bin goes into $DLIB_VENV (default .build-venv-dlib, the venv scripts/make-reference.sh uses).
# Takes about a minute (dlib at 3000 synthetic faces is most of it).
source "$(dirname "$0")/lib/common.sh"
need python3 python3
need_bench

ROUNDS=${ROUNDS:-3}
SYNTHETIC=${SYNTHETIC:-1000,3000}
THREADS=${THREADS:-$(nproc)}
DLIB_VENV=${DLIB_VENV:-$REPO/.build-venv-dlib}
PY=$DLIB_VENV/bin/python

"$REPO/scripts/setup-models.sh"
if ! "$PY" -c 'import dlib, numpy' 2>/dev/null; then
    echo "installing dlib-bin into $DLIB_VENV..." >&2
    [[ -x $DLIB_VENV/bin/pip ]] || python3 -m venv "$DLIB_VENV" || { echo "cannot create a venv: apt-get install python3-venv" >&2; exit 1; }
    "$DLIB_VENV/bin/pip" install --quiet --disable-pip-version-check dlib-bin numpy
fi

folders=("$CORPUS"/faces/train/*/ "$CORPUS"/faces/test/*/ "$CORPUS"/faces/unknown/*/)
photos=$(find "${folders[@]}" -maxdepth 1 -type f | wc -l)
echo "== clustering the corpus faces: cnnpipe faces cluster vs dlib chinese_whispers_clustering, $(nproc) CPUs"
echo "   $photos photos in ${#folders[@]} person folders (train, test, unknown); threshold 0.5; load average $(cut -d' ' -f1-3 /proc/loadavg)"

start=$(date +%s.%N)
"$CNNPIPE" faces cluster --threads "$THREADS" -o "$TMP/clusters" "${folders[@]}" > "$TMP/cluster.out"
end=$(date +%s.%N)
echo "   cnnpipe faces cluster (release, --threads $THREADS): $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s for the whole run"
sed 's/^/   | /' "$TMP/cluster.out" | head -3

"$PY" "$BENCH_DIR/cluster_dlib.py" --clusters "$TMP/clusters" --cnnpipe-bench "$CNNPIPE_BENCH" --rounds "$ROUNDS" --synthetic "$SYNTHETIC" \
    | tee "$TMP/result"
summary=$(tail -1 "$TMP/result")
field() { sed -E "s/.*\\b$1=([^ ]+).*/\\1/" <<<"$summary"; }
goal "adjusted Rand index, cnnpipe clusters vs the true identities" "$(field ari_truth)" ">=" 0.95
goal "adjusted Rand index, cnnpipe clusters vs dlib's on the same embeddings" "$(field ari_dlib)" ">=" 1.0
goal "labels identical to dlib's (corpus and synthetic sets, 1 = all)" "$(field all_same_labels)" ">=" 1
