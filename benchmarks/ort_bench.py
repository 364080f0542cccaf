#!/usr/bin/env python3
"""Median latency of ONNX Runtime on one model at one size (warm runs), printed as one number in ms.
Usage: ort_bench.py MODEL.onnx H W THREADS RUNS"""
import sys
import time

import numpy as np
import onnxruntime as ort

path, h, w, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
feeds = {}
for i in sess.get_inputs():
    shape = list(i.shape)
    if len(shape) == 4 and shape[1] == 3:
        shape = [1, 3, h, w]
    elif len(shape) == 4 and shape[3] == 3:
        shape = [1, h, w, 3]
    shape = [d if isinstance(d, int) else 1 for d in shape]
    n = int(np.prod(shape))
    x = ((np.arange(n, dtype=np.int64) * 2654435761) % 1000 / 1000).astype(np.float32).reshape(shape)
    if len(shape) == 1:
        x = np.zeros(shape, np.float32)
        x[0] = 1
    feeds[i.name] = x
sess.run(None, feeds)
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    sess.run(None, feeds)
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.2f}")
