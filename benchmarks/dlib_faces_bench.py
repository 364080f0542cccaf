#!/usr/bin/env python3
"""The dlib side of faces-vs-dlib.sh: dlib's CNN face detector and 5-point shape predictor
(the dlib-bin wheel), models loaded once, each call timed inside one Python process.

    dlib_faces_bench.py --models DIR --upsample N [--rounds R] [--landmark-rounds L] IMAGE...
    dlib_faces_bench.py --versions

Every image is decoded once with dlib.load_rgb_image (not timed). After one untimed warm-up call
on the first image, each round runs, for every image in turn, the detector call
`cnn_face_detection_model_v1(image, upsample)` under time.perf_counter (what
face_recognition.face_locations(model="cnn") calls). Then, for every face found, the shape
predictor call `shape_predictor(image, rect)` is timed L times.

Prints key=value pairs on one line (seconds):
  detect_best   mean over the images of each image's best round (per image)
  detect_mean   mean over all calls (per image)
  detect_cpu    process CPU time / wall time during the detector calls (1.0 = one busy core)
  faces         faces found per pass over the images
  landmark_best best per-face shape predictor call (mean over faces of each face's best)
  landmark_mean mean per-face shape predictor call
"""
import argparse
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images", nargs="*")
    ap.add_argument("--models")
    ap.add_argument("--upsample", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--landmark-rounds", type=int, default=200)
    ap.add_argument("--versions", action="store_true", help="print dlib's version and build flags and exit")
    args = ap.parse_args()

    import dlib
    if args.versions:
        threads = os.environ.get("OMP_NUM_THREADS", "unset")
        print(f"dlib {dlib.__version__} (dlib-bin), DLIB_USE_BLAS={dlib.DLIB_USE_BLAS}, "
              f"DLIB_USE_CUDA={dlib.DLIB_USE_CUDA}, DLIB_USE_LAPACK={dlib.DLIB_USE_LAPACK}; "
              f"Python {sys.version.split()[0]}; OMP_NUM_THREADS={threads}")
        return
    if not args.images:
        ap.error("no images")

    detector = dlib.cnn_face_detection_model_v1(os.path.join(args.models, "mmod_human_face_detector.dat"))
    predictor = dlib.shape_predictor(os.path.join(args.models, "shape_predictor_5_face_landmarks.dat"))
    images = [dlib.load_rgb_image(path) for path in args.images]

    detector(images[0], args.upsample)  # warm-up: first-call allocations
    best = [float("inf")] * len(images)
    wall = cpu = 0.0
    found = []
    for _ in range(args.rounds):
        found = []
        for i, image in enumerate(images):
            c0, t0 = time.process_time(), time.perf_counter()
            dets = detector(image, args.upsample)
            t1, c1 = time.perf_counter(), time.process_time()
            best[i] = min(best[i], t1 - t0)
            wall += t1 - t0
            cpu += c1 - c0
            found.append(dets)

    landmark_best, landmark_total, faces = [], 0.0, 0
    for image, dets in zip(images, found):
        for d in dets:
            faces += 1
            predictor(image, d.rect)  # warm-up
            times = []
            for _ in range(args.landmark_rounds):
                t0 = time.perf_counter()
                predictor(image, d.rect)
                times.append(time.perf_counter() - t0)
            landmark_best.append(min(times))
            landmark_total += sum(times)

    calls = args.rounds * len(images)
    out = {
        "detect_best": sum(best) / len(images),
        "detect_mean": wall / calls,
        "detect_cpu": cpu / wall,
        "faces": faces,
        "landmark_best": sum(landmark_best) / faces if faces else 0.0,
        "landmark_mean": landmark_total / (faces * args.landmark_rounds) if faces else 0.0,
    }
    print(" ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
