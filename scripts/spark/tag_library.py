#!/usr/bin/env python3
"""Tags (or only identifies) the faces of a photo library on Apache Spark, with cnnpipe as the worker.

The driver lists the library, cuts the paths into partitions and ships a snapshot of the gallery to every
executor (SparkFiles). Each partition starts one `cnnpipe faces tag|identify --paths-from -` process, writes
its paths to the process's stdin, one per line, and reads one JSON line per path back: the contract of
RDD.pipe and Hadoop Streaming. A partition is piped from Python (mapPartitions) rather than with
RDD.pipe so that each executor finds the shipped gallery with SparkFiles.get and a path the worker never
answered (it died) becomes an error row instead of a silently missing photo.

Output (DIR): faces/ (one row per face; a photo without faces or with an error is one row with face
empty), partitions/ (one row per partition: photos, worker start-up and run time, exit status), both CSV
or Parquet, and summary.json (photos, faces, people, errors, photos per second).

Each node needs: the cnnpipe binary with its plugins ($CNNPIPE_BIN, default `cnnpipe` on PATH), the
models ($CNNPIPE_MODELS, unless the binary finds its own) and the photos at the same paths (a shared
filesystem). See docs/SCALE-OUT.md.

    spark-submit scripts/spark/tag_library.py --gallery people.db --job tag --write sidecar -o results/ /photos
    python scripts/spark/tag_library.py --master 'local[2]' --gallery people.db --job identify -o results/ photos/
"""
import argparse
import json
import math
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
GALLERY_NAME = "cnnpipe-gallery.db"


