#!/usr/bin/env python3
"""Style kept by temporal stabilisation: the Gram-matrix style cost (the J_style of Gatys et al.,
on the layers stylize-classic uses: Relu6__5, __10, __20, __35 and __60 of the Magenta style
predictor, models/arbitrary_predict.onnx, each weighted 1) of the stable output measured against
the frame-by-frame output as the style target, relative to the size of that target:

    sum over frames and layers ||G(stable_t) - G(frame_t)||^2  /  sum ||G(frame_t)||^2

with G = F F^T / N (channels x channels, N = positions), each frame resized to the predictor's
256x256 input. 0 means the same textures and colour statistics; the goal is <= 0.10 (stable mode
must not buy its steadiness by washing the style out). The features come from ONNX Runtime, an
implementation independent of cnnpipe's.

Usage: video_style_cost.py FRAME_BY_FRAME.ppm STABLE.ppm MODEL.onnx
(streams of back-to-back binary PPM frames of the same size, as video_warping_error.py reads them)
"""
import sys

import cv2
import numpy as np
import onnx
import onnxruntime as ort

from video_warping_error import read_ppm_stream

LAYERS = ["Relu6__5:0", "Relu6__10:0", "Relu6__20:0", "Relu6__35:0", "Relu6__60:0"]


def feature_session(path):
    model = onnx.load(path)
    known = {o.name for o in model.graph.output}
    for name in LAYERS:
        if name not in known:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def grams(session, frame):
    x = cv2.resize(frame, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float32)[None] / 255
    result = []
    for f in session.run(LAYERS, {session.get_inputs()[0].name: x}):
        f = f.reshape(f.shape[1], -1)  # NCHW: channels x positions
        result.append(f @ f.T / f.shape[1])
    return result


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    frame_by_frame, stable = read_ppm_stream(sys.argv[1]), read_ppm_stream(sys.argv[2])
    assert len(frame_by_frame) == len(stable), "the two streams have different frame counts"
    session = feature_session(sys.argv[3])
    difference = size = 0.0
    for a, b in zip(frame_by_frame, stable):
        for ga, gb in zip(grams(session, a), grams(session, b)):
            difference += float(((gb - ga) ** 2).sum())
            size += float((ga ** 2).sum())
    print("%.4f" % (difference / size))


if __name__ == "__main__":
    main()
