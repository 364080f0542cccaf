#!/usr/bin/env python3
"""The dlib side of cluster-corpus.sh: dlib's chinese_whispers_clustering on the embeddings cnnpipe
made, compared with cnnpipe's clusters and with the true identities.

    cluster_dlib.py --clusters DIR --cnnpipe-bench BIN [--threshold 0.5] [--rounds R] [--synthetic 1000,3000]

DIR is the output of `cnnpipe faces cluster -o DIR` over the corpus: DIR/N/faces.json hold every
face's path, its place in the order cnnpipe found the faces ("index") and its 128 numbers (float32).
The true identity of a face is its photo's folder (faces/<split>/<person>/photo).

1. Corpus: dlib.chinese_whispers_clustering on those float32 numbers (as dlib.vector, i.e. doubles)
   in cnnpipe's order, timed around the call (best of R); `cnnpipe-bench cluster` on the same
   numbers (its raw labels, best of R). Printed: faces, clusters, adjusted Rand index (ARI) of
   cnnpipe's clusters (from DIR), of dlib's and of cnnpipe-bench's against the identities, ARI
   between cnnpipe and dlib, and whether the labels are identical (dlib numbers clusters by first
   appearance; so does cnnpipe-bench cluster).
2. Synthetic, larger: N rows drawn (seeded) from the corpus embeddings plus Gaussian noise
   (sigma 0.02 per number, ~0.23 from the original), identity = the original's person; the same
   comparison and the clustering times of both (cnnpipe: graph + whispers inside one process,
   dlib: the Python call).

Last line: key=value pairs for the shell script (ari_truth, ari_dlib, same_labels, ...).
ARI is computed here with numpy (the contingency-table formula; scikit-learn's convention of 1.0
when both partitions are trivial).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np


def ari(a, b):
    """Adjusted Rand index of two labelings of the same items."""
    a = np.unique(np.asarray(a), return_inverse=True)[1]
    b = np.unique(np.asarray(b), return_inverse=True)[1]
    n = len(a)
    table = np.zeros((a.max() + 1, b.max() + 1), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    comb = lambda x: (x * (x - 1) / 2.0).sum()
    index = comb(table)
    sa, sb = comb(table.sum(1)), comb(table.sum(0))
    expected = sa * sb / (n * (n - 1) / 2.0) if n > 1 else 0.0
    maximum = (sa + sb) / 2.0
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def canonical(labels):
    first = {}
    return [first.setdefault(v, len(first)) for v in labels]


def dlib_clusters(embeddings, threshold, rounds):
    import dlib
    vectors = [dlib.vector(row.astype(np.float64).tolist()) for row in embeddings]
    best, labels = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        labels = dlib.chinese_whispers_clustering(vectors, threshold)
        best = min(best, time.perf_counter() - t0)
    return list(labels), best


def cnnpipe_clusters(binary, embeddings, threshold, rounds, tmp):
    path = os.path.join(tmp, f"embeddings-{len(embeddings)}.json")
    with open(path, "w") as f:
        # repr of the float32 values as doubles: read back as Float they are the same numbers.
        json.dump([[float(v) for v in row] for row in embeddings], f)
    out = subprocess.run([binary, "cluster", "--threshold", str(threshold), "--rounds", str(rounds), path],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    return result["labels"], (result["graph_ms"] + result["whispers_ms"]) / 1000, result


def load_corpus(directory):
    faces = []
    for file in glob.glob(os.path.join(directory, "*", "faces.json")):
        with open(file) as f:
            doc = json.load(f)
        for face in doc["faces"]:
            faces.append((face["index"], face["path"], doc["cluster"], face["embedding"]))
    faces.sort()
    if [f[0] for f in faces] != list(range(len(faces))):
        sys.exit(f"{directory}: face indices are not 0 ... n-1 (were faces left out, e.g. by --gallery?)")
    paths = [f[1] for f in faces]
    people = [os.path.basename(os.path.dirname(p)) for p in paths]
    return paths, people, [f[2] for f in faces], np.array([f[3] for f in faces], dtype=np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clusters", required=True)
    ap.add_argument("--cnnpipe-bench", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--synthetic", default="1000,3000")
    args = ap.parse_args()
    import dlib

    paths, people, cli_labels, embeddings = load_corpus(args.clusters)
    tmp = os.path.dirname(os.path.abspath(args.clusters))
    d_labels, d_time = dlib_clusters(embeddings, args.threshold, args.rounds)
    b_labels, b_time, _ = cnnpipe_clusters(args.cnnpipe_bench, embeddings, args.threshold, args.rounds, tmp)
    same = canonical(d_labels) == b_labels and canonical(cli_labels) == canonical(d_labels)
    print(f"   dlib {dlib.__version__} (dlib-bin); {len(embeddings)} faces of {len(set(people))} people")
    print(f"   {'':34} {'clusters':>8} {'ARI vs people':>14}")
    print(f"   {'true identities':34} {len(set(people)):>8}")
    print(f"   {'cnnpipe faces cluster':34} {len(set(cli_labels)):>8} {ari(cli_labels, people):>14.4f}")
    print(f"   {'dlib chinese_whispers_clustering':34} {len(set(d_labels)):>8} {ari(d_labels, people):>14.4f}")
    print(f"   ARI cnnpipe vs dlib: {ari(cli_labels, d_labels):.4f}; labels identical to dlib's: {'yes' if same else 'NO'}")
    split = {}
    for p, c in zip(people, cli_labels):
        split.setdefault(p, set()).add(c)
    for p, cs in sorted(split.items()):
        if len(cs) > 1:
            print(f"   {p}: split over {len(cs)} clusters")
    merged = {}
    for p, c in zip(people, cli_labels):
        merged.setdefault(c, set()).add(p)
    for c, ps in sorted(merged.items()):
        if len(ps) > 1:
            print(f"   cluster {c} mixes {', '.join(sorted(ps))}")
    print(f"   clustering time: cnnpipe {b_time * 1000:.2f} ms, dlib {d_time * 1000:.2f} ms")
    summary = {"faces": len(embeddings), "clusters": len(set(cli_labels)), "people": len(set(people)),
               "ari_truth": ari(cli_labels, people), "ari_dlib": ari(cli_labels, d_labels), "same_labels": int(same)}

    rng = np.random.default_rng(7)
    all_same = same
    for n in [int(s) for s in args.synthetic.split(",") if s]:
        rows = rng.integers(0, len(embeddings), size=n)
        synthetic = (embeddings[rows] + rng.normal(0, 0.02, size=(n, embeddings.shape[1]))).astype(np.float32)
        truth = [people[r] for r in rows]
        rounds = max(1, args.rounds if n <= 1000 else 1)
        d_labels, d_time = dlib_clusters(synthetic, args.threshold, rounds)
        b_labels, b_time, info = cnnpipe_clusters(args.cnnpipe_bench, synthetic, args.threshold, args.rounds, tmp)
        ok = canonical(d_labels) == b_labels
        all_same = all_same and ok
        print(f"   synthetic {n}: {len(set(b_labels))} clusters (dlib {len(set(d_labels))}), ARI vs people {ari(b_labels, truth):.4f}, "
              f"vs dlib {ari(b_labels, d_labels):.4f}, labels identical: {'yes' if ok else 'NO'}; "
              f"time cnnpipe {b_time * 1000:.1f} ms (graph {info['graph_ms']:.1f} + whispers {info['whispers_ms']:.1f}), "
              f"dlib {d_time * 1000:.1f} ms: {b_time / d_time:.3f}x")
        summary[f"ratio_{n}"] = b_time / d_time
    summary["all_same_labels"] = int(all_same)
    print(" ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