def parse_arguments(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("library", nargs="*", help="photos and folders of photos (walked recursively)")
    p.add_argument("--paths-file", help="a file with one photo path per line (instead of, or besides, LIBRARY)")
    p.add_argument("-o", "--output", required=True, help="result folder (must not exist unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing result folder")
    p.add_argument("--gallery", help="the gallery that names faces (cnnpipe gallery enroll makes one)")
    p.add_argument("--job", choices=["tag", "identify"], default="tag",
                   help="tag: write XMP face regions (see --write); identify: only report names (default: tag)")
    p.add_argument("--write", choices=["sidecar", "in-place", "dry-run"], default="sidecar",
                   help="with --job tag: where the tags go (default: sidecar, the photos are not opened for writing)")
    p.add_argument("--upsample", type=int, default=1, help="double the photos this many times to find small faces (0-2)")
    p.add_argument("--tolerance", type=float, help="largest distance that still counts as the person")
    p.add_argument("--format", choices=["csv", "parquet"], default="parquet", help="result table format")
    p.add_argument("--photos-per-partition", type=int, default=500,
                   help="photos per cnnpipe process (bigger: less start-up; smaller: better balance)")
    p.add_argument("--threads", type=int, help="threads per cnnpipe process (default: spark.task.cpus)")
    p.add_argument("--master", help="Spark master (default: what spark-submit gives, else local[*])")
    return p.parse_args(argv)


def list_library(roots, paths_file):
    """Absolute paths of the images under the roots (sorted, hidden entries skipped) and in the paths file."""
    paths = []
    for root in roots:
        root = os.path.abspath(root)
        if os.path.isfile(root):
            paths.append(root)
            continue
        if not os.path.isdir(root):
            raise SystemExit(f"tag_library: {root}: no such file or folder")
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            paths += [os.path.join(folder, f) for f in sorted(files)
                      if not f.startswith(".") and f.lower().endswith(IMAGE_SUFFIXES)]
    if paths_file:
        with open(paths_file, encoding="utf-8") as f:
            paths += [os.path.abspath(line.rstrip("\n")) for line in f if line.strip()]
    seen = set()
    return [p for p in paths if not (p in seen or seen.add(p))]   # a photo listed twice is tagged once


def gallery_snapshot(gallery, folder):
    """A consistent single-file copy of the gallery (SQLite's backup, so a -wal file is folded in), in
    rollback-journal mode so that the workers can open it read-only without creating -shm files."""
    copy = os.path.join(folder, GALLERY_NAME)
    source = sqlite3.connect(pathlib.Path(gallery).resolve().as_uri() + "?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
    return copy


def worker_command(args, gallery_path, threads):
    binary = os.environ.get("CNNPIPE_BIN", "cnnpipe")
    command = [binary, "faces", args.job, "--paths-from", "-", "--threads", str(threads), "--upsample", str(args.upsample)]
    if gallery_path:
        command += ["--gallery", gallery_path]
    if args.tolerance is not None:
        command += ["--tolerance", str(args.tolerance)]
    if args.job == "tag":
        command.append("--" + args.write)
    return command


def photo_rows(line, partition):
    """The result rows of one worker answer: one per face, or one for a photo without faces or with an error."""
    faces = line.get("faces") or []
    base = {"path": line.get("path"), "status": line.get("status"), "faces": len(faces),
            "face": None, "name": None, "distance": None, "x": None, "y": None, "width": None, "height": None,
            "confidence": None, "outputs": ";".join(line.get("outputs") or []) or None,
            "error": line.get("error"), "partition": partition}
    if not faces:
        yield base
    for i, face in enumerate(faces):
        box = face.get("box") or {}
        yield dict(base, face=i, name=face.get("name"), distance=number(face.get("distance")),
                   x=number(box.get("x")), y=number(box.get("y")), width=number(box.get("width")),
                   height=number(box.get("height")), confidence=number(face.get("confidence")))


def error_line(path, message):
    """What a worker would have answered for a path it could not process."""
    return {"path": path, "status": "error", "error": message}


def number(value):
    return None if value is None else float(value)


def run_partition(command, gallery_file):
    """The executor side: one cnnpipe process for the partition's paths."""
    def work(partition, paths):
        from pyspark import SparkFiles
        paths = list(paths)
        if not paths:
            return
        cmd = [SparkFiles.get(GALLERY_NAME) if part == gallery_file else part for part in command]
        started = time.monotonic()
        first_answer = None
        try:
            process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            for path in paths:
                yield ("photo", next(photo_rows(error_line(path, f"cannot start cnnpipe ({cmd[0]}): {e.strerror}"), partition)))
            yield ("partition", partition_row(partition, len(paths), 0, None, 0.0, -1, str(e)))
            return
        stderr_tail = []

        def feed():
            try:
                for path in paths:
                    process.stdin.write(path.encode() + b"\n")
                process.stdin.close()
            except BrokenPipeError:
                pass                                     # the worker died; its unanswered paths become errors

        def drain():
            for raw in process.stderr:
                stderr_tail.append(raw.decode(errors="replace").rstrip())
                del stderr_tail[:-20]

        threads = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain, daemon=True)]
        for t in threads:
            t.start()
        wanted = set(paths)
        answered = set()
        for raw in process.stdout:
            if first_answer is None:
                first_answer = time.monotonic() - started
            try:
                line = json.loads(raw)
                path = line.get("path")
            except (ValueError, AttributeError):
                continue                                 # not a worker line; its path gets an error row below
            if path not in wanted or path in answered:
                continue                                 # cannot happen with a correct worker; never count a photo twice
            answered.add(path)
            for row in photo_rows(line, partition):
                yield ("photo", row)
        status = process.wait()
        for t in threads:
            t.join()
        last = next((l for l in reversed(stderr_tail) if l), "")
        for path in paths:
            if path not in answered:
                message = f"cnnpipe exited with status {status} before answering" + (f": {last}" if last else "")
                yield ("photo", next(photo_rows(error_line(path, message), partition)))
        yield ("partition", partition_row(partition, len(paths), len(answered), first_answer,
                                          time.monotonic() - started, status, last if status else None))
    return work


def partition_row(partition, photos, answered, startup, seconds, status, message):
    return {"partition": partition, "photos": photos, "answered": answered, "startup_seconds": startup,
            "seconds": seconds, "exit_status": status, "message": message}


