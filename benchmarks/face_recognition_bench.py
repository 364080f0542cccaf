#!/usr/bin/env python3
"""dlib / face_recognition side of benchmarks/identify-vs-face-recognition.sh (run it with the
venv's python, where dlib-bin, face_recognition and face_recognition_models are installed).

    face_recognition_bench.py versions
        dlib, face_recognition, numpy versions and dlib's build flags, on one line.
    face_recognition_bench.py chips OUT_DIR PHOTO...
        Aligned 150x150 chips, made as face_recognition makes its encodings: dlib's HOG detector
        (upsample 1), the 5-point shape predictor, dlib.get_face_chip(size=150, padding=0.25).
        Every face of every photo becomes OUT_DIR/NNNN.png (lossless); prints how many.
    face_recognition_bench.py descriptors [--passes N] CHIP_DIR
        Times dlib.face_recognition_model_v1.compute_face_descriptor on the chips (descriptor
        calls only; chips are decoded before the clock starts) after a warm-up (4 chips singly, then
        as a list):
          single  one chip per call (API overload 2), every chip once per pass, N passes;
          list    all chips in one call (overload 5: a list of aligned 150x150 chips), N calls.
        Prints one JSON object: median ms per face of each mode (and of its best pass), CPU/wall
        of the timed calls (how many cores dlib kept busy), the threads the process had, and other load (the CPU time
        the rest of the machine used meanwhile, as a fraction of one core, as lib/bench.py
        measures it). Also writes CHIP_DIR/descriptors.npy (the first chip's descriptor) for
        the script's same-network check.
    face_recognition_bench.py time COMMAND
        One timed run of a shell command: wall s, CPU s, other load, peak RSS MB (one line).
    face_recognition_bench.py score OUTPUT [OTHER_OUTPUT]
        Scores identification output (path,name[,distance] lines; test images named
        PERSON__file): how many images got exactly their person; with OTHER_OUTPUT also how far
        the two outputs' distances differ. One JSON object. (Standard library only.)
    face_recognition_bench.py cli-cnn [face_recognition CLI arguments]
        The face_recognition command exactly (its own main(): same folders, loading, thumbnail of
        images over 1600 px, matching and output), with face detection switched to dlib's MMOD
        CNN, the detector cnnpipe uses. The command has no --model option (only face_detection
        has one), so this sets the detector where face_recognition.api looks it up; upsampling
        stays face_recognition's default (1).
"""
import json
import os
import statistics
import sys
import time


def versions():
    import dlib
    from importlib.metadata import version
    # face_recognition.__version__ says 1.2.3 in the 1.3.0 release: the installed metadata is right.
    print(f"dlib {dlib.__version__} (dlib-bin {version('dlib-bin')}; BLAS {dlib.DLIB_USE_BLAS}, "
          f"LAPACK {dlib.DLIB_USE_LAPACK}, AVX {dlib.USE_AVX_INSTRUCTIONS}, CUDA {dlib.DLIB_USE_CUDA}), "
          f"face_recognition {version('face_recognition')}, face_recognition_models "
          f"{version('face_recognition_models')}, numpy {version('numpy')}, Pillow {version('pillow')}")


def models():
    import face_recognition_models as m
    return m


def chips(out_dir, photos):
    import dlib
    import numpy as np
    from PIL import Image
    m = models()
    detector = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(m.pose_predictor_five_point_model_location())
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for photo in photos:
        img = np.array(Image.open(photo).convert("RGB"))
        for box in detector(img, 1):
            chip = dlib.get_face_chip(img, shapes(img, box), size=150, padding=0.25)
            Image.fromarray(chip).save(os.path.join(out_dir, f"{n:04d}.png"))
            n += 1
    print(n)


def machine_busy():
    """Busy CPU seconds of the whole machine so far (as lib/bench.py counts them)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall, own CPU and the rest of the machine's CPU over the timed sections only."""

    def __init__(self):
        self.wall = self.cpu = self.busy = 0.0

    def __enter__(self):
        self._b, self._c, self._w = machine_busy(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *_):
        w, c = time.perf_counter() - self._w, time.process_time() - self._c
        self.wall, self.cpu = self.wall + w, self.cpu + c
        self.busy += machine_busy() - self._b
        self.last = w

    def summary(self):
        return {"cpu_per_wall": round(self.cpu / self.wall, 2),
                "other_load": round(max(0.0, self.busy - self.cpu) / self.wall, 2)}


def descriptors(chip_dir, passes):
    import dlib
    import numpy as np
    from PIL import Image
    m = models()
    net = dlib.face_recognition_model_v1(m.face_recognition_model_location())
    names = sorted(f for f in os.listdir(chip_dir) if f.endswith(".png"))
    faces = [np.ascontiguousarray(np.array(Image.open(os.path.join(chip_dir, f)).convert("RGB"))) for f in names]
    assert faces and all(f.shape == (150, 150, 3) for f in faces), "need 150x150 chips"
    np.save(os.path.join(chip_dir, "descriptors.npy"), np.array(net.compute_face_descriptor(faces[0]), dtype=np.float32))
    for f in faces[:4]:  # warm-up (allocations, caches) of each mode
        net.compute_face_descriptor(f)
    net.compute_face_descriptor(faces[:4])

    single, pass_medians, per_call = Clock(), [], []
    for _ in range(passes):
        calls = []
        for f in faces:
            with single:
                net.compute_face_descriptor(f)
            calls.append(single.last * 1000)
        pass_medians.append(statistics.median(calls))
        per_call += calls
    listed, per_face = Clock(), []
    for _ in range(passes):
        with listed:
            out = net.compute_face_descriptor(faces)
        per_face.append(listed.last * 1000 / len(faces))
    assert len(out) == len(faces)
    threads = len(os.listdir("/proc/self/task"))
    print(json.dumps({
        "chips": len(faces), "passes": passes, "process_threads": threads,
        "single_median_ms": round(statistics.median(per_call), 3),
        "single_best_pass_median_ms": round(min(pass_medians), 3),
        **{"single_" + k: v for k, v in single.summary().items()},
        "list_median_ms_per_face": round(statistics.median(per_face), 3),
        "list_best_ms_per_face": round(min(per_face), 3),
        **{"list_" + k: v for k, v in listed.summary().items()},
    }))


