#!/usr/bin/env bash
# Face identification: cnnpipe against dlib (dlib-bin 20.0.1) and the face_recognition package
# (1.3.0), in one run on the same machine, same thread counts.
#
# 1. Embeddings per second: dlib's face_recognition_model_v1.compute_face_descriptor on aligned
#    150x150 chips vs `cnnpipe model bench dlib_face_recognition_resnet_model_v1` (median ms of a
#    warm forward at batch 1). The chips are every face of faces/train/*/* as face_recognition
#    makes them (HOG detector, 5-point landmarks, dlib.get_face_chip 150 px, padding 0.25;
#    benchmarks/face_recognition_bench.py). Only the descriptor calls are timed, PASSES passes
#    (default 2) over all chips, two ways: one chip per call, and all chips in one list call
#    (dlib's batch API for aligned chips). cnnpipe runs --threads 1 and 2, ROUNDS rounds
#    (default 3) of RUNS timed forwards (default 30), interleaved; the best round counts, as the
#    best dlib pass does. Both sides run the same file (face_recognition_models' .dat, SHA-256
#    checked by scripts/setup-models.sh) and the script checks that they compute the same
#    descriptor for one chip. Goal: cnnpipe time per face <= 0.5x dlib's (dlib's faster way).
#    Threads: dlib-bin is built without BLAS and runs the network on one core (the helper
#    reports its CPU/wall), so cnnpipe --threads 1 is the like-for-like row; --threads 2 shows
#    what the second core the machine has adds (dlib has no way to use it for one network).
# 2. Whole processes, enrolment + identification of the corpus:
#      KNOWN  one photo per person: the first (sorted) of faces/train/<person>/, copied as
#             <person>.jpg (face_recognition's layout; cnnpipe gallery enroll-dir reads it too)
#      TEST   faces/test/<person>/* copied flat as <person>__<file>: neither face_recognition nor
#             `cnnpipe faces identify` looks into subfolders, so both get this one flat folder
#    cnnpipe      gallery enroll-dir --gallery G.db KNOWN, then faces identify --gallery G.db TEST
#                 (two processes; times added), --threads THREADS
#    face_recognition KNOWN TEST --show-distance true (one process), --cpus 1 (its default) and
#                 --cpus FR_CPUS (default THREADS; a process pool over the test images only)
#    Detection: face_recognition's command finds faces with dlib's HOG detector, upsampled once;
#    it has no --model option (only its face_detection command has). The like-for-like run
#    uses dlib's MMOD CNN, cnnpipe's detector: `face_recognition_bench.py cli-cnn` is the
#    command's own main() with face_recognition.api's detector set to the CNN, upsample still 1,
#    against cnnpipe --upsample 1. cnnpipe's default (--upsample 0, a quarter of the pixels) is
#    a labelled extra row. face_recognition shrinks test images over 1600 px to 1600 first
#    (two of the 21 here); cnnpipe runs them at full size, so it does more work on those two.
#    Output: each tool's lines are scored per test image (exactly its person = correct;
#    face_recognition prints every known person within the tolerance, so an image can also be
#    ambiguous), and the distances of cnnpipe and face_recognition-with-CNN are compared.
#    Timing: one run each (face_recognition with the CNN alone takes minutes here); wall, CPU
#    (every process, --cpus workers included), peak memory of the largest process, and the other
#    processes' load; the CPU-time ratio is printed too, as it suffers less from a busy machine.
#    Goals: cnnpipe wall <= 0.5x face_recognition's like-for-like (CNN) run, and cnnpipe names
#    at least as many test images correctly.
# QUICK=1: PASSES=1 ROUNDS=1 RUNS=10 FR_CNN=0 (skips face_recognition's CNN run and its goal).
# The full run takes about 10 minutes on 2 idle cores, most of it face_recognition's CNN run (14
# minutes with other processes using 1.3 cores meanwhile); keep the machine otherwise idle.
#
# face_recognition, dlib-bin, numpy, Pillow, Click and face_recognition_models are installed with
# pip --no-deps into $FREC_VENV (default .build-venv-frec, created if absent); the 100 MB
# face_recognition_models sdist is the one scripts/setup-models.sh keeps in .build-models.
# Other knobs: THREADS (default 2), CNNPIPE, CNNPIPE_NO_BUILD, CORPUS.
source "$(dirname "$0")/lib/common.sh"
need python3 python3

