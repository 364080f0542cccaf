#!/usr/bin/env bash
# Tagging a photo library: `cnnpipe faces tag` over a library of N photos (default 300) in nested
# folders, first run and re-run, against face_recognition's command on the same photos.
#
# The library: the corpus's face photos (test/, unknown/, group/, noface/, edge_cases/) and content
# photos, cycled into LIB/<year>/<month>/ folders as <person>__<file> (the person from the corpus
# folder, "none" when not known) until there are N; BIG of them (default 30) are upscaled to
# 4000x3000 (12 MP), as phone photos are. The gallery: one photo per person of faces/train (the
# first, sorted), enrolled with `cnnpipe gallery enroll-dir`; face_recognition gets the same
# photos as known/<person>.jpg.
#
#   1. cnnpipe faces tag --gallery G --sidecar LIB         first run: wall, per photo, peak RSS
#   2. the same command again                               incremental: wall (goal <= 2% of 1.)
#   3. on a flat sample of FR_SAMPLE photos (default 40, the same for every tool; face_recognition's
#      command does not look into subfolders): face_recognition KNOWN SAMPLE with its default HOG
#      detector and with dlib's CNN (face_recognition_bench.py cli-cnn: its own main() with the
#      CNN detector), and cnnpipe faces tag --dry-run on the sample. Per-photo wall ratio, goal
#      cnnpipe <= 0.2x face_recognition with the CNN.
#   Recall: of the sample photos whose person the gallery knows (faces/test/<person>), how many
#   get that person's name, for each tool (goal: cnnpipe >= face_recognition with the CNN).
# Peak RSS goal for the library run: <= 1 GB. THREADS (default 2) for cnnpipe, --cpus for face_recognition.
# PEERS=0 skips step 3 (face_recognition, about 20 minutes) and its goals.
# Takes about 15-25 minutes on 2 idle cores, most of it face_recognition's CNN run.
source "$(dirname "$0")/lib/common.sh"
source "$BENCH_DIR/lib/frec.sh"
need convert imagemagick
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }

N=${N:-300}
BIG=${BIG:-30}
FR_SAMPLE=${FR_SAMPLE:-40}
THREADS=${THREADS:-2}
HELPER=$BENCH_DIR/face_recognition_bench.py
FACES=$CORPUS/faces
LIB=$TMP/library KNOWN=$TMP/known SAMPLE=$TMP/sample
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS

