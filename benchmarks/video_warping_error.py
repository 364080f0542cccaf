#!/usr/bin/env python3
"""Warping error of a stylised video, the metric of the video style-transfer papers (Lai et al. 2018,
after Ruder et al. 2016): for each pair of consecutive frames, the stylised frame t-1 is warped onto
frame t by optical flow computed on the *input* frames with an independent implementation (OpenCV's
DIS flow, preset MEDIUM), pixels failing the forward-backward check (|b + f(x+b)|^2 <= 0.01 (|b|^2 +
|f(x+b)|^2) + 0.5, Sundaram et al. 2010) are left out, and the squared RGB difference (0..1 scale) is
averaged over the rest. Pairs across a scene cut are left out: there the reference flow cannot warp
even the input frames (their own warping error above 0.003; on the corpus clips the pairs within a
shot stay below 0.001, the cut in bikes.mp4 is 0.0095); they are the same pairs whatever the
stylisation. Prints the mean over the other pairs (the number left out on stderr); --per-frame FILE
writes one value per pair (nan for a cut).

Usage: video_warping_error.py INPUT.ppm STYLISED.ppm [--per-frame FILE]
Both files are streams of back-to-back binary PPM (P6, maxval 255) frames of the same size.
"""
import sys

import cv2
import numpy as np


def read_ppm_stream(path):
    data = open(path, "rb").read()
    frames, i = [], 0
    while i < len(data):
        fields = []
        i += 2  # "P6"
        while len(fields) < 3:
            while data[i:i + 1].isspace() or data[i:i + 1] == b"#":
                if data[i:i + 1] == b"#":
                    i = data.index(b"\n", i)
                i += 1
            j = i
            while not data[j:j + 1].isspace():
                j += 1
            fields.append(int(data[i:j]))
            i = j
        i += 1
        w, h, maxval = fields
        assert maxval == 255, "8-bit PPM only"
        frames.append(np.frombuffer(data, np.uint8, w * h * 3, i).reshape(h, w, 3))
        i += w * h * 3
    return frames


def warping_errors(inputs, stylised):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    h, w = inputs[0].shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    errors = []
    for t in range(1, len(inputs)):
        cur = cv2.cvtColor(inputs[t], cv2.COLOR_RGB2GRAY)
        prev = cv2.cvtColor(inputs[t - 1], cv2.COLOR_RGB2GRAY)
        back = dis.calc(cur, prev, None)  # cur(x) ~ prev(x + back(x))
        fwd = dis.calc(prev, cur, None)
        mx, my = grid_x + back[..., 0], grid_y + back[..., 1]
        fwd_at = cv2.remap(fwd, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        gap = ((back + fwd_at) ** 2).sum(-1)
        bound = 0.01 * ((back ** 2).sum(-1) + (fwd_at ** 2).sum(-1)) + 0.5
        inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
        mask = (gap <= bound) & inside
        def error(frames):
            warped = cv2.remap(frames[t - 1].astype(np.float32) / 255, mx, my, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
            diff = ((frames[t].astype(np.float32) / 255 - warped) ** 2).mean(-1)
            return float(diff[mask].mean()) if mask.any() else float("nan")
        errors.append(error(stylised) if error(inputs) <= 0.003 else float("nan"))
    return errors


def main():
    args = sys.argv[1:]
    per_frame = None
    if "--per-frame" in args:
        k = args.index("--per-frame")
        per_frame = args[k + 1]
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    inputs, stylised = read_ppm_stream(args[0]), read_ppm_stream(args[1])
    if len(inputs) != len(stylised) or inputs[0].shape != stylised[0].shape:
        sys.exit(f"{len(inputs)} input frames {inputs[0].shape}, {len(stylised)} stylised {stylised[0].shape}")
    errors = warping_errors(inputs, stylised)
    if per_frame:
        with open(per_frame, "w") as f:
            f.writelines(f"{e:.6f}\n" for e in errors)
    cuts = int(np.isnan(errors).sum())
    if cuts:
        print(f"{cuts} of {len(errors)} pairs across a scene cut left out", file=sys.stderr)
    print(f"{np.nanmean(errors):.6f}")


if __name__ == "__main__":
    main()