if [[ ${QUICK:-0} == 1 ]]; then : "${PASSES:=1}" "${ROUNDS:=1}" "${RUNS:=10}" "${FR_CNN:=0}"; fi
THREADS=${THREADS:-2}
PASSES=${PASSES:-2}
ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-30}
FR_CPUS=${FR_CPUS:-$THREADS}
FR_CNN=${FR_CNN:-1}
HELPER=$BENCH_DIR/face_recognition_bench.py
FACES=$CORPUS/faces
MODEL=dlib_face_recognition_resnet_model_v1
GOAL=0.5

"$REPO/scripts/setup-models.sh"

source "$BENCH_DIR/lib/frec.sh"

export CNNPIPE TMP PY FR HELPER THREADS RUNS FR_CPUS MODEL
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS

# Inputs (see the header).
mkdir -p "$TMP/known" "$TMP/test"
for dir in "$FACES"/train/*/; do
    first=$(cd "$dir" && find . -maxdepth 1 -type f -regextype posix-extended -iregex '.*\.(jpe?g|png)' | LC_ALL=C sort | head -1)
    [[ -n $first ]] && cp "$dir/$first" "$TMP/known/$(basename "$dir").${first##*.}"
done
for photo in "$FACES"/test/*/*; do cp "$photo" "$TMP/test/$(basename "$(dirname "$photo")")__$(basename "$photo")"; done
n_known=$(ls "$TMP/known" | wc -l) n_test=$(ls "$TMP/test" | wc -l)

echo "== identify vs face_recognition: $THREADS threads, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   $("$PY" "$HELPER" versions)"
echo "   model $MODEL.dat: $(sha256sum "$REPO/models/$MODEL.dat" | cut -c1-16)... (both sides)"

# jget FILE KEY: a value from a one-line JSON file.
jget() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# per_s MS: faces per second.
per_s() { awk -v ms="$1" 'BEGIN { printf "%.1f", 1000 / ms }'; }

