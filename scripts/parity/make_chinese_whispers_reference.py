#!/usr/bin/env python3
"""dlib's chinese_whispers_clustering on synthetic descriptors, for ChineseWhispersTests.

Used only to produce reference data; cnnpipe never runs Python or dlib. The output is committed
(Tests/FaceKitTests/Reference/chinese-whispers.json, a few KB); rerun when dlib changes:

    .build-venv-dlib/bin/python scripts/parity/make_chinese_whispers_reference.py \
        Tests/FaceKitTests/Reference/chinese-whispers.json

The descriptors are 300 points around 12 random centres in the first 8 of 128 dimensions (the
rest 0), each number an integer / 256 so that float32, double and the JSON file hold it exactly.
Neighbourhoods overlap (about 30 neighbours within 0.5 per point), so the clusters depend on the
order in which Chinese whispers visits the nodes: the script checks that the same points given in
another order come out as a different partition, i.e. that matching dlib's labels needs dlib's
random numbers and not just the algorithm. Labels are dlib's, for thresholds 0.5 and 0.45.
"""
import json
import sys

import dlib
import numpy as np

SCALE = 256
THRESHOLDS = (0.5, 0.45)


def clustering(points, threshold):
    return list(dlib.chinese_whispers_clustering([dlib.vector([float(v) for v in p]) for p in points], threshold))


def canonical(labels):
    first = {}
    return [first.setdefault(v, len(first)) for v in labels]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rng = np.random.default_rng(0)
    n, dims, centres = 300, 8, rng.integers(-96, 97, size=(12, 8))
    codes = np.array([centres[rng.integers(0, len(centres))] + rng.integers(-40, 41, size=dims) for _ in range(n)])
    points = np.zeros((n, 128), dtype=np.float32)
    points[:, :dims] = codes / SCALE

    cases = []
    for t in THRESHOLDS:
        labels = clustering(points, t)
        perm = rng.permutation(n)
        shuffled = clustering(points[perm], t)
        back = [0] * n
        for k, i in enumerate(perm):
            back[i] = shuffled[k]
        if canonical(back) == canonical(labels):
            sys.exit(f"threshold {t}: the clusters do not depend on the visiting order; pick another seed")
        cases.append({"threshold": t, "labels": [int(v) for v in labels], "clusters": len(set(labels)),
                      "clusters_other_order": len(set(back))})
    out = {"dlib_version": dlib.__version__, "scale": SCALE, "dimensions_used": dims,
           "codes": codes.tolist(), "cases": cases}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    for c in cases:
        print(f"threshold {c['threshold']}: {c['clusters']} clusters ({c['clusters_other_order']} in another order)")


if __name__ == "__main__":
    main()
