#!/usr/bin/env bash
# Choosing detect-size: `cnnpipe faces detect` over the face corpus (every photo, folders read
# recursively) at full resolution and with each DETECT_SIZES value, at --upsample 0 and 1
# (UPSAMPLES). Recall = faces found with the setting that match (IoU >= 0.5) a face found at full
# resolution, over the faces found at full resolution; also the faces found only with the
# setting, and the wall time of the run (one run, indicative). Only photos whose long side exceeds
# MIN_SIDE (default 640, the smallest size tried) are used: detect-size changes nothing on the others.
source "$(dirname "$0")/lib/common.sh"
DETECT_SIZES=${DETECT_SIZES:-"1600 1200 1000 800 640"}
UPSAMPLES=${UPSAMPLES:-"0 1"}
MIN_SIDE=${MIN_SIDE:-640}
need identify imagemagick
DIR=$TMP/photos
mkdir -p "$DIR"
find "$CORPUS/faces" -type f | while read -r f; do
    read -r w h < <(identify -format '%w %h\n' "$f[0]" 2>/dev/null)
    if ((w > MIN_SIDE || h > MIN_SIDE)); then cp "$f" "$DIR/$(echo "${f#"$CORPUS"/faces/}" | tr / _)"; fi
done
echo "== detect-size: $(find "$DIR" -type f | wc -l) corpus face photos longer than $MIN_SIDE px"
printf '%-3s %-12s %8s %7s %9s %7s\n' up detect-size seconds faces recall extra
for up in $UPSAMPLES; do
    for ds in 0 $DETECT_SIZES; do
        start=$(date +%s.%N)
        "$CNNPIPE" faces detect --json --upsample "$up" --detect-size "$ds" "$DIR" > "$TMP/$up-$ds.jsonl" 2>/dev/null || true
        seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
        python3 - "$TMP/$up-0.jsonl" "$TMP/$up-$ds.jsonl" "$up" "$ds" "$seconds" <<'PY'
import json, sys
def load(p):
    faces = {}
    for line in open(p):
        f = json.loads(line); b = f["box"]
        faces.setdefault(f["path"], []).append((b["left"], b["top"], b["right"], b["bottom"]))
    return faces
def iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1; h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if w <= 0 or h <= 0: return 0
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)
    return w * h / (area(a) + area(b) - w * h)
full, test = load(sys.argv[1]), load(sys.argv[2])
n = sum(len(v) for v in full.values())
hit = sum(any(iou(f, t) >= 0.5 for t in test.get(p, [])) for p, fs in full.items() for f in fs)
extra = sum(not any(iou(t, f) >= 0.5 for f in full.get(p, [])) for p, ts in test.items() for t in ts)
found = sum(len(v) for v in test.values())
print(f"{sys.argv[3]:<3} {sys.argv[4]:<12} {sys.argv[5]:>8} {found:>7} {hit}/{n:<7} {extra:>5}")
PY
    done
done