# ---- 1. embeddings ----
n_chips=$("$PY" "$HELPER" chips "$TMP/chips" "$FACES"/train/*/*)
echo
echo "-- 1. embeddings: $n_chips aligned 150x150 chips from faces/train (descriptor calls only)"
"$PY" "$HELPER" descriptors --passes "$PASSES" "$TMP/chips" > "$TMP/dlib.json"
bench_cmd='"$CNNPIPE" model bench "$MODEL" --threads @T@ --runs "$RUNS" --json >> "$TMP/bench@T@.jsonl"'
$BENCH "$ROUNDS" "${bench_cmd//@T@/1}" "${bench_cmd//@T@/2}" > "$TMP/bench-times"
mapfile -t bench_load < <(cut -d' ' -f4 "$TMP/bench-times")
# best_median FILE: the lowest median_ms of the rounds (the warm-up run's line included) and all of them.
best_median() { python3 -c 'import json, sys
m = [json.loads(l)["median_ms"] for l in open(sys.argv[1])]
print("%.3f %s" % (min(m), " ".join("%.2f" % x for x in m)))' "$1"; }
read -r c1 c1_all <<< "$(best_median "$TMP/bench1.jsonl")"
read -r c2 c2_all <<< "$(best_median "$TMP/bench2.jsonl")"
d_single=$(jget "$TMP/dlib.json" single_best_pass_median_ms)
d_list=$(jget "$TMP/dlib.json" list_best_ms_per_face)
d_best=$(awk -v a="$d_single" -v b="$d_list" 'BEGIN { print (a < b ? a : b) }')
printf '   %-52s %8s ms/face  %6s faces/s  (median of all calls %s ms; CPU/wall %s, %s threads in the process)\n' \
    "dlib compute_face_descriptor, one chip per call" "$d_single" "$(per_s "$d_single")" \
    "$(jget "$TMP/dlib.json" single_median_ms)" "$(jget "$TMP/dlib.json" single_cpu_per_wall)" "$(jget "$TMP/dlib.json" process_threads)"
warn_load "dlib one chip per call" "$(jget "$TMP/dlib.json" single_other_load)"
printf '   %-52s %8s ms/face  %6s faces/s  (median pass %s ms/face; CPU/wall %s)\n' \
    "dlib compute_face_descriptor, list of $n_chips chips" "$d_list" "$(per_s "$d_list")" \
    "$(jget "$TMP/dlib.json" list_median_ms_per_face)" "$(jget "$TMP/dlib.json" list_cpu_per_wall)"
warn_load "dlib list call" "$(jget "$TMP/dlib.json" list_other_load)"
printf '   %-52s %8s ms/face  %6s faces/s  (median per round: %s)\n' \
    "cnnpipe model bench, batch 1, --threads 1" "$c1" "$(per_s "$c1")" "$c1_all"
warn_load "cnnpipe --threads 1" "${bench_load[0]}"
printf '   %-52s %8s ms/face  %6s faces/s  (median per round: %s)\n' \
    "cnnpipe model bench, batch 1, --threads 2" "$c2" "$(per_s "$c2")" "$c2_all"
warn_load "cnnpipe --threads 2" "${bench_load[1]}"
"$CNNPIPE" model run "$MODEL" --input "image=$TMP/chips/0000.png" --output "$TMP/run" --threads 1 >/dev/null
echo "   same network: cnnpipe's and dlib's descriptor of chip 0 differ by at most" \
     "$("$PY" -c 'import numpy as np, sys; a, b = (np.load(f).ravel() for f in sys.argv[1:]); print("%.1e" % abs(a - b).max())' \
         "$TMP/run/descriptor.npy" "$TMP/chips/descriptors.npy")"
echo "   threads: dlib uses one core (CPU/wall above <= 1; built without BLAS); like-for-like is cnnpipe --threads 1"
echo "   ratio cnnpipe / dlib's faster way, time per face: --threads 1 $(ratio "$c1" "$d_best") (like-for-like)," \
     "--threads 2 $(ratio "$c2" "$d_best")"
goal "embedding time per face, cnnpipe --threads 1 / dlib (1 core)" "$(ratio "$c1" "$d_best")" "<=" "$GOAL"
goal "embedding time per face, cnnpipe --threads 2 / dlib (1 core, all it can use)" "$(ratio "$c2" "$d_best")" "<=" "$GOAL"

# ---- 2. whole processes ----
echo
echo "-- 2. whole processes: enrol $n_known people (one photo each), identify $n_test test photos; one run each"
# timed LABEL COMMAND: one run; prints a row, leaves wall/cpu/rss in the globals.
timed() {
    local label=$1 load
    read -r wall cpu load rss <<< "$(python3 "$HELPER" time "$2")"
    printf '   %-54s wall %7s s  CPU %7s s  peak %5s MB\n' "$label" "$wall" "$cpu" "$rss"
    warn_load "$label" "$load"
}
# cnnpipe_run UPSAMPLE: enrol then identify as two processes; leaves cn_wall, cn_cpu.
cnnpipe_run() {
    local u=$1 what=${2:+ ($2)}
    timed "cnnpipe gallery enroll-dir --upsample $u$what" \
        "\"\$CNNPIPE\" gallery enroll-dir --gallery \"\$TMP/g$u.db\" --upsample $u --threads \"\$THREADS\" \"\$TMP/known\" > \"\$TMP/enroll$u.txt\" 2>&1 || [[ \$? == 1 ]]"
    local ew=$wall ec=$cpu
    timed "cnnpipe faces identify --upsample $u$what" \
        "\"\$CNNPIPE\" faces identify --gallery \"\$TMP/g$u.db\" --upsample $u --threads \"\$THREADS\" \"\$TMP/test\" > \"\$TMP/cnnpipe$u.txt\""
    cn_wall=$(awk -v a="$ew" -v b="$wall" 'BEGIN { printf "%.3f", a + b }')
    cn_cpu=$(awk -v a="$ec" -v b="$cpu" 'BEGIN { printf "%.3f", a + b }')
    echo "     cnnpipe --upsample $u total: wall $cn_wall s, CPU $cn_cpu s; $(tail -1 "$TMP/enroll$u.txt")"
}
cnnpipe_run 1 "like-for-like"
cnn1_wall=$cn_wall cnn1_cpu=$cn_cpu
fr_hog_cmd='"$FR" --cpus @C@ --show-distance true "$TMP/known" "$TMP/test" > "$TMP/fr-hog@C@.txt"'
timed "face_recognition, HOG (default), --cpus 1 (default)" "${fr_hog_cmd//@C@/1}"
hog1_wall=$wall
hog2_wall=$wall
if [[ $FR_CPUS != 1 ]]; then
    timed "face_recognition, HOG (default), --cpus $FR_CPUS" "${fr_hog_cmd//@C@/$FR_CPUS}"
    hog2_wall=$wall
fi
if [[ $FR_CNN == 1 ]]; then
    timed "face_recognition, CNN (like-for-like), --cpus $FR_CPUS" \
        '"$PY" "$HELPER" cli-cnn --cpus "$FR_CPUS" --show-distance true "$TMP/known" "$TMP/test" > "$TMP/fr-cnn.txt"'
    cnn_fr_wall=$wall cnn_fr_cpu=$cpu
fi
cnnpipe_run 0 "cnnpipe's default"
cnn0_wall=$cn_wall

echo "   ratios, cnnpipe enrol+identify wall / face_recognition wall:"
if [[ $FR_CNN == 1 ]]; then
    echo "     like-for-like, CNN detector upsampled once both, $THREADS threads vs --cpus $FR_CPUS: $(ratio "$cnn1_wall" "$cnn_fr_wall")" \
         "(CPU time: $(ratio "$cnn1_cpu" "$cnn_fr_cpu"), less disturbed by other load)"
fi
echo "     cnnpipe CNN upsample 1 vs face_recognition's default HOG, --cpus 1: $(ratio "$cnn1_wall" "$hog1_wall"), --cpus $FR_CPUS: $(ratio "$cnn1_wall" "$hog2_wall") (not the same detector)"
echo "     cnnpipe default (upsample 0) vs HOG --cpus 1: $(ratio "$cnn0_wall" "$hog1_wall"), --cpus $FR_CPUS: $(ratio "$cnn0_wall" "$hog2_wall") (not the same work)"

echo "   output: test photos named correctly (of $n_test; folder name = person)"
# show LABEL FILE [OTHER]: the score line; leaves `correct`.
show() {
    python3 "$HELPER" score "$2" ${3:+"$3"} > "$TMP/score.json"
    correct=$(jget "$TMP/score.json" correct)
    printf '     %-48s %2s correct, %s ambiguous, %s wrong, %s unknown, %s no face%s\n' "$1" "$correct" \
        "$(jget "$TMP/score.json" ambiguous)" "$(jget "$TMP/score.json" wrong)" "$(jget "$TMP/score.json" unknown)" \
        "$(jget "$TMP/score.json" none)" \
        "$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["misses"]; print("; misses: " + ", ".join(m) if m else "")' "$TMP/score.json")"
}
show "cnnpipe --upsample 1" "$TMP/cnnpipe1.txt"; cnn1_correct=$correct
show "cnnpipe --upsample 0 (default)" "$TMP/cnnpipe0.txt"
show "face_recognition (HOG, default), --cpus 1" "$TMP/fr-hog1.txt"; hog_correct=$correct
[[ $FR_CPUS != 1 ]] && show "face_recognition (HOG), --cpus $FR_CPUS" "$TMP/fr-hog$FR_CPUS.txt"
if [[ $FR_CNN == 1 ]]; then
    show "face_recognition with the CNN detector" "$TMP/fr-cnn.txt" "$TMP/cnnpipe1.txt"; fr_cnn_correct=$correct
    echo "     distances, cnnpipe --upsample 1 vs face_recognition with the CNN ($(jget "$TMP/score.json" distance_pairs) pairs):" \
         "median difference $(jget "$TMP/score.json" median_distance_diff), largest:" \
         "$(python3 -c 'import json, sys; print(", ".join(json.load(open(sys.argv[1]))["largest_distance_diffs"]))' "$TMP/score.json")"
    echo "     (face_recognition shrinks photos over 1600 px before detecting; cnnpipe does not)"
fi
grep -h WARNING "$TMP"/fr-*.txt | sed 's/^/     face_recognition: /' | sort -u || true

if [[ $FR_CNN == 1 ]]; then
    goal "whole process wall, cnnpipe / face_recognition (CNN detector, like-for-like)" "$(ratio "$cnn1_wall" "$cnn_fr_wall")" "<=" "$GOAL"
    goal "test photos named correctly, cnnpipe minus face_recognition (CNN)" "$((cnn1_correct - fr_cnn_correct))" ">=" 0
fi
goal "test photos named correctly, cnnpipe minus face_recognition (HOG, default)" "$((cnn1_correct - hog_correct))" ">=" 0