def use_cnn_detector():
    """Make face_recognition.api find faces with the MMOD CNN (what `cli-cnn` does)."""
    import face_recognition.api as api
    hog_or_cnn = api._raw_face_locations

    def cnn_locations(img, number_of_times_to_upsample=1, model="hog"):
        # The CNN detector returns mmod_rectangles; the shape predictor takes their .rect
        # (face_recognition's own face_locations(model="cnn") does the same).
        return [d.rect for d in hog_or_cnn(img, number_of_times_to_upsample, "cnn")]

    api._raw_face_locations = cnn_locations


def cli_cnn(args):
    from face_recognition import face_recognition_cli
    # --cpus N runs a forkserver pool: its workers import this file again as __mp_main__ (not
    # __main__) and see this variable, so they detect with the CNN too (see the bottom).
    os.environ["FACE_RECOGNITION_BENCH_CNN"] = "1"
    use_cnn_detector()
    face_recognition_cli.main(args, prog_name="face_recognition")


def time_command(cmd):
    """One run of a shell command (bash -euo pipefail -c), no warm-up: prints wall s, CPU s
    (user+sys of every process it started), other load (as lib/bench.py measures it) and peak
    RSS in MB (of its largest process).

    This process becomes a child subreaper first: face_recognition --cpus N forks its workers
    from a forkserver that nobody waits for, and their CPU time would otherwise be lost; orphans
    are re-parented here and reaped (wall ends when the command's shell exits)."""
    import ctypes
    import resource
    import signal
    import subprocess
    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    busy, start = machine_busy(), time.perf_counter()
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", cmd], start_new_session=True)
    try:
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        while True:  # the orphans, once they have finished
            try:
                os.wait4(-1, 0)
            except ChildProcessError:
                break
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        raise
    busy = machine_busy() - busy
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"face_recognition_bench.py: command failed ({os.waitstatus_to_exitcode(status)}): {cmd}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"{wall:.3f} {cpu:.3f} {max(0.0, busy - cpu) / wall:.2f} {usage.ru_maxrss // 1024}")


def score(out_file, *other):
    """Scores identification output lines path,name[,distance] (face_recognition's and cnnpipe's
    format) where each test image is named PERSON__file: per image, the set of names printed.
    correct: exactly its person; ambiguous: its person and others (face_recognition prints
    every known person within the tolerance); wrong: only other people; unknown: only
    unknown_person; none: no_persons_found. With OTHER (a second output), also the largest
    differences between the two outputs' distances for the same image and person."""
    def read(path):
        names, dist = {}, {}
        with open(path) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) < 2 or "__" not in parts[0]:
                    continue  # warnings and other chatter
                image = os.path.basename(parts[0])
                names.setdefault(image, set()).add(parts[1])
                if len(parts) > 2 and parts[2] not in ("None", ""):
                    dist[(image, parts[1])] = float(parts[2])
        return names, dist

    names, dist = read(out_file)
    counts = dict.fromkeys(("correct", "ambiguous", "wrong", "unknown", "none"), 0)
    misses = []
    for image, found in sorted(names.items()):
        person = image.split("__")[0]
        kind = ("correct" if found == {person} else "ambiguous" if person in found
                else "none" if found == {"no_persons_found"} else "unknown" if found == {"unknown_person"}
                else "wrong")
        counts[kind] += 1
        if kind != "correct":
            misses.append(f"{image}: {'/'.join(sorted(found))}")
    result = {"images": len(names), **counts, "misses": misses}
    if other:
        _, dist2 = read(other[0])
        common = sorted(set(dist) & set(dist2))
        worst = sorted(common, key=lambda k: -abs(dist[k] - dist2[k]))
        result["distance_pairs"] = len(common)
        result["largest_distance_diffs"] = [f"{k[0]} {abs(dist[k] - dist2[k]):.4f}" for k in worst[:3]]
        if common:
            result["median_distance_diff"] = round(statistics.median(abs(dist[k] - dist2[k]) for k in common), 5)
    print(json.dumps(result))


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    cmd, args = args[0], args[1:]
    if cmd == "versions":
        versions()
    elif cmd == "chips":
        chips(args[0], args[1:])
    elif cmd == "descriptors":
        passes = 3
        if args[0] == "--passes":
            passes, args = int(args[1]), args[2:]
        descriptors(args[0], passes)
    elif cmd == "cli-cnn":
        cli_cnn(args)
    elif cmd == "time":
        time_command(args[0])
    elif cmd == "score":
        score(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
elif __name__ == "__mp_main__" and os.environ.get("FACE_RECOGNITION_BENCH_CNN") == "1":
    use_cnn_detector()