mkdir -p "$KNOWN" "$SAMPLE"
for dir in "$FACES"/train/*/; do
    first=$(cd "$dir" && ls | LC_ALL=C sort | head -1)
    cp "$dir/$first" "$KNOWN/$(basename "$dir").${first##*.}"
done
mapfile -t sources < <(cd "$CORPUS" && find faces/test faces/unknown faces/group faces/noface faces/edge_cases content \
    -type f \( -name '*.jpg' -o -name '*.jpeg' -o -name '*.png' \) | LC_ALL=C sort)
for ((i = 0; i < N; i++)); do
    src=${sources[i % ${#sources[@]}]}
    person=none
    [[ $src == faces/test/* ]] && person=$(basename "$(dirname "$src")")
    folder=$LIB/$((2015 + i % 7))/$(printf '%02d' $((1 + i / 7 % 12)))
    mkdir -p "$folder"
    dest=$folder/${person}__$((i / ${#sources[@]}))_$(basename "$src")
    if ((i < BIG)) && [[ $src == *.jpg ]]; then
        convert "$CORPUS/$src" -resize '4000x3000!' -quality 92 "$dest"
    else
        cp "$CORPUS/$src" "$dest"
    fi
    ((i % (N / FR_SAMPLE) == 0)) && (( $(ls "$SAMPLE" | wc -l) < FR_SAMPLE )) && cp "$dest" "$SAMPLE/"
done
n_photos=$(find "$LIB" -type f | wc -l)
mp=$(find "$LIB" -type f -exec identify -format '%w %h\n' {} + 2>/dev/null | awk '{ s += $1 * $2 } END { printf "%.0f", s / 1e6 }')

echo "== library tagging: $n_photos photos ($BIG upscaled to 12 MP, $mp MP in all) in $(find "$LIB" -mindepth 2 -type d | wc -l) folders; $THREADS threads, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$CNNPIPE" gallery enroll-dir --gallery "$TMP/people.db" "$KNOWN" >/dev/null 2>&1 || true
echo "   gallery: $("$CNNPIPE" gallery list --gallery "$TMP/people.db" | tail -1)"

# run LABEL OUT CMD...: one timed run, its stdout into OUT; leaves wall (s) and rss (MB).
run() {
    local label=$1 out=$2; shift 2
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" > "$out"
    read -r wall rss_kb < "$TMP/time"
    rss=$((rss_kb / 1024))
    printf '   %-58s wall %8s s  peak %6s MB\n' "$label" "$wall" "$rss"
}

run "cnnpipe faces tag --sidecar (first run)" "$TMP/first.jsonl" \
    "$CNNPIPE" faces tag --gallery "$TMP/people.db" --sidecar --threads "$THREADS" --json "$LIB"
first_wall=$wall first_rss=$rss
run "cnnpipe faces tag --sidecar (again: incremental)" "$TMP/second.jsonl" \
    "$CNNPIPE" faces tag --gallery "$TMP/people.db" --sidecar --threads "$THREADS" --json "$LIB"
second_wall=$wall
echo "   first run: $(awk -v w="$first_wall" -v n="$n_photos" 'BEGIN { printf "%.0f ms per photo", 1000 * w / n }'), " \
     "$(grep -c '"ok"' "$TMP/first.jsonl") tagged, $(grep -o '"name"' "$TMP/first.jsonl" | wc -l) faces named;" \
     "second run: $(grep -c '"skipped"' "$TMP/second.jsonl") skipped"

if [[ ${PEERS:-1} == 0 ]]; then
    echo
    goal "incremental re-run / first run (wall)" "$(ratio "$second_wall" "$first_wall")" "<=" 0.02
    goal "peak RSS of the library run (MB)" "$first_rss" "<=" 1024
    exit 0
fi

echo
echo "-- face_recognition on a flat sample of $(ls "$SAMPLE" | wc -l) photos (the same for every tool)"
run "cnnpipe faces tag --dry-run (sample)" "$TMP/cnnpipe-sample.txt" \
    "$CNNPIPE" faces tag --gallery "$TMP/people.db" --dry-run --threads "$THREADS" "$SAMPLE"
cn_wall=$wall
run "face_recognition, HOG (its default), --cpus $THREADS" "$TMP/fr-hog.txt" \
    "$FR" --cpus "$THREADS" --show-distance true "$KNOWN" "$SAMPLE"
hog_wall=$wall
run "face_recognition, CNN detector, --cpus $THREADS" "$TMP/fr-cnn.txt" \
    "$PY" "$HELPER" cli-cnn --cpus "$THREADS" --show-distance true "$KNOWN" "$SAMPLE"
cnn_wall=$wall

# recall FILE: "named/labelled" over the sample photos whose person the gallery knows.
recall() {
    python3 - "$1" "$SAMPLE" <<'PY'
import os, sys
named = {}
for line in open(sys.argv[1]):
    parts = line.strip().split(",")
    if len(parts) >= 2:
        named.setdefault(os.path.basename(parts[0]), set()).add(parts[1].replace(" ", "_").lower())
labelled = [f for f in os.listdir(sys.argv[2]) if not f.startswith("none__")]
hits = sum(1 for f in labelled if f.split("__")[0].lower() in named.get(f, set()))
print(f"{hits}/{len(labelled)}")
PY
}
cn_recall=$(recall "$TMP/cnnpipe-sample.txt") hog_recall=$(recall "$TMP/fr-hog.txt") cnn_recall=$(recall "$TMP/fr-cnn.txt")
echo "   recall (labelled sample photos named as their person): cnnpipe $cn_recall, face_recognition HOG $hog_recall, CNN $cnn_recall"
echo "   per photo: cnnpipe / face_recognition CNN $(ratio "$cn_wall" "$cnn_wall"), cnnpipe / face_recognition HOG $(ratio "$cn_wall" "$hog_wall")"

echo
goal "incremental re-run / first run (wall)" "$(ratio "$second_wall" "$first_wall")" "<=" 0.02
goal "peak RSS of the library run (MB)" "$first_rss" "<=" 1024
goal "per-photo wall, cnnpipe / face_recognition with the CNN" "$(ratio "$cn_wall" "$cnn_wall")" "<=" 0.2
goal "recall, cnnpipe minus face_recognition (CNN), labelled sample photos" \
    "$(( ${cn_recall%/*} - ${cnn_recall%/*} ))" ">=" 0