def main(argv):
    args = parse_arguments(argv)
    if not args.library and not args.paths_file:
        raise SystemExit("tag_library: give photos or folders, or --paths-file")
    if os.path.exists(args.output) and not args.overwrite:
        raise SystemExit(f"tag_library: {args.output} exists (use --overwrite to replace it)")
    if args.job == "identify" and not args.gallery:
        raise SystemExit("tag_library: --job identify needs --gallery")
    if args.gallery and not os.path.isfile(args.gallery):
        raise SystemExit(f"tag_library: {args.gallery}: no such gallery")
    paths = list_library(args.library, args.paths_file)
    if not paths:
        raise SystemExit("tag_library: no JPEG, PNG or WebP photos found")

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)     # executors run this file's Python
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession, types as T
    builder = SparkSession.builder.appName("cnnpipe-tag-library")
    if args.master:
        builder = builder.master(args.master)
    for name in ("CNNPIPE_BIN", "CNNPIPE_MODELS", "CNNPIPE_PLUGIN_PATH"):
        if os.environ.get(name):
            builder = builder.config(f"spark.executorEnv.{name}", os.environ[name])
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("WARN")

    staging = tempfile.mkdtemp(prefix="cnnpipe-spark-")
    try:
        gallery_file = None
        if args.gallery:
            sc.addFile(gallery_snapshot(args.gallery, staging))
            gallery_file = "{gallery}"
        threads = args.threads or int(sc.getConf().get("spark.task.cpus", "1"))
        command = worker_command(args, gallery_file, threads)
        partitions = max(sc.defaultParallelism, math.ceil(len(paths) / max(1, args.photos_per_partition)))
        started = time.monotonic()
        records = sc.parallelize(paths, partitions).mapPartitionsWithIndex(run_partition(command, gallery_file))
        records.persist(StorageLevel.MEMORY_AND_DISK)     # computed once (a recomputation would run cnnpipe again)
        faces_schema = T.StructType([
            T.StructField("path", T.StringType()), T.StructField("status", T.StringType()),
            T.StructField("faces", T.IntegerType()), T.StructField("face", T.IntegerType()),
            T.StructField("name", T.StringType()), T.StructField("distance", T.DoubleType()),
            T.StructField("x", T.DoubleType()), T.StructField("y", T.DoubleType()),
            T.StructField("width", T.DoubleType()), T.StructField("height", T.DoubleType()),
            T.StructField("confidence", T.DoubleType()), T.StructField("outputs", T.StringType()),
            T.StructField("error", T.StringType()), T.StructField("partition", T.IntegerType())])
        partitions_schema = T.StructType([
            T.StructField("partition", T.IntegerType()), T.StructField("photos", T.IntegerType()),
            T.StructField("answered", T.IntegerType()), T.StructField("startup_seconds", T.DoubleType()),
            T.StructField("seconds", T.DoubleType()), T.StructField("exit_status", T.IntegerType()),
            T.StructField("message", T.StringType())])
        faces = spark.createDataFrame(records.filter(lambda r: r[0] == "photo").map(lambda r: r[1]), faces_schema)
        stats = spark.createDataFrame(records.filter(lambda r: r[0] == "partition").map(lambda r: r[1]), partitions_schema)
        faces.cache()
        faces.count()
        seconds = time.monotonic() - started

        mode = "overwrite" if args.overwrite else "errorifexists"
        writer = (lambda df, name: df.write.mode(mode).option("header", True).option("escape", "\"").csv(os.path.join(args.output, name))) \
            if args.format == "csv" else (lambda df, name: df.write.mode(mode).parquet(os.path.join(args.output, name)))
        writer(faces, "faces")
        writer(stats, "partitions")
        summary = summarise(faces, stats, len(paths), seconds)
        with open(os.path.join(args.output, "summary.json.tmp"), "w") as f:
            json.dump(summary, f, indent=2)
        os.replace(os.path.join(args.output, "summary.json.tmp"), os.path.join(args.output, "summary.json"))
        print(json.dumps(summary))
        records.unpersist()
        return 0 if summary["photos_listed"] == summary["photos"] else 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        spark.stop()


def summarise(faces, stats, listed, seconds):
    from pyspark.sql import functions as F
    photos = faces.groupBy("path").agg(F.first("status").alias("status"), F.max("faces").alias("faces"))
    by_status = {r["status"]: r["count"] for r in photos.groupBy("status").count().collect()}
    found = faces.filter(F.col("face").isNotNull())
    startup = [r["startup_seconds"] for r in stats.collect() if r["startup_seconds"] is not None]
    photo_count = photos.count()
    return {
        "photos_listed": listed,
        "photos": photo_count,
        "ok": by_status.get("ok", 0), "skipped": by_status.get("skipped", 0), "errors": by_status.get("error", 0),
        "faces": found.count(),
        "named_faces": found.filter(F.col("name").isNotNull()).count(),
        "people": found.filter(F.col("name").isNotNull()).select("name").distinct().count(),
        "partitions": stats.count(),
        "seconds": round(seconds, 3),
        "photos_per_second": round(photo_count / seconds, 3) if seconds > 0 else None,
        "worker_startup_seconds_median": round(sorted(startup)[len(startup) // 2], 3) if startup else None,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
