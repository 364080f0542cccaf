#!/usr/bin/env python3
"""Median latency of OpenVINO (CPU plugin) on one model at one size (warm runs), printed as one number in ms.
Usage: openvino_bench.py MODEL.onnx H W THREADS RUNS [--precision fp32|bf16] [--check]
Inputs are shaped and filled like ort_bench.py's. --precision sets INFERENCE_PRECISION_HINT; int8 QDQ
models keep their quantised ops in int8 either way. --check adds a second line: the largest absolute
and mean absolute difference of each output from ONNX Runtime's on the same inputs."""
import argparse
import time

import numpy as np
import openvino as ov

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("h", type=int)
ap.add_argument("w", type=int)
ap.add_argument("threads", type=int)
ap.add_argument("runs", type=int)
ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
ap.add_argument("--check", action="store_true")
args = ap.parse_args()


def input_shape(dims, h, w):
    """dims: ints, None where dynamic. Image inputs (4-D, 3 channels) get the requested size, other unknowns 1."""
    if len(dims) == 4 and dims[1] == 3:
        dims = [1, 3, h, w]
    elif len(dims) == 4 and dims[3] == 3:
        dims = [1, h, w, 3]
    return [d if d is not None else 1 for d in dims]


def fill(shape):
    if len(shape) == 1:  # style weights: pick the first style
        x = np.zeros(shape, np.float32)
        x[0] = 1
        return x
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.int64) * 2654435761) % 1000 / 1000).astype(np.float32).reshape(shape)


core = ov.Core()
model = core.read_model(args.model)
feeds, new_shapes = {}, {}
for port in model.inputs:
    ps = port.get_partial_shape()
    dims = [d.get_length() if d.is_static else None for d in ps]
    shape = input_shape(dims, args.h, args.w)
    if shape != dims:
        new_shapes[port.get_any_name()] = ov.PartialShape(shape)
    feeds[port.get_any_name()] = fill(shape)
if new_shapes:
    model.reshape(new_shapes)
config = {
    "INFERENCE_NUM_THREADS": args.threads,
    "INFERENCE_PRECISION_HINT": "f32" if args.precision == "fp32" else "bf16",
    "PERFORMANCE_HINT": "LATENCY",
    "NUM_STREAMS": 1,
}
compiled = core.compile_model(model, "CPU", config)
req = compiled.create_infer_request()
req.infer(feeds)
times = []
for _ in range(args.runs):
    t0 = time.perf_counter()
    req.infer(feeds)
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.2f}")

if args.check:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    sess = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    want = sess.run(None, feeds)
    diffs = []
    for o, ref in zip(sess.get_outputs(), want):
        got = req.get_tensor(o.name).data
        d = np.abs(got.reshape(ref.shape) - ref)
        diffs.append(f"{o.name}: max {float(d.max()):.3g} mean {float(d.mean()):.3g}")
    print("|openvino - ort| " + "; ".join(diffs))
