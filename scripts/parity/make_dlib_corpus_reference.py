#!/usr/bin/env python3
"""dlib's face detections and landmarks on every image of the faces corpus, for CorpusParityTests.

Used only to produce reference data; cnnpipe itself never runs Python or dlib. The output is
committed (Tests/FaceKitTests/Reference/dlib-corpus.json, ~100 KB): dlib-bin's CPU detector has no
BLAS and takes ~25 minutes of CPU over the corpus, too long to redo in every CI run. Rerun it when
the corpus or the models change (the test checks image count, sizes and pixel checksums):

    .build-venv-dlib/bin/python scripts/parity/make_dlib_corpus_reference.py \
        models ../shared/corpus Tests/FaceKitTests/Reference/dlib-corpus.json

Per image (every .jpg/.jpeg/.png under CORPUS_DIR/faces/{CORPUS_DIRS}): its size, the SHA-256 of
dlib.load_rgb_image's pixels (rows x cols x RGB uint8, C order) and a cheap checksum of them
(rgb_sums, see pixel_sums: the test recomputes it to know whether the pixels it runs on are dlib's),
and for upsample 0 and 1 the detections of dlib.cnn_face_detection_model_v1 (box l, t, r, b
inclusive, confidence) with dlib.shape_predictor's 5 landmarks on each box. "seconds" is dlib's
detector call time (informational). The runs are spread over one worker process per CPU (dlib's
CPU code is single threaded), biggest first.
"""
import hashlib
import json
import multiprocessing
import os
import sys
import time

import dlib
import numpy as np

CORPUS_DIRS = ["train", "test", "group", "noface", "edge_cases", "unknown"]
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
UPSAMPLES = (0, 1)


def corpus_photos(corpus):
    """Every image under CORPUS_DIR/faces/{CORPUS_DIRS}, as sorted paths relative to faces/."""
    root = os.path.join(corpus, "faces")
    found = []
    for top in CORPUS_DIRS:
        for folder, _, files in os.walk(os.path.join(root, top)):
            found += [os.path.relpath(os.path.join(folder, f), root) for f in files
                      if f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


def pixel_sums(pixels):
    """A checksum a test recomputes in a moment: over the bytes p[i] in C order,
    [sum of p[i], sum of (i mod 65521 + 1) * p[i]] (both < 2^53 for the corpus)."""
    flat = pixels.reshape(-1).astype(np.uint64)
    weights = np.arange(flat.size, dtype=np.uint64) % 65521 + 1
    return [int(flat.sum()), int((flat * weights).sum())]


_worker = {}


def _start_worker(models, corpus):
    _worker["detector"] = dlib.cnn_face_detection_model_v1(os.path.join(models, "mmod_human_face_detector.dat"))
    _worker["predictor"] = dlib.shape_predictor(os.path.join(models, "shape_predictor_5_face_landmarks.dat"))
    _worker["corpus"] = corpus


def _detect(job):
    photo, upsample = job
    image = dlib.load_rgb_image(os.path.join(_worker["corpus"], "faces", photo))
    start = time.perf_counter()
    found = _worker["detector"](image, upsample)
    seconds = time.perf_counter() - start
    faces = [{"box": [d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()],
              "confidence": d.confidence,
              "landmarks": [[p.x, p.y] for p in _worker["predictor"](image, d.rect).parts()]} for d in found]
    return job, faces, seconds


def main():
    models, corpus, out = sys.argv[1:4]
    started = time.perf_counter()
    images = {}
    for photo in corpus_photos(corpus):
        pixels = np.ascontiguousarray(dlib.load_rgb_image(os.path.join(corpus, "faces", photo)), dtype=np.uint8)
        images[photo] = {"photo": photo, "width": pixels.shape[1], "height": pixels.shape[0],
                         "rgb_sha256": hashlib.sha256(pixels.tobytes()).hexdigest(), "rgb_sums": pixel_sums(pixels)}
    jobs = sorted(((p, u) for p in images for u in UPSAMPLES),
                  key=lambda j: images[j[0]]["width"] * images[j[0]]["height"] * 4 ** j[1], reverse=True)
    workers = max(1, min(len(os.sched_getaffinity(0)), len(jobs)))
    runs = {}
    with multiprocessing.get_context("fork").Pool(workers, _start_worker, (models, corpus)) as pool:
        for done, (job, faces, seconds) in enumerate(pool.imap_unordered(_detect, jobs), 1):
            runs[job] = (faces, seconds)
            print(f"\r{done}/{len(jobs)} detector runs", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    entries = [dict(images[p], runs=[{"upsample": u, "seconds": round(runs[(p, u)][1], 3), "faces": runs[(p, u)][0]}
                                     for u in UPSAMPLES]) for p in sorted(images)]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"dlib": dlib.__version__, "images": entries}, f, separators=(",", ":"))
        f.write("\n")
    seconds = [sum(r["seconds"] for e in entries for r in e["runs"] if r["upsample"] == u) for u in UPSAMPLES]
    print(f"dlib corpus reference: {len(entries)} images, {len(jobs)} detector runs, "
          f"{sum(len(r['faces']) for e in entries for r in e['runs'])} faces; dlib detector time "
          + ", ".join(f"{s:.0f} s at upsample {u}" for u, s in zip(UPSAMPLES, seconds))
          + f"; {time.perf_counter() - started:.0f} s wall -> {out}")


if __name__ == "__main__":
    main()
